// NNGP kernels: the pre-activation covariance of the first layer, the
// two-point neuron moments C(x, y) = E[act(u) act(v)] over a bivariate
// Gaussian (closed forms where known, nested Gauss-Hermite otherwise), and the
// deep-MLP layer recursion
//   K^(l+1)(x, y) = sb_l^2 + sw_l^2 E_{(u,v) ~ N(0, K^(l))}[act(u) act(v)]
// (Neal 1996; Lee et al. arXiv 1711.00165; Matthews et al. arXiv 1804.11271),
// in the conventions of core/spec/spec.h (fan-in scaling, K^(1) = S below).
#ifndef NNFT_CORE_THEORY_KERNELS_H_
#define NNFT_CORE_THEORY_KERNELS_H_

#include "Eigen/Core"
#include "core/spec/spec.h"

namespace nnft::theory {

// act(x) for every activation of core/spec/spec.h.
double ActivationValue(Activation activation, double x);

// True when E[act(u) act(v)] has a closed form (identity, relu, erf, cos, sin).
bool HasClosedPairMoment(Activation activation);

// E[act(u) act(v)] for (u, v) ~ N(0, [[kxx, kxy], [kxy, kyy]]):
//  identity: kxy;
//  relu: sqrt(kxx kyy)/(2 pi) (sin t + (pi - t) cos t), cos t = kxy/sqrt(kxx
//  kyy)
//        (arc-cosine kernel of degree 1, Cho & Saul, NIPS 2009);
//  erf:  (2/pi) asin(2 kxy / sqrt((1 + 2 kxx)(1 + 2 kyy))) (Williams 1996);
//  cos:  (1/2)[exp(-V_-/2) + exp(-V_+/2)], sin: (1/2)[exp(-V_-/2) -
//  exp(-V_+/2)],
//        V_(-/+) = kxx + kyy -/+ 2 kxy = Var(u -/+ v);
//  others: nested Gauss-Hermite, u = sqrt(kxx) z1, v = (kxy/sqrt(kxx)) z1 + tau
//  z2
//        with 96 nodes per dimension for variances <= 2 (relative error
//        <= 1e-11 for tanh/sigmoid/gelu/softplus), 160 up to 8, 256 beyond
//        (tanh, the worst, ~1e-5 at variance 10: its poles at +-i pi/2 near
//        the real axis limit the convergence). For tanh, sigmoid, gelu and
//        softplus the rule is summed over half its grid with vectorised
//        activations (ReflectedPairQuadrature below): the same rule as
//        PairMomentByQuadrature, equal to it to ~1e-15 relative.
double PairMoment(Activation activation, double kxx, double kyy, double kxy);

// Nodes per dimension PairMoment's quadrature uses at these variances.
int PairQuadratureNodes(double kxx, double kyy);

// The same expectation by nested Gauss-Hermite quadrature alone (n x n nodes),
// for any activation; used by PairMoment and to cross-check the closed forms.
double PairMomentByQuadrature(Activation activation, double kxx, double kyy,
                              double kxy, int n);

// True for the activations whose reflection f(-y) = s f(y) + a + b y lets
// ReflectedPairQuadrature halve the grid: tanh and erf (s = -1), sigmoid
// (s = -1, a = 1), gelu and softplus (s = 1, b = -1).
bool HasReflectedQuadrature(Activation activation);

// The rule of PairMomentByQuadrature (n x n nodes) for an activation with
// HasReflectedQuadrature, at half the cost: the inner sum over z2 at -z1,
//   I(-c) = sum_j w_j f(-c + tau z_j) = s I(c) + a + b c   (c = rho z1),
// follows from the one at z1 by the reflection (the rule is symmetric,
// sum w = 1, sum w z = 0), and the inner loop calls the vectorised
// activations of core/sampling/vector_math.h (~1e-14 relative each). Cost n^2 /
// 2 activation evaluations.
double ReflectedPairQuadrature(Activation activation, double kxx, double kyy,
                               double kxy, int n);

// First-layer pre-activation covariance S(x, y) = sb0^2 + sw0^2 x.y / d over
// the rows of `points` (P x d).
Eigen::MatrixXd PreactivationCovariance(const Eigen::MatrixXd& points,
                                        double sw0, double sb0);

// Neuron covariance matrix C_ij = E[act(u_i) act(u_j)], u ~ N(0, k), its
// P (P + 1) / 2 entries shared out over `threads` OpenMP threads (>= 1); each
// entry is one thread's whole computation, so the result is the same bits
// for any thread count.
Eigen::MatrixXd NeuronCovariance(Activation activation,
                                 const Eigen::MatrixXd& k, int threads = 1);

// Uniform-phase cos neuron, h = cos(W0.x + c), c ~ U[-pi, pi], no bias:
// C(x, y) = (1/2) exp(-sw0^2 |x - y|^2 / (2 d)).
Eigen::MatrixXd UniformPhaseCosCovariance(const Eigen::MatrixXd& points,
                                          double sw0);

// Neuron covariance C of the first hidden layer of `mlp` at `points`.
Eigen::MatrixXd FirstLayerNeuronCovariance(const MlpSpec& mlp,
                                           const Eigen::MatrixXd& points,
                                           int threads = 1);

// NNGP kernel of an MLP (depth L = widths.size()) at `points`, by the layer
// recursion on `threads` threads (as NeuronCovariance). Assumes a valid spec.
Eigen::MatrixXd MlpKernel(const MlpSpec& mlp, const Eigen::MatrixXd& points,
                          int threads = 1);

// Gauss-net kernel sb1^2 + sw1^2 exp(-sw0^2 |x - y|^2 / (2 d))
// (arXiv 2008.08601, normalised as in core/spec/spec.h).
Eigen::MatrixXd GaussNetKernel(const GaussNetSpec& net,
                               const Eigen::MatrixXd& points);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_KERNELS_H_
