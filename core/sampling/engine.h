// The Monte-Carlo engine: evaluates chunks of independently drawn networks at
// the spec's points and returns per-chunk moment sums, the unit the result
// store keeps. Network m draws every parameter from the counter-based stream
// keyed by (seed, m); sums within a chunk run in network order. So a chunk's
// sums depend on (canonical spec, seed, chunk index) alone: bit-identical for
// any thread count and any split of chunks among workers or processes.
//
// Thread safety: an Engine is immutable after Create; RunChunk and RunChunks
// may be called concurrently.
#ifndef NNFT_CORE_SAMPLING_ENGINE_H_
#define NNFT_CORE_SAMPLING_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"
#include "core/spec/tuples.h"

namespace nnft {

// Moment sums of one chunk: sums[t] = sum over the chunk's networks of
// prod_{i in tuples()[t]} phi(x_i) (or, with integrate_output_layer, of the
// conditional expectation of that product given the hidden layers; with
// integrate_first_layer_bias too, given the first-layer weights alone).
//
// With a phi^4 insertion (ExperimentSpec::insertion) the layout is
// 2T + kWeightExtras long for T tuples: sums[t] = sum_m w_m prod_t(m),
// sums[T + t] = sum_m prod_t(m), then at 2T + kWeightSum etc. the sums of the
// weights w_m = exp(-(lambda/4!)(I_m - I_ref)), of w_m^2, of the actions I_m =
// int_box phi_m^4 and of w_m I_m (I_ref: Phi4Reference).
inline constexpr int kWeightSum = 0;
inline constexpr int kWeightSquareSum = 1;
inline constexpr int kActionSum = 2;
inline constexpr int kWeightedActionSum = 3;
inline constexpr int kWeightExtras = 4;

struct ChunkSums {
  int64_t chunk = 0;     // chunk index k
  int64_t networks = 0;  // networks summed (the chunk size C)
  std::vector<double> sums;
};

// The spec the engine runs: `spec` itself, or its engine form when an
// analysis needs other statistics (null-cone fields, core/analyses/null_cone.h)
// or extra points and tuples (reflection positivity,
// core/analyses/reflection.h). Validates `spec` first (same errors as
// Validate).
absl::StatusOr<ExperimentSpec> EngineSpec(const ExperimentSpec& spec,
                                          const Limits& limits = {});
// The tuples the engine sums for `spec`: the closure of its observables over
// the points, or for a training spec the flow's tuples over the virtual points
// of core/train/train.h. The server folds stored chunks over the same set.
absl::StatusOr<TupleSet> BuildTupleSet(const ExperimentSpec& spec,
                                       int64_t max_tuples);

// I_ref = 3 G_box(0)^2 L^d, the free infinite-width expectation of
// int_box phi^4, fixed by the spec (0 for specs without a box).
double Phi4Reference(const ExperimentSpec& spec);

class Engine {
 public:
  // Validates `spec` against `limits` (see Validate) and prepares the tuple
  // set of its engine form (EngineSpec), which spec() returns.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(
      const ExperimentSpec& spec, const Limits& limits = {});

  const ExperimentSpec& spec() const { return spec_; }
  const TupleSet& tuples() const { return tuples_; }

  // Computes chunk k on the calling thread.
  ChunkSums RunChunk(int64_t k) const;

  // Computes chunks [first, last) on `threads` OpenMP threads (0: all).
  // `on_chunk` is called once per finished chunk, serialised (never two at
  // once) but not in chunk order; returning false stops the run after the
  // chunks in flight (cooperative cancellation). Returns Cancelled if stopped.
  absl::Status RunChunks(int64_t first, int64_t last, int threads,
                         const std::function<bool(ChunkSums)>& on_chunk) const;

  ~Engine();

 private:
  Engine(ExperimentSpec spec, TupleSet tuples);
  struct Impl;
  ExperimentSpec spec_;
  TupleSet tuples_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nnft

#endif  // NNFT_CORE_SAMPLING_ENGINE_H_
