// Conv1d at leading order in 1/channels (conv_finite_width.h).
#include "core/theory/conv_finite_width.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "core/theory/arch_kernels.h"
#include "core/theory/finite_width_channels.h"
#include "core/theory/gaussian_moments.h"
#include "core/theory/kernels.h"

namespace nnft::theory {
namespace {

using internal::Canonical;
using internal::EntriesOf;
using internal::Jet;
using internal::Pair;
using internal::SortedPair;
using internal::SortedTuple;
using Key = ConvFiniteWidth::Key;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The step from hidden layer m (samples p T + t) to level m + 1: conv taps
// for m < L (level m + 1 indexed by samples), the readout at the output
// position for m = L (level L + 1 indexed by points).
struct Step {
  const Conv1dSpec& conv;
  int m;
  int Taps() const { return m < conv.layers ? conv.kernel_size : 1; }
  // The layer-m sample feeding `alpha` of level m + 1 through tap j, or -1.
  int Source(int alpha, int j) const {
    const int len = conv.sequence_length;
    if (m == conv.layers) return alpha * len + conv.output_position;
    const int src = Conv1dSource(conv, alpha % len, j);
    return src < 0 ? -1 : (alpha / len) * len + src;
  }
  double Sw2() const { return conv.sw[m] * conv.sw[m]; }
};

// What each level needs, top down: channels need[m] (m = 2..L+1), dK pairs
// dk[m] (m = 3..L+1), and per hidden layer m the sorted sample tuples of its
// four-point moments and the pairs of its jets (m >= 2).
struct Plan {
  std::vector<absl::flat_hash_set<Key>> need;
  std::vector<absl::flat_hash_set<Pair>> dk, jets;
  std::vector<absl::flat_hash_set<Key>> tuples;
};

Plan MakePlan(const Conv1dSpec& conv, const std::vector<Key>& four_tuples,
              const std::vector<std::pair<int, int>>& pairs) {
  const int depth = conv.layers;
  Plan plan;
  plan.need.resize(depth + 2);
  plan.dk.resize(depth + 2);
  plan.jets.resize(depth + 1);
  plan.tuples.resize(depth + 1);
  for (const Key& t : four_tuples) {
    plan.need[depth + 1].insert(
        Canonical(SortedPair(t[0], t[1]), SortedPair(t[2], t[3])));
    plan.need[depth + 1].insert(
        Canonical(SortedPair(t[0], t[2]), SortedPair(t[1], t[3])));
    plan.need[depth + 1].insert(
        Canonical(SortedPair(t[0], t[3]), SortedPair(t[1], t[2])));
  }
  for (const auto& [a, b] : pairs) {
    plan.dk[depth + 1].insert(SortedPair(a, b));
    plan.dk[depth + 1].insert({a, a});
    plan.dk[depth + 1].insert({b, b});
  }
  Pair ea[3], eb[3];
  for (int m = depth; m >= 1; --m) {
    const Step step{conv, m};
    const int taps = step.Taps();
    for (const Key& key : plan.need[m + 1]) {
      for (int j = 0; j < taps; ++j) {
        const int b1 = step.Source(key[0], j), b2 = step.Source(key[1], j);
        if (b1 < 0 || b2 < 0) continue;
        for (int j2 = 0; j2 < taps; ++j2) {
          const int b3 = step.Source(key[2], j2), b4 = step.Source(key[3], j2);
          if (b3 < 0 || b4 < 0) continue;
          plan.tuples[m].insert(SortedTuple({b1, b2, b3, b4}));
          if (m == 1) continue;
          const Pair pa = SortedPair(b1, b2), pb = SortedPair(b3, b4);
          plan.jets[m].insert(pa);
          plan.jets[m].insert(pb);
          const int na = EntriesOf(pa, ea), nb = EntriesOf(pb, eb);
          for (int i = 0; i < na; ++i) {
            for (int i2 = 0; i2 < nb; ++i2) {
              plan.need[m].insert(Canonical(ea[i], eb[i2]));
            }
          }
        }
      }
    }
    if (m == 1) continue;  // dK^(2) = 0
    for (const Pair& ab : plan.dk[m + 1]) {
      for (int j = 0; j < taps; ++j) {
        const int b1 = step.Source(ab.first, j), b2 = step.Source(ab.second, j);
        if (b1 < 0 || b2 < 0) continue;
        const Pair pa = SortedPair(b1, b2);
        plan.jets[m].insert(pa);
        const int n = EntriesOf(pa, ea);
        for (int i = 0; i < n; ++i) {
          if (m >= 3) plan.dk[m].insert(ea[i]);
          for (int i2 = 0; i2 < n; ++i2) {
            plan.need[m].insert(Canonical(ea[i], ea[i2]));
          }
        }
      }
    }
  }
  return plan;
}

template <typename T, typename Set, typename F>
absl::flat_hash_map<typename Set::value_type, T> EvaluateAll(const Set& keys,
                                                             int threads,
                                                             F&& value) {
  const std::vector<typename Set::value_type> list(keys.begin(), keys.end());
  std::vector<T> values(list.size());
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
  for (int64_t i = 0; i < static_cast<int64_t>(list.size()); ++i) {
    values[i] = value(list[i]);
  }
  absl::flat_hash_map<typename Set::value_type, T> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) out.emplace(list[i], values[i]);
  return out;
}

}  // namespace

int64_t ConvFiniteWidthCost(const Conv1dSpec& conv,
                            const std::vector<Key>& four_tuples,
                            const std::vector<std::pair<int, int>>& pairs) {
  const Plan plan = MakePlan(conv, four_tuples, pairs);
  int64_t count = 0;
  for (const auto& tuples : plan.tuples) {
    for (const Key& t : tuples) {
      if (t[0] != t[1] && t[1] != t[2] && t[2] != t[3]) ++count;
    }
  }
  return count;
}

ConvFiniteWidth::ConvFiniteWidth(const Conv1dSpec& conv,
                                 const Eigen::MatrixXd& points,
                                 const std::vector<Key>& four_tuples,
                                 const std::vector<std::pair<int, int>>& pairs,
                                 const DeepFiniteWidthOptions& options) {
  const int depth = conv.layers, p = static_cast<int>(points.rows());
  const int threads = std::max(1, options.threads);
  channels_ = conv.channels;
  const Plan plan = MakePlan(conv, four_tuples, pairs);

  // Hidden layers 1..L (index 0 unused): kernels, neuron covariances, the
  // four-point moments and jets the plan asks for.
  const std::vector<Eigen::MatrixXd> kernels =
      Conv1dHiddenKernels(conv, points, threads);
  std::vector<Eigen::MatrixXd> c(depth + 1);
  std::vector<absl::flat_hash_map<Key, double>> m4(depth + 1);
  std::vector<absl::flat_hash_map<Pair, Jet>> jets(depth + 1);
  for (int m = 1; m <= depth; ++m) {
    const Eigen::MatrixXd& k = kernels[m - 1];
    c[m] = NeuronCovariance(conv.activation, k, threads);
    const NeuronMomentTable table(NeuronKind::kGaussianBias, conv.activation,
                                  k);
    m4[m] = EvaluateAll<double>(plan.tuples[m], threads, [&](const Key& t) {
      return internal::LayerFourPointMoment(conv.activation, k, table, t,
                                            /*nested=*/true);
    });
    jets[m] = EvaluateAll<Jet>(plan.jets[m], threads, [&](const Pair& ab) {
      return internal::JetAt(conv.activation, k, ab);
    });
  }

  // Output kernel: the readout step on C^(L).
  const int len = conv.sequence_length, t0 = conv.output_position;
  const double sw2_out = conv.sw[depth] * conv.sw[depth];
  const double sb2_out = conv.sb[depth] * conv.sb[depth];
  kernel_.resize(p, p);
  for (int a = 0; a < p; ++a) {
    for (int b = 0; b < p; ++b) {
      kernel_(a, b) = sb2_out + sw2_out * c[depth](a * len + t0, b * len + t0);
    }
  }

  absl::flat_hash_map<Key, double> below;  // T^(m)
  absl::flat_hash_map<Pair, double> dk;    // dK^(m)
  Pair ea[3], eb[3];
  for (int m = 1; m <= depth; ++m) {
    const Step step{conv, m};
    const int taps = step.Taps();
    const double sw4 = step.Sw2() * step.Sw2();
    const double norm = 1.0 / (double(taps) * taps);
    absl::flat_hash_map<Key, double> level =
        EvaluateAll<double>(plan.need[m + 1], threads, [&](const Key& key) {
          double sum = 0.0;
          for (int j = 0; j < taps; ++j) {
            const int b1 = step.Source(key[0], j), b2 = step.Source(key[1], j);
            if (b1 < 0 || b2 < 0) continue;
            for (int j2 = 0; j2 < taps; ++j2) {
              const int b3 = step.Source(key[2], j2),
                        b4 = step.Source(key[3], j2);
              if (b3 < 0 || b4 < 0) continue;
              sum += (m4[m].at(SortedTuple({b1, b2, b3, b4})) -
                      c[m](b1, b2) * c[m](b3, b4)) /
                     channels_;
              if (m == 1) continue;
              const Pair pa = SortedPair(b1, b2), pb = SortedPair(b3, b4);
              const Jet& ja = jets[m].at(pa);
              const Jet& jb = jets[m].at(pb);
              const int na = EntriesOf(pa, ea), nb = EntriesOf(pb, eb);
              for (int i = 0; i < na; ++i) {
                for (int i2 = 0; i2 < nb; ++i2) {
                  sum += below.at(Canonical(ea[i], eb[i2])) * ja.grad[i] *
                         jb.grad[i2];
                }
              }
            }
          }
          return sw4 * norm * sum;
        });
    // dK^(m+1) from dK^(m) and T^(m) through layer m (zero for m = 1).
    absl::flat_hash_map<Pair, double> next;
    for (const Pair& ab : plan.dk[m + 1]) {
      double sum = 0.0;
      if (m >= 2) {
        for (int j = 0; j < taps; ++j) {
          const int b1 = step.Source(ab.first, j),
                    b2 = step.Source(ab.second, j);
          if (b1 < 0 || b2 < 0) continue;
          const Pair pa = SortedPair(b1, b2);
          const Jet& jet = jets[m].at(pa);
          const int n = EntriesOf(pa, ea);
          for (int i = 0; i < n; ++i) {
            if (m >= 3) sum += dk.at(ea[i]) * jet.grad[i];
            for (int i2 = 0; i2 < n; ++i2) {
              sum += 0.5 * below.at(Canonical(ea[i], ea[i2])) * jet.hess[i][i2];
            }
          }
        }
      }
      next[ab] = step.Sw2() / taps * sum;
    }
    dk = std::move(next);
    below = std::move(level);
  }
  top_ = std::move(below);
  correction_ = Eigen::MatrixXd::Constant(p, p, kNaN);
  for (const auto& [ab, v] : dk) {
    correction_(ab.first, ab.second) = correction_(ab.second, ab.first) = v;
  }
}

double ConvFiniteWidth::Channel(int a1, int a2, int a3, int a4) const {
  auto it = top_.find(Canonical(SortedPair(a1, a2), SortedPair(a3, a4)));
  return it == top_.end() ? kNaN : it->second;
}

double ConvFiniteWidth::Vertex(int a1, int a2, int a3, int a4) const {
  return channels_ * Channel(a1, a2, a3, a4);
}

double ConvFiniteWidth::Connected4(const Key& t) const {
  return Channel(t[0], t[1], t[2], t[3]) + Channel(t[0], t[2], t[1], t[3]) +
         Channel(t[0], t[3], t[1], t[2]);
}

}  // namespace nnft::theory
