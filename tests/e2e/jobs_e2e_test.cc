// End-to-end: the real nnft-server on a real port, driven by the C++ client.
// A served result equals the core's own answer bit for bit; identical
// concurrent submissions are computed once; more networks compute only the
// missing chunks; cancellation stops a running job between chunks.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

class JobsE2eTest : public ServerTest {
 protected:
  v1::Counters Counters() {
    absl::StatusOr<v1::ServerInfo> info = client_->Info();
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? info->counters() : v1::Counters();
  }

  v1::Job SubmitAndWait(const v1::ExperimentSpec& spec) {
    absl::StatusOr<v1::Job> job = client_->Submit(spec);
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok()) return v1::Job();
    absl::StatusOr<v1::Job> done = client_->WaitForCompletion(
        job->name(), absl::Now() + absl::Seconds(60));
    EXPECT_TRUE(done.ok()) << done.status();
    return done.ok() ? *done : v1::Job();
  }

  void ExpectResultMatchesCore(const std::string& name, const SmallSpec& spec,
                               int64_t chunks) {
    absl::StatusOr<client::JobResult> served = client_->FetchResult(name);
    ASSERT_TRUE(served.ok()) << served.status();
    absl::StatusOr<CorrelatorEstimate> core = CoreEstimate(spec.Core(), chunks);
    ASSERT_TRUE(core.ok()) << core.status();
    const std::vector<std::string> diffs = BitDifferences(*served, *core);
    EXPECT_TRUE(diffs.empty())
        << diffs.size() << " differences, first: " << diffs.front();
  }
};

TEST_F(JobsE2eTest, SubmitWatchFetchMatchesCoreBitForBit) {
  const SmallSpec spec{
      .width = 64, .seed = 11, .chunk_size = 500, .num_chunks = 16};
  absl::StatusOr<v1::Job> job = client_->Submit(spec.Proto());
  ASSERT_TRUE(job.ok()) << job.status();
  std::vector<int64_t> done;
  absl::StatusOr<v1::Job> final_job = client_->WaitForCompletion(
      job->name(), absl::Now() + absl::Seconds(60),
      [&](const v1::JobUpdate& update) {
        done.push_back(update.job().progress().chunks_done());
        return true;
      });
  ASSERT_TRUE(final_job.ok()) << final_job.status();
  ASSERT_EQ(final_job->state(), v1::Job::SUCCEEDED)
      << final_job->error_message();
  ASSERT_FALSE(done.empty());
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end()));
  EXPECT_EQ(done.back(), 16);
  EXPECT_EQ(final_job->progress().chunks_total(), 16);
  EXPECT_EQ(final_job->progress().networks_done(), 8000);

  ExpectResultMatchesCore(job->name(), spec, 16);

  // Physics sanity on the wire: a one-hidden-layer net's G2 equals the NNGP
  // kernel at every width, so each 2-point z-score against the GP is a
  // standard normal draw; 5 sigma bounds all six of them.
  absl::StatusOr<client::JobResult> served = client_->FetchResult(job->name());
  ASSERT_TRUE(served.ok()) << served.status();
  const v1::EntryBlock& e = served->entries;
  ASSERT_EQ(e.z_gp_size(), e.estimate().tuples_size());
  int checked = 0;
  for (int i = 0; i < e.estimate().tuples_size(); ++i) {
    if (e.estimate().tuples(i).index_size() != 2) continue;
    EXPECT_LT(std::abs(e.z_gp(i)), 5.0) << "tuple " << i;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
  EXPECT_EQ(served->kernel.size(), 9u);
}

TEST_F(JobsE2eTest, IdenticalConcurrentSubmissionsAreComputedOnce) {
  const SmallSpec spec{
      .width = 1024, .seed = 12, .chunk_size = 500, .num_chunks = 24};
  const v1::Counters before = Counters();
  constexpr int kClients = 8;
  std::vector<std::string> names(kClients);
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      // Each thread its own channel, as separate users would have.
      std::unique_ptr<client::Client> client = server_->NewClient();
      absl::StatusOr<v1::Job> job = client->Submit(spec.Proto());
      ASSERT_TRUE(job.ok()) << job.status();
      names[t] = job->name();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& name :
       std::set<std::string>(names.begin(), names.end())) {
    absl::StatusOr<v1::Job> done =
        client_->WaitForCompletion(name, absl::Now() + absl::Seconds(60));
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_EQ(done->state(), v1::Job::SUCCEEDED) << done->error_message();
  }
  const v1::Counters after = Counters();
  EXPECT_EQ(after.chunks_computed() - before.chunks_computed(), 24);
  EXPECT_EQ(after.jobs_submitted() - before.jobs_submitted(), kClients);
  const int64_t joined =
      (after.jobs_deduplicated() - before.jobs_deduplicated()) +
      (after.exact_hits() - before.exact_hits());
  EXPECT_EQ(joined, kClients - 1);
  // Deduplicated submissions share a name; exact hits get jobs of their own.
  const std::set<std::string> distinct(names.begin(), names.end());
  EXPECT_EQ(static_cast<int64_t>(distinct.size()),
            1 + after.exact_hits() - before.exact_hits());
  ExpectResultMatchesCore(names[0], spec, 24);
}

TEST_F(JobsE2eTest, MoreNetworksComputeOnlyTheNewChunks) {
  SmallSpec spec{.width = 128, .seed = 13, .chunk_size = 400, .num_chunks = 8};
  const v1::Counters c0 = Counters();
  const v1::Job first = SubmitAndWait(spec.Proto());
  ASSERT_EQ(first.state(), v1::Job::SUCCEEDED) << first.error_message();
  const v1::Counters c1 = Counters();
  EXPECT_EQ(c1.chunks_computed() - c0.chunks_computed(), 8);

  spec.num_chunks = 20;
  const v1::Job more = SubmitAndWait(spec.Proto());
  ASSERT_EQ(more.state(), v1::Job::SUCCEEDED) << more.error_message();
  EXPECT_EQ(more.digest(), first.digest());
  const v1::Counters c2 = Counters();
  EXPECT_EQ(c2.chunks_computed() - c1.chunks_computed(), 12);
  EXPECT_EQ(c2.chunks_from_store() - c1.chunks_from_store(), 8);
  EXPECT_EQ(more.progress().chunks_from_store(), 8);
  ExpectResultMatchesCore(more.name(), spec, 20);

  // Fewer networks: answered from the store at once.
  spec.num_chunks = 4;
  absl::StatusOr<v1::Job> fewer = client_->Submit(spec.Proto());
  ASSERT_TRUE(fewer.ok()) << fewer.status();
  EXPECT_EQ(fewer->state(), v1::Job::SUCCEEDED);
  const v1::Counters c3 = Counters();
  EXPECT_EQ(c3.chunks_computed(), c2.chunks_computed());
  EXPECT_EQ(c3.exact_hits() - c2.exact_hits(), 1);
  ExpectResultMatchesCore(fewer->name(), spec, 4);
}

TEST_F(JobsE2eTest, CancelStopsARunningJobBetweenChunks) {
  const SmallSpec spec{
      .width = 2048, .seed = 14, .chunk_size = 1000, .num_chunks = 400};
  absl::StatusOr<v1::Job> job = client_->Submit(spec.Proto());
  ASSERT_TRUE(job.ok()) << job.status();
  absl::StatusOr<v1::Job> running =
      WaitForChunks(*client_, job->name(), 2, absl::Seconds(60));
  ASSERT_TRUE(running.ok()) << running.status();
  ASSERT_EQ(running->state(), v1::Job::RUNNING);

  // Neither a result nor deletion while it runs.
  EXPECT_EQ(client_->FetchResult(job->name()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client_->Delete(job->name()).code(),
            absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(client_->Cancel(job->name()).ok());
  absl::StatusOr<v1::Job> done =
      client_->WaitForCompletion(job->name(), absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), v1::Job::CANCELLED);
  EXPECT_LT(done->progress().chunks_done(), 400);
  EXPECT_LT(Counters().chunks_computed(), 400);
  EXPECT_EQ(client_->FetchResult(job->name()).status().code(),
            absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(client_->Delete(job->name()).ok());
  EXPECT_EQ(client_->Get(job->name()).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace nnft::e2e
