// One Monte Carlo helper for core's tests: every chunk of a spec on 2
// threads, folded in chunk order (chunks may finish out of order), and the
// theory for the same tuples. The engine and the accumulator are kept for
// analyses that need them (effective couplings). Failures are reported as
// test failures.
#ifndef NNFT_CORE_MC_TEST_UTIL_H_
#define NNFT_CORE_MC_TEST_UTIL_H_

#include <memory>
#include <utility>
#include <vector>

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

}  // namespace nnft

#endif  // NNFT_CORE_MC_TEST_UTIL_H_
