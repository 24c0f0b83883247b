#include "core/theory/deep_finite_width.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>

#include "Eigen/Cholesky"
#include "absl/container/flat_hash_set.h"
#include "core/theory/finite_width_channels.h"
#include "core/theory/gaussian_moments.h"
#include "core/theory/kernels.h"
#include "core/theory/pair_moment_derivatives.h"
#include "core/theory/quadrature.h"
#include "core/theory/vector_activation.h"

namespace nnft::theory {
namespace {

using Key = DeepFiniteWidth::Key;
using internal::Canonical;
using internal::EntriesOf;
using internal::Jet;
using internal::JetAt;
using internal::Pair;
using internal::SortedPair;
using internal::SortedTuple;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Smooth activations without a closed-form 4-point moment.
bool UsesNestedQuadrature(Activation activation) {
  switch (activation) {
    case Activation::kErf:
    case Activation::kTanh:
    case Activation::kSigmoid:
    case Activation::kGelu:
    case Activation::kSoftplus:
      return true;
    default:
      return false;
  }
}

}  // namespace

namespace {

// x^p for small p >= 1.
double Power(double x, int p) {
  double y = x;
  for (int i = 1; i < p; ++i) y *= x;
  return y;
}

// Sum over the nodes of dimensions k..r-1 of the nested rule; shift[i] =
// sum_{j < k} L_ij z_j for i >= k.
double NestedSum(Activation activation, const Eigen::Matrix4d& l,
                 const int* powers, int r, int k, const double* shift,
                 const QuadratureRule& rule) {
  const int n = static_cast<int>(rule.nodes.size());
  const double* z = rule.nodes.data();
  const double* w = rule.weights.data();
  double total = 0.0;
  if (k == r - 1) {
    for (int m = 0; m < n; ++m) {
      total +=
          w[m] * Power(ActivationValue(activation, shift[k] + l(k, k) * z[m]),
                       powers[k]);
    }
    return total;
  }
  double next[4];
  for (int m = 0; m < n; ++m) {
    const double s =
        w[m] * Power(ActivationValue(activation, shift[k] + l(k, k) * z[m]),
                     powers[k]);
    for (int i = k + 1; i < r; ++i) next[i] = shift[i] + l(i, k) * z[m];
    total += s * NestedSum(activation, l, powers, r, k + 1, next, rule);
  }
  return total;
}

// Vectorised NestedSum. The last two levels run as one flat loop over their
// n^2 node pairs (a, b), so that every simd loop is long (n = 24 at rank 4
// would otherwise make loops of 24): u_{r-1} = shift + flat_shift[a n + b],
// flat_shift = L_{r-1,r-2} z_a + L_{r-1,r-1} z_b, weighted by w_a w_b
// act(u_{r-2}(a))^p. `w` the weights of level k (level 0 may carry the
// half-grid weights, starting at node `first`), `w_inner` the others'.
struct NestedScratch {
  std::vector<double> flat_shift;   // n^2
  std::vector<double> flat_weight;  // n^2, per call
};

template <Activation A>
double VectorNestedSum(const Eigen::Matrix4d& l, const int* powers, int r,
                       int k, const double* shift, const double* z,
                       const double* w, const double* w_inner, int first, int n,
                       NestedScratch& scratch) {
  const double s = shift[k], d = l(k, k);
  const int p = powers[k];
  if (k == r - 1) {  // r = 1
    return WeightedActivationSum<A>(p, w, z, s, d, first, n);
  }
  alignas(64) double values[256];
  WeightedActivationValues<A>(p, values, w, z, s, d, first, n);
  if (k == r - 2) {
    double* fw = scratch.flat_weight.data();
    for (int a = first; a < n; ++a) {
      const double va = values[a];
#pragma omp simd
      for (int b = 0; b < n; ++b) fw[a * n + b] = va * w_inner[b];
    }
    return WeightedActivationSum<A>(powers[r - 1], fw,
                                    scratch.flat_shift.data(), shift[r - 1],
                                    1.0, first * n, n * n);
  }
  double total = 0.0;
  double next[4];
  for (int m = first; m < n; ++m) {
    for (int i = k + 1; i < r; ++i) next[i] = shift[i] + l(i, k) * z[m];
    total += values[m] * VectorNestedSum<A>(l, powers, r, k + 1, next, z,
                                            w_inner, w_inner, 0, n, scratch);
  }
  return total;
}

// Odd activations whose powers sum to an even number give an integrand even
// under z -> -z: the outer level then runs over z_0 >= 0 only, each node
// z_0 > 0 carrying its mirror's weight too.
bool EvenIntegrand(Activation activation, const std::vector<int>& powers) {
  int total = 0;
  for (int p : powers) total += p;
  const bool odd =
      activation == Activation::kTanh || activation == Activation::kErf;
  return odd && total % 2 == 0;
}

}  // namespace

// Nodes per dimension of the nested rule by the number of distinct points.
int NestedNodes(int r) {
  static constexpr int kNodes[] = {1, 128, 96, 48, 24};
  return kNodes[r];
}

double NestedProductMoment(Activation activation, const Eigen::MatrixXd& cov,
                           const std::vector<int>& powers, int n) {
  const int r = static_cast<int>(cov.rows());
  assert(r >= 1 && r <= 4 && static_cast<int>(powers.size()) == r);
  const Eigen::LLT<Eigen::MatrixXd> llt(cov);
  if (llt.info() != Eigen::Success) return kNaN;
  Eigen::Matrix4d l = Eigen::Matrix4d::Zero();
  l.topLeftCorner(r, r) = llt.matrixL();
  const double shift[4] = {0.0, 0.0, 0.0, 0.0};
  const QuadratureRule& rule = GaussHermite(n);
  const bool vector_powers =
      *std::max_element(powers.begin(), powers.end()) <= 4;
  double out = kNaN;
  const bool vectorised =
      vector_powers &&
      DispatchVectorActivation(activation, [&]<Activation A>() {
        const double* z = rule.nodes.data();
        const double* w = rule.weights.data();
        NestedScratch scratch;
        if (r >= 2) {
          scratch.flat_shift.resize(n * n);
          scratch.flat_weight.resize(n * n);
          for (int a = 0; a < n; ++a) {
            for (int b = 0; b < n; ++b) {
              scratch.flat_shift[a * n + b] =
                  l(r - 1, r - 2) * z[a] + l(r - 1, r - 1) * z[b];
            }
          }
        }
        if (!EvenIntegrand(activation, powers)) {
          out = VectorNestedSum<A>(l, powers.data(), r, 0, shift, z, w, w, 0, n,
                                   scratch);
          return;
        }
        alignas(64) double half[256];
        for (int m = n / 2; m < n; ++m) half[m] = 2.0 * w[m];
        if (n % 2 == 1) half[n / 2] = w[n / 2];  // z = 0: its own mirror
        out = VectorNestedSum<A>(l, powers.data(), r, 0, shift, z, half, w,
                                 n / 2, n, scratch);
      });
  if (vectorised) return out;
  return NestedSum(activation, l, powers.data(), r, 0, shift, rule);
}

namespace internal {

Jet JetAt(Activation activation, const Eigen::MatrixXd& k, Pair ab) {
  Jet jet;
  const auto [a, b] = ab;
  if (a == b) {
    const DiagonalMomentJet d = DiagonalMomentDerivatives(activation, k(a, a));
    jet.grad[0] = d.first;
    jet.hess[0][0] = d.second;
    return jet;
  }
  const PairMomentJet p =
      PairMomentDerivatives(activation, k(a, a), k(b, b), k(a, b));
  for (int i = 0; i < 3; ++i) {
    jet.grad[i] = p.grad[i];
    for (int j = 0; j < 3; ++j) jet.hess[i][j] = p.hess[i][j];
  }
  return jet;
}

double LayerFourPointMoment(Activation activation, const Eigen::MatrixXd& k,
                            const NeuronMomentTable& table,
                            const std::array<int, 4>& t, bool nested) {
  if (nested && UsesNestedQuadrature(activation)) {
    std::vector<int> distinct, powers;
    for (int i = 0; i < 4; ++i) {
      if (i > 0 && t[i] == t[i - 1]) {
        ++powers.back();
      } else {
        distinct.push_back(t[i]);
        powers.push_back(1);
      }
    }
    const int r = static_cast<int>(distinct.size());
    Eigen::MatrixXd cov(r, r);
    for (int i = 0; i < r; ++i) {
      for (int j = 0; j < r; ++j) cov(i, j) = k(distinct[i], distinct[j]);
    }
    const double v =
        NestedProductMoment(activation, cov, powers, NestedNodes(r));
    if (std::isfinite(v)) return v;
  }
  return table.Moment({t[0], t[1], t[2], t[3]});
}

}  // namespace internal

namespace {

// Hidden layer m: its pre-activation kernel, neuron covariance, neuron
// moments, and the jets of G at the pairs the layer above needs.
struct Layer {
  Eigen::MatrixXd k;
  Eigen::MatrixXd c;
  std::unique_ptr<NeuronMomentTable> table;
  absl::flat_hash_map<Pair, Jet> jets;
  absl::flat_hash_map<Key, double> m4;  // by sorted tuple
};

// f(i) for i in [0, n) on `threads` OpenMP threads.
template <typename F>
void ParallelFor(int64_t n, int threads, F&& f) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// Evaluates `value(key)` for every key of `keys` in parallel into a map.
template <typename T, typename Set, typename F>
absl::flat_hash_map<typename Set::value_type, T> EvaluateAll(const Set& keys,
                                                             int threads,
                                                             F&& value) {
  const std::vector<typename Set::value_type> list(keys.begin(), keys.end());
  std::vector<T> values(list.size());
  ParallelFor(static_cast<int64_t>(list.size()), threads,
              [&](int64_t i) { values[i] = value(list[i]); });
  absl::flat_hash_map<typename Set::value_type, T> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) out.emplace(list[i], values[i]);
  return out;
}

// dK pairs: the requested ones and the diagonals they depend on.
absl::flat_hash_set<Pair> DkPairs(
    const std::vector<std::pair<int, int>>& two_point_pairs) {
  absl::flat_hash_set<Pair> dk_pairs;
  for (const auto& [a, b] : two_point_pairs) {
    dk_pairs.insert(SortedPair(a, b));
    dk_pairs.insert({a, a});
    dk_pairs.insert({b, b});
  }
  return dk_pairs;
}

// The channels T^(m) needed at each level m = 2..L+1 (index m), top down:
// the three channels of every four-point tuple at the output, the channels
// inside every dK pair at every level, and what each channel propagates from.
std::vector<absl::flat_hash_set<Key>> NeededChannels(
    int depth, const std::vector<Key>& four_tuples,
    const absl::flat_hash_set<Pair>& dk_pairs) {
  std::vector<absl::flat_hash_set<Key>> need(depth + 2);
  for (const Key& t : four_tuples) {
    need[depth + 1].insert(
        Canonical(SortedPair(t[0], t[1]), SortedPair(t[2], t[3])));
    need[depth + 1].insert(
        Canonical(SortedPair(t[0], t[2]), SortedPair(t[1], t[3])));
    need[depth + 1].insert(
        Canonical(SortedPair(t[0], t[3]), SortedPair(t[1], t[2])));
  }
  Pair ea[3], eb[3];
  for (int m = 2; m <= depth; ++m) {
    for (const Pair& ab : dk_pairs) {
      const int n = EntriesOf(ab, ea);
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) need[m].insert(Canonical(ea[i], ea[j]));
      }
    }
  }
  for (int m = depth + 1; m >= 3; --m) {
    for (const Key& key : need[m]) {
      const int na = EntriesOf({key[0], key[1]}, ea);
      const int nb = EntriesOf({key[2], key[3]}, eb);
      for (int i = 0; i < na; ++i) {
        for (int j = 0; j < nb; ++j)
          need[m - 1].insert(Canonical(ea[i], eb[j]));
      }
    }
  }
  return need;
}

}  // namespace

int64_t DeepFiniteWidthCost(int depth, const std::vector<Key>& four_tuples,
                            const std::vector<std::pair<int, int>>& pairs) {
  const std::vector<absl::flat_hash_set<Key>> need =
      NeededChannels(depth, four_tuples, DkPairs(pairs));
  int64_t count = 0;
  for (int m = 2; m <= depth + 1; ++m) {
    absl::flat_hash_set<Key> tuples;
    for (const Key& key : need[m]) {
      const Key t = SortedTuple(key);
      if (t[0] != t[1] && t[1] != t[2] && t[2] != t[3]) tuples.insert(t);
    }
    count += static_cast<int64_t>(tuples.size());
  }
  return count;
}

absl::Status DeepFiniteWidthSupported(const MlpSpec& mlp) {
  if (mlp.residual) {
    return absl::UnimplementedError(
        "residual layers: the leading-order 1/n recursion covers plain MLPs "
        "only");
  }
  if (mlp.input_projection_dim > 0) {
    return absl::UnimplementedError(
        "input_projection_dim > 0: the g(Wx) layer is not covered by the "
        "leading-order 1/n recursion");
  }
  if (mlp.deformation.has_value()) {
    return absl::UnimplementedError(
        "a deformed layer is not covered by the leading-order 1/n recursion");
  }
  return absl::OkStatus();
}

DeepFiniteWidth::DeepFiniteWidth(
    const MlpSpec& mlp, const Eigen::MatrixXd& points,
    const std::vector<Key>& four_tuples,
    const std::vector<std::pair<int, int>>& two_point_pairs,
    const DeepFiniteWidthOptions& options) {
  const int depth = static_cast<int>(mlp.widths.size());
  const int p = static_cast<int>(points.rows());
  const int threads = std::max(1, options.threads);
  depth_ = depth;
  last_width_ = mlp.widths.back();
  const bool uniform = mlp.first_bias == BiasLaw::kUniformPhase;

  // Kernels and neuron moments of the hidden layers 1..L (layers[0] unused).
  std::vector<Layer> layers(depth + 1);
  Eigen::MatrixXd k =
      PreactivationCovariance(points, mlp.sw[0], uniform ? 0.0 : mlp.sb[0]);
  kernels_.push_back(k);
  for (int m = 1; m <= depth; ++m) {
    Layer& layer = layers[m];
    layer.k = k;
    layer.c = m == 1 ? FirstLayerNeuronCovariance(mlp, points, threads)
                     : NeuronCovariance(mlp.activation, k, threads);
    layer.table = std::make_unique<NeuronMomentTable>(
        m == 1 && uniform ? NeuronKind::kUniformPhase
                          : NeuronKind::kGaussianBias,
        mlp.activation, k);
    k = (mlp.sw[m] * mlp.sw[m]) * layer.c;
    k.array() += mlp.sb[m] * mlp.sb[m];
    kernels_.push_back(k);
  }

  const absl::flat_hash_set<Pair> dk_pairs = DkPairs(two_point_pairs);
  const std::vector<absl::flat_hash_set<Key>> need =
      NeededChannels(depth, four_tuples, dk_pairs);
  Pair ea[3];

  // Per hidden layer m: the 4-point moments of the channels of T^(m+1), and
  // the jets (m >= 2) at their pairs and, for dK, at every pair.
  for (int m = 1; m <= depth; ++m) {
    Layer& layer = layers[m];
    absl::flat_hash_set<Key> tuples;
    absl::flat_hash_set<Pair> pairs;
    for (const Key& key : need[m + 1]) {
      tuples.insert(SortedTuple(key));
      pairs.insert({key[0], key[1]});
      pairs.insert({key[2], key[3]});
    }
    // Above the first layer (smooth activations): the nested rule over the
    // tuple's distinct points, with their multiplicities as powers.
    const bool nested = m >= 2;
    layer.m4 = EvaluateAll<double>(tuples, threads, [&](const Key& t) {
      return internal::LayerFourPointMoment(mlp.activation, layer.k,
                                            *layer.table, t, nested);
    });
    if (m == 1) continue;  // T^(1) = 0, dK^(1) = 0: no jets at layer 1
    pairs.insert(dk_pairs.begin(), dk_pairs.end());
    layer.jets = EvaluateAll<Jet>(pairs, threads, [&](const Pair& ab) {
      return JetAt(mlp.activation, layer.k, ab);
    });
  }

  // T^(m) bottom up, m = 2..L+1.
  absl::flat_hash_map<Key, double> below;  // T^(m-1)
  for (int m = 2; m <= depth + 1; ++m) {
    const Layer& layer = layers[m - 1];
    const double sw2 = mlp.sw[m - 1] * mlp.sw[m - 1];
    const double width = mlp.widths[m - 2];
    absl::flat_hash_map<Key, double> level =
        EvaluateAll<double>(need[m], threads, [&](const Key& key) {
          const double local =
              (layer.m4.at(SortedTuple(key)) -
               layer.c(key[0], key[1]) * layer.c(key[2], key[3])) /
              width;
          double propagated = 0.0;
          if (m >= 3) {
            Pair fa[3], fb[3];
            const int na = EntriesOf({key[0], key[1]}, fa);
            const int nb = EntriesOf({key[2], key[3]}, fb);
            const Jet& ja = layer.jets.at({key[0], key[1]});
            const Jet& jb = layer.jets.at({key[2], key[3]});
            for (int i = 0; i < na; ++i) {
              for (int j = 0; j < nb; ++j) {
                propagated +=
                    below.at(Canonical(fa[i], fb[j])) * ja.grad[i] * jb.grad[j];
              }
            }
          }
          return sw2 * sw2 * (local + propagated);
        });
    if (m <= depth) {
      // dK^(m+1) from dK^(m) and T^(m); dK^(2) = 0 (dK^(1) = T^(1) = 0).
      const Layer& hidden = layers[m];
      Eigen::MatrixXd next = Eigen::MatrixXd::Constant(p, p, kNaN);
      for (const Pair& ab : dk_pairs) {
        const int n = EntriesOf(ab, ea);
        const Jet& jet = hidden.jets.at(ab);
        double shift = 0.0, vertex = 0.0;
        for (int i = 0; i < n; ++i) {
          if (m > 2)
            shift += correction_(ea[i].first, ea[i].second) * jet.grad[i];
          for (int j = 0; j < n; ++j) {
            vertex += level.at(Canonical(ea[i], ea[j])) * jet.hess[i][j];
          }
        }
        next(ab.first, ab.second) = next(ab.second, ab.first) =
            mlp.sw[m] * mlp.sw[m] * (shift + 0.5 * vertex);
      }
      correction_ = std::move(next);
    }
    below = std::move(level);
  }
  top_ = std::move(below);
  if (depth == 1) {
    // One hidden layer: G2 = K exactly.
    correction_ = Eigen::MatrixXd::Constant(p, p, kNaN);
    for (const Pair& ab : dk_pairs) {
      correction_(ab.first, ab.second) = correction_(ab.second, ab.first) = 0.0;
    }
  }
}

double DeepFiniteWidth::Channel(int a1, int a2, int a3, int a4) const {
  auto it = top_.find(Canonical(SortedPair(a1, a2), SortedPair(a3, a4)));
  return it == top_.end() ? kNaN : it->second;
}

double DeepFiniteWidth::Vertex(int a1, int a2, int a3, int a4) const {
  return last_width_ * Channel(a1, a2, a3, a4);
}

double DeepFiniteWidth::Connected4(const Key& t) const {
  return Channel(t[0], t[1], t[2], t[3]) + Channel(t[0], t[2], t[1], t[3]) +
         Channel(t[0], t[3], t[1], t[2]);
}

}  // namespace nnft::theory
