// Rao-Blackwellised Gauss-net moments: the output layer AND the first-layer
// biases integrated analytically (sampling.integrate_first_layer_bias).
//
// The Gauss-net (arXiv 2008.08601; PHYSICS.md) has hidden units
//   h_j(x) = exp(w_j.x + b_j - S(x,x)),  S(x,x) = sb0^2 + sw0^2 |x|^2 / d,
// b_j ~ N(0, sb0^2). Write h_j(x) = u_j^(1/2) g_j(x) with u_j = exp(2 b_j)
// (log-normal) and g_j(x) = exp(w_j.x - S(x,x)) (no bias). The moments of u
// are exact: m_k = E[u^k] = E[exp(2 k b)] = exp(2 k^2 sb0^2).
//
// Given the hidden layer, phi is Gaussian with covariance
//   K(p,q) = a + c sum_j u_j g_j(x_p) g_j(x_q),  a = sb1^2, c = sw1^2 / N,
// and E[prod_{i in T} phi(x_i) | w, b] = Haf_T(K) = sum over perfect matchings
// mu of the tuple's positions of prod_{e in mu} K(e) (engine.cc). Its
// expectation over the biases, given the first-layer weights w, is what this
// estimator adds per network. Expanding each K(e) = a + c X_e with
// X_e = sum_j u_j G_j(e), G_j({p,q}) = g_j(x_p) g_j(x_q):
//   E_b[prod_{e in mu} K(e)] = sum_{S subset mu} a^(|mu|-|S|) c^|S|
//                               E_b[prod_{e in S} X_e].
// The u_j are independent across neurons, so the joint cumulants of the X_e
// add over j, and by multilinearity
//   kappa(X_e : e in B) = sum_j kappa_|B|(u) prod_{e in B} G_j(e)
//                       = kappa_|B| Q(union of B),
// where kappa_k are the cumulants of u (kappa_1 = m_1, kappa_2 = m_2 - m_1^2,
// kappa_3 = m_3 - 3 m_2 m_1 + 2 m_1^3) and Q(M) = sum_j prod_{i in M} g_j(x_i)
// is a per-neuron power sum over the sub-tuple M. The moment-cumulant formula
// then gives
//   E_b[prod_{e in S} X_e] = sum_{partitions pi of S} prod_{B in pi}
//                            kappa_|B| Q(union of B).
// Example, T = (1,2,3,4), mu = {12, 34}:
//   a^2 + a c m_1 (Q12 + Q34) + c^2 (m_1^2 Q12 Q34 + (m_2 - m_1^2) Q1234):
// in Q12 Q34 = sum_{j,k}, the j = k terms get m_2 instead of m_1^2.
// Since w and b are independent, E_w of this is E[prod phi] exactly: the
// estimator is unbiased at every order, and with b integrated the only
// randomness left is w (Gaussian in the exponent, scale sw0 |x| / sqrt(d)),
// which removes the log-normal tails of exp(b_j) that dominate narrow nets at
// inputs near zero (docs/error_bars.md).
//
// Cost per network: the power sums of every tuple of the closure, built
// from its prefix's per-neuron products (one multiply-add per tuple and
// neuron, in blocks of neurons so that the loops vectorise), then a fixed
// list of products per tuple of even order (order 2: 2, order 4: 11,
// order 6: 107 after merging equal ones); odd orders are 0.
#ifndef NNFT_CORE_SAMPLING_BIAS_INTEGRAL_H_
#define NNFT_CORE_SAMPLING_BIAS_INTEGRAL_H_

#include <vector>

#include "core/spec/spec.h"
#include "core/spec/tuples.h"

namespace nnft {

// The cumulants kappa_1..kappa_max_order of u = exp(2 b), b ~ N(0, sb0^2),
// in out[1..max_order] (out[0] = 0).
std::vector<double> LogNormalCumulants(double sb0, int max_order);

class BiasIntegral {
 public:
  // `net` must have passed Validate; `tuples` is the engine's closure.
  BiasIntegral(const GaussNetSpec& net, const TupleSet& tuples);

  // Adds, for every tuple t, E[prod_{i in t} phi(x_i) | w] (biases b_j, b1
  // and W1 integrated) to sums[t], given one network's bias-free units
  // g[j + N p] (N = net.width rows, P = the tuples' points columns).
  // `scratch` is resized as needed (one per thread).
  void Add(const double* g, std::vector<double>& scratch, double* sums) const;

 private:
  // One product of the expansion: coef * prod_k Q(sub-tuple masks[k]).
  struct Term {
    double coef = 0;
    std::vector<int> masks;  // bit i: position i of the tuple
  };
  int width_;
  const std::vector<Tuple>* tuples_;
  // Per tuple: index of its prefix (last index dropped; -1 for singletons)
  // and its last index, as in the engine's products.
  std::vector<int> prefix_, last_;
  std::vector<std::vector<Term>> terms_;  // by order n (even n only)
  // sub_[t * 64 + mask]: index in the closure of tuple t's positions in
  // `mask` (even masks only; -1 otherwise).
  std::vector<int> sub_;
};

}  // namespace nnft

#endif  // NNFT_CORE_SAMPLING_BIAS_INTEGRAL_H_
