// NNGP and NTK recursion, and the linearised training flow (ntk.h).
#include "core/theory/ntk.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <variant>

#include "Eigen/Eigenvalues"
#include "absl/strings/str_cat.h"
#include "core/theory/kernels.h"
#include "core/theory/quadrature.h"

namespace nnft::theory {
namespace {

double Derivative(Activation a, double u) {
  switch (a) {
    case Activation::kIdentity:
      return 1.0;
    case Activation::kRelu:
      return u > 0 ? 1.0 : 0.0;
    case Activation::kErf:
      return 2.0 / std::sqrt(std::numbers::pi) * std::exp(-u * u);
    case Activation::kTanh: {
      const double t = std::tanh(u);
      return 1.0 - t * t;
    }
    case Activation::kSigmoid: {
      const double s = 1.0 / (1.0 + std::exp(-u));
      return s * (1.0 - s);
    }
    case Activation::kGelu:
      return 0.5 * std::erfc(-u / std::numbers::sqrt2) +
             u * std::exp(-0.5 * u * u) / std::sqrt(2 * std::numbers::pi);
    case Activation::kSoftplus:
      return 1.0 / (1.0 + std::exp(-u));
    case Activation::kSin:
      return std::cos(u);
    case Activation::kCos:
      return -std::sin(u);
  }
  return 0.0;
}

// Nested Gauss-Hermite, as PairMomentByQuadrature, on act'.
double DerivativeByQuadrature(Activation a, double kxx, double kyy,
                              double kxy) {
  const int n = std::max(kxx, kyy) <= 2   ? 96
                : std::max(kxx, kyy) <= 8 ? 160
                                          : 256;
  const QuadratureRule& rule = GaussHermite(n);
  const double sx = std::sqrt(std::max(kxx, 0.0));
  const double rho = sx > 0.0 ? kxy / sx : 0.0;
  const double tau = std::sqrt(std::max(kyy - rho * rho, 0.0));
  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    const double z1 = rule.nodes[i];
    double inner = 0.0;
    for (int j = 0; j < n; ++j) {
      inner += rule.weights[j] * Derivative(a, rho * z1 + tau * rule.nodes[j]);
    }
    total += rule.weights[i] * Derivative(a, sx * z1) * inner;
  }
  return total;
}

}  // namespace

double DerivativePairMoment(Activation activation, double kxx, double kyy,
                            double kxy) {
  switch (activation) {
    case Activation::kIdentity:
      return 1.0;
    case Activation::kErf:
      return 4.0 / std::numbers::pi /
             std::sqrt((1 + 2 * kxx) * (1 + 2 * kyy) - 4 * kxy * kxy);
    case Activation::kRelu: {
      const double norm = std::sqrt(kxx * kyy);
      if (norm <= 0) return 0.25;  // a zero pre-activation: theta(0) = 1/2
      const double c = std::clamp(kxy / norm, -1.0, 1.0);
      return (std::numbers::pi - std::acos(c)) / (2 * std::numbers::pi);
    }
    default:
      return DerivativeByQuadrature(activation, kxx, kyy, kxy);
  }
}

NtkKernels MlpNtk(const MlpSpec& mlp, const Eigen::MatrixXd& points) {
  Eigen::MatrixXd k = PreactivationCovariance(points, mlp.sw[0], mlp.sb[0]);
  Eigen::MatrixXd theta = k;
  const Eigen::Index num = points.rows();
  const int depth = static_cast<int>(mlp.widths.size());
  for (int l = 1; l <= depth; ++l) {
    const double sw2 = mlp.sw[l] * mlp.sw[l], sb2 = mlp.sb[l] * mlp.sb[l];
    Eigen::MatrixXd next(num, num), dot(num, num);
    for (Eigen::Index i = 0; i < num; ++i) {
      for (Eigen::Index j = 0; j <= i; ++j) {
        const double kii = k(i, i), kjj = k(j, j), kij = k(i, j);
        next(i, j) = next(j, i) =
            sb2 + sw2 * PairMoment(mlp.activation, kii, kjj, kij);
        dot(i, j) = dot(j, i) =
            sw2 * DerivativePairMoment(mlp.activation, kii, kjj, kij);
      }
    }
    theta = next + theta.cwiseProduct(dot);
    k = next;
  }
  return {.nngp = k, .ntk = theta};
}

FlowTheory TrainingFlowTheory(const ExperimentSpec& spec) {
  const MlpSpec& mlp = std::get<MlpSpec>(spec.architecture);
  const TrainingSpec& training = *spec.training;
  const Eigen::Index n = training.x.rows(), num = spec.points.rows();
  Eigen::MatrixXd all(n + num, training.x.cols());
  all << training.x, spec.points;
  const NtkKernels kernels = MlpNtk(mlp, all);
  const Eigen::MatrixXd& k = kernels.nngp;
  const Eigen::MatrixXd& tangent =
      training.last_layer_only ? kernels.nngp : kernels.ntk;
  const Eigen::MatrixXd k_xx = k.topLeftCorner(n, n);
  const Eigen::MatrixXd k_tx = k.bottomLeftCorner(num, n);
  const Eigen::MatrixXd k_tt = k.bottomRightCorner(num, num);
  const Eigen::MatrixXd th_tx = tangent.bottomLeftCorner(num, n);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(
      tangent.topLeftCorner(n, n));
  const Eigen::VectorXd& lambda = eig.eigenvalues();
  const Eigen::MatrixXd& v = eig.eigenvectors();
  const bool gd = training.method == TrainingMethod::kGradientDescent;
  FlowTheory out;
  out.tangent = tangent.bottomRightCorner(num, num);
  for (double t : training.times) {
    // g(lambda) = (1 - D_t(lambda)) / lambda, finite as lambda -> 0.
    Eigen::VectorXd g(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double lam = std::max(lambda(i), 0.0);
      if (gd) {
        const double steps = std::round(t / training.eta);
        const double base = 1 - training.eta * lam;  // diverges when < -1
        const double one_minus =
            base > 0 ? -std::expm1(steps * std::log1p(-training.eta * lam))
                     : 1 - std::pow(base, steps);
        g(i) = lam > 0 ? one_minus / lam : t;
      } else {
        g(i) = lam > 0 ? -std::expm1(-lam * t) / lam : t;
      }
    }
    const Eigen::MatrixXd a = th_tx * v * g.asDiagonal() * v.transpose();
    out.mean.push_back(a * training.y);
    const Eigen::MatrixXd cross = a * k_tx.transpose();
    out.cov.push_back(k_tt + a * k_xx * a.transpose() - cross -
                      cross.transpose());
  }
  out.method = absl::StrCat(
      "infinite-width linearised ", gd ? "gradient descent" : "gradient flow",
      " (Lee et al. arXiv 1902.06720), NTK parameterisation, ",
      training.last_layer_only ? "last layer only: tangent kernel = NNGP K"
                               : "NTK layer recursion (arXiv 1806.07572)",
      "; ", ActivationName(mlp.activation), " pair moments ",
      HasClosedPairMoment(mlp.activation) ? "closed form" : "by quadrature");
  return out;
}

}  // namespace nnft::theory
