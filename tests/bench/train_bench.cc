// nnft-train-bench: training speed of the ensemble trainer
// (core/train/train.h), and the deviation of the trained ensemble mean from the
// infinite-width NTK flow (core/theory/ntk.h) for width sweeps.
//
// T1 (default): one hidden layer, erf, d = 4, width 512, sw = (1.5, 1), sb =
// (0.3, 0.1); n = 64 training points of the seed talk's target (generator
// seed 1); 2 test points; gradient descent, eta = 0.05, 200 steps recorded at
// t = 0, 5, 10; 256 networks in chunks of 16. Prints one JSON line, in
// network-steps per second (networks x steps / wall seconds), to compare
// with tests/bench/torch_train_baseline.py.
//
// T2: two hidden layers of equal width, tanh, d = 4, sw = (1.5, 1.5, 1), sb =
// (0.3, 0.3, 0.1); n = 16 talk points (generator seed 1); test points: the
// first training point and two unseen talk points (generator seed 2);
// gradient flow (tolerance 1e-6) recorded at t = 0, 1, 2, 4, 8, 16; 512
// networks in 16 chunks, float64. Prints one JSON line per time with the
// ensemble mean, its error, the NTK theory and z = (mu - theory) / err at
// each test point, the extreme eigenvalues of Theta(X, X), then the timing
// line (gradient evaluations of network 0). Both workloads print
// sums_digest, a hash of the bits of every chunk sum: equal digests across
// builds or thread counts mean bit-identical results.
// --depth (hidden layers), --activation=tanh|relu|erf and --t_max (times
// doubling past 16) vary it; --ntk=1 also prints the empirical NTK at
// initialisation beside the analytic one.
//
// K: the cost of ComputeKernel's NTK (core/theory/kernel_answer.h) at
// --points=200 points of the talk's data (d = 4), --depth hidden layers of
// --activation (default 2, tanh), on --threads; beside it the NNGP kernel
// alone by core/theory/kernels.h's scalar quadrature (one thread). Prints one
// JSON line of wall seconds.
//
//   build/bin/nnft-train-bench [--workload=T1|T2|K] [--threads=2]
//       [--networks=256] [--steps=200] [--width=512]
//       [--precision=float32|float64] [--tolerance=1e-6] [--seed=1]
//       [--depth=2] [--activation=tanh] [--t_max=16] [--ntk=0]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>

#include "Eigen/Eigenvalues"
#include "absl/strings/str_format.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/theory/kernel_answer.h"
#include "core/theory/kernels.h"
#include "core/theory/ntk.h"
#include "core/train/train.h"
#include "core/train/train_result.h"

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

nnft::ExperimentSpec T1Spec(int argc, char** argv) {
  const int steps = std::atoi(Flag(argc, argv, "--steps", "200"));
  const int width = std::atoi(Flag(argc, argv, "--width", "512"));
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
  spec.sampling.chunk_size = 16;
  spec.sampling.num_networks = std::atoi(Flag(argc, argv, "--networks", "256"));
  const std::string precision = Flag(argc, argv, "--precision", "float32");
  spec.sampling.precision = precision == "float64" ? nnft::Precision::kFloat64
                                                   : nnft::Precision::kFloat32;
  return spec;
}

nnft::ExperimentSpec T2Spec(int argc, char** argv) {
  const int width = std::atoi(Flag(argc, argv, "--width", "256"));
  const int depth = std::atoi(Flag(argc, argv, "--depth", "2"));
  const std::string act = Flag(argc, argv, "--activation", "tanh");
  nnft::ExperimentSpec spec;
  nnft::MlpSpec mlp{.input_dim = 4,
                    .widths = std::vector<int>(std::max(depth, 1), width),
                    .activation = act == "relu"  ? nnft::Activation::kRelu
                                  : act == "erf" ? nnft::Activation::kErf
                                                 : nnft::Activation::kTanh};
  mlp.sw.assign(mlp.widths.size() + 1, 1.5);
  mlp.sw.back() = 1.0;
  mlp.sb.assign(mlp.widths.size() + 1, 0.3);
  mlp.sb.back() = 0.1;
  spec.architecture = mlp;
  nnft::TrainingSpec t;
  nnft::GenerateTalkData(16, 1, &t.x, &t.y);
  t.method = nnft::TrainingMethod::kGradientFlow;
  t.tolerance = std::atof(Flag(argc, argv, "--tolerance", "1e-6"));
  t.times = {0.0, 1.0, 2.0, 4.0, 8.0, 16.0};
  const double t_max = std::atof(Flag(argc, argv, "--t_max", "16"));
  while (t.times.back() < t_max) t.times.push_back(2 * t.times.back());
  spec.training = t;
  Eigen::MatrixXd unseen;
  Eigen::VectorXd unused;
  nnft::GenerateTalkData(2, 2, &unseen, &unused);
  spec.points.resize(3, 4);
  spec.points << t.x.topRows(1), unseen;
  spec.training->empirical_ntk =
      std::string(Flag(argc, argv, "--ntk", "0")) == "1";
  spec.sampling.num_networks = std::atoi(Flag(argc, argv, "--networks", "512"));
  spec.sampling.chunk_size =
      static_cast<int>(std::max<int64_t>(1, spec.sampling.num_networks / 16));
  const std::string precision = Flag(argc, argv, "--precision", "float64");
  spec.sampling.precision = precision == "float64" ? nnft::Precision::kFloat64
                                                   : nnft::Precision::kFloat32;
  return spec;
}

// One line per time: mu, its error, the theory and z at each test point.
void PrintDeviation(const nnft::ExperimentSpec& spec,
                    const std::map<int64_t, nnft::ChunkSums>& chunks,
                    const nnft::TupleSet& tuples) {
  nnft::MomentAccumulator acc(tuples, spec.sampling.seed, 16);
  for (const auto& [k, c] : chunks) {
    if (!acc.Add(c).ok()) return;
  }
  const nnft::theory::FlowTheory theory =
      nnft::theory::TrainingFlowTheory(spec);
  const nnft::TrainingFlow flow =
      nnft::MakeTrainingFlow(spec, acc.Finish(), &theory);
  for (const nnft::TrainingTimeEstimate& r : flow.times) {
    std::string points;
    for (int p = 0; p < r.mu.size(); ++p) {
      absl::StrAppendFormat(
          &points,
          "%s{\"mu\": %.8g, \"err\": %.4g, \"theory\": %.8g, \"z\": %.3f}",
          p ? ", " : "", r.mu(p), r.mu_stderr(p), r.mu_theory(p),
          (r.mu(p) - r.mu_theory(p)) / r.mu_stderr(p));
    }
    std::printf("{\"t\": %g, \"loss\": %.6g, \"points\": [%s]}\n", r.t,
                r.loss_mean, points.c_str());
  }
  // Conditioning of the flow: the extreme eigenvalues of Theta(X, X).
  const Eigen::VectorXd lambda =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(
          nnft::theory::MlpNtk(std::get<nnft::MlpSpec>(spec.architecture),
                               spec.training->x)
              .ntk)
          .eigenvalues();
  std::printf("{\"ntk_train_eigenvalues\": [%.6g, %.6g]}\n", lambda(0),
              lambda(lambda.size() - 1));
  for (int p = 0; p < flow.ntk_mean.rows(); ++p) {
    for (int q = p; q < flow.ntk_mean.cols(); ++q) {
      std::printf(
          "{\"ntk\": [%d, %d], \"mean\": %.8g, \"err\": %.4g, "
          "\"theory\": %.8g, \"z\": %.3f}\n",
          p, q, flow.ntk_mean(p, q), flow.ntk_stderr(p, q),
          flow.ntk_theory(p, q),
          (flow.ntk_mean(p, q) - flow.ntk_theory(p, q)) /
              flow.ntk_stderr(p, q));
    }
  }
}

// FNV-1a over the bits of every chunk sum, in chunk order: equal digests
// mean bit-identical results (to compare builds of the trainer).
uint64_t SumsDigest(const std::map<int64_t, nnft::ChunkSums>& chunks) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& [k, c] : chunks) {
    for (double v : c.sums) {
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      for (int b = 0; b < 8; ++b) {
        h = (h ^ ((bits >> (8 * b)) & 0xff)) * 1099511628211ull;
      }
    }
  }
  return h;
}

}  // namespace

int KernelWorkload(int argc, char** argv, int threads) {
  const int points = std::atoi(Flag(argc, argv, "--points", "200"));
  const int depth = std::atoi(Flag(argc, argv, "--depth", "2"));
  const std::string act = Flag(argc, argv, "--activation", "tanh");
  nnft::ExperimentSpec spec;
  nnft::MlpSpec mlp{.input_dim = 4,
                    .widths = std::vector<int>(depth, 512),
                    .activation = act == "relu"  ? nnft::Activation::kRelu
                                  : act == "erf" ? nnft::Activation::kErf
                                                 : nnft::Activation::kTanh,
                    .sw = std::vector<double>(depth + 1, 1.5),
                    .sb = std::vector<double>(depth + 1, 0.3)};
  spec.architecture = mlp;
  Eigen::VectorXd y;
  nnft::GenerateTalkData(points, 1, &spec.points, &y);
  spec.observables.orders = {2};
  const auto start = std::chrono::steady_clock::now();
  const auto answer = nnft::theory::ComputeKernelAnswer(
      spec, Eigen::MatrixXd(), {.threads = threads, .omit_ntk = ""});
  const double ntk_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!answer.ok() || answer->ntk.rows() != points) {
    std::fprintf(stderr, "%s\n",
                 answer.ok() ? answer->ntk_absent_reason.c_str()
                             : answer.status().ToString().c_str());
    return 1;
  }
  const auto nngp_start = std::chrono::steady_clock::now();
  const Eigen::MatrixXd k = nnft::theory::MlpKernel(mlp, spec.points);
  const double nngp_seconds = std::chrono::duration<double>(
                                  std::chrono::steady_clock::now() - nngp_start)
                                  .count();
  std::printf(
      "%s\n",
      absl::StrFormat("{\"workload\": \"K\", \"points\": %d, \"depth\": %d, "
                      "\"activation\": \"%s\", \"threads\": %d, "
                      "\"ntk_and_nngp_seconds\": %.4f, "
                      "\"nngp_scalar_quadrature_1_thread_seconds\": %.4f, "
                      "\"max_nngp_difference\": %.3g}",
                      points, depth, act, threads, ntk_seconds, nngp_seconds,
                      (nnft::theory::MlpNtk(mlp, spec.points, threads).nngp - k)
                          .cwiseAbs()
                          .maxCoeff())
          .c_str());
  return 0;
}

int main(int argc, char** argv) {
  const std::string workload = Flag(argc, argv, "--workload", "T1");
  const int threads = std::atoi(Flag(argc, argv, "--threads", "2"));
  if (workload == "K") return KernelWorkload(argc, argv, threads);
  const bool t2 = workload == "T2";
  nnft::ExperimentSpec spec = t2 ? T2Spec(argc, argv) : T1Spec(argc, argv);
  spec.sampling.seed =
      std::strtoull(Flag(argc, argv, "--seed", "1"), nullptr, 10);
  auto engine = nnft::Engine::Create(spec);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  const int64_t chunks = nnft::NumChunks(spec.sampling);
  std::map<int64_t, nnft::ChunkSums> sums;
  const std::clock_t cpu_start = std::clock();
  const auto start = std::chrono::steady_clock::now();
  const absl::Status s =
      (*engine)->RunChunks(0, chunks, threads, [&](nnft::ChunkSums c) {
        sums[c.chunk] = std::move(c);
        return true;
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const double cpu_seconds = double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const double total = double(chunks) * spec.sampling.chunk_size;
  const auto& mlp = std::get<nnft::MlpSpec>(spec.architecture);
  if (t2) {
    PrintDeviation(spec, sums, (*engine)->tuples());
    // Gradient evaluations of one network, from a trainer of its own.
    auto trainer = nnft::MakeNetworkTrainer(spec);
    std::vector<double> values(nnft::MakeTrainingLayout(spec).size());
    trainer->Train(0, values.data());
    std::printf(
        "%s\n",
        absl::StrFormat(
            "{\"workload\": \"T2\", \"impl\": \"nnft\", \"threads\": %d, "
            "\"networks\": %.0f, \"depth\": %d, \"width\": %d, "
            "\"tolerance\": %g, "
            "\"seconds\": %.4f, \"cpu_seconds\": %.4f, "
            "\"gradient_evaluations_network0\": %d, \"sums_digest\": "
            "\"%016x\"}",
            threads, total, static_cast<int>(mlp.widths.size()), mlp.widths[0],
            spec.training->tolerance, seconds, cpu_seconds,
            trainer->gradient_evaluations(), SumsDigest(sums))
            .c_str());
    return 0;
  }
  const int steps = std::atoi(Flag(argc, argv, "--steps", "200"));
  const std::string precision = Flag(argc, argv, "--precision", "float32");
  std::printf(
      "%s\n",
      absl::StrFormat(
          "{\"workload\": \"T1\", \"impl\": \"nnft\", \"precision\": \"%s\", "
          "\"threads\": %d, \"networks\": %.0f, \"width\": %d, \"steps\": %d, "
          "\"seconds\": %.4f, \"cpu_seconds\": %.4f, "
          "\"network_steps_per_second\": %.1f, \"sums_digest\": \"%016x\"}",
          precision, threads, total, mlp.widths[0], steps, seconds, cpu_seconds,
          total * steps / seconds, SumsDigest(sums))
          .c_str());
  return 0;
}
