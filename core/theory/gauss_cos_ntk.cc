// NNGP and NTK of the Gauss-net and the cos-net (gauss_cos_ntk.h).
#include "core/theory/gauss_cos_ntk.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <vector>

#include "core/sampling/box.h"
#include "core/theory/cosnet_propagator.h"

namespace nnft::theory {

// Gauss-net. With unit parameters (beta1, w1_i, w0_i, beta0_i):
//   dphi/dbeta1  = sb1,
//   dphi/dw1_i   = (sw1/sqrt N) h_i(x),
//   dphi/dw0_ik  = (sw1/sqrt N) w1_i h_i(x) (sw0/sqrt d) x_k,
//   dphi/dbeta0_i = (sw1/sqrt N) w1_i h_i(x) sb0
// (the normaliser exp(-S(x, x)) holds no parameter, so dh/dz = h). Summed
// over parameters and averaged (E[w1^2] = 1, w1 independent of h, N i.i.d.
// neurons):
//   Theta = sb1^2 + sw1^2 E[h(x) h(y)] + sw1^2 E[h(x) h(y)] S(x, y).
// z(x) + z(y) ~ N(0, S_xx + S_yy + 2 S_xy), so E[h(x) h(y)] = exp(S_xy -
// (S_xx + S_yy)/2) = exp(-sw0^2 |x - y|^2 / (2d)): the sb0^2 cancel, and
// it is the Gauss-net's G2 (PHYSICS.md). Exact at every width.
NtkKernels GaussNetNtk(const GaussNetSpec& net, const Eigen::MatrixXd& raw) {
  Eigen::MatrixXd x = raw;
  if (!net.field.sw0_axes.empty()) {  // as the sampler: the isotropic net at x'
    for (Eigen::Index k = 0; k < x.cols(); ++k)
      x.col(k) *= net.field.sw0_axes[k];
  }
  const Eigen::Index num = x.rows();
  const double d = net.input_dim, sw0 = net.sw0, sb0 = net.sb0;
  const double sw1 = net.sw1, sb1 = net.sb1;
  NtkKernels out{.nngp = Eigen::MatrixXd(num, num),
                 .ntk = Eigen::MatrixXd(num, num)};
  for (Eigen::Index p = 0; p < num; ++p) {
    for (Eigen::Index q = 0; q <= p; ++q) {
      const double s = sb0 * sb0 + sw0 * sw0 * x.row(p).dot(x.row(q)) / d;
      const double c =
          std::exp(-sw0 * sw0 * (x.row(p) - x.row(q)).squaredNorm() / (2 * d));
      out.nngp(p, q) = out.nngp(q, p) = sb1 * sb1 + sw1 * sw1 * c;
      out.ntk(p, q) = out.ntk(q, p) = out.nngp(p, q) + sw1 * sw1 * c * s;
    }
  }
  return out;
}

// cos-net. With rho_i = sqrt(b_i^2 + m^2), cos_i(x) = cos(b_i.x + c_i):
//   dphi/dalpha_i = sqrt(a2) cos_i(x) / rho_i,
//   dphi/dv_i     = -pi sqrt(a2) alpha_i sin_i(x) / rho_i,
//   dphi/du_i     = -L sqrt(a2) alpha_i [sin_i(x) x / rho_i
//                                        + cos_i(x) b_i / rho_i^3].
// Averaging over the uniform phase, E_c[cos(s + c) cos(t + c)] = E_c[sin(s +
// c) sin(t + c)] = cos(s - t)/2 and E_c[sin(s + c) cos(t + c)] = sin(s -
// t)/2, so with r = x - y and s - t = b.r:
//   alpha: (a2/2) cos(b.r) / rho^2,   v: pi^2 (a2/2) cos(b.r) / rho^2,
//   u: L^2 (a2/2) [cos(b.r) (x.y / rho^2 + b^2 / rho^6)
//                  + sin(b.r) (b.x - b.y) / rho^4].
// Summing N neurons, N a2 = 2 V_L, and E_b = vol(B_L)^-1 int_{|p| < L} d^dp
// turn (N a2 / 2) E_b[f(b)] into (2 pi)^-d int_{|p| < L} d^dp f(p). With
// p^2 / (p^2 + m^2)^3 = (p^2 + m^2)^-2 - m^2 (p^2 + m^2)^-3:
//   Theta = (1 + pi^2) I_1(r) + L^2 [x.y I_1(r) + I_2(r) - m^2 I_3(r)
//                                    + S_2(r)].
// The u term is not translation invariant (x.y): the gradient of b.x grows
// with |x|. In a box the same steps with (1/M) sum_k for E_b and N a2 =
// 2 M / L_box^d give (1 + pi^2) I_1^box(r) without the u term.
NtkKernels CosNetNtk(const CosNetSpec& net, const Eigen::MatrixXd& x,
                     int threads) {
  const Eigen::Index num = x.rows();
  const int d = net.input_dim;
  const double m = net.mass, cutoff = net.cutoff;
  constexpr double kPi2 = std::numbers::pi * std::numbers::pi;
  NtkKernels out{.nngp = Eigen::MatrixXd(num, num),
                 .ntk = Eigen::MatrixXd(num, num)};
  if (net.box_side > 0) {
    const BoxLattice lattice = *MakeBoxLattice(d, net.box_side, cutoff);
    for (Eigen::Index p = 0; p < num; ++p) {
      for (Eigen::Index q = 0; q <= p; ++q) {
        const Eigen::VectorXd r = (x.row(p) - x.row(q)).transpose();
        const double k = BoxPropagator(lattice, 1, m, r);
        out.nngp(p, q) = out.nngp(q, p) = k;
        out.ntk(p, q) = out.ntk(q, p) = (1 + kPi2) * k;
      }
    }
    return out;
  }
  // The integrals depend on |r| alone: once per distinct distance.
  std::vector<double> distances;
  for (Eigen::Index p = 0; p < num; ++p) {
    for (Eigen::Index q = 0; q <= p; ++q) {
      distances.push_back((x.row(p) - x.row(q)).norm());
    }
  }
  std::sort(distances.begin(), distances.end());
  distances.erase(std::unique(distances.begin(), distances.end()),
                  distances.end());
  const int count = static_cast<int>(distances.size());
  std::vector<double> i1(count), rest(count);
#pragma omp parallel for schedule(dynamic) num_threads(std::max(threads, 1))
  for (int k = 0; k < count; ++k) {
    const double r = distances[k];
    i1[k] = CutoffPropagator(d, 1, m, cutoff, r);
    rest[k] = CutoffPropagator(d, 2, m, cutoff, r) -
              m * m * CutoffPropagator(d, 3, m, cutoff, r) +
              CutoffSineMoment(d, 2, m, cutoff, r);
  }
  for (Eigen::Index p = 0; p < num; ++p) {
    for (Eigen::Index q = 0; q <= p; ++q) {
      const double r = (x.row(p) - x.row(q)).norm();
      const auto k = std::lower_bound(distances.begin(), distances.end(), r) -
                     distances.begin();
      out.nngp(p, q) = out.nngp(q, p) = i1[k];
      out.ntk(p, q) = out.ntk(q, p) =
          (1 + kPi2) * i1[k] +
          cutoff * cutoff * (x.row(p).dot(x.row(q)) * i1[k] + rest[k]);
    }
  }
  return out;
}

double CosNetNtkPanels(const CosNetSpec& net, const Eigen::MatrixXd& x) {
  if (net.box_side > 0) return 0.0;
  double r_max = 0.0;
  for (Eigen::Index p = 0; p < x.rows(); ++p) {
    for (Eigen::Index q = 0; q < p; ++q) {
      r_max = std::max(r_max, (x.row(p) - x.row(q)).norm());
    }
  }
  const double width =
      r_max > 0 ? std::min(net.mass, 2 * std::numbers::pi / r_max) : net.mass;
  const double pairs = 0.5 * double(x.rows()) * double(x.rows() + 1);
  return pairs * (net.cutoff / width + 1);
}

}  // namespace nnft::theory
