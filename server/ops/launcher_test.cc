// The launcher's command expansion and its handling of launchers that do not
// produce a clean chunk stream (the real worker under mpirun is exercised in
// tests/deploy/ops_e2e_test.cc).
#include "server/ops/launcher.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/mpi/chunk_stream.h"

namespace nnft::server {
namespace {

std::string SpecDir() {
  return (std::filesystem::temp_directory_path() /
          absl::StrCat("nnft_launcher_test_", ::getpid()))
      .string();
}

ExperimentSpec TinySpec() {
  ExperimentSpec spec;
  spec.architecture =
      MlpSpec{.input_dim = 1, .widths = {4}, .activation = Activation::kErf};
  spec.points.resize(2, 1);
  spec.points << 0.1, 0.2;
  spec.observables = ObservableSpec{.orders = {2}, .tuples = {}};
  spec.sampling.seed = 3;
  spec.sampling.chunk_size = 10;
  spec.sampling.num_networks = 40;
  return spec;
}

// Removes the spec directory the launchers create.
class LauncherTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(SpecDir()); }
};

TEST(ChunkRangesTest, ContiguousRunsBecomeHalfOpenRanges) {
  EXPECT_EQ(ChunkRanges({0, 1, 2, 5, 7, 8}), "0:3,5:6,7:9");
  EXPECT_EQ(ChunkRanges({}), "");
}

TEST_F(LauncherTest, ExpandFillsPlaceholdersAndQuotesArguments) {
  auto launcher = Launcher::Create(
      {.command = "run -n {ranks} -c {threads} {worker} {args}",
       .ranks = 3,
       .threads = 2,
       .worker = "/bin/sh",
       .spec_dir = SpecDir()});
  ASSERT_TRUE(launcher.ok()) << launcher.status();
  EXPECT_EQ((*launcher)->Expand({"--spec=a b", "it's"}),
            "run -n 3 -c 2 '/bin/sh' '--spec=a b' 'it'\\''s'");
}

TEST_F(LauncherTest, OptionsNameTheBadField) {
  auto no_args =
      Launcher::Create({.command = "mpirun {worker}", .spec_dir = "d"});
  EXPECT_EQ(no_args.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_args.status().message().find("{args}"), std::string::npos);
  auto ranks =
      Launcher::Create({.command = "{args}", .ranks = 0, .spec_dir = "d"});
  EXPECT_EQ(ranks.status().code(), absl::StatusCode::kInvalidArgument);
  auto worker = Launcher::Create({.command = "{worker} {args}",
                                  .worker = "/nonexistent/nnft-mpi-worker",
                                  .spec_dir = SpecDir()});
  EXPECT_EQ(worker.status().code(), absl::StatusCode::kNotFound);
}

// Runs `command` as the launcher for chunks {0, 1}; the chunks handed on.
absl::Status RunFake(const std::string& command, std::vector<int64_t>* got) {
  auto launcher = Launcher::Create({.command = command, .spec_dir = SpecDir()});
  if (!launcher.ok()) return launcher.status();
  return (*launcher)->Run(
      TinySpec(), {0, 1}, 3,
      [got](ChunkSums c) {
        got->push_back(c.chunk);
        return true;
      },
      [] { return false; });
}

// A shell command printing `bytes` (as octal escapes) on stdout.
std::string PrintBytes(const std::string& bytes) {
  std::string escaped;
  for (unsigned char c : bytes)
    escaped += absl::StrCat("\\", c / 64, (c / 8) % 8, c % 8);
  return absl::StrCat("printf '", escaped, "'");
}

TEST_F(LauncherTest, CleanStreamIsHandedOnChunkByChunk) {
  const std::string stream =
      mpi::EncodeChunkRecord({.chunk = 1, .networks = 10, .sums = {1, 2, 3}}) +
      mpi::EncodeChunkRecord({.chunk = 0, .networks = 10, .sums = {4, 5, 6}}) +
      mpi::EncodeEndRecord(2, 20);
  std::vector<int64_t> got;
  EXPECT_TRUE(RunFake(PrintBytes(stream) + " # {args}", &got).ok());
  EXPECT_EQ(got, (std::vector<int64_t>{1, 0}));
}

TEST_F(LauncherTest, MissingEndRecordIsDataLoss) {
  const std::string stream =
      mpi::EncodeChunkRecord({.chunk = 0, .networks = 10, .sums = {1, 2, 3}});
  std::vector<int64_t> got;
  absl::Status status = RunFake(PrintBytes(stream) + " # {args}", &got);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_EQ(got, (std::vector<int64_t>{0}));  // the whole, verified chunk
}

TEST_F(LauncherTest, UnrequestedChunkStopsTheStream) {
  const std::string stream =
      mpi::EncodeChunkRecord({.chunk = 7, .networks = 10, .sums = {1, 2, 3}}) +
      mpi::EncodeChunkRecord({.chunk = 0, .networks = 10, .sums = {1, 2, 3}});
  std::vector<int64_t> got;
  absl::Status status = RunFake(PrintBytes(stream) + " # {args}", &got);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_TRUE(got.empty());
}

TEST_F(LauncherTest, NonZeroExitIsInternalWithStderrTail) {
  std::vector<int64_t> got;
  absl::Status status = RunFake("echo no-mpi-here >&2; exit 7 # {args}", &got);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_NE(status.message().find("exit status 7"), std::string::npos);
  EXPECT_NE(status.message().find("no-mpi-here"), std::string::npos);
}

TEST_F(LauncherTest, StopKillsTheProcessGroup) {
  auto launcher = Launcher::Create({.command = "sleep 60 # {args}",
                                    .spec_dir = SpecDir(),
                                    .kill_grace = absl::Seconds(1)});
  ASSERT_TRUE(launcher.ok());
  const absl::Time start = absl::Now();
  absl::Status status = (*launcher)->Run(
      TinySpec(), {0}, 3, [](ChunkSums) { return true; },
      [start] { return absl::Now() - start > absl::Milliseconds(300); });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace nnft::server
