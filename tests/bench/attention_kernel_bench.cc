// nnft-attention-kernel-bench: wall time of the attention layer's kernel
// (core/theory/attention_kernel.h) at P sequences of T tokens in R^D, head
// dimension e, on 1 and 2 threads (same bits on both). Prints one JSON line
// per thread count. A measurement, not a test: no timing assertions.
//
//   build/bin/nnft-attention-kernel-bench [P] [T] [D] [e] [order] [repeats]
// (defaults 8 4 2 2 12 3: the 7-dimensional rule, 12^7 nodes).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "core/theory/attention_kernel.h"

int main(int argc, char** argv) {
  auto arg = [&](int i, int fallback) {
    return argc > i ? std::atoi(argv[i]) : fallback;
  };
  const int p = arg(1, 8), t = arg(2, 4), d = arg(3, 2), e = arg(4, 2);
  const int order = arg(5, 12), repeats = std::max(1, arg(6, 3));
  const nnft::AttentionSpec a{.sequence_length = t,
                              .embed_dim = d,
                              .heads = 16,
                              .head_dim = e,
                              .output_position = t > 1 ? 1 : 0,
                              .sq = 1.5,
                              .sk = 1.2,
                              .sv = 1.0,
                              .so = 1.1,
                              .sb = 0.1};
  std::mt19937_64 gen(1);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Eigen::MatrixXd x(p, t * d);
  for (int i = 0; i < x.size(); ++i) x.data()[i] = uniform(gen);
  Eigen::MatrixXd first;
  for (int threads : {1, 2}) {
    const nnft::theory::AttentionKernelOptions options{.order = order,
                                                       .threads = threads};
    double best = 1e300;
    Eigen::MatrixXd k;
    for (int r = 0; r < repeats; ++r) {
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<Eigen::MatrixXd> kernel =
          nnft::theory::AttentionKernel(a, x, options);
      const double s = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      if (!kernel.ok()) {
        std::fprintf(stderr, "%s\n",
                     std::string(kernel.status().message()).c_str());
        return 1;
      }
      k = *std::move(kernel);
      best = std::min(best, s);
    }
    if (first.size() == 0) first = k;
    const auto plan = nnft::theory::PlanAttentionKernel(a, p, options);
    std::printf(
        "{\"P\": %d, \"T\": %d, \"D\": %d, \"e\": %d, \"order\": %d, "
        "\"dimensions\": %d, \"nodes\": %.0f, \"threads\": %d, "
        "\"seconds\": %.3f, \"same_bits_as_1_thread\": %s, \"K01\": %.10g}\n",
        p, t, d, e, order, plan->dimensions, plan->nodes, threads, best,
        k == first ? "true" : "false", k(0, std::min(1, p - 1)));
  }
  return 0;
}
