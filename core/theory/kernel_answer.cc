// The NTK, cross-kernels and training prediction of ComputeKernel
// (kernel_answer.h).
#include "core/theory/kernel_answer.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <optional>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/theory/arch_kernels.h"
#include "core/theory/attention_ntk.h"
#include "core/theory/gauss_cos_ntk.h"
#include "core/theory/kernels.h"
#include "core/theory/theory.h"

namespace nnft::theory {
namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// Pair expectations by quadrature of an NTK recursion over `points` rows:
// M (M + 1) / 2 per hidden layer of an MLP, and over the M T positions per
// layer of a conv net; 0 for closed forms or other architectures.
int64_t QuadraturePairLayers(const Architecture& architecture, int64_t points) {
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    if (HasClosedPairMoment(mlp->activation)) return 0;
    return points * (points + 1) / 2 * static_cast<int64_t>(mlp->widths.size());
  }
  if (const auto* conv = std::get_if<Conv1dSpec>(&architecture)) {
    if (HasClosedPairMoment(conv->activation)) return 0;
    const int64_t m = points * conv->sequence_length;
    return m * (m + 1) / 2 * conv->layers;
  }
  return 0;
}

std::string QuadratureBudgetText(const Architecture& architecture,
                                 int64_t points) {
  const auto* mlp = std::get_if<MlpSpec>(&architecture);
  const Activation activation =
      mlp != nullptr ? mlp->activation
                     : std::get<Conv1dSpec>(architecture).activation;
  const int64_t layers = mlp != nullptr
                             ? static_cast<int64_t>(mlp->widths.size())
                             : std::get<Conv1dSpec>(architecture).layers;
  return absl::StrCat(
      ActivationName(activation),
      " has no closed-form pair expectation: ", points, " points and ", layers,
      " hidden layer(s) need ", QuadraturePairLayers(architecture, points),
      " pair expectations by quadrature, at most ", kMaxQuadraturePairLayers,
      " in ComputeKernel (fewer points or layers, or relu, erf, identity, sin, "
      "cos, which have closed forms)");
}

// K and Theta of an architecture with an NTK (NtkAbsentReason "") over the
// rows of `points`, and the method in words.
absl::StatusOr<NtkKernels> ArchitectureNtk(const Architecture& architecture,
                                           const Eigen::MatrixXd& points,
                                           int threads, std::string& method) {
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    method = absl::StrCat(
        "NTK parameterisation, K and Theta by the layer recursion (Jacot et "
        "al. arXiv 1806.07572) over ",
        mlp->widths.size(), " hidden layer(s)",
        mlp->residual ? " (residual: Theta^(l+1) = Theta^(l) + K-step + "
                        "Kdot Theta^(l))"
                      : "",
        mlp->input_projection_dim > 0 ? ", input projection trained" : "", ", ",
        ActivationName(mlp->activation),
        HasClosedPairMoment(mlp->activation)
            ? " pair expectations in closed form"
            : " pair expectations by nested Gauss-Hermite quadrature");
    return MlpNtk(*mlp, points, threads);
  }
  if (const auto* conv = std::get_if<Conv1dSpec>(&architecture)) {
    method = absl::StrCat(
        "NTK parameterisation, conv1d K and Theta by the per-position "
        "recursion (CNTK without pooling, Arora et al. arXiv 1904.11955) over ",
        conv->layers, " conv layer(s), ", ActivationName(conv->activation));
    return Conv1dNtk(*conv, points, threads);
  }
  if (const auto* kan = std::get_if<KanSpec>(&architecture)) {
    method =
        "NTK parameterisation, KAN Theta = K + S (sa1^2 E[base' base'] + "
        "sc1^2 E[sum B' B']), S the inner sums' covariance; spline "
        "expectations by panel Gauss-Legendre, exact mean at every width";
    return KanNtk(*kan, points, threads);
  }
  if (const auto* attention = std::get_if<AttentionSpec>(&architecture)) {
    method =
        "NTK parameterisation, attention Theta = sb^2 + 2 cv E[u.u] + Wq and "
        "Wk terms through the softmax, by the Gauss-chi product rule over "
        "M = c L G (core/theory/attention_ntk.h), exact mean at every head "
        "count";
    return AttentionNtk(*attention, points, {.threads = threads});
  }
  if (const auto* gauss = std::get_if<GaussNetSpec>(&architecture)) {
    method =
        "NTK parameterisation, Gauss-net Theta = K + sw1^2 "
        "exp(-sw0^2 |x - y|^2 / (2d)) (sb0^2 + sw0^2 x.y / d) over b1, W1, "
        "W0, b0 (core/theory/gauss_cos_ntk.h), exact at every width";
    return GaussNetNtk(*gauss, points);
  }
  if (const auto* cos = std::get_if<CosNetSpec>(&architecture)) {
    method =
        cos->box_side > 0
            ? "cos-net in a box, Theta = (1 + pi^2) K over the output "
              "weights a and the phases c = pi v (the lattice momenta b are "
              "discrete: no tangent; core/theory/gauss_cos_ntk.h), exact at "
              "every width"
            : "cos-net Theta = (1 + pi^2) I_1 + L^2 [x.y I_1 + I_2 - m^2 I_3 "
              "+ S_2] over the output weights a, the phases c = pi v and the "
              "momenta b = L u (u uniform in the unit ball; "
              "core/theory/gauss_cos_ntk.h), radial integrals by panel "
              "Gauss-Legendre, exact at every width";
    return CosNetNtk(*cos, points, threads);
  }
  return absl::InternalError("ArchitectureNtk: no NTK for this architecture");
}

// Why there is no cross kernel K(X, Y) for `architecture` ("" when there is).
std::string CrossKernelAbsentReason(const Architecture& architecture) {
  if (OutputDim(architecture) > 1) {
    return absl::StrCat("output_dim = ", OutputDim(architecture),
                        ": the cross kernel is given for one-component fields");
  }
  const bool options = std::visit(
      [](const auto& a) {
        if constexpr (requires { a.field; }) {
          return !a.field.sw0_axes.empty() || !a.field.output_mean.empty();
        }
        return false;
      },
      architecture);
  if (options) {
    return "sw0_axes, output_mean: the cross kernel is given for isotropic, "
           "centred fields (leave them empty)";
  }
  return "";
}

Eigen::MatrixXd Stack(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
                      const Eigen::MatrixXd& c) {
  Eigen::MatrixXd all(a.rows() + b.rows() + c.rows(), b.cols());
  all.topRows(a.rows()) = a;
  all.middleRows(a.rows(), b.rows()) = b;
  all.bottomRows(c.rows()) = c;
  return all;
}

}  // namespace

absl::Status ValidateKernelAnswer(const ExperimentSpec& spec,
                                  const Eigen::MatrixXd& cross_points,
                                  const Limits& limits) {
  const int64_t q = cross_points.rows();
  const int d = InputDim(spec.architecture);
  if (q > limits.max_points) {
    return Bad("cross_points",
               absl::StrCat(q, " points: must be at most ", limits.max_points));
  }
  if (q > 0 && cross_points.cols() != d) {
    return Bad("cross_points[0].x",
               absl::StrCat("has ", cross_points.cols(),
                            " coordinates: must have the architecture's "
                            "input_dim = ",
                            d));
  }
  for (int64_t i = 0; i < q; ++i) {
    for (int64_t j = 0; j < cross_points.cols(); ++j) {
      if (!std::isfinite(cross_points(i, j))) {
        return Bad(absl::StrCat("cross_points[", i, "].x[", j, "]"),
                   absl::StrCat(cross_points(i, j), ": must be finite"));
      }
    }
  }
  if (q == 0 && !spec.training) return absl::OkStatus();
  const int64_t n = spec.training ? spec.training->x.rows() : 0;
  const int64_t p = spec.points.rows();
  const int64_t m = n + p + q;
  if (m > kMaxKernelAnswerPoints) {
    return Bad("training.data.x, points, cross_points",
               absl::StrCat("n + P + Q = ", n, " + ", p, " + ", q, " = ", m,
                            " points: must be at most ", kMaxKernelAnswerPoints,
                            " for the NTK, cross-kernels and training "
                            "prediction of ComputeKernel"));
  }
  if (QuadraturePairLayers(spec.architecture, m) > kMaxQuadraturePairLayers) {
    return Bad("training.data.x, points, cross_points",
               QuadratureBudgetText(spec.architecture, m));
  }
  return absl::OkStatus();
}

absl::StatusOr<KernelAnswer> ComputeKernelAnswer(
    const ExperimentSpec& spec, const Eigen::MatrixXd& cross_points,
    const KernelAnswerOptions& options, const Limits& limits) {
  NNFT_RETURN_IF_ERROR(Validate(spec, limits));
  NNFT_RETURN_IF_ERROR(ValidateKernelAnswer(spec, cross_points, limits));
  const Eigen::Index p = spec.points.rows(), q = cross_points.rows();
  const Eigen::MatrixXd cross =
      q > 0 ? cross_points : Eigen::MatrixXd(0, spec.points.cols());
  const Eigen::MatrixXd train =
      spec.training ? spec.training->x : Eigen::MatrixXd(0, spec.points.cols());
  const Eigen::Index n = train.rows();
  KernelAnswer out;
  out.num_cross_points = q;
  out.ntk_absent_reason = NtkAbsentReason(spec.architecture);
  if (out.ntk_absent_reason.empty() && !options.omit_ntk.empty()) {
    out.ntk_absent_reason = options.omit_ntk;
  }
  // Without cross points or training only the P x P NTK is asked for: over
  // the budget it is left out, not refused (the NNGP answer stands alone).
  if (out.ntk_absent_reason.empty() && q == 0 && !spec.training) {
    if (p > kMaxKernelAnswerPoints) {
      out.ntk_absent_reason =
          absl::StrCat("points: ", p,
                       " points, the NTK is computed for at "
                       "most ",
                       kMaxKernelAnswerPoints);
    } else if (QuadraturePairLayers(spec.architecture, p) >
               kMaxQuadraturePairLayers) {
      out.ntk_absent_reason = absl::StrCat(
          "points: not computed, ", QuadratureBudgetText(spec.architecture, p));
    }
  }
  if (const auto* kan = std::get_if<KanSpec>(&spec.architecture);
      kan != nullptr && out.ntk_absent_reason.empty()) {
    const int64_t m = p + q, pairs = m * (m + 1) / 2;
    if (pairs > kMaxKanNtkPairs) {
      out.ntk_absent_reason = absl::StrCat(
          "points, cross_points: not computed, the KAN NTK over P + Q = ", m,
          " points needs ", pairs,
          " spline pair expectations (~6 ms each), at most ", kMaxKanNtkPairs,
          " in ComputeKernel");
    }
  }
  if (const auto* cos = std::get_if<CosNetSpec>(&spec.architecture);
      cos != nullptr && out.ntk_absent_reason.empty()) {
    const double panels =
        CosNetNtkPanels(*cos, Stack(train, spec.points, cross));
    if (panels > kMaxCosNetNtkPanels) {
      out.ntk_absent_reason = absl::StrCat(
          "points, cross_points: not computed, the cos-net NTK over P + Q = ",
          p + q, " points needs ~", static_cast<int64_t>(panels),
          " radial quadrature panels (~5 us each in d = 2), at most ",
          static_cast<int64_t>(kMaxCosNetNtkPanels),
          " in ComputeKernel (fewer or closer points, or a smaller cutoff)");
    }
  }
  out.cross_kernel_absent_reason =
      q == 0 ? "no cross_points in the request"
             : CrossKernelAbsentReason(spec.architecture);
  bool ntk = out.ntk_absent_reason.empty();
  // Training specs are plain MLPs (ValidateTraining): the recursion applies.
  assert(!spec.training || NtkAbsentReason(spec.architecture).empty());
  const bool recursion =
      ntk || (spec.training && NtkAbsentReason(spec.architecture).empty());
  std::optional<NtkKernels> kernels;
  if (recursion) {
    absl::StatusOr<NtkKernels> k =
        ArchitectureNtk(spec.architecture, Stack(train, spec.points, cross),
                        std::clamp(options.threads, 1, 1024), out.method);
    if (k.ok()) {
      kernels = *std::move(k);
    } else if (spec.training) {
      return k.status();
    } else {
      out.ntk_absent_reason = std::string(k.status().message());
      ntk = false;
    }
  }
  if (kernels) {
    const NtkKernels& k = *kernels;
    if (ntk) {
      out.ntk = k.ntk.block(n, n, p, p);
      if (q > 0) out.cross_ntk = k.ntk.block(n, n + p, p, q);
    }
    if (q > 0 && out.cross_kernel_absent_reason.empty()) {
      out.cross_kernel = k.nngp.block(n, n + p, p, q);
    }
    if (q > 0) {
      absl::StrAppend(&out.method,
                      "; cross-kernels from the recursion over the union of "
                      "the points");
    }
    if (spec.training) {
      const TrainingSpec& t = *spec.training;
      const bool gd = t.method == TrainingMethod::kGradientDescent;
      const std::string flow_method = absl::StrCat(
          "infinite-width linearised ",
          gd ? "gradient descent, D_t = (I - eta Theta)^(t / eta)"
             : "gradient flow, D_t = exp(-Theta t)",
          " (Lee et al. arXiv 1902.06720), t training time, loss (1/2) sum "
          "(f - y)^2, ",
          t.last_layer_only ? "last layer only: tangent kernel = NNGP K"
                            : "tangent kernel = NTK",
          "; E[L_t] = (1/2)(|D_t Y|^2 + tr(D_t K D_t)) in the eigenbasis of "
          "the tangent kernel at the training points");
      out.prediction = FlowFromKernels(
          t, k.nngp, t.last_layer_only ? k.nngp : k.ntk, flow_method);
    }
  } else if (q > 0 && out.cross_kernel_absent_reason.empty()) {
    absl::StatusOr<Eigen::MatrixXd> k =
        NngpKernel(spec.architecture, Stack(train, spec.points, cross),
                   {.threads = std::clamp(options.threads, 1, 1024)});
    if (!k.ok()) {
      out.cross_kernel_absent_reason = std::string(k.status().message());
    } else if (k->rows() != n + p + q) {
      out.cross_kernel_absent_reason =
          "the NNGP kernel of this architecture is not known in closed form";
    } else {
      out.cross_kernel = k->block(n, n + p, p, q);
    }
    out.method = "cross kernel: the NNGP kernel over the union of the points";
  }
  if (!ntk) {
    absl::StrAppend(&out.method, out.method.empty() ? "" : "; ",
                    "no NTK: ", out.ntk_absent_reason);
  }
  return out;
}

}  // namespace nnft::theory
