// End-to-end: the server's persistence across process deaths. A server
// SIGKILLed mid-job and restarted on the same data directory resumes the job
// from its stored chunks and finishes with the same bits as the core; SIGTERM
// drains (exit status 0) and the job resumes after a restart.
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

// Starts a server on `data_dir`, submits `spec`, and returns once the job has
// at least `chunks` finished chunks. The job's name goes to *name.
std::unique_ptr<ServerProcess> StartWithRunningJob(const std::string& data_dir,
                                                   const SmallSpec& spec,
                                                   int64_t chunks,
                                                   std::string* name) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start({.data_dir = data_dir});
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  std::unique_ptr<client::Client> client = (*server)->NewClient();
  absl::StatusOr<v1::Job> job = client->Submit(spec.Proto());
  EXPECT_TRUE(job.ok()) << job.status();
  if (!job.ok()) return nullptr;
  *name = job->name();
  absl::StatusOr<v1::Job> running =
      WaitForChunks(*client, *name, chunks, absl::Seconds(60));
  EXPECT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(running->state(), v1::Job::RUNNING)
      << "the job must still run when the server is stopped";
  return *std::move(server);
}

// Restarts on `data_dir`, waits for `name` to succeed, and checks its result
// against the core bit for bit and that the stored chunks were reused.
void ExpectResumesWithCoreBits(const std::string& data_dir,
                               const std::string& name, const SmallSpec& spec) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start({.data_dir = data_dir});
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<client::Client> client = (*server)->NewClient();
  absl::StatusOr<v1::Job> done =
      client->WaitForCompletion(name, absl::Now() + absl::Seconds(90));
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->state(), v1::Job::SUCCEEDED) << done->error_message();

  absl::StatusOr<v1::ServerInfo> info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GE(info->counters().chunks_from_store(), 1);
  EXPECT_LT(info->counters().chunks_computed(), spec.num_chunks);

  absl::StatusOr<client::JobResult> served = client->FetchResult(name);
  ASSERT_TRUE(served.ok()) << served.status();
  absl::StatusOr<CorrelatorEstimate> core =
      CoreEstimate(spec.Core(), spec.num_chunks);
  ASSERT_TRUE(core.ok()) << core.status();
  const std::vector<std::string> diffs = BitDifferences(*served, *core);
  EXPECT_TRUE(diffs.empty())
      << diffs.size() << " differences, first: " << diffs.front();
  absl::StatusOr<int> stopped = (*server)->Stop(SIGTERM);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
}

TEST(RestartE2eTest, SigkillMidRunThenRestartFinishesWithIdenticalBits) {
  TempDir tmp;
  const std::string data_dir = tmp.path() + "/data";
  const SmallSpec spec{
      .width = 1024, .seed = 15, .chunk_size = 1000, .num_chunks = 60};
  std::string name;
  std::unique_ptr<ServerProcess> server =
      StartWithRunningJob(data_dir, spec, 3, &name);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<int> status = server->Stop(SIGKILL);
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_TRUE(WIFSIGNALED(*status));
  ExpectResumesWithCoreBits(data_dir, name, spec);
}

TEST(RestartE2eTest, SigtermDrainsExitsZeroAndTheJobResumes) {
  TempDir tmp;
  const std::string data_dir = tmp.path() + "/data";
  const SmallSpec spec{
      .width = 1024, .seed = 16, .chunk_size = 1000, .num_chunks = 60};
  std::string name;
  std::unique_ptr<ServerProcess> server =
      StartWithRunningJob(data_dir, spec, 3, &name);
  ASSERT_NE(server, nullptr);
  const absl::Time sent = absl::Now();
  absl::StatusOr<int> status = server->Stop(SIGTERM, absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << status.status() << "\n" << server->Log();
  ASSERT_TRUE(WIFEXITED(*status)) << "wait status " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0) << server->Log();
  // Draining waits for the chunks in flight only, not for the job.
  EXPECT_LT(absl::Now() - sent, absl::Seconds(20));
  ExpectResumesWithCoreBits(data_dir, name, spec);
}

}  // namespace
}  // namespace nnft::e2e
