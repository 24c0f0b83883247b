// The cutoff propagators of the phi^4 free cos-net (arXiv 2307.03223):
//   I_q(r) = (2 pi)^-d int_{|p| < L} d^dp e^{i p.r} / (p^2 + m^2)^q,
// so G2 = I_1 and H = I_2. Radially reduced:
//   d = 1: (1/pi)        int_0^L cos(p r)          / (p^2 + m^2)^q dp,
//   d = 2: (1/(2 pi))    int_0^L p J0(p r)         / (p^2 + m^2)^q dp,
//   d = 3: (1/(2 pi^2))  int_0^L p^2 sin(p r)/(p r) / (p^2 + m^2)^q dp
// (the d = 3 form is regular at r = 0). Composite Gauss-Legendre, panels no
// wider than m near p = 0 (poles at p = +-i m), than p/2 further out, and than
// one period 2 pi / r of the oscillation: ~1e-12 relative.
//
// Finite width, neurons i.i.d. (DESIGN.md section 2 normalisation):
//   G2 = I_1(x1 - x2),
//   N G4_c = (3/2) V_L sum_3 H(x_i + x_j - x_k - x_l) - sum_3 G2 G2,
//   N^2 G6_c = (15/4) V_L^2 sum_10 I_3(sum eps x) - 3 sum_15 m4 G2
//              + 2 sum_15 G2 G2 G2,   m4 = (1/2) V_L sum_3 H,
// V_L = vol(B_L^d)/(2 pi)^d; the sums run over the balanced sign patterns of
// E_c prod cos(b.x_k + c) (see gaussian_moments.h). Only |r| matters.
// In a periodic box (CosNetSpec::box_side > 0) the momentum integrals become
// lattice sums, I_q(r) = L^-d sum_k cos(p_k.r)/(p_k^2 + m^2)^q
// (core/sampling/box.h), and V_L becomes M / L^d; the formulas above are
// otherwise unchanged.
#ifndef NNFT_CORE_THEORY_COSNET_PROPAGATOR_H_
#define NNFT_CORE_THEORY_COSNET_PROPAGATOR_H_

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "core/sampling/box.h"
#include "core/spec/spec.h"

namespace nnft::theory {

// I_q(r) for d in [1, 3], q >= 1, r >= 0, m > 0, cutoff > 0.
double CutoffPropagator(int d, int q, double mass, double cutoff, double r);

// S_q(r) = (2 pi)^-d int_{|p| < L} d^dp (p.r) sin(p.r) / (p^2 + m^2)^q
// = -r dI_q/dr, radially reduced with the angular means of (p.r) sin(p.r):
//   d = 1: (1/pi)       int_0^L p r sin(p r)             / (p^2 + m^2)^q dp,
//   d = 2: (1/(2 pi))   int_0^L p (p r) J1(p r)          / (p^2 + m^2)^q dp,
//   d = 3: (1/(2 pi^2)) int_0^L p^2 (sin(pr)/(pr) - cos(pr)) / (p^2 + m^2)^q
//   dp,
// by the same panels as I_q; 0 at r = 0. The cos-net NTK needs S_2
// (core/theory/gauss_cos_ntk.h).
double CutoffSineMoment(int d, int q, double mass, double cutoff, double r);

// Infinite-cutoff limits of I_1: e^{-m r}/(2m), K0(m r)/(2 pi) (r > 0),
// e^{-m r}/(4 pi r) (r > 0).
double InfiniteCutoffPropagator(int d, double mass, double r);

// V_L = vol(B_L^d) / (2 pi)^d.
double MomentumBallVolume(int d, double cutoff);

// Scaled neuron moments of the cos-net: m_n(idx) = E[Y_1 .. Y_n] N^{n/2} for
// one neuron Y = A a cos(b.x + c)/sqrt(b^2 + m^2) (n = 2, 4, 6), so that the
// generic single-hidden-layer cumulant formulas apply with sw1^n M_n -> m_n.
// Caches I_q by (q, |r|); not thread-safe.
class CosNetMoments {
 public:
  CosNetMoments(const CosNetSpec& net, const Eigen::MatrixXd& points);
  double Moment(const std::vector<int>& idx);
  Eigen::MatrixXd Kernel();

 private:
  double Propagator(int q, const Eigen::VectorXd& r);
  CosNetSpec net_;
  Eigen::MatrixXd points_;
  std::optional<BoxLattice> lattice_;  // box_side > 0
  std::map<std::pair<int, double>, double> cache_;
};

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_COSNET_PROPAGATOR_H_
