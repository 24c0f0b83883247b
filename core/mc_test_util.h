// Monte Carlo helpers for core's tests. RunMc: every chunk of a spec on 2
// threads, folded in chunk order (chunks may finish out of order), and the
// theory for the same tuples; the engine and the accumulator are kept for
// analyses that need them (effective couplings). VertexSweep and
// ExpectConvergesToVertex: a width sweep of a network with a leading-order
// 1/N theory, its N G4_c fitted as A + c/N against the vertex. Failures are
// reported as test failures.
#ifndef NNFT_CORE_MC_TEST_UTIL_H_
#define NNFT_CORE_MC_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/estimate/compare.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"
#include "core/theory/theory.h"
#include "gtest/gtest.h"

namespace nnft {

struct McRun {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<MomentAccumulator> acc;  // weighted with an insertion
  CorrelatorEstimate estimate;
  TheoryValues theory;
};

// The coverage study's small erf net (nnft-coverage --list, family
// `moments`): one hidden layer of width 4, d = 1, sw = (1.2, 1),
// sb = (0.3, 0.1); far from Gaussian, with exact finite-width theory.
inline MlpSpec SmallErfNet() {
  return MlpSpec{.input_dim = 1,
                 .widths = {4},
                 .activation = Activation::kErf,
                 .sw = {1.2, 1.0},
                 .sb = {0.3, 0.1}};
}

inline McRun RunMc(const ExperimentSpec& spec) {
  McRun run;
  auto engine = Engine::Create(spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return run;
  run.engine = *std::move(engine);
  const int64_t num_chunks = NumChunks(spec.sampling);
  std::vector<ChunkSums> chunks(num_chunks);
  const absl::Status status =
      run.engine->RunChunks(0, num_chunks, 2, [&](ChunkSums c) {
        const int64_t k = c.chunk;
        chunks[k] = std::move(c);
        return true;
      });
  EXPECT_TRUE(status.ok()) << status;
  run.acc = std::make_unique<MomentAccumulator>(
      run.engine->tuples(), spec.sampling.seed, /*max_bins=*/64,
      spec.insertion.has_value());
  for (const ChunkSums& c : chunks) {
    const absl::Status added = run.acc->Add(c);
    EXPECT_TRUE(added.ok()) << added;
  }
  run.estimate = run.acc->Finish();
  auto theory = ComputeTheory(spec, run.engine->tuples());
  EXPECT_TRUE(theory.ok()) << theory.status();
  if (theory.ok()) run.theory = *std::move(theory);
  return run;
}

// Acceptance of a vertex sweep: |z| below kMaxZ per entry (entries of one run
// share networks, so the largest |z| over ~45 correlated entries is the
// calibrated bound, as in mc_theory_test.cc), and the fitted infinite-width
// intercept within kMaxInterceptZ of the vertex.
inline constexpr double kVertexMaxZ = 4.5;
inline constexpr double kVertexMaxInterceptZ = 3.0;

// One width of a vertex sweep.
struct VertexRow {
  int width = 0;
  double mc = 0.0, se = 0.0, theory = 0.0;  // N G4_c at the tracked tuple
  double max_abs_z4 = 0.0;                  // G4_c vs the vertex, all tuples
  double max_abs_z2 = 0.0;                  // G2 vs K + dK
  double max_abs_z2_gp = 0.0;               // G2 vs K alone (infinite width)
};

// A width sweep: for each width, RunMc(make_spec(width, seed)) with the seed
// counting up from `seed` + 1; 4-point entries compared by their connected
// parts with the leading-order theory, 2-point entries by their full values.
// Prints N, the MC N G4_c +- error, the theory's N G4_c and z at `tracked`,
// and the largest |z| over all entries; G2 must match K + dK at every width.
template <typename MakeSpec>
std::vector<VertexRow> VertexSweep(const std::string& name,
                                   MakeSpec&& make_spec,
                                   const std::vector<int>& widths,
                                   const Tuple& tracked, uint64_t seed) {
  std::vector<VertexRow> rows;
  std::printf("%s\n%6s %12s %10s %12s %7s %11s %10s %12s\n", name.c_str(), "N",
              "MC N G4_c", "+-", "theory", "z", "max|z| G4c", "max|z| G2",
              "(G2 vs K)");
  for (int width : widths) {
    const McRun run = RunMc(make_spec(width, ++seed));
    EXPECT_TRUE(run.theory.leading_order_in_inverse_width)
        << name << ": " << run.theory.method;
    const CorrelatorEstimate& est = run.estimate;
    std::vector<double> m4, s4, t4, m2, s2, t2, k2;
    VertexRow row{.width = width};
    for (size_t i = 0; i < est.tuples.size(); ++i) {
      const Tuple& t = est.tuples[i];
      if (t.size() == 4) {
        m4.push_back(est.connected[i]);
        s4.push_back(est.stderr_connected[i]);
        t4.push_back(run.theory.exact_connected[i]);
        if (t == tracked) {
          row.mc = width * est.connected[i];
          row.se = width * est.stderr_connected[i];
          row.theory = width * run.theory.exact_connected[i];
        }
      } else if (t.size() == 2) {
        m2.push_back(est.mean[i]);
        s2.push_back(est.stderr_mean[i]);
        t2.push_back(run.theory.exact_full[i]);
        k2.push_back(run.theory.gp_full[i]);
      }
    }
    const Comparison c4 = Compare(m4, s4, t4), c2 = Compare(m2, s2, t2);
    EXPECT_EQ(c4.dof, static_cast<int>(m4.size())) << name << " N=" << width;
    EXPECT_EQ(c2.dof, static_cast<int>(m2.size())) << name << " N=" << width;
    EXPECT_GT(row.se, 0.0) << name << ": tracked tuple not estimated";
    row.max_abs_z4 = c4.max_abs_z;
    row.max_abs_z2 = c2.max_abs_z;
    row.max_abs_z2_gp = Compare(m2, s2, k2).max_abs_z;
    std::printf("%6d %12.5f %10.5f %12.5f %7.2f %11.2f %10.2f %12.2f\n", width,
                row.mc, row.se, row.theory, (row.mc - row.theory) / row.se,
                row.max_abs_z4, row.max_abs_z2, row.max_abs_z2_gp);
    // G2 = K + dK + O(1/N^2) at every width.
    EXPECT_LT(row.max_abs_z2, kVertexMaxZ) << name << " G2 at N=" << width;
    rows.push_back(row);
  }
  return rows;
}

// The checks every vertex sweep must pass: G4_c within kVertexMaxZ of the
// vertex at the largest width and resolved there (not compatible with the
// Gaussian 0); with `dk_resolved`, the O(1/N) shift of G2 resolved at the
// smallest width (K alone excluded where K + dK is not); and N G4_c = A + c/N
// by weighted least squares over the widths with the intercept (the
// N -> infinity limit) at the vertex, the same at every width.
inline void ExpectConvergesToVertex(const std::string& name,
                                    const std::vector<VertexRow>& rows,
                                    bool dk_resolved) {
  ASSERT_FALSE(rows.empty()) << name;
  const VertexRow& widest = rows.back();
  EXPECT_LT(widest.max_abs_z4, kVertexMaxZ)
      << name << ": G4_c at the largest width";
  EXPECT_GT(std::abs(widest.mc), 10 * widest.se) << name << ": unresolved";
  if (dk_resolved) {
    EXPECT_GT(rows.front().max_abs_z2_gp, 5.0) << name << ": dK unresolved";
  }
  double s = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const VertexRow& r : rows) {
    const double w = 1.0 / (r.se * r.se), x = 1.0 / r.width;
    s += w, sx += w * x, sy += w * r.mc, sxx += w * x * x, sxy += w * x * r.mc;
    EXPECT_NEAR(r.theory, widest.theory, 1e-12 * std::abs(widest.theory));
  }
  const double det = s * sxx - sx * sx;
  const double intercept = (sxx * sy - sx * sxy) / det;
  const double intercept_se = std::sqrt(sxx / det);
  std::printf("fit N G4_c = A + c/N: A = %.5f +- %.5f, vertex %.5f (%.2f se)\n",
              intercept, intercept_se, widest.theory,
              (intercept - widest.theory) / intercept_se);
  EXPECT_LT(std::abs(intercept - widest.theory),
            kVertexMaxInterceptZ * intercept_se)
      << name << ": intercept " << intercept << " +- " << intercept_se;
}

}  // namespace nnft

#endif  // NNFT_CORE_MC_TEST_UTIL_H_
