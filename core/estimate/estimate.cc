// Binning accumulator and estimators over chunk moment sums; the formulas,
// assumptions and costs are stated beside the declarations in estimate.h.
#include "core/estimate/estimate.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nnft {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One set partition of n slots: blocks as bit masks of slots, and the
// moment-cumulant coefficient (-1)^(k-1) (k-1)! for k blocks.
struct Partition {
  double coefficient = 0.0;
  std::vector<int> blocks;
};

// Every set partition of {0..n-1}, enumerated as restricted growth strings
// (slot s joins an existing block or opens the next one).
void EnumeratePartitions(int n, int slot, std::vector<int>* blocks,
                         std::vector<Partition>* out) {
  if (slot == n) {
    const int k = static_cast<int>(blocks->size());
    double factorial = 1.0;
    for (int i = 2; i < k; ++i) factorial *= i;
    out->push_back({(k % 2 == 1 ? 1.0 : -1.0) * factorial, *blocks});
    return;
  }
  for (size_t b = 0; b < blocks->size(); ++b) {
    (*blocks)[b] |= 1 << slot;
    EnumeratePartitions(n, slot + 1, blocks, out);
    (*blocks)[b] &= ~(1 << slot);
  }
  blocks->push_back(1 << slot);
  EnumeratePartitions(n, slot + 1, blocks, out);
  blocks->pop_back();
}

// Partitions of n slots, n in [0, kMaxOrder], tabulated once (thread-safe
// static initialisation). Bell numbers 1, 1, 2, 5, 15, 52, 203.
const std::vector<Partition>& Partitions(int n) {
  static const auto* table = [] {
    auto* t = new std::vector<std::vector<Partition>>(kMaxOrder + 1);
    for (int m = 1; m <= kMaxOrder; ++m) {
      std::vector<int> blocks;
      EnumeratePartitions(m, 0, &blocks, &(*t)[m]);
    }
    return t;
  }();
  return (*table)[n];
}

// kappa = sum_pi coefficient(pi) prod_{B in pi} m[B], with m indexed by the
// slot mask of the block.
double CumulantFromMasks(int n, const double* moment_by_mask) {
  double kappa = 0.0;
  for (const Partition& p : Partitions(n)) {
    double product = p.coefficient;
    for (int block : p.blocks) product *= moment_by_mask[block];
    kappa += product;
  }
  return kappa;
}

void CheckOrAbort(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "nnft: broken invariant: %s\n", what);
  std::abort();
}

// The sub-multiset of `tuple` picked by slot mask `mask` (sorted, since
// `tuple` is).
Tuple SubTuple(const Tuple& tuple, int mask) {
  Tuple sub;
  for (size_t s = 0; s < tuple.size(); ++s) {
    if (mask & (1 << s)) sub.push_back(tuple[s]);
  }
  return sub;
}

// Index in the tuple set of every slot-mask sub-multiset of `tuple`.
std::vector<int> SubTupleIndices(const TupleSet& set, const Tuple& tuple) {
  const int n = static_cast<int>(tuple.size());
  std::vector<int> index(1 << n, -1);
  for (int mask = 1; mask < (1 << n); ++mask) {
    index[mask] = set.Find(SubTuple(tuple, mask));
    CheckOrAbort(index[mask] >= 0, "tuple set not closed under sub-multisets");
  }
  return index;
}

// The bins of an accumulator with their weights w_b = n_b / N.
struct BinView {
  BinView(const std::vector<std::vector<double>>& bins_in,
          const std::vector<int64_t>& counts_in,
          const std::vector<double>& total_in, int64_t networks)
      : bins(bins_in),
        counts(counts_in),
        total(total_in),
        total_n(static_cast<double>(networks)),
        w(bins_in.size()) {
    for (size_t b = 0; b < bins.size(); ++b) {
      w[b] = static_cast<double>(counts[b]) / total_n;
      sum_w2 += w[b] * w[b];
    }
  }

  int num_bins() const { return static_cast<int>(bins.size()); }

  // Reliability of the mean of closure tuple t (its bin means sum_t / n_b);
  // with `weight` >= 0, of the ratio sum_t / sum_weight per bin.
  EntryReliability Reliability(int t, int weight = -1) const {
    std::vector<double> values(bins.size());
    for (int b = 0; b < num_bins(); ++b) {
      values[b] = bins[b][t] / (weight >= 0 ? bins[b][weight]
                                            : static_cast<double>(counts[b]));
    }
    return AssessBins(values, w);
  }

  // se^2 = sum_b w_b^2 (mbar_b - mean)^2 / (1 - sum_b w_b^2); NaN for B < 2.
  double StderrOfMean(int t, double mean) const {
    if (num_bins() < 2) return kNaN;
    double ss = 0.0;
    for (int b = 0; b < num_bins(); ++b) {
      const double dev = bins[b][t] / static_cast<double>(counts[b]) - mean;
      ss += w[b] * w[b] * dev * dev;
    }
    return std::sqrt(ss / (1.0 - sum_w2));
  }

  // The cumulant of an order-n tuple whose slot-mask sub-multisets have tuple
  // indices `sub`, and its delete-one-bin jackknife error (NaN for B < 2).
  std::pair<double, double> ConnectedWithJackknife(
      int n, const std::vector<int>& sub) const {
    double m[1 << kMaxOrder];
    for (int mask = 1; mask < (1 << n); ++mask) {
      m[mask] = total[sub[mask]] / total_n;
    }
    const double theta = CumulantFromMasks(n, m);
    if (num_bins() < 2) return {theta, kNaN};
    std::vector<double> theta_del(num_bins());
    double theta_j = num_bins() * theta;
    for (int b = 0; b < num_bins(); ++b) {
      const double rest_n = total_n - static_cast<double>(counts[b]);
      for (int mask = 1; mask < (1 << n); ++mask) {
        m[mask] = (total[sub[mask]] - bins[b][sub[mask]]) / rest_n;
      }
      theta_del[b] = CumulantFromMasks(n, m);
      theta_j -= (1.0 - w[b]) * theta_del[b];
    }
    double var = 0.0;
    for (int b = 0; b < num_bins(); ++b) {
      const double h = 1.0 / w[b];
      const double pseudo = h * theta - (h - 1.0) * theta_del[b];
      var += (pseudo - theta_j) * (pseudo - theta_j) / (h - 1.0);
    }
    return {theta, std::sqrt(var / num_bins())};
  }

  const std::vector<std::vector<double>>& bins;
  const std::vector<int64_t>& counts;
  const std::vector<double>& total;
  double total_n;
  std::vector<double> w;
  double sum_w2 = 0.0;
};

// The covariance m(s, t) - m(s) m(t) (row-major) of the slots of `tuple`
// from the totals `total` over `networks`, `sub` its slot-mask sub-multisets'
// indices (SubTupleIndices): singles and distinct-slot pairs are among them,
// a slot's square only where the tuple repeats it or another entry brings it;
// empty when one is missing.
std::vector<double> SlotCovariance(const TupleSet& set,
                                   const std::vector<double>& total,
                                   double networks, const Tuple& tuple,
                                   const std::vector<int>& sub) {
  const int n = static_cast<int>(tuple.size());
  const auto m = [&](int index) { return total[index] / networks; };
  std::vector<double> cov(n * n);
  for (int i = 0; i < n; ++i) {
    const int square = set.Find(Tuple{tuple[i], tuple[i]});
    if (square < 0) return {};
    cov[i * n + i] = m(square) - m(sub[1 << i]) * m(sub[1 << i]);
    for (int j = 0; j < i; ++j) {
      cov[i * n + j] = cov[j * n + i] =
          m(sub[(1 << i) | (1 << j)]) - m(sub[1 << i]) * m(sub[1 << j]);
    }
  }
  return cov;
}

// The sample with at most one bin deleted (b < 0: none), for the generic
// jackknife of ratio estimates: plain moments sum/networks, weighted moments
// sum/(sum of weights at index `weight`).
struct Deleted {
  const BinView* v;
  int b;
  int weight;
  double Sum(int i) const {
    return b < 0 ? v->total[i] : v->total[i] - v->bins[b][i];
  }
  double Plain(int i) const {
    const double n =
        b < 0 ? v->total_n : v->total_n - static_cast<double>(v->counts[b]);
    return Sum(i) / n;
  }
  double Weighted(int i) const { return Sum(i) / Sum(weight); }
};

// theta = f(full sample) and its delete-one-bin jackknife error (the
// unequal-bin form of estimate.h), f: double(const Deleted&).
template <typename F>
std::pair<double, double> Jackknife(const BinView& v, int weight, F&& f) {
  const double theta = f(Deleted{&v, -1, weight});
  const int nb = v.num_bins();
  if (nb < 2) return {theta, kNaN};
  std::vector<double> del(nb);
  double theta_j = nb * theta;
  for (int b = 0; b < nb; ++b) {
    del[b] = f(Deleted{&v, b, weight});
    theta_j -= (1.0 - v.w[b]) * del[b];
  }
  double var = 0.0;
  for (int b = 0; b < nb; ++b) {
    const double h = 1.0 / v.w[b];
    const double pseudo = h * theta - (h - 1.0) * del[b];
    var += (pseudo - theta_j) * (pseudo - theta_j) / (h - 1.0);
  }
  return {theta, std::sqrt(var / nb)};
}

// Cumulant of an order-n tuple from the moments `moment(tuple index)`.
template <typename M>
double CumulantOf(int n, const std::vector<int>& sub, M&& moment) {
  double m[1 << kMaxOrder];
  for (int mask = 1; mask < (1 << n); ++mask) m[mask] = moment(sub[mask]);
  return CumulantFromMasks(n, m);
}

}  // namespace

bool StderrTargetReached(const CorrelatorEstimate& est, double target) {
  if (est.stderr_mean.empty()) return false;
  for (double s : est.stderr_mean) {
    if (!(s < target)) return false;  // NaN fails too
  }
  for (const EntryReliability& r : est.reliability) {
    if (r.verdict != Verdict::kOk) return false;
  }
  return true;
}

void FlagSiblingsOfHeavyTails(CorrelatorEstimate& est) {
  for (int n = 1; n <= kMaxOrder; ++n) {
    int entries = 0, heavy = 0;
    for (size_t i = 0; i < est.tuples.size(); ++i) {
      if (static_cast<int>(est.tuples[i].size()) != n) continue;
      ++entries;
      heavy += est.reliability[i].verdict == Verdict::kHeavyTailed;
    }
    if (heavy < 2 || 2 * heavy < entries) continue;
    for (size_t i = 0; i < est.tuples.size(); ++i) {
      EntryReliability& r = est.reliability[i];
      if (static_cast<int>(est.tuples[i].size()) != n ||
          (r.verdict != Verdict::kOk && r.verdict != Verdict::kFewBins)) {
        continue;
      }
      r.verdict = Verdict::kHeavyTailed;
      r.reason = absl::StrFormat(
          "%d of the %d order-%d entries are heavy-tailed and share these "
          "networks: the error is likely underestimated here too",
          heavy, entries, n);
    }
  }
}

double Cumulant(const Tuple& tuple,
                const std::function<double(const Tuple&)>& moment) {
  const int n = static_cast<int>(tuple.size());
  CheckOrAbort(n >= 1 && n <= kMaxOrder, "Cumulant: order outside [1, 6]");
  double m[1 << kMaxOrder];
  for (int mask = 1; mask < (1 << n); ++mask) {
    m[mask] = moment(SubTuple(tuple, mask));
  }
  return CumulantFromMasks(n, m);
}

MomentAccumulator::MomentAccumulator(const TupleSet& tuples, uint64_t seed,
                                     int max_bins, bool weighted)
    : tuples_(&tuples), seed_(seed), max_bins_(max_bins), weighted_(weighted) {
  CheckOrAbort(max_bins >= 2 && max_bins % 2 == 0,
               "MomentAccumulator: max_bins must be even and >= 2");
  total_.assign(weighted ? 2 * tuples.size() + kWeightExtras : tuples.size(),
                0.0);
}

absl::Status MomentAccumulator::Add(const ChunkSums& chunk) {
  if (chunk.chunk <= last_chunk_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "chunk ", chunk.chunk, " arrived after chunk ", last_chunk_,
        ": chunk indices must be strictly increasing"));
  }
  if (chunk.sums.size() != total_.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("chunk ", chunk.chunk, " has ", chunk.sums.size(),
                     " sums: expected ", total_.size(),
                     weighted_ ? " (reweighted layout: 2 per tuple + 4)"
                               : " (one per tuple)"));
  }
  if (chunk.networks < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk ", chunk.chunk, ": networks = ", chunk.networks,
                     ": must be >= 1"));
  }
  if (bins_.empty() || chunks_in_bin_.back() == chunks_per_bin_) {
    if (static_cast<int>(bins_.size()) == max_bins_) {
      // Every bin is full: merge adjacent pairs, double the bin size.
      for (int b = 0; b < max_bins_ / 2; ++b) {
        std::vector<double>& into = bins_[b];
        if (b > 0) into.swap(bins_[2 * b]);  // bin 0 stays in place
        const std::vector<double>& from = bins_[2 * b + 1];
        for (size_t t = 0; t < into.size(); ++t) into[t] += from[t];
        counts_[b] = counts_[2 * b] + counts_[2 * b + 1];
        chunks_in_bin_[b] = chunks_in_bin_[2 * b] + chunks_in_bin_[2 * b + 1];
      }
      bins_.resize(max_bins_ / 2);
      counts_.resize(max_bins_ / 2);
      chunks_in_bin_.resize(max_bins_ / 2);
      chunks_per_bin_ *= 2;
    }
    bins_.emplace_back(total_.size(), 0.0);
    counts_.push_back(0);
    chunks_in_bin_.push_back(0);
  }
  std::vector<double>& bin = bins_.back();
  for (size_t t = 0; t < bin.size(); ++t) {
    bin[t] += chunk.sums[t];
    total_[t] += chunk.sums[t];
  }
  counts_.back() += chunk.networks;
  chunks_in_bin_.back() += 1;
  networks_ += chunk.networks;
  chunks_ += 1;
  last_chunk_ = chunk.chunk;
  return absl::OkStatus();
}

MomentAccumulator::FunctionEstimate MomentAccumulator::MeansJackknife(
    const std::vector<int>& indices,
    const std::function<double(const std::vector<double>&)>& f) const {
  FunctionEstimate out{kNaN, kNaN};
  if (networks_ == 0) return out;
  const BinView view(bins_, counts_, total_, networks_);
  std::vector<double> m(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    m[i] = total_[indices[i]] / view.total_n;
  }
  out.value = f(m);
  const int nb = view.num_bins();
  if (nb < 2) return out;
  std::vector<double> theta_del(nb);
  double theta_j = nb * out.value;
  for (int b = 0; b < nb; ++b) {
    const double rest_n = view.total_n - static_cast<double>(counts_[b]);
    for (size_t i = 0; i < indices.size(); ++i) {
      m[i] = (total_[indices[i]] - bins_[b][indices[i]]) / rest_n;
    }
    theta_del[b] = f(m);
    theta_j -= (1.0 - view.w[b]) * theta_del[b];
  }
  double var = 0.0;
  for (int b = 0; b < nb; ++b) {
    const double h = 1.0 / view.w[b];
    const double pseudo = h * out.value - (h - 1.0) * theta_del[b];
    var += (pseudo - theta_j) * (pseudo - theta_j) / (h - 1.0);
  }
  out.stderr_value = std::sqrt(var / nb);
  return out;
}

CorrelatorEstimate MomentAccumulator::Finish() const {
  if (weighted_) return FinishWeighted();
  CorrelatorEstimate est;
  est.networks = networks_;
  est.chunks = chunks_;
  est.bins = static_cast<int64_t>(bins_.size());
  est.seed = seed_;
  const BinView view(bins_, counts_, total_, networks_);
  for (int r : tuples_->requested()) {
    const Tuple& tuple = tuples_->tuples()[r];
    est.tuples.push_back(tuple);
    if (networks_ == 0) {
      est.mean.push_back(kNaN);
      est.stderr_mean.push_back(kNaN);
      est.connected.push_back(kNaN);
      est.stderr_connected.push_back(kNaN);
      est.reliability.push_back(AssessBins({}, {}));
      continue;
    }
    est.reliability.push_back(view.Reliability(r));
    const double mean = total_[r] / view.total_n;
    est.mean.push_back(mean);
    est.stderr_mean.push_back(view.StderrOfMean(r, mean));
    const std::vector<int> sub = SubTupleIndices(*tuples_, tuple);
    const int n = static_cast<int>(tuple.size());
    const auto [connected, stderr_connected] =
        view.ConnectedWithJackknife(n, sub);
    if (n % 2 == 0) {
      est.reliability.back().wick_skewness = WickProductSkewness(
          SlotCovariance(*tuples_, total_, view.total_n, tuple, sub), n);
    }
    est.connected.push_back(connected);
    est.stderr_connected.push_back(stderr_connected);
  }
  FlagSiblingsOfHeavyTails(est);
  return est;
}

}  // namespace nnft

namespace nnft {

// Reweighted estimates: ratios sum w prod / sum w and their cumulants, the
// free side from the plain sums, every error by the delete-one-bin jackknife.
CorrelatorEstimate MomentAccumulator::FinishWeighted() const {
  CorrelatorEstimate est;
  est.networks = networks_;
  est.chunks = chunks_;
  est.bins = static_cast<int64_t>(bins_.size());
  est.seed = seed_;
  ReweightEstimate& rw = est.reweight.emplace();
  const int num = static_cast<int>(tuples_->size());
  const int extra = 2 * num;
  const BinView view(bins_, counts_, total_, networks_);
  const int weight = extra + kWeightSum;
  for (int r : tuples_->requested()) {
    const Tuple& tuple = tuples_->tuples()[r];
    est.tuples.push_back(tuple);
    if (networks_ == 0) {
      for (auto* v :
           {&est.mean, &est.stderr_mean, &est.connected, &est.stderr_connected,
            &rw.free_mean, &rw.free_stderr, &rw.shift, &rw.shift_stderr}) {
        v->push_back(kNaN);
      }
      est.reliability.push_back(AssessBins({}, {}));
      continue;
    }
    est.reliability.push_back(view.Reliability(r, weight));
    const auto [mean, se] = Jackknife(
        view, weight, [&](const Deleted& d) { return d.Weighted(r); });
    est.mean.push_back(mean);
    est.stderr_mean.push_back(se);
    const std::vector<int> sub = SubTupleIndices(*tuples_, tuple);
    const int n = static_cast<int>(tuple.size());
    const auto [conn, conn_se] = Jackknife(view, weight, [&](const Deleted& d) {
      return CumulantOf(n, sub, [&](int i) { return d.Weighted(i); });
    });
    est.connected.push_back(conn);
    est.stderr_connected.push_back(conn_se);
    const double free = total_[num + r] / view.total_n;
    rw.free_mean.push_back(free);
    rw.free_stderr.push_back(view.StderrOfMean(num + r, free));
    const auto [shift, shift_se] = Jackknife(
        view, weight,
        [&](const Deleted& d) { return d.Weighted(r) - d.Plain(num + r); });
    rw.shift.push_back(shift);
    rw.shift_stderr.push_back(shift_se);
  }
  if (networks_ > 0) {
    const double sw = total_[weight];
    rw.ess = sw * sw / total_[extra + kWeightSquareSum];
    rw.ess_fraction = rw.ess / static_cast<double>(networks_);
    rw.mean_action = total_[extra + kActionSum] / view.total_n;
    rw.mean_action_weighted = total_[extra + kWeightedActionSum] / sw;
  }
  FlagSiblingsOfHeavyTails(est);
  return est;
}

DerivedEstimate MomentAccumulator::Derived(
    const std::function<std::vector<double>(const std::vector<double>&)>& g)
    const {
  DerivedEstimate out;
  if (networks_ == 0) return out;
  const BinView view(bins_, counts_, total_, networks_);
  const int weight =
      weighted_ ? 2 * static_cast<int>(tuples_->size()) + kWeightSum : -1;
  std::vector<std::vector<int>> subs;
  for (int r : tuples_->requested()) {
    subs.push_back(SubTupleIndices(*tuples_, tuples_->tuples()[r]));
  }
  auto outputs = [&](const Deleted& d) {
    std::vector<double> connected(subs.size());
    for (size_t i = 0; i < subs.size(); ++i) {
      const int n =
          static_cast<int>(tuples_->tuples()[tuples_->requested()[i]].size());
      connected[i] = CumulantOf(n, subs[i], [&](int t) {
        return weighted_ ? d.Weighted(t) : d.Plain(t);
      });
    }
    return g(connected);
  };
  const int nb = view.num_bins();
  std::vector<std::vector<double>> del(nb);
  out.value = outputs(Deleted{&view, -1, weight});
  for (int b = 0; b < nb; ++b) del[b] = outputs(Deleted{&view, b, weight});
  out.stderr_value.assign(out.value.size(), kNaN);
  for (size_t k = 0; k < out.value.size(); ++k) {
    if (nb < 2) break;
    // The same unequal-bin jackknife as Jackknife(), per output.
    double theta_j = nb * out.value[k];
    for (int b = 0; b < nb; ++b) theta_j -= (1.0 - view.w[b]) * del[b][k];
    double var = 0.0;
    for (int b = 0; b < nb; ++b) {
      const double h = 1.0 / view.w[b];
      const double pseudo = h * out.value[k] - (h - 1.0) * del[b][k];
      var += (pseudo - theta_j) * (pseudo - theta_j) / (h - 1.0);
    }
    out.stderr_value[k] = std::sqrt(var / nb);
  }
  return out;
}

}  // namespace nnft
