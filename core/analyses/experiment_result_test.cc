// AnalyseExperiment and AnalyseWidthSweep, the one path from chunks to a
// result: engine chunks of a one-hidden-layer erf net (exact at every width)
// folded into a result whose comparisons with the exact theory hold within
// the stated standard errors; the analyses a spec asks for are present; a
// source's error reaches the caller unchanged.
#include "core/analyses/experiment_result.h"

#include <cmath>
#include <map>
#include <memory>
#include <vector>

#include "Eigen/Geometry"
#include "core/analyses/width_sweep.h"
#include "core/sampling/engine.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

constexpr double kMaxZ = 4.5;  // a Gaussian z passes with p = 1 - 7e-6

ExperimentSpec ErfNet(int width, uint64_t seed) {
  ExperimentSpec spec;
  MlpSpec mlp;
  mlp.input_dim = 2;
  mlp.widths = {width};
  mlp.activation = Activation::kErf;
  mlp.sw = {1.2, 1.0};
  mlp.sb = {0.3, 0.1};
  spec.architecture = mlp;
  spec.points.resize(3, 2);
  spec.points << 0.3, -0.5, 1.0, 0.2, -0.7, 0.9;
  spec.observables.orders = {2, 4};
  spec.sampling.seed = seed;
  spec.sampling.chunk_size = 2000;
  spec.sampling.num_networks = 40 * 2000;
  return spec;
}

// Every chunk of `spec` (its engine form), by index.
std::map<int64_t, ChunkSums> Chunks(const ExperimentSpec& spec) {
  std::map<int64_t, ChunkSums> chunks;
  absl::StatusOr<ExperimentSpec> engine_spec = EngineSpec(spec);
  EXPECT_TRUE(engine_spec.ok()) << engine_spec.status();
  if (!engine_spec.ok()) return chunks;
  auto engine = Engine::Create(*engine_spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return chunks;
  const absl::Status status =
      (*engine)->RunChunks(0, NumChunks(spec.sampling), 2, [&](ChunkSums c) {
        const int64_t k = c.chunk;
        chunks[k] = std::move(c);
        return true;
      });
  EXPECT_TRUE(status.ok()) << status;
  return chunks;
}

ChunkSource From(const std::map<int64_t, ChunkSums>& chunks) {
  return [&chunks](int64_t k) -> absl::StatusOr<ChunkSums> {
    auto it = chunks.find(k);
    if (it == chunks.end()) return absl::DataLossError("no such chunk");
    return it->second;
  };
}

TEST(AnalyseExperimentTest, ErfNetAgreesWithExactTheoryAtFiniteWidth) {
  const ExperimentSpec spec = ErfNet(4, 11);
  const auto chunks = Chunks(spec);
  absl::StatusOr<ExperimentResult> r = AnalyseExperiment(
      spec, Limits{}, 64, NumChunks(spec.sampling), From(chunks));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->estimate.networks, spec.sampling.num_networks);
  EXPECT_EQ(r->estimate.seed, spec.sampling.seed);
  ASSERT_TRUE(r->theory.has_exact) << r->theory.method;
  // Every entry compared, full correlators and connected parts alike.
  const int entries = static_cast<int>(r->estimate.mean.size());
  EXPECT_EQ(r->vs_exact.dof, entries);
  EXPECT_LT(r->vs_exact.max_abs_z, kMaxZ);
  EXPECT_GT(r->vs_exact_connected.dof, 0);
  EXPECT_LT(r->vs_exact_connected.max_abs_z, kMaxZ);
  // At width 4 the Gaussian theory misses the four-point function: the
  // comparison with it must see the interaction.
  EXPECT_EQ(r->vs_gp.dof, entries);
  EXPECT_GT(r->vs_gp.max_abs_z, 10.0);
  // No analyses were asked for.
  EXPECT_FALSE(r->conformal.has_value());
  EXPECT_FALSE(r->reflection.has_value());
  EXPECT_FALSE(r->sweep.has_value());
  EXPECT_EQ(r->training, nullptr);
}

TEST(AnalyseExperimentTest, ReflectionRequestGivesTheAnalysis) {
  ExperimentSpec spec = ErfNet(8, 12);
  spec.reflection.enabled = true;
  spec.reflection.points.resize(2, 2);
  spec.reflection.points << 0.4, 0.1, 0.9, -0.3;
  const auto chunks = Chunks(spec);
  absl::StatusOr<ExperimentResult> r = AnalyseExperiment(
      spec, Limits{}, 64, NumChunks(spec.sampling), From(chunks));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->reflection.has_value());
}

TEST(AnalyseExperimentTest, SourceErrorsReachTheCallerUnchanged) {
  const ExperimentSpec spec = ErfNet(4, 13);
  auto chunks = Chunks(spec);
  chunks.erase(7);
  absl::StatusOr<ExperimentResult> r = AnalyseExperiment(
      spec, Limits{}, 64, NumChunks(spec.sampling), From(chunks));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), "no such chunk");
}

TEST(AnalyseExperimentTest, InvalidSpecIsRefusedBeforeAnyChunkIsRead) {
  ExperimentSpec spec = ErfNet(4, 14);
  std::get<MlpSpec>(spec.architecture).sw = {1.0};  // needs L + 1 = 2 scales
  int reads = 0;
  absl::StatusOr<ExperimentResult> r = AnalyseExperiment(
      spec, Limits{}, 64, 4, [&](int64_t) -> absl::StatusOr<ChunkSums> {
        ++reads;
        return absl::DataLossError("read");
      });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reads, 0);
}

TEST(AnalyseWidthSweepTest, FourPointConnectedFallsAsInverseWidth) {
  ExperimentSpec spec = ErfNet(4, 15);
  spec.width_sweep = {2, 4, 8, 16};
  std::vector<ExperimentSpec> specs;
  for (int n : SweepWidths(spec)) specs.push_back(SweepWidthSpec(spec, n));
  std::vector<std::map<int64_t, ChunkSums>> chunks;
  for (const ExperimentSpec& s : specs) chunks.push_back(Chunks(s));
  std::vector<SweepWidthChunks> widths;
  for (size_t w = 0; w < specs.size(); ++w) {
    widths.push_back({.width = SweepWidths(spec)[w],
                      .spec = &specs[w],
                      .num_chunks = NumChunks(specs[w].sampling),
                      .chunks = From(chunks[w])});
  }
  absl::StatusOr<ExperimentResult> r =
      AnalyseWidthSweep(spec, widths, Limits{}, 64);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->sweep.has_value());
  ASSERT_EQ(r->sweep->widths.size(), 4u);
  int64_t networks = 0;
  for (const SweepWidthResult& w : r->sweep->widths) {
    networks += w.estimate.networks;
    EXPECT_LT(w.vs_exact.max_abs_z, kMaxZ) << "width " << w.width;
  }
  EXPECT_EQ(r->estimate.networks, networks);
  ASSERT_FALSE(r->sweep->analysis.fits.empty());
  // A tuple of order 4 whose connected part is clearly non-zero: its fitted
  // exponent is -1 (exact at every width for one hidden layer).
  bool checked = false;
  for (const PowerLawFit& fit : r->sweep->analysis.fits) {
    if (fit.order != 4 || !(fit.exponent_stderr > 0)) continue;
    EXPECT_LT(std::fabs(fit.exponent + 1.0), kMaxZ * fit.exponent_stderr)
        << fit.exponent << " +- " << fit.exponent_stderr;
    checked = true;
  }
  EXPECT_TRUE(checked);

  // The running analysis of the same widths, the second not started: the
  // finished result's comparisons and fits where an estimate and a theory
  // exist, none for the missing width.
  std::vector<int> ns;
  std::vector<const CorrelatorEstimate*> estimates;
  std::vector<const TheoryValues*> theories;
  for (const SweepWidthResult& w : r->sweep->widths) {
    ns.push_back(w.width);
    estimates.push_back(&w.estimate);
    theories.push_back(&w.theory);
  }
  estimates[1] = nullptr;
  theories[1] = nullptr;
  const RunningSweepAnalysis running =
      AnalyseRunningSweep(ns, estimates, theories);
  ASSERT_EQ(running.comparisons.size(), 4u);
  EXPECT_FALSE(running.comparisons[1].has_value());
  for (int w : {0, 2, 3}) {
    ASSERT_TRUE(running.comparisons[w].has_value()) << w;
    const SweepWidthResult& done = r->sweep->widths[w];
    EXPECT_EQ(running.comparisons[w]->vs_exact.z, done.vs_exact.z);
    EXPECT_EQ(running.comparisons[w]->vs_gp.z, done.vs_gp.z);
    EXPECT_EQ(running.comparisons[w]->vs_exact_connected.z,
              done.vs_exact_connected.z);
  }
  EXPECT_FALSE(running.analysis.fits.empty());
}

TEST(RunningAnalysisTest, ChecksAppearWithDegreesOfFreedomAndMatchTheResult) {
  ExperimentSpec spec = ErfNet(4, 13);
  SymmetryCheck rotation;  // exact: the first layer's weights are isotropic
  rotation.kind = SymmetryCheck::Kind::kRotation;
  rotation.matrix = Eigen::Rotation2Dd(0.7).toRotationMatrix();
  spec.symmetry_checks = {rotation};
  const auto chunks = Chunks(spec);
  absl::StatusOr<ExperimentSpec> engine_spec = EngineSpec(spec);
  ASSERT_TRUE(engine_spec.ok()) << engine_spec.status();
  auto engine = Engine::Create(*engine_spec);
  ASSERT_TRUE(engine.ok()) << engine.status();
  MomentAccumulator acc((*engine)->tuples(), spec.sampling.seed, 64);
  RunningAnalysis running(spec, (*engine)->spec(), (*engine)->tuples());
  ASSERT_TRUE(acc.Add(chunks.at(0)).ok());
  RunningAnalyses first = running.Update(acc.Finish(), acc);
  EXPECT_EQ(first.checks, nullptr);  // one bin: no degrees of freedom yet
  EXPECT_EQ(first.training, nullptr);
  for (int64_t k = 1; k < NumChunks(spec.sampling); ++k) {
    ASSERT_TRUE(acc.Add(chunks.at(k)).ok());
  }
  RunningAnalyses last = running.Update(acc.Finish(), acc);
  ASSERT_NE(last.checks, nullptr);
  ASSERT_EQ(last.checks->symmetry.size(), 1u);
  // Every chunk folded: the same check as the finished result's.
  absl::StatusOr<ExperimentResult> r = AnalyseExperiment(
      spec, Limits{}, 64, NumChunks(spec.sampling), From(chunks));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->checks.symmetry.size(), 1u);
  EXPECT_GT(last.checks->symmetry[0].dof, 0);
  EXPECT_EQ(last.checks->symmetry[0].dof, r->checks.symmetry[0].dof);
  EXPECT_EQ(last.checks->symmetry[0].chi2, r->checks.symmetry[0].chi2);
  // An exact invariance: no entry beyond the Bonferroni threshold.
  EXPECT_LT(last.checks->symmetry[0].max_abs_z,
            last.checks->symmetry[0].z_threshold);
}

TEST(CompareWithBestTheoryTest, PrefersFiniteWidthTheoryAndRefusesMisfits) {
  CorrelatorEstimate e;
  e.mean = {1.0, 2.0};
  e.stderr_mean = {0.5, 0.5};
  TheoryValues t;
  t.gp_full = {1.0, 1.0};
  BestTheoryComparison gp = CompareWithBestTheory(&e, &t);
  EXPECT_STREQ(gp.kind, "gp");
  ASSERT_EQ(gp.values, &t.gp_full);
  EXPECT_DOUBLE_EQ(gp.comparison.z[1], 2.0);  // (2 - 1) / 0.5
  t.has_exact = true;
  t.exact_full = {1.0, 2.5};
  BestTheoryComparison exact = CompareWithBestTheory(&e, &t);
  EXPECT_STREQ(exact.kind, "exact");
  EXPECT_DOUBLE_EQ(exact.comparison.z[1], -1.0);
  t.leading_order_in_inverse_width = true;
  EXPECT_STREQ(CompareWithBestTheory(&e, &t).kind, "leading_order");
  t.exact_full = {1.0};  // not one value per entry: no comparison
  BestTheoryComparison misfit = CompareWithBestTheory(&e, &t);
  EXPECT_STREQ(misfit.kind, "none");
  EXPECT_EQ(misfit.values, nullptr);
  EXPECT_EQ(misfit.comparison.dof, 0);
  EXPECT_STREQ(CompareWithBestTheory(nullptr, &t).kind, "none");
  EXPECT_STREQ(CompareWithBestTheory(&e, nullptr).kind, "none");
}

}  // namespace
}  // namespace nnft
