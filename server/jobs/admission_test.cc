// Admission estimates: the stored-sums estimate counts exactly the sums the
// engine writes per chunk (plain, reweighted, reflection-positivity and
// training layouts), a sweep adds its widths, and CheckCost names the flag.
#include "server/jobs/admission.h"

#include <string>

#include "core/analyses/width_sweep.h"
#include "core/sampling/engine.h"
#include "gtest/gtest.h"

namespace nnft::server {
namespace {

ExperimentSpec ErfSpec() {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 1,
                              .widths = {8},
                              .activation = Activation::kErf,
                              .sw = {1.5, 1.0},
                              .sb = {0.2, 0.1}};
  spec.points.resize(3, 1);
  spec.points << -0.5, 0.25, 1.0;
  spec.observables.orders = {2, 4};
  spec.sampling = {.seed = 7, .num_networks = 1000, .chunk_size = 100};
  return spec;
}

ExperimentSpec BoxInsertionSpec() {
  ExperimentSpec spec;
  spec.architecture = CosNetSpec{
      .input_dim = 1, .width = 3, .mass = 1.0, .cutoff = 5.0, .box_side = 4.0};
  spec.points.resize(3, 1);
  spec.points << 0.0, 0.7, 2.0;
  spec.observables.orders = {2, 4};
  spec.sampling = {.seed = 5, .num_networks = 400, .chunk_size = 100};
  spec.insertion = Insertion{.lambda = 0.5};
  return spec;
}

ExperimentSpec ReflectionSpec() {
  ExperimentSpec spec = ErfSpec();
  spec.points.resize(1, 1);
  spec.points << 0.0;
  spec.observables.orders = {2};
  spec.reflection.enabled = true;
  spec.reflection.points.resize(3, 1);
  spec.reflection.points << 0.2, 0.6, 1.4;
  spec.reflection.include_four_point = true;
  return spec;
}

ExperimentSpec TrainingSpecOf() {
  ExperimentSpec spec = ErfSpec();
  TrainingSpec t;
  t.x.resize(2, 1);
  t.x << -1.0, 0.5;
  t.y.resize(2);
  t.y << 0.6, -0.4;
  t.eta = 0.5;
  t.times = {0.0, 1.0};
  spec.training = t;
  return spec;
}

// The sums one chunk of `spec` really holds.
int64_t EngineSumsPerChunk(const ExperimentSpec& spec) {
  auto engine = Engine::Create(spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? static_cast<int64_t>((*engine)->RunChunk(0).sums.size())
                     : -1;
}

TEST(AdmissionTest, StoreEstimateCountsTheSumsTheEngineWrites) {
  for (const ExperimentSpec& spec :
       {ErfSpec(), BoxInsertionSpec(), ReflectionSpec(), TrainingSpecOf()}) {
    absl::StatusOr<JobCost> cost = EstimateCost(spec, 2, 64);
    ASSERT_TRUE(cost.ok()) << cost.status();
    const int64_t chunks = NumChunks(spec.sampling);
    EXPECT_EQ(cost->store_bytes, chunks * (8 * EngineSumsPerChunk(spec) + 128));
    EXPECT_GT(cost->memory_bytes, 0);
    EXPECT_GT(cost->gflop, 0);
  }
}

TEST(AdmissionTest, TrainingCostsMoreWorkThanItsInitialEvaluation) {
  ExperimentSpec trained = TrainingSpecOf();
  ExperimentSpec longer = trained;
  longer.training->times = {0.0, 100.0};
  absl::StatusOr<JobCost> a = EstimateCost(trained, 2, 64);
  absl::StatusOr<JobCost> b = EstimateCost(longer, 2, 64);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(b->gflop, 50 * a->gflop);  // 200 steps against 2
}

TEST(AdmissionTest, SweepAddsStoreAndWorkAndTakesTheLargestMemory) {
  ExperimentSpec sweep = ErfSpec();
  sweep.width_sweep = {4, 64, 16};
  absl::StatusOr<JobCost> total = EstimateCost(sweep, 2, 64);
  ASSERT_TRUE(total.ok()) << total.status();
  JobCost sum;
  for (int n : sweep.width_sweep) {
    absl::StatusOr<JobCost> c = EstimateCost(WithWidth(sweep, n), 2, 64);
    ASSERT_TRUE(c.ok());
    sum.store_bytes += c->store_bytes;
    sum.gflop += c->gflop;
    sum.memory_bytes = std::max(sum.memory_bytes, c->memory_bytes);
  }
  EXPECT_EQ(total->store_bytes, sum.store_bytes);
  EXPECT_DOUBLE_EQ(total->gflop, sum.gflop);
  EXPECT_EQ(total->memory_bytes, sum.memory_bytes);
  absl::StatusOr<JobCost> widest = EstimateCost(WithWidth(sweep, 64), 2, 64);
  ASSERT_TRUE(widest.ok());
  EXPECT_EQ(total->memory_bytes, widest->memory_bytes);
}

TEST(AdmissionTest, CheckCostNamesTheFlagOfTheFirstLimitExceeded) {
  const AdmissionLimits limits{.max_job_memory_bytes = 1 << 20,
                               .max_job_store_bytes = 1 << 20,
                               .max_job_gflop = 1.0};
  EXPECT_TRUE(CheckCost(JobCost{1, 1, 0.5}, limits).ok());
  const absl::Status memory = CheckCost(JobCost{2 << 20, 1, 0.5}, limits);
  EXPECT_EQ(memory.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(memory.message().find("max_job_memory_mb"), std::string::npos);
  const absl::Status store = CheckCost(JobCost{1, 2 << 20, 0.5}, limits);
  EXPECT_NE(store.message().find("max_job_store_mb"), std::string::npos);
  const absl::Status work = CheckCost(JobCost{1, 1, 2.0}, limits);
  EXPECT_NE(work.message().find("max_job_gflop"), std::string::npos);
  EXPECT_FALSE(AdmissionLimits{.max_job_gflop = -1}.Validate().ok());
}

}  // namespace
}  // namespace nnft::server
