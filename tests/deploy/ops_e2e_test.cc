// The real nnft-server with its operations features: jobs computed through
// the MPI launcher (mpirun of nnft-mpi-worker on 2 and 3 local ranks) give the
// bits of the core run in this process and stream progress; a broken
// launcher fails the job cleanly; the Prometheus endpoint, scraped before,
// during and after jobs, shows the counters moving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/server_process.h"

namespace nnft::e2e {
namespace {

// mpirun refuses root unless told; the variables are Open MPI's own.
void AllowMpiAsRoot() {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
}

std::string LauncherTemplate() {
  return absl::StrCat(NNFT_MPIEXEC,
                      " -np {ranks} --oversubscribe --bind-to none {worker} "
                      "{args}");
}

// 40 chunks of 2000 width-1000 networks: the 28 the launcher computes take
// about half a second on 2 idle cores, several times the 100 ms between
// progress notifications, so a watcher sees them arrive.
SmallSpec WatchableSpec() {
  return SmallSpec{
      .width = 1000, .seed = 77, .chunk_size = 2000, .num_chunks = 40};
}

// Processes whose command line mentions `text` (the worker's arguments name
// the data directory of its server).
int ProcessesMentioning(const std::string& text) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
    if (cmdline.find(text) != std::string::npos) ++count;
  }
  return count;
}

ServerOptions LauncherServer(const TempDir& dir, int ranks,
                             const std::string& launcher) {
  return ServerOptions{
      .data_dir = dir.path() + "/data",
      .worker_threads = 1,
      .extra_args = {"--mpi_launcher=" + launcher,
                     absl::StrCat("--mpi_ranks=", ranks), "--mpi_threads=1",
                     absl::StrCat("--mpi_worker=", NNFT_MPI_WORKER_BIN)}};
}

class LauncherTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { AllowMpiAsRoot(); }
};

TEST_P(LauncherTest, JobStreamsProgressAndMatchesCoreBitForBit) {
  const int ranks = GetParam();
  TempDir dir;
  auto server =
      ServerProcess::Start(LauncherServer(dir, ranks, LauncherTemplate()));
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = (*server)->NewClient();
  const SmallSpec spec = WatchableSpec();
  // First a prefix of the chunks, so the full job is a partial hit: the
  // launcher computes only chunks 12..39.
  SmallSpec prefix = spec;
  prefix.num_chunks = 12;
  auto first = client->Submit(prefix.Proto());
  ASSERT_TRUE(first.ok()) << first.status();
  auto first_done = client->WaitForCompletion(first->name(),
                                              absl::Now() + absl::Seconds(120));
  ASSERT_TRUE(first_done.ok()) << first_done.status();
  ASSERT_EQ(first_done->state(), v1::Job::SUCCEEDED)
      << first_done->error_message() << "\n"
      << (*server)->Log();

  auto job = client->Submit(spec.Proto());
  ASSERT_TRUE(job.ok()) << job.status();

  std::vector<int64_t> progress;  // chunks_done seen while not finished
  auto done = client->WaitForCompletion(
      job->name(), absl::Now() + absl::Seconds(240),
      [&](const v1::JobUpdate& update) {
        if (update.job().state() == v1::Job::RUNNING) {
          progress.push_back(update.job().progress().chunks_done());
        }
        return true;
      });
  ASSERT_TRUE(done.ok()) << done.status() << "\n" << (*server)->Log();
  ASSERT_EQ(done->state(), v1::Job::SUCCEEDED) << done->error_message() << "\n"
                                               << (*server)->Log();
  EXPECT_EQ(done->progress().chunks_done(), spec.num_chunks);
  // The watcher saw chunks arrive before the end: some update while running
  // reported a count strictly between 0 and the total.
  bool partial = false;
  for (int64_t c : progress)
    partial |= c > prefix.num_chunks && c < spec.num_chunks;
  EXPECT_TRUE(partial) << "progress seen: " << progress.size() << " updates";

  auto result = client->FetchResult(job->name());
  ASSERT_TRUE(result.ok()) << result.status();
  auto core = CoreEstimate(spec.Core(), spec.num_chunks);
  ASSERT_TRUE(core.ok()) << core.status();
  const std::vector<std::string> diff = BitDifferences(*result, *core);
  EXPECT_TRUE(diff.empty())
      << diff.size() << " differences, first: " << diff.front();
  EXPECT_NE((*server)->Log().find("--chunks=12:40"), std::string::npos)
      << (*server)->Log();
}

INSTANTIATE_TEST_SUITE_P(Ranks, LauncherTest, ::testing::Values(2, 3));

TEST(LauncherFailureTest, FailingCommandFailsJobWithStatusAndStderr) {
  TempDir dir;
  auto server = ServerProcess::Start(
      LauncherServer(dir, 2, "echo launcher-broken-here >&2; exit 3 # {args}"));
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = (*server)->NewClient();
  auto job = client->Submit(SmallSpec{.num_chunks = 4}.Proto());
  ASSERT_TRUE(job.ok()) << job.status();
  auto done =
      client->WaitForCompletion(job->name(), absl::Now() + absl::Seconds(60));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), v1::Job::FAILED);
  EXPECT_NE(done->error_message().find("exit status 3"), std::string::npos)
      << done->error_message();
  EXPECT_NE(done->error_message().find("launcher-broken-here"),
            std::string::npos)
      << done->error_message();
  EXPECT_EQ(done->progress().chunks_done(), 0);
  // The server lives on.
  EXPECT_TRUE(client->Info().ok());
}

TEST(LauncherFailureTest, GarbageOnStdoutFailsJobAndStoresNothing) {
  TempDir dir;
  auto server = ServerProcess::Start(LauncherServer(
      dir, 2, "printf 'NNFC this is not a chunk record at all' # {args}"));
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = (*server)->NewClient();
  auto job = client->Submit(SmallSpec{.num_chunks = 4}.Proto());
  ASSERT_TRUE(job.ok()) << job.status();
  auto done =
      client->WaitForCompletion(job->name(), absl::Now() + absl::Seconds(60));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), v1::Job::FAILED);
  EXPECT_NE(done->error_message().find("chunk stream"), std::string::npos)
      << done->error_message();
  EXPECT_EQ(done->progress().chunks_done(), 0);
}

TEST(LauncherFailureTest, CancelStopsTheLauncherRun) {
  AllowMpiAsRoot();
  TempDir dir;
  auto server =
      ServerProcess::Start(LauncherServer(dir, 2, LauncherTemplate()));
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = (*server)->NewClient();
  SmallSpec spec = WatchableSpec();
  spec.num_chunks = 4000;  // minutes of work: only a cancel ends it soon
  auto job = client->Submit(spec.Proto());
  ASSERT_TRUE(job.ok()) << job.status();
  auto running = WaitForChunks(*client, job->name(), 1, absl::Seconds(120));
  ASSERT_TRUE(running.ok()) << running.status();
  ASSERT_EQ(running->state(), v1::Job::RUNNING);
  const std::string launch_dir = dir.path() + "/data/launch";
  EXPECT_GT(ProcessesMentioning(launch_dir), 0);  // mpirun and its ranks
  const absl::Time cancelled_at = absl::Now();
  ASSERT_TRUE(client->Cancel(job->name()).ok());
  auto done =
      client->WaitForCompletion(job->name(), absl::Now() + absl::Seconds(60));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), v1::Job::CANCELLED);
  EXPECT_LT(done->progress().chunks_done(), spec.num_chunks);
  EXPECT_LT(absl::Now() - cancelled_at, absl::Seconds(30));
  // The launcher's process group is gone: no worker of this server remains.
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (ProcessesMentioning(launch_dir) > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(ProcessesMentioning(launch_dir), 0);
}

// --- metrics ---

// GET http://address/metrics over a plain socket; the response body.
std::string Scrape(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(address.substr(colon + 1), &port)) << address;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &peer.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0) {
    ::close(fd);
    ADD_FAILURE() << "cannot connect to " << address;
    return "";
  }
  const std::string request =
      "GET /metrics HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(::write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[8192];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) {
    response.append(buffer, n);
  }
  ::close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.", 0), 0u) << response.substr(0, 200);
  EXPECT_NE(response.find(" 200 "), std::string::npos)
      << response.substr(0, 200);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The value of the sample line `name{labels}` (labels as printed, "" for
// none); -1 when absent.
double Sample(const std::string& body, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double value = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) {
        return value;
      }
    }
  }
  return -1;
}

std::string MetricsAddress(const ServerProcess& server) {
  std::smatch match;
  const std::string log = server.Log();
  return std::regex_search(log, match,
                           std::regex("metrics address=([0-9.]+:[0-9]+)"))
             ? match[1].str()
             : "";
}

TEST(MetricsTest, ScrapesShowJobsChunksStoreAndRpcsMoving) {
  TempDir dir;
  auto server =
      ServerProcess::Start({.data_dir = dir.path() + "/data",
                            .worker_threads = 1,
                            .extra_args = {"--metrics_listen=127.0.0.1:0"}});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = MetricsAddress(**server);
  ASSERT_FALSE(address.empty()) << (*server)->Log();
  auto client = (*server)->NewClient();

  const std::string before = Scrape(address);
  EXPECT_EQ(Sample(before, "nnft_chunks_computed_total"), 0) << before;
  EXPECT_EQ(Sample(before, "nnft_jobs{state=\"RUNNING\"}"), 0) << before;

  // A long job, scraped while it runs, then cancelled.
  SmallSpec big = WatchableSpec();
  big.num_chunks = 4000;
  auto long_job = client->Submit(big.Proto());
  ASSERT_TRUE(long_job.ok()) << long_job.status();
  auto running = WaitForChunks(*client, long_job->name(), 2, absl::Seconds(60));
  ASSERT_TRUE(running.ok()) << running.status();
  const std::string during = Scrape(address);
  EXPECT_EQ(Sample(during, "nnft_jobs{state=\"RUNNING\"}"), 1) << during;
  EXPECT_GE(Sample(during, "nnft_chunks_computed_total"), 2) << during;
  EXPECT_GE(Sample(during, "nnft_networks_computed_total"), 2 * big.chunk_size)
      << during;
  EXPECT_EQ(Sample(during, "nnft_store_lookups_total{result=\"miss\"}"), 1)
      << during;
  ASSERT_TRUE(client->Cancel(long_job->name()).ok());
  ASSERT_TRUE(
      client
          ->WaitForCompletion(long_job->name(), absl::Now() + absl::Seconds(60))
          .ok());

  // A small job, then the same again: answered from the store.
  const SmallSpec small{.num_chunks = 4};
  auto first = client->Submit(small.Proto(), "first");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(
      client->WaitForCompletion(first->name(), absl::Now() + absl::Seconds(60))
          .ok());
  auto again = client->Submit(small.Proto(), "again");
  ASSERT_TRUE(again.ok()) << again.status();
  // A repeat of a SUCCEEDED job is answered by that job (no new job).
  EXPECT_EQ(again->name(), first->name());
  EXPECT_EQ(again->submissions(), 2);

  const std::string after = Scrape(address);
  EXPECT_GE(Sample(after, "nnft_chunks_computed_total"),
            Sample(during, "nnft_chunks_computed_total") + small.num_chunks);
  EXPECT_EQ(Sample(after, "nnft_jobs{state=\"CANCELLED\"}"), 1) << after;
  EXPECT_EQ(Sample(after, "nnft_jobs{state=\"SUCCEEDED\"}"), 1) << after;
  EXPECT_EQ(Sample(after, "nnft_jobs{state=\"RUNNING\"}"), 0) << after;
  EXPECT_EQ(Sample(after, "nnft_store_lookups_total{result=\"hit\"}"), 1)
      << after;
  EXPECT_EQ(Sample(after, "nnft_store_lookups_total{result=\"miss\"}"), 2)
      << after;
  EXPECT_EQ(Sample(after, "nnft_jobs_submitted_total"), 3) << after;
  EXPECT_EQ(Sample(after, "nnft_job_queue_wait_seconds_count"), 2) << after;
  EXPECT_EQ(Sample(after, "nnft_job_run_seconds_count{state=\"CANCELLED\"}"), 1)
      << after;
  EXPECT_EQ(Sample(after, "nnft_job_run_seconds_count{state=\"SUCCEEDED\"}"), 1)
      << after;
  // RPCs by method and code: three OK submissions, and their latencies.
  const std::string submit =
      "{code=\"OK\",method=\"/nnft.v1.Nnft/SubmitExperiment\"}";
  EXPECT_EQ(Sample(after, "nnft_rpc_requests_total" + submit), 3) << after;
  EXPECT_EQ(Sample(after, "nnft_rpc_duration_seconds_count" + submit), 3)
      << after;
  EXPECT_GT(Sample(after, "nnft_rpc_duration_seconds_sum" + submit), 0);
  EXPECT_GE(Sample(after,
                   "nnft_rpc_requests_total{code=\"OK\",method=\"/"
                   "nnft.v1.Nnft/WatchJob\"}"),
            1)
      << after;
  // An error code is a label of its own.
  EXPECT_FALSE(client->Get("jobs/0000000000000000").ok());
  const std::string last = Scrape(address);
  EXPECT_EQ(Sample(last,
                   "nnft_rpc_requests_total{code=\"NOT_FOUND\",method=\"/"
                   "nnft.v1.Nnft/GetJob\"}"),
            1)
      << last;
  // SubmitBatch is counted as any other method (an empty batch: OK).
  ASSERT_TRUE(client->SubmitBatch({}).ok());
  const std::string batch = Scrape(address);
  EXPECT_EQ(Sample(batch,
                   "nnft_rpc_requests_total{code=\"OK\",method=\"/"
                   "nnft.v1.Nnft/SubmitBatch\"}"),
            1)
      << batch;
}

}  // namespace
}  // namespace nnft::e2e
