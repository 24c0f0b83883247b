// Exact sampling of the radius of a radially deformed Gaussian, the law of
// independence breaking in core/spec/spec.h (Deformation): for a D-entry weight
// array A with density P(A) ∝ exp(-|A|^2/s^2 - lambda |A|^4), the direction
// A/|A| is uniform on the sphere and r = |A| has the 1-D density
//   f(r) ∝ r^(D-1) exp(-r^2/s^2 - lambda r^4),  r > 0,  lambda >= 0
// (PHYSICS.md, "Independence breaking"; the deformed ensembles of
// arXiv 2307.03223, section on independence breaking).
//
// Method: inverse CDF on a tabulated density. log f is concave (every term
// is), so it is unimodal with its mode at r*^2 = 2(D-1)/(2/s^2 +
// sqrt(4/s^4 + 16 lambda (D-1))); the table spans the interval where log f
// lies within kLogDrop = 60 of its maximum (outside it the mass is below
// e^-60 relative, by concavity), cut into kCells cells. Inside a cell log f
// is interpolated linearly, so the cell's mass and its inverse CDF are in
// closed form (an exponential piece). The interpolation error of log f is at
// most h^2 max|(log f)''|/8 per cell, about 1e-7 for the 16384 cells used.
//
// Moments() integrates r^2 and r^4 against f independently of the table
// (composite Gauss-Legendre, 400 panels x 20 nodes, ~1e-12 relative), the
// exact side the tests compare with.
//
// Thread safety: immutable after construction; Sample may be called
// concurrently.
#ifndef NNFT_CORE_SAMPLING_RADIAL_H_
#define NNFT_CORE_SAMPLING_RADIAL_H_

#include <cstdint>
#include <vector>

namespace nnft {

class RadialLaw {
 public:
  // dim D >= 1, s > 0, lambda >= 0 (the caller validates).
  RadialLaw(int64_t dim, double s, double lambda);

  // The radius for a uniform u in (0, 1): the inverse CDF of the table.
  double Sample(double u) const;

  struct RadialMoments {
    double r2 = 0;  // E[r^2]
    double r4 = 0;  // E[r^4]
  };
  // E[r^2] and E[r^4] by quadrature of the exact density.
  RadialMoments Moments() const;

  double lo() const { return lo_; }
  double hi() const { return hi_; }

 private:
  double LogDensity(double r) const;  // log f(r) - log f(mode)
  int64_t dim_;
  double s_, lambda_, mode_, lo_, hi_, h_;
  std::vector<double> log_f_;  // at the kCells + 1 nodes
  std::vector<double> cdf_;    // unnormalised mass below node j
};

}  // namespace nnft

#endif  // NNFT_CORE_SAMPLING_RADIAL_H_
