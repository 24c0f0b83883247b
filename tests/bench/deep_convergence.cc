// nnft-deep-convergence: deep MLPs at finite width against the leading order
// in 1/N (core/theory/deep_finite_width.h), over activations, depths, widths
// and with or without biases, printed as the Markdown table of
// docs/physics.md ("Deep networks at finite width").
//
// For each (activation, depth L, biases) and each width N (all hidden layers
// of width N), one Monte Carlo run through core's AnalyseExperiment: 4
// distinct inputs in d = 2, orders 2 and 4, the output layer integrated. Per
// width it prints N G4_c at the tuple (0,1,2,3) against the vertex sum_3 V,
// the largest |z| of G4_c against the theory over all 35 four-point entries,
// N (G2 - K) at (0,1) against N dK (the O(1/N) kernel correction) and the
// largest |z| of G2 against K + dK. Per configuration it fits
// N G4_c = A + c/N (weighted least squares over the widths) and prints the
// intercept's distance from the vertex in standard errors. A measurement for
// people, not a test (core/theory/deep_mc_theory_test.cc is the test).
//
//   nnft-deep-convergence [--activations=relu,tanh,erf,gelu,softplus]
//       [--depths=2,3,4,6] [--widths=32,64,128,256] [--biases=both|on|off]
//       [--networks=40000] [--threads=2] [--seed=1]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/analyses/experiment_result.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"

namespace nnft {
namespace {

constexpr char kUsage[] =
    "usage: nnft-deep-convergence [--activations=relu,tanh,erf,gelu,softplus]\n"
    "    [--depths=2,3,4,6] [--widths=32,64,128,256] [--biases=both|on|off]\n"
    "    [--networks=40000] [--threads=2] [--seed=1]\n"
    "Deep MLPs at finite width: Monte Carlo N G4_c and N (G2 - K) against\n"
    "the leading order in 1/N (the vertex V and the kernel correction dK),\n"
    "printed as a Markdown table.\n";

struct Flags {
  std::vector<Activation> activations = {Activation::kRelu, Activation::kTanh,
                                         Activation::kErf, Activation::kGelu,
                                         Activation::kSoftplus};
  std::vector<int> depths = {2, 3, 4, 6};
  std::vector<int> widths = {32, 64, 128, 256};
  std::vector<bool> biases = {false, true};
  int64_t networks = 40000;
  int threads = 2;
  uint64_t seed = 1;
};

bool ParseInts(const std::string& value, int lo, int hi, std::vector<int>* out,
               const char* name) {
  out->clear();
  for (absl::string_view s : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    int v = 0;
    if (!absl::SimpleAtoi(s, &v) || v < lo || v > hi) {
      std::fprintf(stderr, "%s=%s: each must be an integer in [%d, %d]\n", name,
                   value.c_str(), lo, hi);
      return false;
    }
    out->push_back(v);
  }
  if (out->empty()) {
    std::fprintf(stderr, "%s: at least one value\n", name);
    return false;
  }
  return true;
}

// 0: run; 1: bad flags; 2: --help printed.
int ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    const std::string key = a.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (key == "--help" || key == "-h") {
      std::fputs(kUsage, stdout);
      return 2;
    } else if (key == "--activations") {
      f->activations.clear();
      for (absl::string_view s :
           absl::StrSplit(value, ',', absl::SkipEmpty())) {
        bool found = false;
        for (Activation act :
             {Activation::kRelu, Activation::kTanh, Activation::kErf,
              Activation::kGelu, Activation::kSoftplus, Activation::kSigmoid,
              Activation::kIdentity}) {
          if (ActivationName(act) == s) {
            f->activations.push_back(act);
            found = true;
          }
        }
        if (!found) {
          std::fprintf(stderr,
                       "--activations: unknown '%s' (relu, tanh, erf, gelu, "
                       "softplus, sigmoid, identity)\n",
                       std::string(s).c_str());
          return 1;
        }
      }
      if (f->activations.empty()) {
        std::fprintf(stderr, "--activations: at least one\n");
        return 1;
      }
    } else if (key == "--depths") {
      if (!ParseInts(value, 1, 16, &f->depths, "--depths")) return 1;
    } else if (key == "--widths") {
      if (!ParseInts(value, 2, 4096, &f->widths, "--widths")) return 1;
    } else if (key == "--biases") {
      if (value == "both") {
        f->biases = {false, true};
      } else if (value == "on") {
        f->biases = {true};
      } else if (value == "off") {
        f->biases = {false};
      } else {
        std::fprintf(stderr, "--biases=%s: must be both, on or off\n",
                     value.c_str());
        return 1;
      }
    } else if (key == "--networks") {
      if (!absl::SimpleAtoi(value, &f->networks) || f->networks < 2000 ||
          f->networks > 100000000) {
        std::fprintf(stderr, "--networks=%s: must be in [2000, 1e8]\n",
                     value.c_str());
        return 1;
      }
    } else if (key == "--threads") {
      if (!absl::SimpleAtoi(value, &f->threads) || f->threads < 1 ||
          f->threads > 1024) {
        std::fprintf(stderr, "--threads=%s: must be in [1, 1024]\n",
                     value.c_str());
        return 1;
      }
    } else if (key == "--seed") {
      if (!absl::SimpleAtoi(value, &f->seed)) {
        std::fprintf(stderr, "--seed=%s: must be an unsigned integer\n",
                     value.c_str());
        return 1;
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n%s", a.c_str(), kUsage);
      return 1;
    }
  }
  return 0;
}

// Weight scales near criticality, so that depth 6 neither freezes nor
// explodes: ReLU sw^2 = 2, the odd smooth activations sw = 1.5, GELU and
// softplus sw = 1.4; the output layer sw = 1. With biases, sb = 0.2 in every
// hidden layer and 0.1 at the output.
MlpSpec Mlp(Activation act, int depth, int width, bool biases) {
  MlpSpec mlp;
  mlp.input_dim = 2;
  mlp.activation = act;
  mlp.widths.assign(depth, width);
  const double sw = act == Activation::kRelu   ? std::sqrt(2.0)
                    : act == Activation::kTanh ? 1.5
                    : act == Activation::kErf  ? 1.5
                                               : 1.4;
  mlp.sw.assign(depth + 1, sw);
  mlp.sw[0] = 1.2;
  mlp.sw[depth] = 1.0;
  mlp.sb.assign(depth + 1, biases ? 0.2 : 0.0);
  if (biases) mlp.sb[depth] = 0.1;
  return mlp;
}

struct WidthRow {
  int width = 0;
  double n_g4c = 0, n_g4c_se = 0, n_vertex = 0;  // at (0, 1, 2, 3)
  double max_z4 = 0;                             // all 4-point entries
  double n_dg2 = 0, n_dg2_se = 0, n_dk = 0;      // N (G2 - K) at (0, 1)
  double max_z2 = 0, max_z2_gp = 0;              // G2 vs K + dK; vs K
  double seconds = 0;
};

// Largest |value - theory| / se over entries of `order` (full values for 2,
// connected parts for 4); skips entries without a finite theory or error.
double MaxAbsZ(const ExperimentResult& r, int order, bool against_gp) {
  double worst = 0;
  const CorrelatorEstimate& e = r.estimate;
  for (size_t i = 0; i < e.tuples.size(); ++i) {
    if (static_cast<int>(e.tuples[i].size()) != order) continue;
    const bool connected = order == 4;
    const double value = connected ? e.connected[i] : e.mean[i];
    const double se = connected ? e.stderr_connected[i] : e.stderr_mean[i];
    const double theory = against_gp  ? r.theory.gp_full[i]
                          : connected ? r.theory.exact_connected[i]
                                      : r.theory.exact_full[i];
    if (!(se > 0) || !std::isfinite(theory)) continue;
    worst = std::max(worst, std::abs(value - theory) / se);
  }
  return worst;
}

absl::StatusOr<WidthRow> RunWidth(const MlpSpec& mlp, const Flags& flags,
                                  uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  ExperimentSpec spec;
  spec.architecture = mlp;
  spec.points.resize(4, 2);
  spec.points << 0.3, -0.5, 1.0, 0.2, -0.7, 0.9, 0.1, 1.2;
  spec.observables.orders = {2, 4};
  spec.sampling.seed = seed;
  spec.sampling.chunk_size = 1000;
  spec.sampling.num_networks = flags.networks;
  spec.sampling.integrate_output_layer = true;
  Limits limits;
  auto engine = Engine::Create(spec);
  if (!engine.ok()) return engine.status();
  const int64_t num_chunks = NumChunks(spec.sampling);
  std::vector<ChunkSums> chunks(num_chunks);
  absl::Status run =
      (*engine)->RunChunks(0, num_chunks, flags.threads, [&](ChunkSums c) {
        const int64_t k = c.chunk;
        chunks[k] = std::move(c);
        return true;
      });
  if (!run.ok()) return run;
  auto result = AnalyseExperiment(
      spec, limits, /*max_bins=*/64, num_chunks,
      [&](int64_t k) -> absl::StatusOr<ChunkSums> { return chunks[k]; });
  if (!result.ok()) return result.status();
  if (!result->theory.leading_order_in_inverse_width) {
    return absl::InternalError("no leading-order theory: " +
                               result->theory.method);
  }
  const int n = mlp.widths[0];
  WidthRow row{.width = n};
  const CorrelatorEstimate& e = result->estimate;
  for (size_t i = 0; i < e.tuples.size(); ++i) {
    if (e.tuples[i] == Tuple{0, 1, 2, 3}) {
      row.n_g4c = n * e.connected[i];
      row.n_g4c_se = n * e.stderr_connected[i];
      row.n_vertex = n * result->theory.exact_connected[i];
    } else if (e.tuples[i] == Tuple{0, 1}) {
      const double k = result->theory.gp_full[i];
      row.n_dg2 = n * (e.mean[i] - k);
      row.n_dg2_se = n * e.stderr_mean[i];
      row.n_dk = n * (result->theory.exact_full[i] - k);
    }
  }
  row.max_z4 = MaxAbsZ(*result, 4, false);
  row.max_z2 = MaxAbsZ(*result, 2, false);
  row.max_z2_gp = MaxAbsZ(*result, 2, true);
  row.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return row;
}

// N G4_c = A + c/N by weighted least squares: A, its standard error.
std::pair<double, double> Intercept(const std::vector<WidthRow>& rows) {
  double s = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const WidthRow& r : rows) {
    const double w = 1.0 / (r.n_g4c_se * r.n_g4c_se), x = 1.0 / r.width;
    s += w, sx += w * x, sy += w * r.n_g4c, sxx += w * x * x;
    sxy += w * x * r.n_g4c;
  }
  const double det = s * sxx - sx * sx;
  return {(sxx * sy - sx * sxy) / det, std::sqrt(sxx / det)};
}

int Main(int argc, char** argv) {
  Flags flags;
  if (const int parsed = ParseFlags(argc, argv, &flags); parsed != 0) {
    return parsed == 2 ? 0 : 1;
  }
  std::printf(
      "4 inputs in d = 2, orders 2 and 4, output layer integrated, %lld "
      "networks per width, %d threads\n\n",
      static_cast<long long>(flags.networks), flags.threads);
  std::printf(
      "| activation | L | biases | N | N G4_c (0,1,2,3) | vertex | z | "
      "max abs z G4_c | N (G2 - K) (0,1) | N dK | max abs z G2 vs K + dK | "
      "vs K | s |\n");
  std::printf(
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | "
      "--- | --- |\n");
  std::vector<std::string> fits;
  uint64_t seed = flags.seed * 1000003;
  for (Activation act : flags.activations) {
    for (int depth : flags.depths) {
      for (bool biases : flags.biases) {
        std::vector<WidthRow> rows;
        for (int width : flags.widths) {
          auto row = RunWidth(Mlp(act, depth, width, biases), flags, ++seed);
          if (!row.ok()) {
            std::fprintf(stderr, "%s L=%d N=%d: %s\n",
                         std::string(ActivationName(act)).c_str(), depth, width,
                         std::string(row.status().message()).c_str());
            return 1;
          }
          const WidthRow& r = *row;
          std::printf(
              "| %s | %d | %s | %d | %.5f ± %.5f | %.5f | %+.2f | %.2f | "
              "%.5f ± %.5f | %.5f | %.2f | %.2f | %.1f |\n",
              std::string(ActivationName(act)).c_str(), depth,
              biases ? "yes" : "no", r.width, r.n_g4c, r.n_g4c_se, r.n_vertex,
              (r.n_g4c - r.n_vertex) / r.n_g4c_se, r.max_z4, r.n_dg2,
              r.n_dg2_se, r.n_dk, r.max_z2, r.max_z2_gp, r.seconds);
          std::fflush(stdout);
          rows.push_back(r);
        }
        if (rows.size() >= 2) {
          const auto [a, a_se] = Intercept(rows);
          const double v = rows.back().n_vertex;
          fits.push_back(absl::StrFormat(
              "| %s | %d | %s | %.5f ± %.5f | %.5f | %+.2f | %.2f |",
              ActivationName(act), depth, biases ? "yes" : "no", a, a_se, v,
              (a - v) / a_se, rows.back().max_z4));
        }
      }
    }
  }
  if (!fits.empty()) {
    std::printf(
        "\nFit N G4_c = A + c/N over the widths: the intercept A against the "
        "vertex\n\n| activation | L | biases | A | vertex | z | max abs z "
        "G4_c at the largest N |\n| --- | --- | --- | --- | --- | --- | --- "
        "|\n%s\n",
        absl::StrJoin(fits, "\n").c_str());
  }
  return 0;
}

}  // namespace
}  // namespace nnft

int main(int argc, char** argv) { return nnft::Main(argc, argv); }
