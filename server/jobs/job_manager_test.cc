#include "server/jobs/job_manager.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "gtest/gtest.h"
#include "server/jobs/job_test_util.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"
#include "server/store/store.h"

namespace nnft::server {
namespace {

using testing_util::BlockerSpec;
using testing_util::DirectEstimate;
using testing_util::ExpectSameEstimate;
using testing_util::kThreads;
using testing_util::MustSubmit;
using testing_util::OpenManager;
using testing_util::Options;
using testing_util::TempDir;
using testing_util::TinySpec;
using testing_util::WaitDone;
using testing_util::WaitFor;

TEST(JobManagerTest, ResultHasTheBitsOfTheEngineRunDirectly) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const ExperimentSpec spec = TinySpec(1000);
  const JobSnapshot submitted = MustSubmit(*m, spec);
  EXPECT_EQ(submitted.name.rfind("jobs/", 0), 0u);
  EXPECT_EQ(submitted.name.size(), 5u + 16u);
  EXPECT_EQ(submitted.chunks_total, 10);
  const JobSnapshot done = WaitDone(*m, submitted.name);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  EXPECT_EQ(done.chunks_done, 10);
  EXPECT_EQ(done.networks_done, 1000);
  EXPECT_EQ(done.chunks_from_store, 0);
  absl::StatusOr<JobResult> result = m->Result(submitted.name);
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectSameEstimate(result->estimate, DirectEstimate(spec, 10));
  ASSERT_TRUE(done.estimate.has_value());
  ExpectSameEstimate(*done.estimate, result->estimate);
  EXPECT_EQ(result->vs_gp.z.size(), result->estimate.mean.size());
  const Counters c = m->counters();
  EXPECT_EQ(c.jobs_submitted, 1);
  EXPECT_EQ(c.jobs_completed, 1);
  EXPECT_EQ(c.chunks_computed, 10);
  EXPECT_EQ(c.networks_computed, 1000);
}

TEST(JobManagerTest, IdenticalConcurrentSubmissionsAreComputedOnce) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot blocker = MustSubmit(*m, BlockerSpec(), "", "", 10);
  WaitFor(*m, blocker.name,
          [](const JobSnapshot& s) { return s.state == JobState::kRunning; });
  // Four identical submissions while the runner is busy: one job.
  std::vector<std::string> names(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&, i] { names[i] = MustSubmit(*m, TinySpec(800)).name; });
  }
  for (auto& t : threads) t.join();
  for (const std::string& n : names) EXPECT_EQ(n, names[0]);
  EXPECT_EQ(m->Get(names[0])->submissions, 4);
  EXPECT_EQ(m->Get(names[0])->state, JobState::kQueued);
  ASSERT_TRUE(m->Cancel(blocker.name).ok());
  const JobSnapshot stopped = WaitDone(*m, blocker.name);
  EXPECT_EQ(stopped.state, JobState::kCancelled);
  const JobSnapshot done = WaitDone(*m, names[0]);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  const Counters c = m->counters();
  EXPECT_EQ(c.jobs_submitted, 5);
  EXPECT_EQ(c.jobs_deduplicated, 3);
  EXPECT_EQ(c.chunks_computed, stopped.chunks_done + 8);
}

TEST(JobManagerTest, MoreNetworksComputesOnlyTheNewChunks) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot first = WaitDone(*m, MustSubmit(*m, TinySpec(1000)).name);
  ASSERT_EQ(first.state, JobState::kSucceeded);
  const JobSnapshot second = MustSubmit(*m, TinySpec(2000));
  EXPECT_NE(second.name, first.name);
  EXPECT_EQ(second.digest, first.digest);
  const JobSnapshot done = WaitDone(*m, second.name);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  EXPECT_EQ(done.chunks_from_store, 10);
  EXPECT_EQ(m->counters().chunks_computed, 20);
  absl::StatusOr<JobResult> result = m->Result(second.name);
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectSameEstimate(result->estimate, DirectEstimate(TinySpec(2000), 20));

  // Fewer networks than stored: an exact hit, finished before Submit returns.
  const JobSnapshot fewer = MustSubmit(*m, TinySpec(500));
  EXPECT_EQ(fewer.state, JobState::kSucceeded);
  EXPECT_EQ(fewer.chunks_from_store, 5);
  EXPECT_EQ(m->counters().exact_hits, 1);
  EXPECT_EQ(m->counters().chunks_computed, 20);
  absl::StatusOr<JobResult> fewer_result = m->Result(fewer.name);
  ASSERT_TRUE(fewer_result.ok()) << fewer_result.status();
  ExpectSameEstimate(fewer_result->estimate, DirectEstimate(TinySpec(500), 5));
}

TEST(JobManagerTest, CancelStopsARunningJobAtAChunkBoundary) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const ExperimentSpec spec = BlockerSpec();
  const JobSnapshot job = MustSubmit(*m, spec);
  WaitFor(*m, job.name,
          [](const JobSnapshot& s) { return s.chunks_done >= 2; });
  ASSERT_TRUE(m->Cancel(job.name).ok());
  const JobSnapshot stopped = WaitDone(*m, job.name);
  EXPECT_EQ(stopped.state, JobState::kCancelled);
  EXPECT_EQ(stopped.error.code(), absl::StatusCode::kCancelled);
  EXPECT_LT(stopped.chunks_done, stopped.chunks_total);
  EXPECT_EQ(m->Result(job.name).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Every chunk it finished is stored; nothing else.
  auto store = ResultStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->CountChunks(job.digest, stopped.chunks_total),
            stopped.chunks_done);
  // A finished job can be deleted, then it is gone.
  EXPECT_TRUE(m->Delete(job.name).ok());
  EXPECT_EQ(m->Get(job.name).status().code(), absl::StatusCode::kNotFound);
}

TEST(JobManagerTest, ReopenResumesInterruptedAndQueuedJobsWithTheSameBits) {
  TempDir dir;
  const ExperimentSpec spec = TinySpec(30000, 100, 16);  // 300 chunks
  const ExperimentSpec queued_spec = TinySpec(600, 100, 8, /*seed=*/3);
  std::string name, queued_name;
  {
    auto m = OpenManager(Options(dir.path()));
    name = MustSubmit(*m, spec).name;
    queued_name = MustSubmit(*m, queued_spec).name;
    WaitFor(*m, name, [](const JobSnapshot& s) { return s.chunks_done >= 3; });
    m->Drain();
    EXPECT_EQ(m->Get(name)->state, JobState::kQueued);
    EXPECT_EQ(m->Get(queued_name)->state, JobState::kQueued);
    EXPECT_EQ(m->Submit(SubmitRequest{.spec = spec}).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot done = WaitDone(*m, name);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  EXPECT_GE(done.chunks_from_store, 3);
  EXPECT_LT(done.chunks_from_store, 300);
  absl::StatusOr<JobResult> result = m->Result(name);
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectSameEstimate(result->estimate, DirectEstimate(spec, 300));
  const JobSnapshot queued = WaitDone(*m, queued_name);
  ASSERT_EQ(queued.state, JobState::kSucceeded) << queued.error;
  EXPECT_EQ(m->counters().chunks_computed, 300 - done.chunks_from_store + 6);
  ExpectSameEstimate(m->Result(queued_name)->estimate,
                     DirectEstimate(queued_spec, 6));
}

TEST(JobManagerTest, RowsOfTheOldBinaryCodecAreRebuiltFromTheirJson) {
  // Job rows written before the one spec codec hold the old binary format
  // ("NNFT-SPEC" ...): the spec is rebuilt from the row's JSON, which the
  // row's checksum covers too, and the job resumes with the same bits.
  TempDir dir;
  const ExperimentSpec spec = TinySpec(30000, 100, 16);  // 300 chunks
  std::string name;
  {
    auto m = OpenManager(Options(dir.path()));
    name = MustSubmit(*m, spec).name;
    WaitFor(*m, name, [](const JobSnapshot& s) { return s.chunks_done >= 1; });
    m->Drain();
    ASSERT_EQ(m->Get(name)->state, JobState::kQueued);
  }
  {
    auto store = ResultStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    auto rows = (*store)->LoadJobs();
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_EQ(rows->size(), 1u);
    JobRecord row = rows->front();
    row.spec_bytes = std::string("NNFT-SPEC\x01\0\0\0\x01", 14);
    row.spec_json = SpecProtoToJson(SpecToProto(spec));
    ASSERT_TRUE((*store)->PutJob(row).ok());
  }
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot done = WaitDone(*m, name);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  EXPECT_EQ(done.digest, SpecDigest(spec));
  absl::StatusOr<JobResult> result = m->Result(name);
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectSameEstimate(result->estimate, DirectEstimate(spec, 300));
}

TEST(JobManagerTest, FullQueueAnswersResourceExhausted) {
  TempDir dir;
  JobManagerOptions options = Options(dir.path());
  options.max_queued_jobs = 2;
  auto m = OpenManager(options);
  const JobSnapshot stored = WaitDone(*m, MustSubmit(*m, TinySpec(300)).name);
  const JobSnapshot blocker = MustSubmit(*m, BlockerSpec());
  WaitFor(*m, blocker.name,
          [](const JobSnapshot& s) { return s.state == JobState::kRunning; });
  MustSubmit(*m, TinySpec(1000, 100, 8, 1));
  MustSubmit(*m, TinySpec(1000, 100, 8, 2));
  absl::StatusOr<JobSnapshot> full =
      m->Submit(SubmitRequest{.spec = TinySpec(1000, 100, 8, 3)});
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.status().message().find("max_queued_jobs"), std::string::npos)
      << full.status();
  // An exact hit needs no queue slot.
  absl::StatusOr<JobSnapshot> hit =
      m->Submit(SubmitRequest{.spec = TinySpec(200)});
  ASSERT_TRUE(hit.ok()) << hit.status();
  EXPECT_EQ(hit->state, JobState::kSucceeded);
  EXPECT_EQ(hit->digest, stored.digest);
}

TEST(JobManagerTest, UnknownNamesAndOtherOwnersAreNotFound) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  EXPECT_EQ(m->Get("jobs/0123456789abcdef").status().code(),
            absl::StatusCode::kNotFound);
  const JobSnapshot job = MustSubmit(*m, TinySpec(200), "alice");
  EXPECT_TRUE(m->Get(job.name, "alice").ok());
  EXPECT_EQ(m->Get(job.name, "bob").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(m->Cancel(job.name, "bob").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(m->Delete(job.name, "bob").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->Result(job.name, "bob").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(m->Subscribe(
                 job.name, [](const JobManager::SnapshotPtr&) {}, "bob")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(m->List(10, "", "bob")->jobs.empty());
  EXPECT_EQ(m->List(10, "", "alice")->jobs.size(), 1u);
  // Bob's identical submission is his own job, not Alice's.
  EXPECT_NE(MustSubmit(*m, TinySpec(200), "bob").name, job.name);
}

TEST(JobManagerTest, RequestIdMakesSubmitIdempotent) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot a = MustSubmit(*m, TinySpec(300), "", "req-1");
  WaitDone(*m, a.name);
  const JobSnapshot again = MustSubmit(*m, TinySpec(300), "", "req-1");
  EXPECT_EQ(again.name, a.name);
  EXPECT_EQ(m->counters().jobs_submitted, 1);
  EXPECT_EQ(
      m->Submit(SubmitRequest{.spec = TinySpec(400), .request_id = "req-1"})
          .status()
          .code(),
      absl::StatusCode::kAlreadyExists);
  // Another owner's key space is separate.
  EXPECT_NE(MustSubmit(*m, TinySpec(400), "carol", "req-1").name, a.name);
  // Once the job is deleted its key can be used again.
  ASSERT_TRUE(m->Delete(a.name).ok());
  EXPECT_NE(MustSubmit(*m, TinySpec(400), "", "req-1").name, a.name);
}

TEST(JobManagerTest, RetryOfASubmissionThatJoinedAJobIsNotCountedTwice) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot blocker = MustSubmit(*m, BlockerSpec());
  WaitFor(*m, blocker.name,
          [](const JobSnapshot& s) { return s.state == JobState::kRunning; });
  const JobSnapshot first = MustSubmit(*m, TinySpec(300), "", "req-a");
  const JobSnapshot joined = MustSubmit(*m, TinySpec(300), "", "req-b");
  const JobSnapshot retry = MustSubmit(*m, TinySpec(300), "", "req-b");
  EXPECT_EQ(joined.name, first.name);
  EXPECT_EQ(retry.name, first.name);
  EXPECT_EQ(retry.submissions, 2);
  EXPECT_EQ(m->counters().jobs_deduplicated, 1);
  EXPECT_EQ(m->counters().jobs_submitted, 3);  // blocker, first, joined
}

TEST(JobManagerTest, HigherPriorityRunsFirst) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot blocker = MustSubmit(*m, BlockerSpec());
  WaitFor(*m, blocker.name,
          [](const JobSnapshot& s) { return s.state == JobState::kRunning; });
  const JobSnapshot low = MustSubmit(*m, TinySpec(500, 100, 8, 1), "", "", -1);
  const JobSnapshot high = MustSubmit(*m, TinySpec(500, 100, 8, 2), "", "", 5);
  ASSERT_TRUE(m->Cancel(blocker.name).ok());
  const JobSnapshot low_done = WaitDone(*m, low.name);
  const JobSnapshot high_done = WaitDone(*m, high.name);
  EXPECT_LE(high_done.end_time, low_done.start_time);
}

TEST(JobManagerTest, SubscribersSeeIncreasingVersionsUpToTheEnd) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot job = MustSubmit(*m, TinySpec(2000));
  absl::Mutex mu;
  std::vector<JobSnapshot> seen;
  absl::StatusOr<int64_t> id =
      m->Subscribe(job.name, [&](const JobManager::SnapshotPtr& s) {
        absl::MutexLock lock(&mu);
        seen.push_back(*s);
      });
  ASSERT_TRUE(id.ok()) << id.status();
  WaitDone(*m, job.name);
  // The last delivery may trail the state change a little.
  const auto finished = [&] {
    return !seen.empty() && IsTerminal(seen.back().state);
  };
  {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(&finished), absl::Seconds(10));
  }
  m->Unsubscribe(*id);
  absl::MutexLock lock(&mu);
  ASSERT_FALSE(seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GT(seen[i].version, seen[i - 1].version);
    EXPECT_GE(seen[i].chunks_done, seen[i - 1].chunks_done);
  }
  EXPECT_EQ(seen.back().state, JobState::kSucceeded);
}

TEST(JobManagerTest, RejectsInvalidSpecsAndOptions) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  ExperimentSpec bad = TinySpec(1000);
  std::get<MlpSpec>(bad.architecture).widths = {0};
  EXPECT_EQ(m->Submit(SubmitRequest{.spec = bad}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      m->Submit(SubmitRequest{.spec = TinySpec(1000), .target_stderr = -1})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->List(-1, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->List(10, "garbage").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JobManager::Open(JobManagerOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Jobs listed (every page).
int64_t CountListed(JobManager& m) {
  int64_t count = 0;
  std::string token;
  do {
    absl::StatusOr<ListPage> page = m.List(1000, token);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return -1;
    count += static_cast<int64_t>(page->jobs.size());
    token = page->next_page_token;
  } while (!token.empty());
  return count;
}

TEST(JobManagerTest, FinishedJobsBeyondTheCapAreRetiredAndResubmitExactly) {
  TempDir dir;
  JobManagerOptions options = Options(dir.path());
  options.max_finished_jobs = 4;
  constexpr int kJobs = 300;  // over 4 + the slack of 256
  std::vector<std::string> names;
  {
    auto m = OpenManager(options);
    std::vector<SubmitRequest> batch;
    for (int i = 0; i < kJobs; ++i) {
      batch.push_back(SubmitRequest{.spec = TinySpec(200, 100, 8, 1000 + i)});
    }
    for (auto& r : m->SubmitMany(std::move(batch))) {
      ASSERT_TRUE(r.ok()) << r.status();
      names.push_back(r->name);
    }
    // One runner, first in first out: the last job ends last.
    EXPECT_EQ(WaitDone(*m, names.back()).state, JobState::kSucceeded);
    // Retired in batches: between the cap and the cap plus the slack are
    // kept, the newest among them; the oldest are gone from memory.
    const int64_t kept = CountListed(*m);
    EXPECT_GE(kept, 4);
    EXPECT_LE(kept, 4 + 256);
    EXPECT_EQ(m->counters().jobs_retired, kJobs - kept);
    EXPECT_TRUE(m->Get(names.back()).ok());
    EXPECT_EQ(m->Get(names.front()).status().code(),
              absl::StatusCode::kNotFound);
  }
  // Their rows are gone too (a reopened manager loads only the kept ones),
  // their chunks are not: the first spec again is an exact hit with the
  // engine's bits.
  auto m = OpenManager(options);
  const int64_t reloaded = CountListed(*m);
  EXPECT_GE(reloaded, 4);
  EXPECT_LE(reloaded, 4 + 256);
  const ExperimentSpec first = TinySpec(200, 100, 8, 1000);
  const JobSnapshot again = MustSubmit(*m, first);
  EXPECT_EQ(again.state, JobState::kSucceeded);
  EXPECT_EQ(again.chunks_from_store, 2);
  absl::StatusOr<JobResult> result = m->Result(again.name);
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectSameEstimate(result->estimate, DirectEstimate(first, 2));
  // Out of range.
  options.max_finished_jobs = -1;
  EXPECT_EQ(JobManager::Open(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(JobManagerTest, TwoRunningJobsNeverComputeTheSameChunk) {
  TempDir dir;
  JobManagerOptions options = Options(dir.path());
  options.max_running_jobs = 2;
  options.worker_threads = 1;
  auto m = OpenManager(options);
  const JobSnapshot a = MustSubmit(*m, TinySpec(10000));
  const JobSnapshot b = MustSubmit(*m, TinySpec(15000));
  EXPECT_EQ(a.digest, b.digest);
  const JobSnapshot a_done = WaitDone(*m, a.name);
  const JobSnapshot b_done = WaitDone(*m, b.name);
  ASSERT_EQ(a_done.state, JobState::kSucceeded) << a_done.error;
  ASSERT_EQ(b_done.state, JobState::kSucceeded) << b_done.error;
  EXPECT_EQ(m->counters().chunks_computed, 150);
  EXPECT_EQ(a_done.chunks_total - a_done.chunks_from_store +
                b_done.chunks_total - b_done.chunks_from_store,
            150);
  ExpectSameEstimate(m->Result(b.name)->estimate,
                     DirectEstimate(TinySpec(15000), 150));
}

TEST(JobManagerTest, TargetStderrStopsAtTheFirstPrefixBelowIt) {
  TempDir dir;
  const ExperimentSpec spec = TinySpec(20000);  // 200 chunks
  // The largest standard error of every prefix [0, L), folded directly.
  auto engine = *Engine::Create(spec);
  std::map<int64_t, ChunkSums> sums;
  ASSERT_TRUE(engine
                  ->RunChunks(0, 200, kThreads,
                              [&](ChunkSums c) {
                                sums[c.chunk] = std::move(c);
                                return true;
                              })
                  .ok());
  MomentAccumulator acc(engine->tuples(), spec.sampling.seed);
  std::vector<double> max_stderr(201, 0.0);
  std::vector<bool> trusted(201, false);  // every entry's verdict OK
  for (int64_t k = 0; k < 200; ++k) {
    ASSERT_TRUE(acc.Add(sums[k]).ok());
    const CorrelatorEstimate e = acc.Finish();
    max_stderr[k + 1] =
        *std::max_element(e.stderr_mean.begin(), e.stderr_mean.end());
    trusted[k + 1] = std::all_of(
        e.reliability.begin(), e.reliability.end(),
        [](const EntryReliability& r) { return r.verdict == Verdict::kOk; });
  }
  const double target = max_stderr[60];
  int64_t want = -1;
  for (int64_t l = 2; l <= 200 && want < 0; ++l) {
    if (max_stderr[l] < target && trusted[l]) want = l;
  }
  ASSERT_GT(want, 60);

  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot job =
      *m->Submit(SubmitRequest{.spec = spec, .target_stderr = target});
  const JobSnapshot done = WaitDone(*m, job.name);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  EXPECT_EQ(done.chunks_total, want);
  EXPECT_EQ(done.chunks_done, want);
  absl::StatusOr<JobResult> result = m->Result(job.name);
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectSameEstimate(result->estimate, DirectEstimate(spec, want));
}

TEST(JobManagerTest, ListPagesOldestFirst) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  std::vector<std::string> names;
  for (int seed = 1; seed <= 5; ++seed) {
    names.push_back(MustSubmit(*m, TinySpec(200, 100, 8, seed)).name);
  }
  std::vector<std::string> listed;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<ListPage> page = m->List(2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const JobSnapshot& j : page->jobs) listed.push_back(j.name);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(listed, names);
  EXPECT_EQ(pages, 3);
}

// Child half of the SIGKILL test: runs only when the parent re-executes this
// binary with NNFT_KILL_TEST_DIR set; submits a job and waits to be killed.
TEST(JobManagerKillTest, ChildSubmitsAndWaitsToBeKilled) {
  const char* dir = std::getenv("NNFT_KILL_TEST_DIR");
  if (dir == nullptr) GTEST_SKIP() << "child half of KilledServerResumes";
  auto m = OpenManager(Options(dir));
  MustSubmit(*m, TinySpec(30000, 100, 16));
  absl::SleepFor(absl::Seconds(120));
  ADD_FAILURE() << "not killed";
}

TEST(JobManagerKillTest, KilledServerResumesWithTheSameBits) {
  if (std::getenv("NNFT_KILL_TEST_DIR") != nullptr) GTEST_SKIP();
  TempDir dir;
  const ExperimentSpec spec = TinySpec(30000, 100, 16);  // 300 chunks
  const std::string digest = SpecDigest(spec);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    setenv("NNFT_KILL_TEST_DIR", dir.path().c_str(), 1);
    execl("/proc/self/exe", "job_manager_test",
          "--gtest_filter=JobManagerKillTest.ChildSubmitsAndWaitsToBeKilled",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it with SIGKILL once it has stored some chunks.
  auto store = ResultStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  int64_t stored = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (stored < 5 && absl::Now() < deadline &&
         waitpid(child, nullptr, WNOHANG) == 0) {
    absl::SleepFor(absl::Milliseconds(2));
    absl::StatusOr<int64_t> n = (*store)->CountChunks(digest, 300);
    if (n.ok()) stored = *n;
  }
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited by itself";
  store->reset();

  auto m = OpenManager(Options(dir.path()));
  absl::StatusOr<ListPage> jobs = m->List(10, "");
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->jobs.size(), 1u);
  const JobSnapshot done = WaitDone(*m, jobs->jobs[0].name);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  EXPECT_GE(done.chunks_from_store, 5);
  ExpectSameEstimate(m->Result(done.name)->estimate, DirectEstimate(spec, 300));
}

// Admission: a spec whose estimated work, memory or stored sums exceed the
// per-job limits is refused before it is queued, naming the limit.
TEST(JobManagerTest, AdmissionRefusesSpecsOverTheCostLimits) {
  TempDir dir;
  JobManagerOptions options = Options(dir.path());
  options.admission.max_job_gflop = 1.0;
  options.admission.max_job_store_bytes = int64_t{1} << 20;
  std::unique_ptr<JobManager> m = OpenManager(options);
  ASSERT_NE(m, nullptr);
  // 10^8 networks of width 64 at 3 points: ~10^11 flop.
  absl::StatusOr<JobSnapshot> heavy = m->Submit(SubmitRequest{
      .spec = TinySpec(int64_t{100} << 20, 1 << 20, 64), .spec_json = "{}"});
  ASSERT_EQ(heavy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(heavy.status().message().find("max_job_gflop"), std::string::npos)
      << heavy.status();
  // 2 * 10^5 chunks of 34 sums: ~55 MiB of stored sums.
  absl::StatusOr<JobSnapshot> many_chunks =
      m->Submit(SubmitRequest{.spec = TinySpec(200000, 1), .spec_json = "{}"});
  ASSERT_EQ(many_chunks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(many_chunks.status().message().find("max_job_store_mb"),
            std::string::npos)
      << many_chunks.status();
  // Within every limit: accepted.
  MustSubmit(*m, TinySpec(1000));
}

// Per-owner limits: an owner at its queued limit is refused with
// RESOURCE_EXHAUSTED while another owner is not, and an owner at its running
// limit waits while another owner's job starts.
TEST(JobManagerTest, PerOwnerQueuedAndRunningLimits) {
  TempDir dir;
  JobManagerOptions options = Options(dir.path());
  options.max_running_jobs = 2;
  options.max_running_jobs_per_owner = 1;
  options.max_queued_jobs_per_owner = 1;
  std::unique_ptr<JobManager> m = OpenManager(options);
  ASSERT_NE(m, nullptr);
  auto blocker = [](uint64_t seed) {
    return TinySpec(int64_t{100} << 20, 1000, 64, seed);
  };
  const JobSnapshot a1 = MustSubmit(*m, blocker(1), "alice");
  WaitFor(*m, a1.name,
          [](const JobSnapshot& s) { return s.state == JobState::kRunning; });
  const JobSnapshot a2 = MustSubmit(*m, blocker(2), "alice");
  absl::StatusOr<JobSnapshot> a3 = m->Submit(
      SubmitRequest{.spec = blocker(3), .spec_json = "{}", .owner = "alice"});
  ASSERT_EQ(a3.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(a3.status().message().find("max_queued_jobs_per_principal"),
            std::string::npos)
      << a3.status();
  // Bob's job starts on the second runner although alice's a2 came first.
  const JobSnapshot b1 = MustSubmit(*m, blocker(4), "bob");
  const JobSnapshot b1_running = WaitFor(*m, b1.name, [](const JobSnapshot& s) {
    return s.state == JobState::kRunning;
  });
  EXPECT_EQ(b1_running.state, JobState::kRunning);
  absl::StatusOr<JobSnapshot> a2_now = m->Get(a2.name, "alice");
  ASSERT_TRUE(a2_now.ok()) << a2_now.status();
  EXPECT_EQ(a2_now->state, JobState::kQueued);
  // When alice's first job ends, her second starts.
  ASSERT_TRUE(m->Cancel(a1.name, "alice").ok());
  const JobSnapshot a2_running = WaitFor(*m, a2.name, [](const JobSnapshot& s) {
    return s.state == JobState::kRunning;
  });
  EXPECT_EQ(a2_running.state, JobState::kRunning);
  ASSERT_TRUE(m->Cancel(a2.name, "alice").ok());
  ASSERT_TRUE(m->Cancel(b1.name, "bob").ok());
}

}  // namespace
}  // namespace nnft::server
