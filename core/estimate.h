// Estimators over chunk moment sums: correlators G^(n) with standard errors
// from the spread of chunk (bin) means, and connected correlators (cumulants,
// by the moment-cumulant formula) with delete-one jackknife errors over bins.
//
// Memory is independent of the number of networks: chunks are folded, in
// chunk order, into at most `max_bins` bins of consecutive chunks (the bin
// size doubles when the bins fill, as in ALPS's binning accumulators), so the
// accumulator holds O(max_bins x tuples) doubles. Folding is deterministic in
// chunk order, so equal chunk sums give equal bits.
#ifndef NNFT_CORE_ESTIMATE_H_
#define NNFT_CORE_ESTIMATE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "core/engine.h"
#include "core/tuples.h"

namespace nnft {

struct CorrelatorEstimate {
  // The requested tuples (TupleSet::requested order).
  std::vector<Tuple> tuples;
  // Full correlator G^(n) and its standard error.
  std::vector<double> mean;
  std::vector<double> stderr_mean;
  // Connected correlator G^(n)_c and its jackknife standard error.
  std::vector<double> connected;
  std::vector<double> stderr_connected;
  int64_t networks = 0;  // networks summed
  int64_t chunks = 0;    // chunks folded
  int64_t bins = 0;      // bins the errors come from
  uint64_t seed = 0;
};

class MomentAccumulator {
 public:
  // max_bins >= 2 (even).
  MomentAccumulator(const TupleSet& tuples, uint64_t seed, int max_bins = 64);

  // Folds the next chunk. Chunks must arrive in index order 0, 1, 2, ...;
  // FailedPrecondition otherwise, or when the sums' length is wrong.
  absl::Status Add(const ChunkSums& chunk);

  int64_t chunks() const { return chunks_; }

  // The estimate from the chunks so far. Errors need >= 2 bins; with fewer
  // they are reported as NaN.
  CorrelatorEstimate Finish() const;

 private:
  const TupleSet* tuples_;
  uint64_t seed_;
  int max_bins_;
  int64_t chunks_ = 0;
  int64_t networks_ = 0;
  int64_t chunks_per_bin_ = 1;
  // bins_[b] = sums over the chunks of bin b; counts_[b] = networks in bin b.
  std::vector<std::vector<double>> bins_;
  std::vector<int64_t> counts_;
  std::vector<int64_t> chunks_in_bin_;
};

// Cumulant of the multiset `tuple` from raw moments, by the moment-cumulant
// formula over set partitions of its slots:
//   kappa = sum_pi (|pi| - 1)! (-1)^(|pi| - 1) prod_{B in pi} m(B).
// `moment(sub)` returns the raw moment of a sorted sub-multiset.
double Cumulant(const Tuple& tuple,
                const std::function<double(const Tuple&)>& moment);

}  // namespace nnft

#endif  // NNFT_CORE_ESTIMATE_H_
