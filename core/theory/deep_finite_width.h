// Deep MLPs at finite width, to leading order in 1/n: the four-point vertex
// and the O(1/n) correction to the two-point function, by the layer-to-layer
// recursions of Roberts, Yaida & Hanin, "The Principles of Deep Learning
// Theory" (arXiv 2106.10165, ch. 4; Yaida arXiv 1910.00019), in the
// conventions of core/spec/spec.h: z^(1) = b0 + W0 x (Var W0 = sw[0]^2/d),
// z^(m+1) = b^(m) + W^(m) act(z^(m)) for m = 1..L (Var W^(m) = sw[m]^2/n_m,
// Var b^(m) = sb[m]^2), the output phi = z^(L+1).
//
// Derivation. Given layer m, the neurons of layer m+1 are i.i.d. Gaussian with
// covariance G^_ab = sb^2 + (sw^2/n_m) sum_j act(z_j,a) act(z_j,b); so the
// connected four-point function of one neuron of layer m+1 is
//   Cov(G^_12, G^_34) + Cov(G^_13, G^_24) + Cov(G^_14, G^_23).
// We write each channel in absolute form (the book's V^(m+1) / n_m):
//   T^(m+1)_(12)(34) = n_m^-1 sw^4 [<s1 s2 s3 s4> - <s1 s2><s3 s4>]
//                      + sw^4 sum_{p in P(12), q in P(34)}
//                            T^(m)_pq dG_12/dK_p dG_34/dK_q,
// the first term from j = k, the second from j != k (the Edgeworth correction
// to Cov(s_j s_j, s_k s_k) with cumulant T^(m), rewritten with the heat
// equation as derivatives of G_ab = <s_a s_b> in the kernel entries
// p in P(ab) = {aa, bb, ab} (just {aa} when a = b); core/theory/
// pair_moment_derivatives.h). Expectations are over N(0, K^(m)), T^(1) = 0
// (the first layer is Gaussian). In the book's notation
//   V^(m+1) = sw^4 [<ssss> - <ss><ss>] + (sw^4/4)(n_m/n_{m-1}) sum_b V^(m)
//             <d_b1 d_b2 (s s)> <d_b3 d_b4 (s s)>,
// since sum_{b1 b2} V_(b1b2)(.) <d_b1 d_b2 F> = 2 sum_p V_p(.) dG/dK_p.
// The output's G4_c = T_(12)(34) + T_(13)(24) + T_(14)(23) + O(1/n^2); with
// one hidden layer it is the exact (sw1^4/N)(3 M4 - sum C C).
//
// The two-point function G2 = K^(L+1) + dK^(L+1) + O(1/n^2), with dK^(1) =
// dK^(2) = 0 and, from E[F] = E_K[F] + (1/2) sum dK <d d F> + (1/8) sum T
// <d d d d F> (Edgeworth at first order),
//   dK^(m+1)_ab = sw^2 [sum_p dK^(m)_p dG_ab/dK_p
//                       + (1/2) sum_{p, q in P(ab)} T^(m)_pq d2G_ab/dK_p dK_q]
// (the book's K^{(1)} recursion, eq. 4.115, with unequal widths absorbed).
//
// Cost. <d d (s_a1 s_a2)> vanishes unless both derivatives act on a1 or a2,
// so T^(m+1) at one channel needs T^(m) at <= 9 channels over the same
// points: O(9 L) per channel and layer plus one 4-point Gaussian moment per
// sorted tuple and layer (tensor Gauss-Hermite, core/theory/
// gaussian_moments.h: one shared grid when the layer kernel has rank <= 4,
// e.g. P <= 4 points) and one 2-D jet per pair and layer.
#ifndef NNFT_CORE_THEORY_DEEP_FINITE_WIDTH_H_
#define NNFT_CORE_THEORY_DEEP_FINITE_WIDTH_H_

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/spec/spec.h"

namespace nnft::theory {

struct DeepFiniteWidthOptions {
  // OpenMP threads for the moment and vertex loops; >= 1. Each moment and
  // channel is one thread's whole computation: the same bits for any count.
  int threads = 1;
};

// OK when the recursion covers `mlp` (plain MLPs of any depth, any widths and
// activation, with or without biases, Gaussian or uniform-phase first bias);
// otherwise Unimplemented naming the feature that is not covered (residual
// layers, the g(Wx) projection, a deformed layer).
absl::Status DeepFiniteWidthSupported(const MlpSpec& mlp);

// The number of four-point Gaussian moments at four distinct points (the
// costly ones: a nested Gauss-Hermite rule of 24^4 nodes each, ~0.3 ms for
// tanh on one core in vectorised loops) that the recursion evaluates over all
// hidden layers for these tuples and pairs; cheap to compute (no quadrature).
int64_t DeepFiniteWidthCost(int depth,
                            const std::vector<std::array<int, 4>>& four_tuples,
                            const std::vector<std::pair<int, int>>& pairs);

// E[prod_i act(u_i)^powers[i]] for u ~ N(0, cov), cov r x r positive
// definite (r <= 4), by nested Gauss-Hermite with n nodes per dimension over
// the Cholesky factor u_i = sum_{j <= i} L_ij z_j: act(u_i) is evaluated n^i
// times, each level's n values in one vectorised loop (core/theory/
// vector_activation.h; plain loops for activations without a vector form or
// powers over 4). For tanh and erf with an even total power the integrand is
// even in z, so the outer level runs over half the nodes. NaN if cov is not
// positive definite. Used above the
// first layer for the smooth activations (erf, tanh, sigmoid, gelu,
// softplus): at a layer-2 tanh kernel (variances 0.7-1.3) it converges to
// 2e-5 relative with 20 nodes and 6e-7 with 30, where the rank-4 tensor grid
// over the eigen-factor (20 nodes) is off by 6e-4.
double NestedProductMoment(Activation activation, const Eigen::MatrixXd& cov,
                           const std::vector<int>& powers, int n);
// The node counts used for r distinct points: 128, 96, 48, 24 (r = 1..4).
int NestedNodes(int r);

// The leading-order theory of one valid, supported MLP at `points` (P x d),
// prepared for the four-point tuples `four_tuples` and the two-point pairs
// `pairs` (indices in [0, P), any order, repeats allowed). dK at (a, b) needs
// dK at (a, a) and (b, b) and the channels over {a, b} at every layer, so
// the cost grows with the pairs asked for, not with P^2. Immutable after
// construction; thread-compatible.
class DeepFiniteWidth {
 public:
  using Key = std::array<int, 4>;

  DeepFiniteWidth(const MlpSpec& mlp, const Eigen::MatrixXd& points,
                  const std::vector<Key>& four_tuples,
                  const std::vector<std::pair<int, int>>& pairs,
                  const DeepFiniteWidthOptions& options = {});

  // NNGP kernel of the output, K^(L+1) (P x P).
  const Eigen::MatrixXd& kernel() const { return kernels_.back(); }
  // dK^(L+1) (P x P, symmetric): the O(1/n) shift of G2 at the prepared
  // pairs (and their diagonals), NaN elsewhere.
  const Eigen::MatrixXd& kernel_correction() const { return correction_; }
  // Channel T^(L+1)_(a1a2)(a3a4) in absolute units (O(1/n)); NaN when the
  // channel was not prepared (not among the channels of four_tuples).
  double Channel(int a1, int a2, int a3, int a4) const;
  // The book's vertex V^(L+1) = n_L T^(L+1) (O(1)).
  double Vertex(int a1, int a2, int a3, int a4) const;
  // G4_c at `idx` to O(1/n): the sum of its three channels.
  double Connected4(const Key& idx) const;

 private:
  int depth_ = 0;
  int last_width_ = 1;
  // kernels_[m] = K^(m+1), m = 0..L (so kernels_.back() is the output's).
  std::vector<Eigen::MatrixXd> kernels_;
  Eigen::MatrixXd correction_;
  absl::flat_hash_map<Key, double> top_;  // T^(L+1) by canonical channel
};

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_DEEP_FINITE_WIDTH_H_
