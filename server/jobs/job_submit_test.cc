// JobManager::SubmitMany: each request answered on its own, duplicates in a
// batch sharing a job, retries, exact hits, queue limits per request, and an
// acknowledged batch surviving SIGKILL; Prepare + AnswerFromMemory, and the
// repeat counts' saver.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_test_util.h"
#include "server/store/store.h"

namespace nnft::server {
namespace {

using testing_util::BlockerSpec;
using testing_util::MustSubmit;
using testing_util::OpenManager;
using testing_util::Options;
using testing_util::TempDir;
using testing_util::TinySpec;
using testing_util::WaitDone;
using testing_util::WaitFor;

SubmitRequest Request(ExperimentSpec spec, std::string request_id = "",
                      std::string owner = "") {
  return SubmitRequest{.spec = std::move(spec),
                       .spec_json = "{}",
                       .request_id = std::move(request_id),
                       .owner = std::move(owner)};
}

// Keeps the single runner busy, so that the batch's jobs stay queued.
JobSnapshot StartBlocker(JobManager& m) {
  const JobSnapshot blocker = MustSubmit(m, BlockerSpec(), "", "", 10);
  WaitFor(m, blocker.name,
          [](const JobSnapshot& s) { return s.state == JobState::kRunning; });
  return blocker;
}

TEST(SubmitManyTest, AnswersEachRequestOnItsOwnAndJoinsDuplicates) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot blocker = StartBlocker(*m);
  ExperimentSpec bad = TinySpec(800, 100, 8, 1);
  std::get<MlpSpec>(bad.architecture).widths[0] = 0;
  std::vector<SubmitRequest> batch;
  batch.push_back(Request(TinySpec(800, 100, 8, 1)));
  batch.push_back(Request(bad));
  batch.push_back(Request(TinySpec(800, 100, 8, 1)));  // same as [0]
  batch.push_back(Request(TinySpec(800, 100, 8, 2)));
  std::vector<absl::StatusOr<JobSnapshot>> got = m->SubmitMany(batch);
  ASSERT_EQ(got.size(), 4u);
  ASSERT_TRUE(got[0].ok()) << got[0].status();
  EXPECT_EQ(got[1].status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(got[2].ok()) << got[2].status();
  ASSERT_TRUE(got[3].ok()) << got[3].status();
  EXPECT_EQ(got[2]->name, got[0]->name);
  EXPECT_NE(got[3]->name, got[0]->name);
  EXPECT_EQ(got[0]->state, JobState::kQueued);
  EXPECT_EQ(m->Get(got[0]->name)->submissions, 2);
  // A later single submission of the same spec joins the batch's job.
  EXPECT_EQ(MustSubmit(*m, TinySpec(800, 100, 8, 1)).name, got[0]->name);
  EXPECT_EQ(m->Get(got[0]->name)->submissions, 3);
  const Counters c = m->counters();
  EXPECT_EQ(c.jobs_submitted, 1 + 4);  // blocker, three of the batch, single
  EXPECT_EQ(c.jobs_deduplicated, 2);
  ASSERT_TRUE(m->Cancel(blocker.name).ok());
  EXPECT_EQ(WaitDone(*m, got[3]->name).state, JobState::kSucceeded);
}

TEST(SubmitManyTest, RepeatedRequestIdsReturnTheSameJobs) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot blocker = StartBlocker(*m);
  auto batch = [] {
    std::vector<SubmitRequest> b;
    for (int i = 0; i < 5; ++i) {
      b.push_back(Request(TinySpec(400, 100, 8, 100 + i), absl::StrCat("r", i),
                          "alice"));
    }
    return b;
  };
  std::vector<absl::StatusOr<JobSnapshot>> first = m->SubmitMany(batch());
  const int64_t submitted = m->counters().jobs_submitted;
  std::vector<absl::StatusOr<JobSnapshot>> again = m->SubmitMany(batch());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(first[i].ok()) << first[i].status();
    ASSERT_TRUE(again[i].ok()) << again[i].status();
    EXPECT_EQ(again[i]->name, first[i]->name);
    EXPECT_EQ(again[i]->submissions, 1);
  }
  EXPECT_EQ(m->counters().jobs_submitted, submitted);
  // A request_id reused with another spec, in the batch or before it.
  std::vector<SubmitRequest> clash;
  clash.push_back(Request(TinySpec(400, 100, 8, 999), "r0", "alice"));
  clash.push_back(Request(TinySpec(400, 100, 8, 7), "new", "alice"));
  clash.push_back(Request(TinySpec(400, 100, 8, 8), "new", "alice"));
  std::vector<absl::StatusOr<JobSnapshot>> got = m->SubmitMany(clash);
  EXPECT_EQ(got[0].status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(got[1].ok()) << got[1].status();
  EXPECT_EQ(got[2].status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(m->Cancel(blocker.name).ok());
}

TEST(SubmitManyTest, ExactHitsAreSucceededAtOnce) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot done = WaitDone(*m, MustSubmit(*m, TinySpec(500)).name);
  ASSERT_EQ(done.state, JobState::kSucceeded);
  std::vector<SubmitRequest> batch;
  batch.push_back(Request(TinySpec(500)));
  batch.push_back(Request(TinySpec(300)));  // fewer networks: also stored
  std::vector<absl::StatusOr<JobSnapshot>> got = m->SubmitMany(batch);
  for (const auto& job : got) {
    ASSERT_TRUE(job.ok()) << job.status();
    EXPECT_EQ(job->state, JobState::kSucceeded);
  }
  // The identical spec is answered by the job that computed it (a repeat);
  // the other by a new job that found every chunk stored.
  EXPECT_EQ(got[0]->name, done.name);
  EXPECT_EQ(got[0]->submissions, 2);
  EXPECT_NE(got[1]->name, done.name);
  EXPECT_EQ(got[1]->chunks_from_store, got[1]->chunks_total);
  EXPECT_EQ(m->counters().exact_hits, 2);
}

TEST(SubmitManyTest, ARepeatOfASucceededJobIsAnsweredByItWithoutANewRow) {
  TempDir dir;
  std::string name;
  {
    auto m = OpenManager(Options(dir.path()));
    const JobSnapshot done = WaitDone(*m, MustSubmit(*m, TinySpec(500)).name);
    ASSERT_EQ(done.state, JobState::kSucceeded);
    name = done.name;
    for (int i = 2; i <= 4; ++i) {
      const JobSnapshot again = MustSubmit(*m, TinySpec(500));
      EXPECT_EQ(again.name, done.name);
      EXPECT_EQ(again.state, JobState::kSucceeded);
      EXPECT_EQ(again.submissions, i);
    }
    EXPECT_EQ(m->counters().exact_hits, 3);
    EXPECT_EQ(m->counters().jobs_submitted, 4);
    // Another owner, or fewer networks: a new job, answered from the store.
    const JobSnapshot other = MustSubmit(*m, TinySpec(500), "bob");
    EXPECT_NE(other.name, done.name);
    EXPECT_EQ(other.state, JobState::kSucceeded);
    const JobSnapshot fewer = MustSubmit(*m, TinySpec(300));
    EXPECT_NE(fewer.name, done.name);
    EXPECT_EQ(fewer.chunks_from_store, fewer.chunks_total);
    auto page = m->List(100, "");
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->jobs.size(), 3u);
  }
  // The counts are saved at the latest when the manager drains.
  auto reopened = OpenManager(Options(dir.path()));
  absl::StatusOr<JobSnapshot> job = reopened->Get(name);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->submissions, 4);
}

TEST(SubmitManyTest, QueueLimitsApplyToEachRequest) {
  TempDir dir;
  JobManagerOptions options = Options(dir.path());
  options.max_queued_jobs = 3;
  options.max_queued_jobs_per_owner = 2;
  auto m = OpenManager(options);
  const JobSnapshot blocker = StartBlocker(*m);
  std::vector<SubmitRequest> batch;
  for (int i = 0; i < 3; ++i) {
    batch.push_back(Request(TinySpec(400, 100, 8, 200 + i), "", "alice"));
  }
  for (int i = 0; i < 2; ++i) {
    batch.push_back(Request(TinySpec(400, 100, 8, 300 + i), "", "bob"));
  }
  std::vector<absl::StatusOr<JobSnapshot>> got = m->SubmitMany(batch);
  EXPECT_TRUE(got[0].ok() && got[1].ok());
  EXPECT_EQ(got[2].status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(got[2].status().message().find("max_queued_jobs_per_principal"),
            std::string::npos)
      << got[2].status();
  EXPECT_TRUE(got[3].ok()) << got[3].status();
  EXPECT_EQ(got[4].status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(got[4].status().message().find("max_queued_jobs = 3"),
            std::string::npos)
      << got[4].status();
  ASSERT_TRUE(m->Cancel(blocker.name).ok());
}

// Prepare + AnswerFromMemory: a repeat and a retry are answered from memory
// exactly as Submit answers them; what writes a row is left to Submit.
TEST(AnswerFromMemoryTest, AnswersRepeatsAndRetriesAndLeavesWritesToSubmit) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot done =
      WaitDone(*m, MustSubmit(*m, TinySpec(500), "", "r1").name);
  ASSERT_EQ(done.state, JobState::kSucceeded);
  auto prepare = [&](SubmitRequest request) {
    absl::StatusOr<PreparedSubmit> prepared = m->Prepare(std::move(request));
    EXPECT_TRUE(prepared.ok()) << prepared.status();
    return *std::move(prepared);
  };
  // A repeat: counted as Submit counts it.
  std::optional<absl::StatusOr<JobSnapshot>> repeat =
      m->AnswerFromMemory(prepare(Request(TinySpec(500))));
  ASSERT_TRUE(repeat.has_value());
  ASSERT_TRUE(repeat->ok()) << repeat->status();
  EXPECT_EQ((*repeat)->name, done.name);
  EXPECT_EQ((*repeat)->state, JobState::kSucceeded);
  EXPECT_EQ((*repeat)->submissions, 2);
  EXPECT_EQ(m->counters().exact_hits, 1);
  EXPECT_EQ(m->counters().jobs_submitted, 2);
  // A retry of r1: its job, not counted; another spec under r1: refused.
  std::optional<absl::StatusOr<JobSnapshot>> retry =
      m->AnswerFromMemory(prepare(Request(TinySpec(500), "r1")));
  ASSERT_TRUE(retry.has_value() && retry->ok());
  EXPECT_EQ((*retry)->name, done.name);
  EXPECT_EQ((*retry)->submissions, 2);
  EXPECT_EQ(m->counters().jobs_submitted, 2);
  std::optional<absl::StatusOr<JobSnapshot>> reused =
      m->AnswerFromMemory(prepare(Request(TinySpec(600), "r1")));
  ASSERT_TRUE(reused.has_value());
  EXPECT_EQ(reused->status().code(), absl::StatusCode::kAlreadyExists);
  // A bad spec is refused by Prepare, before the lock.
  ExperimentSpec bad = TinySpec(500);
  std::get<MlpSpec>(bad.architecture).widths[0] = 0;
  EXPECT_EQ(m->Prepare(Request(bad)).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A new job (here an exact hit of fewer networks) writes a row: Submit.
  PreparedSubmit fewer = prepare(Request(TinySpec(300), "r2"));
  EXPECT_FALSE(m->AnswerFromMemory(fewer).has_value());
  absl::StatusOr<JobSnapshot> created = m->Submit(std::move(fewer));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_NE(created->name, done.name);
  EXPECT_EQ(created->state, JobState::kSucceeded);
  // Now r2 is known: its retry is answered from memory.
  std::optional<absl::StatusOr<JobSnapshot>> retry2 =
      m->AnswerFromMemory(prepare(Request(TinySpec(300), "r2")));
  ASSERT_TRUE(retry2.has_value() && retry2->ok());
  EXPECT_EQ((*retry2)->name, created->name);
  // A queued job, and a join of it: both write rows.
  const JobSnapshot blocker = StartBlocker(*m);
  PreparedSubmit first = prepare(Request(TinySpec(800, 100, 8, 7)));
  EXPECT_FALSE(m->AnswerFromMemory(first).has_value());
  absl::StatusOr<JobSnapshot> queued = m->Submit(std::move(first));
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_EQ(queued->state, JobState::kQueued);
  PreparedSubmit join = prepare(Request(TinySpec(800, 100, 8, 7)));
  EXPECT_FALSE(m->AnswerFromMemory(join).has_value());
  absl::StatusOr<JobSnapshot> joined = m->Submit(std::move(join));
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->name, queued->name);
  EXPECT_EQ(joined->submissions, 2);
  ASSERT_TRUE(m->Cancel(blocker.name).ok());
  EXPECT_EQ(WaitDone(*m, queued->name).state, JobState::kSucceeded);
  // Draining: refused from memory too.
  m->Drain();
  std::optional<absl::StatusOr<JobSnapshot>> late =
      m->AnswerFromMemory(prepare(Request(TinySpec(500))));
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->status().code(), absl::StatusCode::kFailedPrecondition);
}

// Repeat counts reach the job's row about a second after the repeat with no
// further submission (the saver thread), not only at Drain.
TEST(AnswerFromMemoryTest, RepeatCountsAreSavedWithinASecondByThemselves) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot done = WaitDone(*m, MustSubmit(*m, TinySpec(500)).name);
  ASSERT_EQ(done.state, JobState::kSucceeded);
  auto stored_submissions = [&]() -> int64_t {
    auto store = ResultStore::Open(dir.path());
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return -1;
    absl::StatusOr<std::vector<JobRecord>> rows = (*store)->LoadJobs();
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) return -1;
    for (const JobRecord& row : *rows) {
      if (row.name == done.name) return row.submissions;
    }
    return -1;
  };
  // The first repeat is saved at once (no save in the last second); the
  // next ones a second after that save. Each within 3 s here, with the
  // manager open and nothing else submitted.
  for (int submissions = 2; submissions <= 4; ++submissions) {
    absl::StatusOr<PreparedSubmit> prepared =
        m->Prepare(Request(TinySpec(500)));
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    ASSERT_TRUE(m->AnswerFromMemory(*prepared).has_value());
    const absl::Time deadline = absl::Now() + absl::Seconds(3);
    int64_t stored = stored_submissions();
    while (stored != submissions && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      stored = stored_submissions();
    }
    EXPECT_EQ(stored, submissions);
  }
}

// Child half of the SIGKILL test: runs only when the parent re-executes this
// binary with NNFT_BATCH_KILL_DIR set; submits a batch, writes the names it
// was answered with, and waits to be killed.
constexpr int kKillBatch = 300;

TEST(SubmitManyKillTest, ChildSubmitsABatchAndWaitsToBeKilled) {
  const char* dir = std::getenv("NNFT_BATCH_KILL_DIR");
  if (dir == nullptr) GTEST_SKIP() << "child half of AcknowledgedBatch...";
  auto m = OpenManager(Options(dir));
  std::vector<SubmitRequest> batch;
  for (int i = 0; i < kKillBatch; ++i) {
    batch.push_back(Request(TinySpec(1000, 100, 16, 1000 + i)));
  }
  std::vector<absl::StatusOr<JobSnapshot>> got = m->SubmitMany(batch);
  const std::string names = absl::StrCat(dir, "/acked");
  {
    std::ofstream out(names + ".tmp");
    for (const auto& job : got)
      out << (job.ok() ? job->name : "refused") << "\n";
  }
  std::filesystem::rename(names + ".tmp", names);
  absl::SleepFor(absl::Seconds(120));
  ADD_FAILURE() << "not killed";
}

TEST(SubmitManyKillTest, AcknowledgedBatchSurvivesSigkill) {
  if (std::getenv("NNFT_BATCH_KILL_DIR") != nullptr) GTEST_SKIP();
  TempDir dir;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    setenv("NNFT_BATCH_KILL_DIR", dir.path().c_str(), 1);
    execl("/proc/self/exe", "job_submit_test",
          "--gtest_filter=SubmitManyKillTest."
          "ChildSubmitsABatchAndWaitsToBeKilled",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // SIGKILL as soon as the child has its answer (its jobs are then running).
  const std::string acked = dir.path() + "/acked";
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!std::filesystem::exists(acked) && absl::Now() < deadline &&
         waitpid(child, nullptr, WNOHANG) == 0) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited by itself";
  std::vector<std::string> names;
  {
    std::ifstream in(acked);
    for (std::string line; std::getline(in, line);) names.push_back(line);
  }
  ASSERT_EQ(names.size(), static_cast<size_t>(kKillBatch));

  auto m = OpenManager(Options(dir.path()));
  std::set<std::string> distinct;
  for (const std::string& name : names) {
    ASSERT_NE(name, "refused");
    absl::StatusOr<JobSnapshot> job = m->Get(name);
    ASSERT_TRUE(job.ok()) << name << ": " << job.status();
    distinct.insert(name);
  }
  EXPECT_EQ(distinct.size(), names.size());
  EXPECT_EQ(WaitDone(*m, names.back()).state, JobState::kSucceeded);
}

}  // namespace
}  // namespace nnft::server
