// nnft-mpi-worker under mpirun on this machine: 1, 2 and 3 ranks (and
// several threads and block sizes) give the bits of the core engine run in
// this process, chunk by chunk in index order.
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/spec/spec_proto.h"

namespace nnft {
namespace {

// A small single-hidden-layer erf net: 23 chunks of 90 networks (the last
// chunk as full as the others; 23 is prime, so no rank count divides it).
constexpr char kSpec[] = R"({
  "architecture": {"mlp": {"inputDim": 1, "widths": [40],
                           "activation": "ACTIVATION_ERF",
                           "sw": [1.5, 1.0], "sb": [0.2, 0.1]}},
  "points": [{"x": [0.1]}, {"x": [0.6]}, {"x": [-0.8]}],
  "observables": {"orders": [2, 4]},
  "sampling": {"seed": "20261201", "numNetworks": "2070", "chunkSize": 90}
})";

struct Reference {
  CorrelatorEstimate estimate;
  std::string chunk_hash;
};

// SHA-256 over (k, networks, sums bits) per chunk, as the worker documents.
std::string HashChunks(const std::vector<ChunkSums>& chunks) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (const ChunkSums& c : chunks) {
    EVP_DigestUpdate(ctx, &c.chunk, sizeof c.chunk);
    EVP_DigestUpdate(ctx, &c.networks, sizeof c.networks);
    EVP_DigestUpdate(ctx, c.sums.data(), c.sums.size() * sizeof(double));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx, digest, &size);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

// The core run in this process: every chunk on this thread, folded in order.
Reference RunCore(const std::string& spec_json) {
  auto spec = server::SpecFromJson(spec_json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  auto engine = Engine::Create(*spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
  MomentAccumulator accumulator((*engine)->tuples(), spec->sampling.seed);
  std::vector<ChunkSums> chunks;
  for (int64_t k = 0; k < NumChunks(spec->sampling); ++k) {
    chunks.push_back((*engine)->RunChunk(k));
    EXPECT_TRUE(accumulator.Add(chunks.back()).ok());
  }
  return {accumulator.Finish(), HashChunks(chunks)};
}

class MpiWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("nnft_mpi_worker_test_", getpid());
    std::filesystem::create_directories(dir_);
    spec_path_ = (dir_ / "spec.json").string();
    std::ofstream(spec_path_) << kSpec;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs the worker on `ranks` ranks; returns its exit status and fills
  // *stderr_text with what it printed there.
  int RunWorker(int ranks, const std::string& args, const std::string& out,
                std::string* stderr_text) {
    const std::string err = (dir_ / "stderr.txt").string();
    std::string command = absl::StrCat(
        NNFT_MPIEXEC, " -np ", ranks, " --oversubscribe",
        geteuid() == 0 ? " --allow-run-as-root" : "", " ", NNFT_MPI_WORKER_BIN,
        " ", args, " --out=", out, " >", err, " 2>&1");
    const int status = std::system(command.c_str());
    std::ostringstream text;
    text << std::ifstream(err).rdbuf();
    *stderr_text = text.str();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  google::protobuf::Struct ReadResult(const std::string& path) {
    std::ostringstream text;
    text << std::ifstream(path).rdbuf();
    google::protobuf::Struct result;
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(text.str(), &result).ok())
        << text.str();
    return result;
  }

  std::filesystem::path dir_;
  std::string spec_path_;
};

// Every double of `values` has the bits of `want` (null for NaN).
void ExpectSameBits(const google::protobuf::Value& values,
                    const std::vector<double>& want, const char* name) {
  const auto& list = values.list_value().values();
  ASSERT_EQ(list.size(), static_cast<int>(want.size())) << name;
  for (int i = 0; i < list.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(list[i].has_null_value()) << name << "[" << i << "]";
      continue;
    }
    const double got = list[i].number_value();
    EXPECT_EQ(std::memcmp(&got, &want[i], sizeof got), 0)
        << name << "[" << i << "]: " << got << " vs " << want[i];
  }
}

TEST_F(MpiWorkerTest, OneTwoAndThreeRanksGiveTheCoreBits) {
  const Reference want = RunCore(kSpec);
  ASSERT_EQ(want.estimate.chunks, 23);
  for (int ranks : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrCat(ranks, " ranks"));
    const std::string out = (dir_ / absl::StrCat("r", ranks, ".json")).string();
    std::string log;
    ASSERT_EQ(
        RunWorker(ranks, "--spec=" + spec_path_ + " --threads=1", out, &log), 0)
        << log;
    EXPECT_NE(log.find("23/23 chunks folded (2070 networks)"),
              std::string::npos)
        << log;
    const google::protobuf::Struct got = ReadResult(out);
    const auto& f = got.fields();
    EXPECT_EQ(f.at("chunk_hash").string_value(), want.chunk_hash);
    ExpectSameBits(f.at("mean"), want.estimate.mean, "mean");
    ExpectSameBits(f.at("stderr"), want.estimate.stderr_mean, "stderr");
    ExpectSameBits(f.at("connected"), want.estimate.connected, "connected");
    ExpectSameBits(f.at("connected_stderr"), want.estimate.stderr_connected,
                   "connected_stderr");
    EXPECT_EQ(f.at("networks").number_value(), 2070);
    EXPECT_EQ(f.at("chunks").number_value(), 23);
    EXPECT_EQ(f.at("seed").string_value(), "20261201");
    EXPECT_EQ(f.at("ranks").number_value(), ranks);
    const auto& timing = f.at("timing").struct_value().fields();
    EXPECT_EQ(timing.at("rank_compute_s").list_value().values_size(), ranks);
    const auto& cpu = timing.at("rank_compute_cpu_s").list_value().values();
    ASSERT_EQ(cpu.size(), ranks);
    for (const auto& seconds : cpu) EXPECT_GT(seconds.number_value(), 0);
  }
}

TEST_F(MpiWorkerTest, ThreadsAndBlocksDoNotChangeTheBits) {
  const Reference want = RunCore(kSpec);
  const std::string out = (dir_ / "blocks.json").string();
  std::string log;
  ASSERT_EQ(RunWorker(2, "--spec=" + spec_path_ + " --threads=2 --block=3", out,
                      &log),
            0)
      << log;
  const google::protobuf::Struct got = ReadResult(out);
  EXPECT_EQ(got.fields().at("chunk_hash").string_value(), want.chunk_hash);
  ExpectSameBits(got.fields().at("connected"), want.estimate.connected,
                 "connected");
  EXPECT_EQ(got.fields().at("block").number_value(), 3);
}

TEST_F(MpiWorkerTest, NetworksFlagOverridesTheSpec) {
  std::string spec = kSpec;
  spec.replace(spec.find("\"2070\""), 6, "\"900\"");
  const Reference want = RunCore(spec);
  const std::string out = (dir_ / "fewer.json").string();
  std::string log;
  ASSERT_EQ(RunWorker(2, "--spec=" + spec_path_ + " --networks=900", out, &log),
            0)
      << log;
  const google::protobuf::Struct got = ReadResult(out);
  EXPECT_EQ(got.fields().at("networks").number_value(), 900);
  EXPECT_EQ(got.fields().at("chunk_hash").string_value(), want.chunk_hash);
}

TEST_F(MpiWorkerTest, BadInputFailsOnEveryRankWithTheFieldNamed) {
  std::string log;
  const std::string out = (dir_ / "none.json").string();
  EXPECT_NE(
      RunWorker(2, "--spec=" + (dir_ / "missing.json").string(), out, &log), 0);
  EXPECT_NE(log.find("cannot read"), std::string::npos) << log;

  std::string bad = kSpec;
  bad.replace(bad.find("[40]"), 4, "[0]");
  std::ofstream(spec_path_) << bad;
  EXPECT_NE(RunWorker(2, "--spec=" + spec_path_, out, &log), 0);
  EXPECT_NE(log.find("widths[0]"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace nnft
