// Estimators over chunk moment sums: correlators G^(n) with standard errors
// from the spread of chunk (bin) means, and connected correlators (cumulants,
// by the moment-cumulant formula) with delete-one jackknife errors over bins.
//
// Memory is independent of the number of networks: chunks are folded, in
// chunk order, into at most `max_bins` bins of consecutive chunks (the bin
// size doubles when the bins fill, as in ALPS's binning accumulators), so the
// accumulator holds O(max_bins x tuples) doubles. Folding is deterministic in
// chunk order, so equal chunk sums give equal bits.
#ifndef NNFT_CORE_ESTIMATE_ESTIMATE_H_
#define NNFT_CORE_ESTIMATE_ESTIMATE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "core/estimate/reliability.h"
#include "core/sampling/engine.h"
#include "core/spec/tuples.h"

namespace nnft {

// The free (unweighted) side of a reweighted run and the weights' summary
// (ExperimentSpec::insertion; the chunk layout of engine.h).
struct ReweightEstimate {
  // G^(n) of the free ensemble (lambda = 0) from the same networks.
  std::vector<double> free_mean;
  std::vector<double> free_stderr;
  // shift = reweighted - free G^(n), with its jackknife error (the two are
  // strongly correlated, so this error is far below either one's).
  std::vector<double> shift;
  std::vector<double> shift_stderr;
  // Effective sample size (sum w)^2 / sum w^2 and its fraction of networks.
  double ess = 0;
  double ess_fraction = 0;
  // Mean of I = int_box phi^4: free, and under the weights.
  double mean_action = 0;
  double mean_action_weighted = 0;
};

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
  // Per requested tuple: can its error bar be trusted
  // (core/estimate/reliability.h), from the bin means of its full moment G^(n)
  // (the heaviest-tailed of the moments its connected part is built from).
  std::vector<EntryReliability> reliability;
  // Present for reweighted runs; mean, stderr_mean, connected and
  // stderr_connected above are then the reweighted ratio estimates
  // sum w prod / sum w, all with delete-one-bin jackknife errors.
  std::optional<ReweightEstimate> reweight;
};

// Values of a function of the requested connected correlators, with
// delete-one-bin jackknife errors (MomentAccumulator::Derived).
struct DerivedEstimate {
  std::vector<double> value;
  std::vector<double> stderr_value;
};

// The binned sums behind an estimate, for analyses that need their own
// jackknife (core/estimate/jackknife.h): per bin the sums over its chunks of
// every closure tuple's product, and the networks in it.
struct BinnedSums {
  std::vector<std::vector<double>> bins;  // bins[b][t], t over the closure
  std::vector<int64_t> counts;            // networks in bin b
  std::vector<double> total;              // sum over bins
  int64_t networks = 0;
};

class MomentAccumulator {
 public:
  // max_bins >= 2 (even); aborts otherwise (a programming error). `tuples`
  // must outlive the accumulator. Not thread-safe: one writer at a time.
  // `weighted`: chunks carry the reweighted layout of engine.h (2T +
  // kWeightExtras sums) instead of T sums.
  MomentAccumulator(const TupleSet& tuples, uint64_t seed, int max_bins = 64,
                    bool weighted = false);

  // Folds the next chunk. Chunk indices must be strictly increasing; gaps
  // are allowed (the server folds the completed chunks of a running job, in
  // index order, for interim estimates), and bins then hold consecutive
  // folded chunks. FailedPrecondition for a non-increasing index or a sums
  // length other than tuples.size(); InvalidArgument for networks < 1. On
  // error the accumulator is unchanged.
  absl::Status Add(const ChunkSums& chunk);

  int64_t chunks() const { return chunks_; }

  // The estimate from the chunks so far (may be called repeatedly, between
  // Adds). Errors need >= 2 bins; with fewer they are reported as NaN, and
  // with no chunk every value is NaN.
  //
  // Standard error of a mean, from B bins of n_b networks (N = sum n_b,
  // w_b = n_b / N, bin means mbar_b, mean = sum_b w_b mbar_b):
  //   se^2 = sum_b w_b^2 (mbar_b - mean)^2 / (1 - sum_b w_b^2),
  // unbiased for independent networks whatever the bin sizes, and equal to
  // var(bin means) / B for equal bins. Assumes bins are independent (networks
  // are i.i.d. by construction); bins of many networks make the bin means
  // nearly Gaussian, so the error of the error is about 1/sqrt(2(B-1)).
  //
  // Connected parts: Cumulant() of the full-sample moments; error by the
  // delete-one-bin jackknife, in the form for unequal bins (Busing, Meijer
  // and van der Leeden, Stat. Comput. 9 (1999) 3; h_b = N / n_b):
  //   pseudo_b = h_b theta - (h_b - 1) theta_(-b),
  //   theta_J = B theta - sum_b (1 - w_b) theta_(-b),
  //   se^2 = (1/B) sum_b (pseudo_b - theta_J)^2 / (h_b - 1),
  // which for equal bins is (B-1)/B sum_b (theta_(-b) - mean theta_(-.))^2.
  // Cost O(R B 2^n + R B Bell(n) n) for R requested tuples of order <= n.
  CorrelatorEstimate Finish() const;

  // A copy of the bins (O(bins x closure tuples) doubles).
  BinnedSums Binned() const {
    return BinnedSums{.bins = bins_,
                      .counts = counts_,
                      .total = total_,
                      .networks = networks_};
  }

  // g maps the requested tuples' connected correlators (requested order;
  // reweighted when weighted) to any number of outputs; returns g at the
  // full sample and its delete-one-bin jackknife errors (NaN with < 2 bins).
  // Cost: B + 1 evaluations of every requested cumulant and of g.
  DerivedEstimate Derived(
      const std::function<std::vector<double>(const std::vector<double>&)>& g)
      const;
  // A smooth function f of the means of the closure tuples `indices`
  // (indices into tuples().tuples()), its value at the full-sample means and
  // its delete-one-bin jackknife error (the unequal-bin form above; NaN with
  // fewer than 2 bins). For f linear, e.g. a paired difference
  // G(t') - G(t), this is the standard error of the difference itself, from
  // the same bins: correlations between the two sides are accounted for.
  struct FunctionEstimate {
    double value = 0.0;
    double stderr_value = 0.0;
  };
  FunctionEstimate MeansJackknife(
      const std::vector<int>& indices,
      const std::function<double(const std::vector<double>&)>& f) const;

 private:
  CorrelatorEstimate FinishWeighted() const;
  const TupleSet* tuples_;
  uint64_t seed_;
  int max_bins_;
  bool weighted_ = false;
  int64_t chunks_ = 0;
  int64_t last_chunk_ = -1;  // index of the last folded chunk
  int64_t networks_ = 0;
  // Sums over every folded chunk, added in chunk order.
  std::vector<double> total_;
  int64_t chunks_per_bin_ = 1;
  // bins_[b] = sums over the chunks of bin b; counts_[b] = networks in bin b.
  std::vector<std::vector<double>> bins_;
  std::vector<int64_t> counts_;
  std::vector<int64_t> chunks_in_bin_;
};

// Entries of one order share their networks: when at least half of the
// entries of an order (and at least two) are HEAVY_TAILED, the tail belongs to
// the estimator, and the other OK or FEW_BINS entries of that order are marked
// HEAVY_TAILED too (their own bins have not shown it yet), with a reason
// naming the count. Finish() applies it.
void FlagSiblingsOfHeavyTails(CorrelatorEstimate& est);

// The stopping rule of target_stderr sampling: true when every full
// correlator's standard error is finite and below `target` (needs >= 2 bins,
// else the errors are NaN) and can be trusted. An entry whose bin means are
// heavy-tailed or too few (core/estimate/reliability.h) has an error that is
// likely too small, so sampling goes on (to the spec's num_networks at most).
bool StderrTargetReached(const CorrelatorEstimate& est, double target);

// Cumulant of the multiset `tuple` from raw moments, by the moment-cumulant
// formula over set partitions of its slots:
//   kappa = sum_pi (|pi| - 1)! (-1)^(|pi| - 1) prod_{B in pi} m(B).
// `moment(sub)` returns the raw moment of a sorted sub-multiset; it is called
// once per non-empty subset of slots (2^n - 1 times). The set partitions of
// n <= 6 slots (Bell(6) = 203) are tabulated once per process. Slots, not
// distinct indices, are partitioned, so repeated indices are handled: e.g.
// kappa(0,0) = m(0,0) - m(0)^2. Aborts for n outside [1, 6].
double Cumulant(const Tuple& tuple,
                const std::function<double(const Tuple&)>& moment);

}  // namespace nnft

#endif  // NNFT_CORE_ESTIMATE_ESTIMATE_H_
