// Higher neuron moments M_n = E[act(u_1) ... act(u_n)] for jointly Gaussian
// pre-activations u ~ N(0, S) (n <= 6), as the finite-width formulas need
// (PHYSICS.md, "Exact finite width").
//
// Closed forms:
//  identity: Wick's theorem on S;
//  cos (Gaussian bias): 2^-n sum_{eps in {+-1}^n} exp(-eps.S.eps / 2)
//    (write cos u = (e^{iu} + e^{-iu})/2 and use E e^{i t.u} = e^{-t.S.t/2});
//  sin: (2i)^-n sum_eps (prod eps) exp(-eps.S.eps / 2) (0 for odd n);
//  cos with uniform phase c ~ U[-pi, pi] and no bias: averaging e^{i sum eps c}
//    keeps only balanced patterns (sum eps = 0): 2^-n sum_balanced
//    exp(-eps.S.eps / 2), which for n = 4 is (1/8) sum of the three patterns
//    with two plus and two minus signs, and for n = 6 (1/32) sum of ten;
//  Gauss-net (arXiv 2008.08601), h_k = exp(u_k - S_kk):
//    exp(sum_jk S_jk / 2 - sum_k S_kk);
//  ReLU: positive homogeneity, E prod relu(a_k.z) = E|z|^n E_omega prod
//    relu(a_k.omega) with z ~ N(0, I_r), S = A A^T; the angular average over
//    the circle (r = 2, one arc) or the sphere (r = 3, pieces between the
//    great circles' intersections) by Gauss-Legendre: exact to rounding.
// Otherwise tensor Gauss-Hermite over the rank-r factor of S (r <= 4; 256,
// 128, 32, 20 nodes per dimension for r = 1..4, so ~1e-7 or better for
// smooth activations at pre-activation variances up to ~3, less for ReLU at
// r = 4 whose kinks slow it to ~5e-3); NaN beyond r = 4.
#ifndef NNFT_CORE_THEORY_GAUSSIAN_MOMENTS_H_
#define NNFT_CORE_THEORY_GAUSSIAN_MOMENTS_H_

#include <vector>

#include "Eigen/Core"
#include "core/spec/spec.h"

namespace nnft::theory {

// How the neurons of a single hidden layer are built.
enum class NeuronKind {
  kGaussianBias,  // h = act(u), u = W0.x + b0 Gaussian
  kUniformPhase,  // h = cos(W0.x + c), c ~ U[-pi, pi]
  kGaussNet,      // h = exp(u - S(x, x)), u = W0.x + b0
};

// E[prod_k act(u_k)] for u ~ N(0, cov), cov n x n with n <= 6.
// NaN when no closed form exists and the quadrature would be too costly.
double GaussianProductMoment(Activation activation, const Eigen::MatrixXd& cov);

// The closed forms listed above (cov n x n, n <= 8).
double CosProductMoment(const Eigen::MatrixXd& cov);
double SinProductMoment(const Eigen::MatrixXd& cov);
double UniformPhaseCosMoment(const Eigen::MatrixXd& cov);
double GaussNetMoment(const Eigen::MatrixXd& cov);

// E[prod_k relu(a_k.z)], z ~ N(0, I_r), a_k the rows of `a` (n x r, r <= 3;
// NaN for r > 3, where GaussianProductMoment falls back to Gauss-Hermite with
// 24 nodes per dimension over a generically rotated factor, ~5e-3 relative:
// the kinks slow it down).
double ReluProductMoment(const Eigen::MatrixXd& a);

// Tensor Gauss-Hermite estimate of E[prod_k act(a_k.z)] with `nodes` per
// dimension (cost nodes^r); for n <= 6 rows, r <= 4 and the activations of
// core/theory/vector_activation.h in vectorised loops (the last two
// dimensions flattened into one).
double HermiteProductMoment(Activation activation, const Eigen::MatrixXd& a,
                            int nodes);

// Neuron moments for every tuple of point indices over one covariance matrix
// S (P x P) of the first-layer pre-activations. For activations without a
// closed form whose S has small rank r (<= 4, as for d <= 3 with a bias), one
// Gauss-Hermite grid over the factor of S serves every tuple; otherwise each
// tuple is integrated over its own factor.
class NeuronMomentTable {
 public:
  NeuronMomentTable(NeuronKind kind, Activation activation,
                    const Eigen::MatrixXd& s);
  // M_n at the points idx (n = idx.size() <= 6); 1 for an empty tuple.
  double Moment(const std::vector<int>& idx) const;

 private:
  NeuronKind kind_;
  Activation activation_;
  Eigen::MatrixXd s_;
  // Global grid: activation values (P x G) and weights (G); empty if unused.
  Eigen::MatrixXd grid_values_;
  Eigen::VectorXd grid_weights_;
};

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_GAUSSIAN_MOMENTS_H_
