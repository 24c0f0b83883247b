// Infinite-width kernels of the architectures beyond the MLP family
// (core/spec/spec.h): the 1-D convolutional net (per-position NNGP recursion,
// Novak et al. arXiv 1810.05148, Garriga-Alonso et al. arXiv 1808.05587) and
// the Kolmogorov-Arnold net with random coefficients (arXiv 2404.19756; its
// inner sums are exactly Gaussian, so its G2 is this kernel at every width).
// The attention layer's kernel, by quadrature, is in
// core/theory/attention_kernel.h. All functions assume a spec that passed
// Validate.
#ifndef NNFT_CORE_THEORY_ARCH_KERNELS_H_
#define NNFT_CORE_THEORY_ARCH_KERNELS_H_

#include <vector>

#include "Eigen/Core"
#include "core/spec/spec.h"
#include "core/theory/ntk.h"

namespace nnft::theory {

// Conv1d kernel by the per-position recursion over positions (p, t) of the
// P sequences, o = (k - 1) / 2, src(t) wrapped (circular) or dropped when
// either side is outside [0, T) (zero padding):
//   K^(1)(pt, qs) = sb0^2 + sw0^2/(C_in k) sum_j x_p(t+j-o) . x_q(s+j-o),
//   K^(l+1)(pt, qs) = sb_l^2 + sw_l^2/k sum_j C^(l)(p t+j-o, q s+j-o),
//   C^(l) = E_{N(0, K^(l))}[act act],
//   G2(p, q) = sb_L^2 + sw_L^2 C^(L)(p t_out, q t_out).
// Cost O(L (P T)^2 k) pair moments.
Eigen::MatrixXd Conv1dKernel(const Conv1dSpec& conv,
                             const Eigen::MatrixXd& points);

// Source position of tap j at position t, or -1 when zero padding drops it.
int Conv1dSource(const Conv1dSpec& conv, int t, int j);

// The pre-activation kernels K^(1)..K^(L) of the hidden conv layers over the
// P T samples (row p T + t), by the recursion above.
std::vector<Eigen::MatrixXd> Conv1dHiddenKernels(const Conv1dSpec& conv,
                                                 const Eigen::MatrixXd& points,
                                                 int threads = 1);

// Conv1d NNGP and NTK (NTK parameterisation: every weight and bias a unit
// normal times its scale, all trained) by the same recursion with
//   Theta^(1) = K^(1),
//   Theta^(l+1)(pt, qs) = K^(l+1)(pt, qs)
//       + sw_l^2/k sum_j [Theta^(l) Cdot^(l)](p t+j-o, q s+j-o),
//   Cdot^(l) = E_{N(0, K^(l))}[act' act'],
//   Theta(p, q) = sb_L^2 + sw_L^2 [C^(L) + Cdot^(L) Theta^(L)](p t_out,
//   q t_out)
// (Arora et al. arXiv 1904.11955, the CNTK, here without pooling: the
// readout sees one position). Exact in the ensemble mean at every width for
// one layer; O(1/channels) corrections beyond. Cost as Conv1dKernel, both
// expectations from one quadrature pass.
NtkKernels Conv1dNtk(const Conv1dSpec& conv, const Eigen::MatrixXd& points,
                     int threads = 1);

// For a one-layer conv net, the patches seen at the output position, P x
// (C_in k), zero where padded: the net is then exactly the single-hidden-layer
// MLP of conv.channels neurons on these inputs (same weight law), which
// PatchMlp returns.
Eigen::MatrixXd ConvPatches(const Conv1dSpec& conv,
                            const Eigen::MatrixXd& points);
MlpSpec PatchMlp(const Conv1dSpec& conv);

// KAN kernel. The inner sums u_q are Gaussian with
//   S(x, y) = (1/d) sum_p [sa0^2 base(x_p) base(y_p)
//                          + sc0^2 sum_i B_i(x_p) B_i(y_p)],
// and G2(x, y) = sa1^2 E[base(u) base(v)] + sc1^2 E[sum_i B_i(u) B_i(v)],
// (u, v) ~ N(0, S restricted to x, y).
Eigen::MatrixXd KanKernel(const KanSpec& kan, const Eigen::MatrixXd& points);

// The covariance S of the inner sums above, P x P.
Eigen::MatrixXd KanInnerCovariance(const KanSpec& kan,
                                   const Eigen::MatrixXd& points);

// KAN NNGP and NTK, every coefficient a unit normal times its scale
// (a_qp = (sa0/sqrt d) a~_qp, ..., a'_q = (sa1/sqrt N) a~'_q, ...), all
// trained. The outer coefficients enter linearly (their gradient gives K);
// the inner ones through u_q, whose gradient inner product is S(x, y)
// exactly, so
//   Theta(x, y) = K(x, y) + S(x, y) [sa1^2 E[base'(u) base'(v)]
//                                    + sc1^2 E[sum_i B_i'(u) B_i'(v)]],
// exact in the ensemble mean at every N. Needs spline_order >= 1. Cost: two
// spline pair expectations per pair of points (~3 ms each), the pairs shared
// out over `threads`.
NtkKernels KanNtk(const KanSpec& kan, const Eigen::MatrixXd& points,
                  int threads = 1);

// E[sum_i B_i(u) B_i(v)] for (u, v) ~ N(0, [[a, c], [c, b]]) and the B-spline
// basis of KanSpec: u by composite Gauss-Legendre split at the knots (and at
// knots / beta), v | u ~ N(beta u, tau^2) likewise on panels of width <= tau;
// each panel holds a polynomial times a smooth density, so the rule converges
// fast (relative error ~1e-10 in the tests).
double SplinePairMoment(const KanSpec& kan, double a, double b, double c);

// E[sum_i B_i'(u) B_i'(v)], the same rule on the derivatives (piecewise
// polynomials of degree k - 1 on the same knots), for spline_order k >= 1.
double SplineDerivativePairMoment(const KanSpec& kan, double a, double b,
                                  double c);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_ARCH_KERNELS_H_
