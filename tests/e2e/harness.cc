#include "tests/e2e/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/sampling/engine.h"
#include "gtest/gtest.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<char*> Argv(const std::string& binary,
                        std::vector<std::string>* args) {
  args->insert(args->begin(), binary);
  std::vector<char*> argv;
  for (std::string& arg : *args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

std::string Hex(double v) {
  return absl::StrFormat("%a (0x%016x)", v, std::bit_cast<uint64_t>(v));
}

void CompareArray(const char* field,
                  const google::protobuf::RepeatedField<double>& served,
                  const std::vector<double>& core,
                  std::vector<std::string>* diffs) {
  if (static_cast<size_t>(served.size()) != core.size()) {
    diffs->push_back(absl::StrCat(field, ": served ", served.size(),
                                  " values, core ", core.size()));
    return;
  }
  for (size_t i = 0; i < core.size(); ++i) {
    if (std::bit_cast<uint64_t>(served[i]) !=
        std::bit_cast<uint64_t>(core[i])) {
      diffs->push_back(absl::StrCat(field, "[", i, "]: served ", Hex(served[i]),
                                    " core ", Hex(core[i])));
    }
  }
}

}  // namespace

CliRun RunCli(const std::vector<std::string>& args_in) {
  CliRun run;
  char out_path[] = "/tmp/nnft-cli-out-XXXXXX";
  char err_path[] = "/tmp/nnft-cli-err-XXXXXX";
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);
  std::vector<std::string> args = args_in;
  const std::string binary = CliBinary();
  std::vector<char*> argv = Argv(binary, &args);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(out_fd);
  close(err_fd);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadWholeFile(out_path);
  run.err = ReadWholeFile(err_path);
  unlink(out_path);
  unlink(err_path);
  return run;
}

std::string CliBinary() { return NNFT_CLI_BIN; }

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

v1::ExperimentSpec SmallSpec::Proto() const {
  v1::ExperimentSpec spec;
  v1::Mlp* mlp = spec.mutable_architecture()->mutable_mlp();
  mlp->set_input_dim(1);
  mlp->add_widths(width);
  mlp->set_activation(v1::ACTIVATION_ERF);
  mlp->add_sw(1.2);
  mlp->add_sw(1.0);
  mlp->add_sb(0.3);
  mlp->add_sb(0.1);
  for (double x : {-1.0, 0.5, 2.0}) spec.add_points()->add_x(x);
  spec.mutable_observables()->add_orders(2);
  spec.mutable_observables()->add_orders(4);
  spec.mutable_sampling()->set_seed(seed);
  spec.mutable_sampling()->set_chunk_size(chunk_size);
  spec.mutable_sampling()->set_num_networks(chunk_size * num_chunks);
  spec.set_label("e2e");
  return spec;
}

ExperimentSpec SmallSpec::Core() const {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 1,
                              .widths = {width},
                              .activation = Activation::kErf,
                              .sw = {1.2, 1.0},
                              .sb = {0.3, 0.1}};
  spec.points.resize(3, 1);
  spec.points << -1.0, 0.5, 2.0;
  spec.observables = ObservableSpec{.orders = {2, 4}, .tuples = {}};
  spec.sampling.seed = seed;
  spec.sampling.chunk_size = chunk_size;
  spec.sampling.num_networks = chunk_size * num_chunks;
  return spec;
}

absl::StatusOr<CorrelatorEstimate> CoreEstimate(const ExperimentSpec& spec,
                                                int64_t num_chunks) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(spec);
  if (!engine.ok()) return engine.status();
  std::map<int64_t, ChunkSums> chunks;
  std::mutex mu;
  absl::Status run = (*engine)->RunChunks(0, num_chunks, 2, [&](ChunkSums c) {
    std::lock_guard<std::mutex> lock(mu);
    const int64_t k = c.chunk;
    chunks.emplace(k, std::move(c));
    return true;
  });
  if (!run.ok()) return run;
  MomentAccumulator acc((*engine)->tuples(), spec.sampling.seed, 64);
  for (const auto& [k, chunk] : chunks) {
    absl::Status added = acc.Add(chunk);
    if (!added.ok()) return added;
  }
  return acc.Finish();
}

std::vector<std::string> BitDifferences(const client::JobResult& served,
                                        const CorrelatorEstimate& core) {
  std::vector<std::string> diffs;
  const v1::Estimate& est = served.entries.estimate();
  if (static_cast<size_t>(est.tuples_size()) != core.tuples.size()) {
    diffs.push_back(absl::StrCat("served ", est.tuples_size(), " tuples, core ",
                                 core.tuples.size()));
    return diffs;
  }
  for (int i = 0; i < est.tuples_size(); ++i) {
    const std::vector<int> tuple(est.tuples(i).index().begin(),
                                 est.tuples(i).index().end());
    if (tuple != core.tuples[i]) {
      diffs.push_back(absl::StrCat("tuple ", i, " differs"));
    }
  }
  CompareArray("mean", est.mean(), core.mean, &diffs);
  CompareArray("stderr", est.stderr(), core.stderr_mean, &diffs);
  CompareArray("connected", est.connected(), core.connected, &diffs);
  CompareArray("connected_stderr", est.connected_stderr(),
               core.stderr_connected, &diffs);
  if (est.networks() != core.networks ||
      served.header.networks() != core.networks) {
    diffs.push_back(absl::StrCat("networks: served ", est.networks(), "/",
                                 served.header.networks(), " core ",
                                 core.networks));
  }
  if (served.header.chunks() != core.chunks) {
    diffs.push_back(absl::StrCat("chunks: served ", served.header.chunks(),
                                 " core ", core.chunks));
  }
  return diffs;
}

absl::StatusOr<v1::Job> WaitForChunks(const client::Client& client,
                                      const std::string& name,
                                      int64_t chunks_done,
                                      absl::Duration wait) {
  absl::StatusOr<v1::Job> job = client.WaitForCompletion(
      name, absl::Now() + wait, [&](const v1::JobUpdate& update) {
        return update.job().progress().chunks_done() < chunks_done;
      });
  if (!job.ok()) return job;
  return client.Get(name);
}

void ServerTest::SetUp() {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start({.data_dir = tmp_.path() + "/data"});
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  client_ = server_->NewClient();
}

}  // namespace nnft::e2e
