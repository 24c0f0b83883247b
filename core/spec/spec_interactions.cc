// Validation of the interaction fields of a spec: the radial deformation, the
// cos-net box, the phi^4 insertion and the effective-coupling analysis. Same
// message style as spec.cc: the field path, its value, the allowed range.
#include <algorithm>
#include <cmath>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/analyses/effective_coupling.h"
#include "core/sampling/box.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"
#include "core/status_macros.h"

namespace nnft {
namespace {

absl::Status Invalid(absl::string_view field, double value,
                     absl::string_view range) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " = ", value, ": must be ", range));
}

absl::Status ValidateDeformation(const MlpSpec& mlp, absl::string_view arch) {
  if (!mlp.deformation.has_value()) return absl::OkStatus();
  const Deformation& d = *mlp.deformation;
  const std::string prefix =
      absl::StrCat("architecture.", arch, ".deformation");
  if (!(std::isfinite(d.s) && d.s > 0)) {
    return Invalid(prefix + ".s", d.s, "finite and > 0");
  }
  if (!(std::isfinite(d.lambda) && d.lambda >= 0)) {
    return Invalid(prefix + ".lambda", d.lambda,
                   "finite and >= 0 (a negative quartic term is not "
                   "normalisable)");
  }
  const int depth = static_cast<int>(mlp.widths.size());
  if (d.layer < -1 || d.layer > depth) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, ".layer = ", d.layer, ": must be in [0, ", depth,
        "] (the weight matrix W^(l)), or -1 for the output layer"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBox(const CosNetSpec& c) {
  if (c.box_side == 0) return absl::OkStatus();
  if (!(std::isfinite(c.box_side) && c.box_side > 0)) {
    return Invalid("architecture.cos_net.box_side", c.box_side,
                   "finite and > 0, or 0 for the continuum");
  }
  return MakeBoxLattice(c.input_dim, c.box_side, c.cutoff).status();
}

absl::Status ValidateInsertion(const ExperimentSpec& spec) {
  if (!spec.insertion.has_value()) return absl::OkStatus();
  const Insertion& in = *spec.insertion;
  const auto* cos = std::get_if<CosNetSpec>(&spec.architecture);
  if (cos == nullptr || cos->box_side <= 0) {
    return absl::InvalidArgumentError(
        "insertion: the phi^4 insertion needs a cos_net architecture with "
        "box_side > 0 (the integral runs over the periodic box)");
  }
  if (!(std::isfinite(in.lambda) && in.lambda >= 0)) {
    return Invalid("insertion.lambda", in.lambda, "finite and >= 0");
  }
  if (!(in.ess_warning_fraction >= 0 && in.ess_warning_fraction <= 1)) {
    return Invalid("insertion.ess_warning_fraction", in.ess_warning_fraction,
                   "in [0, 1]");
  }
  if (spec.sampling.integrate_output_layer) {
    return absl::InvalidArgumentError(
        "insertion: not with sampling.integrate_output_layer (the weight "
        "depends on the output layer)");
  }
  const double shift = in.lambda / 24 * Phi4Reference(spec);
  if (!(shift < 700)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "insertion.lambda = ", in.lambda,
        ": (lambda/4!) <int phi^4>_free = ", shift,
        " must be < 700 (the weights would overflow; at such couplings "
        "reweighting the free ensemble has no usable sample anyway)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateEffectiveCoupling(const ExperimentSpec& spec) {
  if (!spec.effective_coupling.has_value()) return absl::OkStatus();
  const EffectiveCouplingSpec& ec = *spec.effective_coupling;
  const auto& orders = spec.observables.orders;
  const bool has4 = std::find(orders.begin(), orders.end(), 4) != orders.end();
  bool tuple4 = false;
  for (const auto& t : spec.observables.tuples) tuple4 |= t.size() == 4;
  if (!has4 && !tuple4) {
    return absl::InvalidArgumentError(
        "effective_coupling: needs 4-point correlators (order 4 in "
        "observables.orders or 4-point tuples)");
  }
  if (ec.cutoffs.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("effective_coupling.cutoffs has ", ec.cutoffs.size(),
                     " entries: at most 64"));
  }
  const int d = InputDim(spec.architecture);
  if (!ec.cutoffs.empty() && d > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("effective_coupling.cutoffs: input dimension ", d,
                     ": the coupling's integral over [-Lambda, Lambda]^d "
                     "supports d = 1, 2"));
  }
  for (size_t i = 0; i < ec.cutoffs.size(); ++i) {
    if (!(std::isfinite(ec.cutoffs[i]) && ec.cutoffs[i] > 0)) {
      return Invalid(absl::StrCat("effective_coupling.cutoffs[", i, "]"),
                     ec.cutoffs[i], "finite and > 0");
    }
  }
  if (ec.amputated_vertex) {
    if (!has4 || !spec.observables.tuples.empty()) {
      return absl::InvalidArgumentError(
          "effective_coupling.amputated_vertex: needs every 4-point tuple "
          "(order 4 in observables.orders and no explicit tuples)");
    }
    if (spec.points.rows() > 12) {
      return absl::InvalidArgumentError(absl::StrCat(
          "effective_coupling.amputated_vertex: ", spec.points.rows(),
          " points: at most 12 (the contraction costs P^5 per jackknife "
          "bin)"));
    }
    NNFT_RETURN_IF_ERROR(InverseKernel(spec).status());
  }
  if (!ec.cutoffs.empty() || ec.amputated_vertex) {
    if (const auto* mlp = std::get_if<MlpSpec>(&spec.architecture);
        mlp != nullptr && mlp->deformation.has_value() &&
        !(mlp->widths.size() == 1 &&
          (mlp->deformation->layer < 0 || mlp->deformation->layer == 1))) {
      return absl::InvalidArgumentError(
          "effective_coupling: no exact two-point function for a deformed "
          "hidden layer");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateInteractionArchitecture(const Architecture& architecture,
                                             const SamplingSpec* sampling) {
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    NNFT_RETURN_IF_ERROR(ValidateDeformation(*mlp, "mlp"));
    const bool output =
        mlp->deformation.has_value() &&
        (mlp->deformation->layer < 0 ||
         mlp->deformation->layer == static_cast<int>(mlp->widths.size()));
    if (output && sampling != nullptr && sampling->integrate_output_layer) {
      return absl::InvalidArgumentError(
          "architecture.mlp.deformation: a deformed output layer is not "
          "Gaussian: not with sampling.integrate_output_layer");
    }
  } else if (const auto* c = std::get_if<CosNetSpec>(&architecture)) {
    NNFT_RETURN_IF_ERROR(ValidateBox(*c));
  }
  return absl::OkStatus();
}

absl::Status ValidateInteractions(const ExperimentSpec& spec) {
  NNFT_RETURN_IF_ERROR(
      ValidateInteractionArchitecture(spec.architecture, &spec.sampling));
  NNFT_RETURN_IF_ERROR(ValidateInsertion(spec));
  return ValidateEffectiveCoupling(spec);
}

}  // namespace nnft
