// Shared by the training tests (train_test, train_loss_test): runs every
// chunk of a training spec through the engine, folds them in chunk order and
// returns the flow with the NTK theory beside it.
#ifndef NNFT_CORE_TRAIN_TRAIN_TEST_UTIL_H_
#define NNFT_CORE_TRAIN_TRAIN_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <utility>

#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/theory/ntk.h"
#include "core/train/train_result.h"
#include "gtest/gtest.h"

namespace nnft::testing_util {

inline TrainingFlow RunTrainingFlow(const ExperimentSpec& spec, int threads) {
  auto engine = Engine::Create(spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return {};
  std::map<int64_t, ChunkSums> chunks;
  EXPECT_TRUE((*engine)
                  ->RunChunks(0, NumChunks(spec.sampling), threads,
                              [&](ChunkSums c) {
                                chunks[c.chunk] = std::move(c);
                                return true;
                              })
                  .ok());
  MomentAccumulator acc((*engine)->tuples(), spec.sampling.seed, 16);
  for (auto& [k, c] : chunks) EXPECT_TRUE(acc.Add(c).ok());
  const theory::FlowTheory theory = theory::TrainingFlowTheory(spec);
  return MakeTrainingFlow(spec, acc.Finish(), &theory);
}

}  // namespace nnft::testing_util

#endif  // NNFT_CORE_TRAIN_TRAIN_TEST_UTIL_H_
