// NNGP and NTK recursion, and the linearised training flow (ntk.h).
#include "core/theory/ntk.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <type_traits>
#include <variant>

#include "Eigen/Eigenvalues"
#include "absl/strings/str_cat.h"
#include "core/sampling/vector_math.h"
#include "core/theory/kernels.h"
#include "core/theory/quadrature.h"

namespace nnft::theory {
namespace {

// The proto's name of an architecture ("gauss_net", ...).
absl::string_view ArchitectureName(const Architecture& architecture) {
  return std::visit(
      [](const auto& a) -> absl::string_view {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, MlpSpec>) return "mlp";
        if constexpr (std::is_same_v<A, GaussNetSpec>) return "gauss_net";
        if constexpr (std::is_same_v<A, CosNetSpec>) return "cos_net";
        if constexpr (std::is_same_v<A, NullConeSpec>) return "null_cone";
        if constexpr (std::is_same_v<A, OuNetSpec>) return "ou_net";
        if constexpr (std::is_same_v<A, Conv1dSpec>) return "conv1d";
        if constexpr (std::is_same_v<A, AttentionSpec>) return "attention";
        if constexpr (std::is_same_v<A, KanSpec>) return "kan";
        return "unknown";
      },
      architecture);
}

int QuadratureNodes(double kxx, double kyy) {
  // As PairMoment: large variances sharpen tanh/sigmoid towards a step.
  const double v = std::max(kxx, kyy);
  return v <= 2 ? 96 : v <= 8 ? 160 : 256;
}

// act(u) and act'(u) from one evaluation of the transcendental part, in
// straight-line vmath code so that the quadrature's inner loop vectorises.
template <Activation A>
NNFT_VMATH_INLINE void ValueAndSlope(double u, double& f, double& d) {
  using namespace vmath;
  if constexpr (A == Activation::kTanh) {
    const double t = Tanh(u);
    f = t;
    d = 1 - t * t;
  } else if constexpr (A == Activation::kSigmoid) {
    const double s = Sigmoid(u);
    f = s;
    d = s * (1 - s);
  } else if constexpr (A == Activation::kGelu) {
    constexpr double kInvSqrt2Pi =
        0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2;
    const double c = NormalCdf(u);
    f = u * c;
    d = c + u * kInvSqrt2Pi * Exp(-0.5 * u * u);
  } else {
    static_assert(A == Activation::kSoftplus);
    f = Softplus(u);
    d = Sigmoid(u);
  }
}

// E[act act] and E[act' act'] by nested Gauss-Hermite (u = sx z1, v = rho z1
// + tau z2, as PairMomentByQuadrature), both sums over one pass.
template <Activation A>
PairMoments FusedQuadrature(double kxx, double kyy, double kxy) {
  const QuadratureRule& rule = GaussHermite(QuadratureNodes(kxx, kyy));
  const int n = static_cast<int>(rule.nodes.size());
  const double* nodes = rule.nodes.data();
  const double* weights = rule.weights.data();
  const double sx = std::sqrt(std::max(kxx, 0.0));
  const double rho = sx > 0.0 ? kxy / sx : 0.0;
  const double tau = std::sqrt(std::max(kyy - rho * rho, 0.0));
  PairMoments out;
  for (int i = 0; i < n; ++i) {
    const double shift = rho * nodes[i];
    double inner_f = 0, inner_d = 0;
#pragma omp simd reduction(+ : inner_f, inner_d)
    for (int j = 0; j < n; ++j) {
      double f, d;
      ValueAndSlope<A>(shift + tau * nodes[j], f, d);
      inner_f += weights[j] * f;
      inner_d += weights[j] * d;
    }
    double fu, du;
    ValueAndSlope<A>(sx * nodes[i], fu, du);
    out.value += weights[i] * fu * inner_f;
    out.derivative += weights[i] * du * inner_d;
  }
  return out;
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
    case Activation::kSin:  // E[cos u cos v]
      return PairMoment(Activation::kCos, kxx, kyy, kxy);
    case Activation::kCos:  // E[sin u sin v]
      return PairMoment(Activation::kSin, kxx, kyy, kxy);
    default:
      return ValueAndDerivativePairMoments(activation, kxx, kyy, kxy)
          .derivative;
  }
}

PairMoments ValueAndDerivativePairMoments(Activation activation, double kxx,
                                          double kyy, double kxy) {
  switch (activation) {
    case Activation::kTanh:
      return FusedQuadrature<Activation::kTanh>(kxx, kyy, kxy);
    case Activation::kSigmoid:
      return FusedQuadrature<Activation::kSigmoid>(kxx, kyy, kxy);
    case Activation::kGelu:
      return FusedQuadrature<Activation::kGelu>(kxx, kyy, kxy);
    case Activation::kSoftplus:
      return FusedQuadrature<Activation::kSoftplus>(kxx, kyy, kxy);
    default:
      return {.value = PairMoment(activation, kxx, kyy, kxy),
              .derivative = DerivativePairMoment(activation, kxx, kyy, kxy)};
  }
}

std::string NtkAbsentReason(const Architecture& architecture) {
  constexpr absl::string_view kWhich =
      "the NTK is given for architecture.mlp (residual or not, with or "
      "without input projection or sw0_axes) with a Gaussian first bias, no "
      "deformation or output_mean and output_dim = 1; for conv1d; for "
      "attention (where its kernel's quadrature applies); for kan with "
      "spline_order >= 1; and for gauss_net and cos_net with output_dim = 1 "
      "(gauss_net without output_mean)";
  return std::visit(
      [&](const auto& a) -> std::string {
        using A = std::decay_t<decltype(a)>;
        std::string field;
        if constexpr (std::is_same_v<A, MlpSpec>) {
          if (a.first_bias != BiasLaw::kGaussian) {
            field = "architecture.mlp.first_bias = uniform_phase";
          } else if (a.deformation.has_value()) {
            field = "architecture.mlp.deformation (non-Gaussian weights)";
          } else if (!a.field.output_mean.empty()) {
            field = "architecture.mlp.output_mean (non-centred readout)";
          } else if (a.field.output_dim != 1) {
            field = absl::StrCat("architecture.mlp.output_dim = ",
                                 a.field.output_dim);
          }
        } else if constexpr (std::is_same_v<A, GaussNetSpec>) {
          if (!a.field.output_mean.empty()) {
            field = "architecture.gauss_net.output_mean (non-centred readout)";
          } else if (a.field.output_dim != 1) {
            field = absl::StrCat("architecture.gauss_net.output_dim = ",
                                 a.field.output_dim);
          }
        } else if constexpr (std::is_same_v<A, CosNetSpec>) {
          if (a.output_dim != 1) {
            field = absl::StrCat("architecture.cos_net.output_dim = ",
                                 a.output_dim);
          }
        } else if constexpr (std::is_same_v<A, Conv1dSpec>) {
          return "";
        } else if constexpr (std::is_same_v<A, AttentionSpec>) {
          return "";
        } else if constexpr (std::is_same_v<A, KanSpec>) {
          if (a.spline_order == 0) {
            field =
                "architecture.kan.spline_order = 0 (piecewise-constant "
                "splines: their derivative in the inner sums is a delta)";
          }
        } else {
          return absl::StrCat("architecture.", ArchitectureName(architecture),
                              ": no analytic NTK for this architecture; ",
                              kWhich);
        }
        if (field.empty()) return "";
        return absl::StrCat(field, ": no analytic NTK here; ", kWhich);
      },
      architecture);
}

// The first layer in the NTK parameterisation: K^(1) = Theta^(1) =
// sb0^2 + sw0^2 x'.y'/d, x'_k = sw0_axes[k] x_k (the anisotropic first layer
// is the isotropic one at scaled points). With an input projection g(Wx),
// W ~ N(0, s^2/d) trained too: z^(1) = b + W0 W x, so K^(1) = sb0^2 + sw0^2
// s^2 x.y/d and Theta^(1) = K^(1) + sw0^2 (s^2 x.y/d) (W's own gradient).
// Residual layers (l < L) carry z^(l) forward: K^(l+1) = K^(l) + sb^2 +
// sw^2 C^(l), Theta^(l+1) = Theta^(l) + sb^2 + sw^2 (C^(l) + Kdot^(l)
// Theta^(l)) (the cross terms W_ii act' Theta vanish: W is independent of
// z^(l) with mean zero, exactly in the ensemble mean at every width).
NtkKernels MlpNtk(const MlpSpec& mlp, const Eigen::MatrixXd& raw_points,
                  int threads) {
  Eigen::MatrixXd points = raw_points;
  if (!mlp.field.sw0_axes.empty()) {
    for (Eigen::Index k = 0; k < points.cols(); ++k) {
      points.col(k) *= mlp.field.sw0_axes[k];
    }
  }
  const double s =
      mlp.input_projection_dim > 0 ? mlp.input_projection_scale : 1.0;
  Eigen::MatrixXd k = PreactivationCovariance(points, s * mlp.sw[0], mlp.sb[0]);
  Eigen::MatrixXd theta = k;
  if (mlp.input_projection_dim > 0) {
    theta.array() += k.array() - mlp.sb[0] * mlp.sb[0];
  }
  const int64_t num = points.rows();
  const int depth = static_cast<int>(mlp.widths.size());
  for (int l = 1; l <= depth; ++l) {
    const double sw2 = mlp.sw[l] * mlp.sw[l], sb2 = mlp.sb[l] * mlp.sb[l];
    Eigen::MatrixXd next(num, num), dot(num, num);
    // Row i writes the pairs (i, j <= i) and their mirrors: no two rows
    // write one entry, and each entry is one thread's whole computation.
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(dynamic, 1)
    for (int64_t i = num - 1; i >= 0; --i) {
      for (int64_t j = 0; j <= i; ++j) {
        const PairMoments m = ValueAndDerivativePairMoments(
            mlp.activation, k(i, i), k(j, j), k(i, j));
        next(i, j) = next(j, i) = sb2 + sw2 * m.value;
        dot(i, j) = dot(j, i) = sw2 * m.derivative;
      }
    }
    if (mlp.residual && l < depth) {
      theta = next + theta + theta.cwiseProduct(dot);
      k = next + k;
    } else {
      theta = next + theta.cwiseProduct(dot);
      k = next;
    }
  }
  return {.nngp = k, .ntk = theta};
}

FlowTheory FlowFromKernels(const TrainingSpec& training,
                           const Eigen::MatrixXd& nngp,
                           const Eigen::MatrixXd& tangent,
                           const std::string& method) {
  const Eigen::Index n = training.x.rows(), num = nngp.rows() - n;
  const Eigen::MatrixXd k_xx = nngp.topLeftCorner(n, n);
  const Eigen::MatrixXd k_tx = nngp.bottomLeftCorner(num, n);
  const Eigen::MatrixXd k_tt = nngp.bottomRightCorner(num, num);
  const Eigen::MatrixXd th_tx = tangent.bottomLeftCorner(num, n);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(
      tangent.topLeftCorner(n, n));
  const Eigen::VectorXd& lambda = eig.eigenvalues();
  const Eigen::MatrixXd& v = eig.eigenvectors();
  const bool gd = training.method == TrainingMethod::kGradientDescent;
  FlowTheory out;
  out.times = training.times;
  out.tangent = tangent.bottomRightCorner(num, num);
  const double lambda_max = lambda.size() > 0 ? lambda.maxCoeff() : 0.0;
  out.max_stable_eta =
      lambda_max > 0 ? 2 / lambda_max : std::numeric_limits<double>::infinity();
  const Eigen::VectorXd y_eig = v.transpose() * training.y;
  const Eigen::MatrixXd k_eig = v.transpose() * k_xx * v;
  for (double t : training.times) {
    // g(lambda) = (1 - D_t(lambda)) / lambda, finite as lambda -> 0, and
    // D_t(lambda) itself.
    Eigen::VectorXd g(n), decay(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double lam = std::max(lambda(i), 0.0);
      double one_minus;
      if (gd) {
        const double steps = std::round(t / training.eta);
        const double base = 1 - training.eta * lam;  // diverges when < -1
        one_minus = base > 0
                        ? -std::expm1(steps * std::log1p(-training.eta * lam))
                        : 1 - std::pow(base, steps);
      } else {
        one_minus = -std::expm1(-lam * t);
      }
      g(i) = lam > 0 ? one_minus / lam : t;
      decay(i) = 1 - one_minus;
    }
    const Eigen::MatrixXd a = th_tx * v * g.asDiagonal() * v.transpose();
    out.mean.push_back(a * training.y);
    const Eigen::MatrixXd cross = a * k_tx.transpose();
    out.cov.push_back(k_tt + a * k_xx * a.transpose() - cross -
                      cross.transpose());
    // In the eigenbasis B_t is diag(D_t): |B Y|^2 + tr(B K B).
    const double residual = decay.cwiseProduct(y_eig).squaredNorm();
    const double spread =
        (decay.array().square() * k_eig.diagonal().array()).sum();
    out.loss.push_back(0.5 * (residual + spread));
  }
  out.method = method;
  if (gd && training.eta >= out.max_stable_eta) {
    absl::StrAppend(&out.method, "; eta = ", training.eta,
                    " is at or above 2 / lambda_max = ", out.max_stable_eta,
                    ": the linearised gradient descent diverges (mu_t and "
                    "Sigma_t grow without bound and may overflow to inf/NaN)");
  }
  return out;
}

FlowTheory TrainingFlowTheory(const ExperimentSpec& spec,
                              const Eigen::MatrixXd& extra_points,
                              int threads) {
  const MlpSpec& mlp = std::get<MlpSpec>(spec.architecture);
  const TrainingSpec& training = *spec.training;
  const Eigen::Index n = training.x.rows(), num = spec.points.rows();
  Eigen::MatrixXd all(n + num + extra_points.rows(), training.x.cols());
  all.topRows(n) = training.x;
  all.middleRows(n, num) = spec.points;
  all.bottomRows(extra_points.rows()) = extra_points;
  const NtkKernels kernels = MlpNtk(mlp, all, threads);
  const bool gd = training.method == TrainingMethod::kGradientDescent;
  const std::string method = absl::StrCat(
      "infinite-width linearised ", gd ? "gradient descent" : "gradient flow",
      " (Lee et al. arXiv 1902.06720), NTK parameterisation, ",
      training.last_layer_only ? "last layer only: tangent kernel = NNGP K"
                               : "NTK layer recursion (arXiv 1806.07572)",
      "; ", ActivationName(mlp.activation), " pair moments ",
      HasClosedPairMoment(mlp.activation) ? "closed form" : "by quadrature");
  return FlowFromKernels(training, kernels.nngp,
                         training.last_layer_only ? kernels.nngp : kernels.ntk,
                         method);
}

FlowTheory TrainingFlowTheory(const ExperimentSpec& spec) {
  return TrainingFlowTheory(spec, Eigen::MatrixXd(0, spec.points.cols()));
}

}  // namespace nnft::theory
