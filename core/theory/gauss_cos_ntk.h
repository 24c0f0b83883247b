// NNGP and NTK of the two single-hidden-layer nets with closed-form neuron
// moments (core/spec/spec.h): the Gauss-net (arXiv 2008.08601) and the phi^4
// free cos-net (arXiv 2307.03223). Theta(x, y) = E[sum_theta dphi(x)/dtheta
// dphi(y)/dtheta] over the parameters as the sampler (core/sampling/
// network.cc) scales them, each a scale times a unit variable theta; neither
// net is trained by core/train, so Theta covers every random parameter that
// has a tangent:
//
// Gauss-net, phi = sb1 beta1 + sum_i (sw1/sqrt N) w1_i h_i(x),
//   h_i(x) = exp(z_i(x) - S(x, x)),  z_i = (sw0/sqrt d) w0_i.x + sb0 beta0_i,
//   S(x, y) = sb0^2 + sw0^2 x.y/d (sw0_axes: the same at x'_k = axes_k x_k),
// with beta1, w1, w0, beta0 unit normals, all in Theta:
//   K(x, y) = sb1^2 + sw1^2 C,  C = E[h(x) h(y)] = exp(-sw0^2 |x - y|^2/(2d)),
//   Theta(x, y) = K(x, y) + sw1^2 C(x, y) S(x, y).
//
// cos-net, phi = sum_i sqrt(a2) alpha_i cos(b_i.x + c_i) / sqrt(b_i^2 + m^2),
// N a2 = 2 V_L (V_L = vol(B_L^d)/(2 pi)^d), alpha_i unit normal, b_i = L u_i
// (u_i uniform in the unit d-ball), c_i = pi v_i (v_i uniform on [-1, 1]);
// with I_q, S_q of core/theory/cosnet_propagator.h at r = x - y:
//   K(x, y) = I_1(r),
//   Theta(x, y) = (1 + pi^2) I_1(r)                              [alpha, v]
//               + L^2 [x.y I_1(r) + I_2(r) - m^2 I_3(r) + S_2(r)]  [u].
// In a periodic box (box_side > 0) the b_i are lattice momenta, a discrete
// law with no tangent: Theta = (1 + pi^2) I_1^box(r) covers alpha and v.
//
// Both are exact in the ensemble mean at every width (one hidden layer of
// i.i.d. neurons). Cost: Gauss-net O(P^2 d); cos-net four radial quadratures
// per distinct |x - y| (~24 nodes a panel, panels of width <= min(m, 2 pi /
// r) up to L: ~0.1-1 ms each in d = 2 for L = 10), shared over `threads`;
// CosNetNtkPanels bounds it.
#ifndef NNFT_CORE_THEORY_GAUSS_COS_NTK_H_
#define NNFT_CORE_THEORY_GAUSS_COS_NTK_H_

#include "Eigen/Core"
#include "core/spec/spec.h"
#include "core/theory/ntk.h"

namespace nnft::theory {

// K and Theta of a Gauss-net over the rows of `points` (P x d). Assumes
// NtkAbsentReason(net) is "" (output_dim 1, no output_mean).
NtkKernels GaussNetNtk(const GaussNetSpec& net, const Eigen::MatrixXd& points);

// K and Theta of a validated cos-net over the rows of `points` (P x d).
NtkKernels CosNetNtk(const CosNetSpec& net, const Eigen::MatrixXd& points,
                     int threads = 1);

// The cost of CosNetNtk in panel quadratures: point pairs P (P + 1)/2 times
// a bound on the panels of one radial integral, L / min(m, 2 pi / r_max) + 1
// (each panel is 4 integrands at 24 nodes: ~20 us in d = 2, where the
// Bessel functions dominate, ~1.5 us in d = 1, 3). 0 in a box (the lattice
// sums of K serve Theta).
double CosNetNtkPanels(const CosNetSpec& net, const Eigen::MatrixXd& points);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_GAUSS_COS_NTK_H_
