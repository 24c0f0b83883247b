// Exact theory of deformed densities and of the phi^4 tadpole; see
// interactions.h.
#include "core/theory/interactions.h"

#include <cmath>
#include <limits>
#include <memory>
#include <variant>

#include "core/sampling/box.h"
#include "core/sampling/radial.h"
#include "core/theory/cosnet_propagator.h"
#include "core/theory/gaussian_moments.h"
#include "core/theory/kernels.h"
#include "core/theory/theory.h"
#include "core/theory/wick.h"

namespace nnft::theory {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double PairSum(const Eigen::MatrixXd& c, const Tuple& t) {
  return c(t[0], t[1]) * c(t[2], t[3]) + c(t[0], t[2]) * c(t[1], t[3]) +
         c(t[0], t[3]) * c(t[1], t[2]);
}

}  // namespace

RhoMoments DeformedRhoMoments(const Deformation& deformation, int64_t n) {
  const RadialLaw law(n, deformation.s, deformation.lambda);
  const RadialLaw::RadialMoments m = law.Moments();
  const double dn = static_cast<double>(n);
  return {.mean = m.r2 / dn, .second = m.r4 / (dn * dn)};
}

bool HasDeformedOutput(const MlpSpec& mlp) {
  return mlp.deformation.has_value() && mlp.widths.size() == 1 &&
         mlp.input_projection_dim == 0 &&
         (mlp.deformation->layer < 0 || mlp.deformation->layer == 1);
}

Eigen::MatrixXd DeformedKernel(const MlpSpec& mlp,
                               const Eigen::MatrixXd& points) {
  const RhoMoments rho = DeformedRhoMoments(*mlp.deformation, mlp.widths[0]);
  const Eigen::MatrixXd c = FirstLayerNeuronCovariance(mlp, points);
  return (rho.mean * c).array() + mlp.sb[1] * mlp.sb[1];
}

DeformedCorrelators DeformedExact(const MlpSpec& mlp,
                                  const Eigen::MatrixXd& points,
                                  const std::vector<Tuple>& tuples) {
  const RhoMoments rho = DeformedRhoMoments(*mlp.deformation, mlp.widths[0]);
  const double n = mlp.widths[0];
  const Eigen::MatrixXd c = FirstLayerNeuronCovariance(mlp, points);
  const Eigen::MatrixXd k = (rho.mean * c).array() + mlp.sb[1] * mlp.sb[1];
  const bool uniform = mlp.first_bias == BiasLaw::kUniformPhase;
  const NeuronMomentTable table(
      uniform ? NeuronKind::kUniformPhase : NeuronKind::kGaussianBias,
      mlp.activation,
      PreactivationCovariance(points, mlp.sw[0], uniform ? 0.0 : mlp.sb[0]));
  DeformedCorrelators out;
  for (const Tuple& t : tuples) {
    double full = kNaN, conn = kNaN;
    if (t.size() % 2 == 1) {
      full = conn = 0.0;
    } else if (t.size() == 2) {
      full = conn = k(t[0], t[1]);
    } else if (t.size() == 4) {
      const double cc = PairSum(c, t);
      conn = (rho.second - rho.mean * rho.mean) * cc +
             3 * rho.second / (n + 2) * (table.Moment(t) - cc);
      full = conn + WickSum(k, t);
    }
    out.full.push_back(full);
    out.connected.push_back(conn);
  }
  return out;
}

absl::StatusOr<Eigen::MatrixXd> TwoPointKernel(const Architecture& architecture,
                                               const Eigen::MatrixXd& points) {
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    if (HasDeformedOutput(*mlp)) return DeformedKernel(*mlp, points);
    if (mlp->deformation.has_value()) {
      return absl::FailedPreconditionError(
          "no exact two-point function for a deformed hidden layer (only for "
          "the deformed output layer of a single-hidden-layer net)");
    }
    return MlpKernel(*mlp, points);
  }
  if (const auto* c = std::get_if<CosNetSpec>(&architecture)) {
    CosNetMoments moments(*c, points);
    return moments.Kernel();
  }
  return NngpKernel(architecture, points);
}

double TadpoleShift(const CosNetSpec& net, double lambda,
                    const Eigen::VectorXd& xi, const Eigen::VectorXd& xj) {
  const BoxLattice lattice =
      *MakeBoxLattice(net.input_dim, net.box_side, net.cutoff);
  const double g0 =
      BoxPropagator(lattice, 1, net.mass, Eigen::VectorXd::Zero(net.input_dim));
  const double h = BoxPropagator(lattice, 2, net.mass, xi - xj);
  return -0.5 * lambda * g0 * h;
}

}  // namespace nnft::theory
