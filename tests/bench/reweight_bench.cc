// nnft-reweight-bench: the cost per network of the phi^4 insertion
// (core/sampling/box.h exact integral + weighted sums), against the same box
// cos-net spec without it. Prints one JSON line per configuration. A
// measurement, not a test: no timing assertions.
//
//   build/bin/nnft-reweight-bench [networks] [threads]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/sampling/box.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"

namespace {

double SecondsFor(const nnft::ExperimentSpec& spec, int threads) {
  auto engine = nnft::Engine::Create(spec);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(engine.status().message()).c_str());
    std::exit(1);
  }
  const auto start = std::chrono::steady_clock::now();
  const absl::Status status =
      (*engine)->RunChunks(0, nnft::NumChunks(spec.sampling), threads,
                           [](nnft::ChunkSums) { return true; });
  if (!status.ok()) std::exit(1);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t networks = argc > 1 ? std::atoll(argv[1]) : 20000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  struct Config {
    int d;
    int width;
    double box, cutoff;
  };
  for (const Config c : {Config{1, 1000, 4.0, 5.0}, Config{1, 1000, 12.0, 5.0},
                         Config{2, 1000, 6.0, 5.0}}) {
    nnft::ExperimentSpec spec;
    spec.architecture = nnft::CosNetSpec{.input_dim = c.d,
                                         .width = c.width,
                                         .mass = 1.0,
                                         .cutoff = c.cutoff,
                                         .box_side = c.box};
    spec.points = Eigen::MatrixXd::Zero(6, c.d);
    for (int p = 0; p < 6; ++p) spec.points(p, 0) = 0.3 * p;
    spec.observables.orders = {2, 4};
    spec.sampling = {.seed = 1, .num_networks = networks, .chunk_size = 500};
    auto lattice = nnft::MakeBoxLattice(c.d, c.box, c.cutoff);
    const double plain = SecondsFor(spec, threads);
    spec.insertion = nnft::Insertion{.lambda = 0.1};
    const double weighted = SecondsFor(spec, threads);
    std::printf(
        "{\"d\":%d,\"width\":%d,\"box_side\":%g,\"cutoff\":%g,"
        "\"lattice_momenta\":%zu,\"grid_per_axis\":%d,\"networks\":%lld,"
        "\"threads\":%d,\"us_per_network_plain\":%.3f,"
        "\"us_per_network_reweighted\":%.3f,\"overhead_us_per_network\":%.3f,"
        "\"overhead_fraction\":%.3f}\n",
        c.d, c.width, c.box, c.cutoff, lattice->k.size(), lattice->grid,
        static_cast<long long>(networks), threads, 1e6 * plain / networks,
        1e6 * weighted / networks, 1e6 * (weighted - plain) / networks,
        (weighted - plain) / plain);
  }
  return 0;
}
