// Internal to the leading-order 1/n recursions (deep_finite_width.cc,
// conv_finite_width.cc): channel keys of the four-point cumulant T_(a1a2)(a3a4)
// over sample indices, the kernel entries G_ab depends on, its jet, and a
// layer's four-point neuron moment. Not a public API.
#ifndef NNFT_CORE_THEORY_FINITE_WIDTH_CHANNELS_H_
#define NNFT_CORE_THEORY_FINITE_WIDTH_CHANNELS_H_

#include <algorithm>
#include <array>
#include <utility>

#include "Eigen/Core"
#include "core/spec/spec.h"
#include "core/theory/gaussian_moments.h"
#include "core/theory/pair_moment_derivatives.h"

namespace nnft::theory::internal {

using Pair = std::pair<int, int>;
using Key = std::array<int, 4>;

inline Pair SortedPair(int a, int b) {
  return a <= b ? Pair{a, b} : Pair{b, a};
}

// Channel (p)(q) with sorted pairs, the pairs in order: T_(p)(q) = T_(q)(p).
inline Key Canonical(Pair p, Pair q) {
  if (q < p) std::swap(p, q);
  return {p.first, p.second, q.first, q.second};
}

inline Key SortedTuple(const Key& key) {
  Key s = key;
  std::sort(s.begin(), s.end());
  return s;
}

// The kernel entries that G_ab = <s_a s_b> depends on: {aa, bb, ab}, or {aa}
// when a = b (then G is a function of K_aa alone).
inline int EntriesOf(Pair ab, Pair out[3]) {
  if (ab.first == ab.second) {
    out[0] = ab;
    return 1;
  }
  out[kEntryAa] = {ab.first, ab.first};
  out[kEntryBb] = {ab.second, ab.second};
  out[kEntryAb] = ab;
  return 3;
}

// Gradient and Hessian of G_ab over EntriesOf(ab).
struct Jet {
  double grad[3] = {0.0, 0.0, 0.0};
  double hess[3][3] = {};
};

Jet JetAt(Activation activation, const Eigen::MatrixXd& k, Pair ab);

// E[s_t0 s_t1 s_t2 s_t3] over N(0, k) at the sorted sample tuple t: the
// nested rule over its distinct samples for the smooth activations when
// `nested` (layers above the first), else the table.
double LayerFourPointMoment(Activation activation, const Eigen::MatrixXd& k,
                            const NeuronMomentTable& table,
                            const std::array<int, 4>& t, bool nested);

}  // namespace nnft::theory::internal

#endif  // NNFT_CORE_THEORY_FINITE_WIDTH_CHANNELS_H_
