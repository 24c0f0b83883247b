// nnft-train-bench: training speed of the ensemble trainer (core/train.h) on
// workload T1, in network-steps per second (networks x gradient-descent
// steps / wall seconds), to compare with tests/bench/torch_train_baseline.py.
//
// T1: one hidden layer, erf, d = 4, width 512, sw = (1.5, 1), sb = (0.3,
// 0.1); n = 64 training points of the seed talk's target (generator seed 1);
// 2 test points; gradient descent, eta = 0.05, 200 steps recorded at
// t = 0, 5, 10; 256 networks in chunks of 16. Prints one JSON line.
//
//   build/bin/nnft-train-bench [--threads=2] [--networks=256] [--steps=200]
//                              [--width=512] [--precision=float32|float64]
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "core/engine.h"
#include "core/train.h"

namespace {

const char* Flag(int argc, char** argv, const char* name, const char* def) {
  const size_t len = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') {
      return argv[i] + len + 1;
    }
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = std::atoi(Flag(argc, argv, "--threads", "2"));
  const int networks = std::atoi(Flag(argc, argv, "--networks", "256"));
  const int steps = std::atoi(Flag(argc, argv, "--steps", "200"));
  const int width = std::atoi(Flag(argc, argv, "--width", "512"));
  const std::string precision = Flag(argc, argv, "--precision", "float32");
  nnft::ExperimentSpec spec;
  spec.architecture = nnft::MlpSpec{.input_dim = 4,
                                    .widths = {width},
                                    .activation = nnft::Activation::kErf,
                                    .sw = {1.5, 1.0},
                                    .sb = {0.3, 0.1}};
  nnft::TrainingSpec t;
  nnft::GenerateTalkData(64, 1, &t.x, &t.y);
  t.eta = 0.05;
  t.times = {0.0, 0.05 * steps / 2, 0.05 * steps};
  spec.training = t;
  spec.points = t.x.topRows(2);
  spec.sampling.seed = 1;
  spec.sampling.chunk_size = 16;
  spec.sampling.num_networks = networks;
  spec.sampling.precision = precision == "float64" ? nnft::Precision::kFloat64
                                                   : nnft::Precision::kFloat32;
  auto engine = nnft::Engine::Create(spec);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  const int64_t chunks = nnft::NumChunks(spec.sampling);
  double loss = 0;
  const std::clock_t cpu_start = std::clock();
  const auto start = std::chrono::steady_clock::now();
  const absl::Status s =
      (*engine)->RunChunks(0, chunks, threads, [&](nnft::ChunkSums c) {
        loss += c.sums.empty() ? 0 : c.sums.back();
        return true;
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const double cpu_seconds = double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  if (!s.ok()) return 1;
  const double total = double(chunks) * spec.sampling.chunk_size;
  std::printf(
      "%s\n",
      absl::StrFormat(
          "{\"workload\": \"T1\", \"impl\": \"nnft\", \"precision\": \"%s\", "
          "\"threads\": %d, \"networks\": %.0f, \"width\": %d, \"steps\": %d, "
          "\"seconds\": %.4f, \"cpu_seconds\": %.4f, "
          "\"network_steps_per_second\": %.1f}",
          precision, threads, total, width, steps, seconds, cpu_seconds,
          total * steps / seconds)
          .c_str());
  return 0;
}
