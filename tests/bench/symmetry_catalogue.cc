// nnft-symmetry-catalogue: runs every symmetry check on each built-in
// architecture (core engine, fixed seeds) and prints a Markdown table of the
// verdicts with max |z| against the Bonferroni threshold, the table the
// README shows. Input d = 2, three points, two output components, orders
// 1, 2 and 4 (every slot tuple), width 32, --networks networks (default
// 20000). Not a test: a measurement printed for people.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/analyses/symmetry_estimate.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"

namespace nnft {
namespace {

struct Row {
  std::string name;
  Architecture architecture;
};

std::vector<Row> Architectures() {
  return {
      {"MLP erf, Gaussian first layer with bias",
       MlpSpec{.input_dim = 2,
               .widths = {32},
               .activation = Activation::kErf,
               .sw = {1.5, 1.0},
               .sb = {0.5, 0.1},
               .field = {.output_dim = 2}}},
      {"MLP relu, bias", MlpSpec{.input_dim = 2,
                                 .widths = {32},
                                 .activation = Activation::kRelu,
                                 .sw = {1.5, 1.0},
                                 .sb = {0.5, 0.1},
                                 .field = {.output_dim = 2}}},
      {"MLP relu, no bias", MlpSpec{.input_dim = 2,
                                    .widths = {32},
                                    .activation = Activation::kRelu,
                                    .sw = {1.5, 1.0},
                                    .sb = {0.0, 0.0},
                                    .field = {.output_dim = 2}}},
      {"MLP tanh, 2 hidden layers", MlpSpec{.input_dim = 2,
                                            .widths = {32, 32},
                                            .activation = Activation::kTanh,
                                            .sw = {1.5, 1.5, 1.0},
                                            .sb = {0.3, 0.3, 0.0},
                                            .field = {.output_dim = 2}}},
      {"MLP cos, uniform phase", MlpSpec{.input_dim = 2,
                                         .widths = {32},
                                         .activation = Activation::kCos,
                                         .sw = {1.5, 1.0},
                                         .sb = {0.0, 0.0},
                                         .first_bias = BiasLaw::kUniformPhase,
                                         .field = {.output_dim = 2}}},
      {"MLP erf, anisotropic first layer (sw0_axes 1, 2)",
       MlpSpec{.input_dim = 2,
               .widths = {32},
               .activation = Activation::kErf,
               .sw = {1.5, 1.0},
               .sb = {0.5, 0.1},
               .field = {.output_dim = 2, .sw0_axes = {1.0, 2.0}}}},
      {"Gauss-net",
       GaussNetSpec{.input_dim = 2, .width = 32, .field = {.output_dim = 2}}},
      {"Gauss-net, output_mean (0.5, 0)",
       GaussNetSpec{.input_dim = 2,
                    .width = 32,
                    .field = {.output_dim = 2, .output_mean = {0.5, 0.0}}}},
      {"phi^4 free cos-net (cutoff 5)",
       CosNetSpec{.input_dim = 2, .width = 32, .cutoff = 5.0, .output_dim = 2}},
  };
}

std::vector<SymmetryCheck> Checks() {
  using Kind = SymmetryCheck::Kind;
  std::vector<SymmetryCheck> checks(6);
  const double t = 0.7;
  checks[0].kind = Kind::kRotation;
  checks[0].matrix.resize(2, 2);
  checks[0].matrix << std::cos(t), -std::sin(t), std::sin(t), std::cos(t);
  checks[1].kind = Kind::kTranslation;
  checks[1].vector = Eigen::Vector2d(0.6, -0.4);
  checks[2].kind = Kind::kReflection;
  checks[2].axis = 0;
  checks[3].kind = Kind::kCoordinatePermutation;
  checks[3].permutation = {1, 0};
  checks[4].kind = Kind::kPhiSignFlip;
  checks[5].kind = Kind::kOutputRotation;
  checks[5].matrix.resize(2, 2);
  checks[5].matrix << std::cos(1.1), -std::sin(1.1), std::sin(1.1),
      std::cos(1.1);
  return checks;
}

std::string Cell(const SymmetryResult& r) {
  if (r.dof == 0) return "exact";
  return absl::StrFormat("%s %.1f/%.1f", r.consistent ? "yes" : "**no**",
                         r.max_abs_z, r.z_threshold);
}

int Main(int argc, char** argv) {
  int64_t networks = 20000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--networks=", 11) == 0) {
      networks = std::atoll(argv[i] + 11);
    }
  }
  std::printf(
      "| architecture | rotation | translation | reflection | x <-> y | "
      "phi -> -phi | SO(2) output |\n|---|---|---|---|---|---|---|\n");
  for (const Row& row : Architectures()) {
    ExperimentSpec spec;
    spec.architecture = row.architecture;
    spec.points.resize(3, 2);
    spec.points << 0.4, -0.2, -0.3, 0.5, 0.1, 0.6;
    spec.observables.orders = {1, 2, 4};
    spec.sampling = {.seed = 2024, .num_networks = networks, .chunk_size = 500};
    spec.symmetry_checks = Checks();
    auto engine = Engine::Create(spec);
    if (!engine.ok()) {
      std::fprintf(stderr, "%s: %s\n", row.name.c_str(),
                   std::string(engine.status().message()).c_str());
      return 1;
    }
    MomentAccumulator acc((*engine)->tuples(), spec.sampling.seed);
    const int64_t chunks = NumChunks(spec.sampling);
    std::vector<ChunkSums> sums(chunks);
    const absl::Status status =
        (*engine)->RunChunks(0, chunks, 0, [&](ChunkSums c) {
          const int64_t k = c.chunk;
          sums[k] = std::move(c);
          return true;
        });
    if (!status.ok()) return 1;
    for (const ChunkSums& c : sums) {  // fold in chunk order
      if (!acc.Add(c).ok()) return 1;
    }
    auto results = EstimateChecks(spec, (*engine)->tuples(), acc);
    if (!results.ok()) return 1;
    std::string line = absl::StrCat("| ", row.name, " |");
    for (const SymmetryResult& r : results->symmetry) {
      absl::StrAppend(&line, " ", Cell(r), " |");
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  std::printf(
      "\nCells: verdict, max |z| / threshold over one %lld-network run; "
      "\"yes\" when max |z| <= threshold (Bonferroni over the check's "
      "tuples, 1%% family-wise); \"exact\": every difference is 0 network "
      "by network.\n",
      static_cast<long long>(networks));
  return 0;
}

}  // namespace
}  // namespace nnft

int main(int argc, char** argv) { return nnft::Main(argc, argv); }
