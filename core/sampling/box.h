// The periodic box of the phi^4 cos-net (core/spec/spec.h,
// CosNetSpec::box_side): lattice momenta p_k = 2 pi k / L inside the cutoff
// ball, the lattice-sum propagators, and the exact integral of phi^4 over the
// box (arXiv 2307.03223, the phi^4 insertion as a reweighting of the free
// cos-net).
//
// A box network is a trigonometric polynomial,
//   phi(x) = sum_j [C_j cos(p_j.x) - S_j sin(p_j.x)],  |k_j| <= kmax per axis,
// so phi^4 has frequencies |k| <= 4 kmax per axis, and the trapezoid rule on
// the periodic grid of n = 4 kmax + 1 points per axis integrates it exactly:
//   int_box phi^4 d^dx = (L/n)^d sum_g phi(x_g)^4,  x_g = L g / n.
// With p_j.x_g = 2 pi (k_j.g)/n, phi(x_g) needs only a table of cos and sin
// of 2 pi t / n, t = 0..n-1. Cost per network M n^d (M lattice momenta).
#ifndef NNFT_CORE_SAMPLING_BOX_H_
#define NNFT_CORE_SAMPLING_BOX_H_

#include <array>
#include <cstdint>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"

namespace nnft {

struct BoxLattice {
  int dim = 1;
  double side = 0;  // L
  // Integer vectors k (first `dim` entries used) with |2 pi k / L| < cutoff,
  // in lexicographic order; M = k.size().
  std::vector<std::array<int, 3>> k;
  int kmax = 0;  // largest |k_i| over the lattice
  int grid = 1;  // n = 4 kmax + 1 points per axis
};

// The lattice for d in [1, 3], side > 0, cutoff > 0. InvalidArgument when
// no non-zero momentum fits (2 pi / L >= cutoff: the box is too small for the
// cutoff), when there are more than max_momenta momenta, or when the exact
// phi^4 grid n^d exceeds max_grid points. Field names start with `field`.
absl::StatusOr<BoxLattice> MakeBoxLattice(int dim, double side, double cutoff,
                                          int64_t max_momenta = 1 << 20,
                                          int64_t max_grid = 1 << 22);

// L^-d sum_k cos(p_k.r) / (p_k^2 + m^2)^q: q = 1 is the box propagator G,
// q = 2 the H of the tadpole, int_box dz G(x - z) G(z - y) = H(x - y).
double BoxPropagator(const BoxLattice& lattice, int q, double mass,
                     const Eigen::VectorXd& r);

// Exact int_box phi^4 for the per-momentum amplitudes C_j, S_j (M each), by
// the trapezoid rule above. `cos_table` and `sin_table` hold cos and sin of
// 2 pi t / n for t in [0, n) (see TrigTable); `phi` is scratch of n^d.
double BoxPhi4Integral(const BoxLattice& lattice, const double* c,
                       const double* s, const std::vector<double>& cos_table,
                       const std::vector<double>& sin_table,
                       std::vector<double>& phi);

// cos (which = 0) or sin (which = 1) of 2 pi t / n, t = 0..n-1.
std::vector<double> TrigTable(int n, int which);

}  // namespace nnft

#endif  // NNFT_CORE_SAMPLING_BOX_H_
