// nnft-theory-bench: the cost of the deterministic theory (issue 17, "fast
// theory"). Prints one JSON line per (workload, threads):
//   kernel_softplus  the NNGP kernel of a 3-hidden-layer softplus MLP (sw =
//                    1.5, sb = 0.1: layer variances 0.05-7.5, mostly above
//                    2, so mostly the 160-node rule) at P = 200 points in
//                    d = 3 (2-D Gauss-Hermite per pair and layer);
//   vertex_tanh, vertex_relu  the leading-order 1/n theory of a 3-hidden-
//                    layer MLP at P = 16 points for all 3876 sorted 4-tuples
//                    (G4_c = the four-point vertex's three channels) and the
//                    O(1/n) shift of G2 at every pair, as ComputeTheory asks
//                    for a spec with orders {4} (sw = 1, sb = 0.1, d = 3).
// Each line: wall_seconds, cpu_seconds (the process's, all threads), and
// max_rel_diff_vs_first_threads against the
// first thread count's values (0 when the threads give bitwise-identical
// values). With --reference=FILE also
// max_rel_diff_vs_reference against values written by --write_reference
// (e.g. by the bench built at an earlier commit). Relative differences are
// |a - b| / max(|b|, 1e-300).
//
//   build/bin/nnft-theory-bench [--threads=1,2] [--only=kernel_softplus]
//       [--reference=FILE] [--write_reference=FILE]
//
// A measurement, not in CTest: no timing assertions.
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "core/spec/spec.h"
#include "core/theory/deep_finite_width.h"
#include "core/theory/theory.h"

namespace nnft {
namespace {

using Key = theory::DeepFiniteWidth::Key;

// P points in d dimensions on a fixed quasi-random pattern in [-1.5, 1.5]^d.
Eigen::MatrixXd Points(int p, int d) {
  Eigen::MatrixXd x(p, d);
  for (int i = 0; i < p; ++i) {
    for (int k = 0; k < d; ++k) {
      const double u =
          std::fmod((i + 1) * (0.6180339887 + 0.1234 * k) + 0.377 * k, 1.0);
      x(i, k) = 3.0 * u - 1.5;
    }
  }
  return x;
}

MlpSpec ThreeLayer(Activation activation, int d, double sw) {
  MlpSpec mlp;
  mlp.input_dim = d;
  mlp.widths = {64, 64, 64};
  mlp.activation = activation;
  mlp.sw = {sw, sw, sw, sw};
  mlp.sb = {0.1, 0.1, 0.1, 0.1};
  return mlp;
}

// The values one workload produces, in a fixed order.
std::vector<double> KernelSoftplus(int threads) {
  const Eigen::MatrixXd points = Points(200, 3);
  const absl::StatusOr<Eigen::MatrixXd> k = NngpKernel(
      ThreeLayer(Activation::kSoftplus, 3, 1.5), points, {.threads = threads});
  if (!k.ok()) {
    std::fprintf(stderr, "%s\n", std::string(k.status().message()).c_str());
    std::exit(1);
  }
  return std::vector<double>(k->data(), k->data() + k->size());
}

std::vector<double> Vertex(Activation activation, int threads) {
  constexpr int kPoints = 16;
  const Eigen::MatrixXd points = Points(kPoints, 3);
  std::vector<Key> fours;
  std::vector<std::pair<int, int>> pairs;
  for (int a = 0; a < kPoints; ++a)
    for (int b = a; b < kPoints; ++b) {
      pairs.push_back({a, b});
      for (int c = b; c < kPoints; ++c)
        for (int e = c; e < kPoints; ++e) fours.push_back({a, b, c, e});
    }
  const theory::DeepFiniteWidth deep(ThreeLayer(activation, 3, 1.0), points,
                                     fours, pairs, {.threads = threads});
  std::vector<double> out;
  for (const Key& t : fours) out.push_back(deep.Connected4(t));
  for (const auto& [a, b] : pairs)
    out.push_back(deep.kernel_correction()(a, b));
  return out;
}

std::vector<double> Run(const std::string& name, int threads) {
  if (name == "kernel_softplus") return KernelSoftplus(threads);
  if (name == "vertex_tanh") return Vertex(Activation::kTanh, threads);
  return Vertex(Activation::kRelu, threads);
}

// CPU seconds of the whole process (all threads): on a machine shared with
// other work, wall time overstates the cost and this does not.
double ProcessCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double MaxRelDiff(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return std::nan("");
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    worst = std::max(worst,
                     std::abs(a[i] - b[i]) / std::max(std::abs(b[i]), 1e-300));
  }
  return worst;
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  size_t start = 0;
  while (start < s.size()) {
    const size_t comma = s.find(',', start);
    out.push_back(std::atoi(s.substr(start, comma - start).c_str()));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// FILE lines: "<workload> <index> <value>".
std::map<std::string, std::vector<double>> ReadReference(
    const std::string& path) {
  std::map<std::string, std::vector<double>> out;
  std::ifstream in(path);
  std::string name;
  size_t index;
  double value;
  while (in >> name >> index >> value) {
    std::vector<double>& v = out[name];
    if (v.size() <= index) v.resize(index + 1);
    v[index] = value;
  }
  return out;
}

}  // namespace
}  // namespace nnft

int main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  std::vector<std::string> names = {"kernel_softplus", "vertex_tanh",
                                    "vertex_relu"};
  std::string reference_path, write_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    const std::string key = a.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (key == "--threads") {
      threads = nnft::ParseList(value);
    } else if (key == "--only") {
      names = {value};
    } else if (key == "--reference") {
      reference_path = value;
    } else if (key == "--write_reference") {
      write_path = value;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  const auto reference = reference_path.empty()
                             ? std::map<std::string, std::vector<double>>()
                             : nnft::ReadReference(reference_path);
  std::FILE* write =
      write_path.empty() ? nullptr : std::fopen(write_path.c_str(), "w");
  for (const std::string& name : names) {
    std::vector<double> first;
    for (int t : threads) {
      const auto start = std::chrono::steady_clock::now();
      const double cpu_start = nnft::ProcessCpuSeconds();
      const std::vector<double> values = nnft::Run(name, t);
      const double seconds = std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
      const double cpu_seconds = nnft::ProcessCpuSeconds() - cpu_start;
      if (first.empty()) first = values;
      std::printf(
          "{\"workload\":\"%s\",\"threads\":%d,\"wall_seconds\":%.3f,"
          "\"cpu_seconds\":%.3f,\"values\":%zu,"
          "\"max_rel_diff_vs_first_threads\":%.3g",
          name.c_str(), t, seconds, cpu_seconds, values.size(),
          nnft::MaxRelDiff(values, first));
      if (auto it = reference.find(name); it != reference.end()) {
        std::printf(",\"max_rel_diff_vs_reference\":%.3g",
                    nnft::MaxRelDiff(values, it->second));
      }
      std::printf("}\n");
      std::fflush(stdout);
      if (write != nullptr && t == threads.front()) {
        for (size_t i = 0; i < values.size(); ++i) {
          std::fprintf(write, "%s %zu %.17g\n", name.c_str(), i, values[i]);
        }
      }
    }
  }
  if (write != nullptr) std::fclose(write);
  return 0;
}
