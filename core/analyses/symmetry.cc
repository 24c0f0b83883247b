// Evaluation plans for symmetry and cluster checks (core/analyses/symmetry.h).
#include "core/analyses/symmetry.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <variant>

#include "Eigen/LU"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace nnft {
namespace {

constexpr double kOrthogonalTolerance = 1e-9;
constexpr int kMaxSeparations = 64;

// R is n x n, finite, R R^T = 1 and det R = +1 within 1e-9 (a rotation).
absl::Status CheckRotation(absl::string_view field, const Eigen::MatrixXd& r,
                           int n) {
  if (r.rows() != n || r.cols() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " has ", r.size(), " entries: must be ", n, " x ",
                     n, " = ", int64_t{n} * n, " (row-major)"));
  }
  if (!r.allFinite()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": entries must be finite"));
  }
  const double off = (r * r.transpose() - Eigen::MatrixXd::Identity(n, n))
                         .cwiseAbs()
                         .maxCoeff();
  if (off > kOrthogonalTolerance) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": not orthogonal (max |R R^T - 1| = ", off,
        "): a rotation must satisfy R R^T = 1 within ", kOrthogonalTolerance));
  }
  const double det = r.determinant();
  if (std::abs(det - 1.0) > kOrthogonalTolerance) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": determinant ", det,
        ": a rotation must have det R = +1 (use reflection for det -1)"));
  }
  return absl::OkStatus();
}

absl::Status CheckSymmetry(const SymmetryCheck& c, absl::string_view field,
                           int d, int dout, int num_points) {
  using Kind = SymmetryCheck::Kind;
  switch (c.kind) {
    case Kind::kRotation:
      return CheckRotation(absl::StrCat(field, ".rotation"), c.matrix, d);
    case Kind::kOutputRotation:
      return CheckRotation(absl::StrCat(field, ".output_rotation"), c.matrix,
                           dout);
    case Kind::kTranslation:
      if (c.vector.size() != d || !c.vector.allFinite()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".translation has ", c.vector.size(),
                         " entries: must be ", d, " finite values"));
      }
      return absl::OkStatus();
    case Kind::kReflection:
      if (c.axis < 0 || c.axis >= d) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".reflection_axis = ", c.axis,
                         ": must be in [0, ", d - 1, "]"));
      }
      return absl::OkStatus();
    case Kind::kPhiSignFlip:
      return absl::OkStatus();
    case Kind::kCoordinatePermutation: {
      std::vector<int> sorted = c.permutation;
      std::sort(sorted.begin(), sorted.end());
      bool ok = static_cast<int>(sorted.size()) == d;
      for (int i = 0; ok && i < d; ++i) ok = sorted[i] == i;
      if (!ok) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".coordinate_permutation: must list each of 0..", d - 1,
            " exactly once (", d, " entries)"));
      }
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": no transformation"));
}

absl::Status CheckCluster(const ClusterCheck& c, absl::string_view field, int d,
                          int dout, int num_points) {
  if (c.points.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".points has ", c.points.size(),
                     " entries: must be 4 point indices (i, j, k, l)"));
  }
  for (size_t i = 0; i < 4; ++i) {
    if (c.points[i] < 0 || c.points[i] >= num_points) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".points[", i, "] = ", c.points[i],
                       ": must be in [0, ", num_points - 1, "]"));
    }
  }
  if (c.component < 0 || c.component >= dout) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".component = ", c.component, ": must be in [0, ",
                     dout - 1, "]"));
  }
  if (c.direction.size() != d || !c.direction.allFinite() ||
      c.direction.norm() == 0.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".direction: must be ", d, " finite values, not all 0"));
  }
  const int n = static_cast<int>(c.separations.size());
  if (n < 2 || n > kMaxSeparations) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".separations has ", n, " entries: must be in [2, ",
                     kMaxSeparations, "]"));
  }
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(c.separations[i]) || c.separations[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".separations[", i, "] = ", c.separations[i],
                       ": must be finite and >= 0"));
    }
  }
  return absl::OkStatus();
}

// Appends rows to plan.points; returns the index of the first.
int AppendPoints(EvaluationPlan& plan, const Eigen::MatrixXd& rows) {
  const int first = static_cast<int>(plan.points.rows());
  plan.points.conservativeResize(first + rows.rows(), Eigen::NoChange);
  plan.points.bottomRows(rows.rows()) = rows;
  return first;
}

// Slot map of an input transformation: base point p -> appended point.
std::vector<int> InputMap(EvaluationPlan& plan, const Eigen::MatrixXd& moved) {
  const int first = AppendPoints(plan, moved);
  std::vector<int> map(plan.base_slots());
  for (int s = 0; s < plan.base_slots(); ++s) {
    const int p = s / plan.output_dim, c = s % plan.output_dim;
    map[s] = (first + p) * plan.output_dim + c;
  }
  return map;
}

}  // namespace

Tuple EvaluationPlan::Map(int check, const Tuple& tuple) const {
  Tuple out;
  for (int s : tuple) out.push_back(slot_maps[check][s]);
  std::sort(out.begin(), out.end());
  return out;
}

int NumBaseSlots(const ExperimentSpec& spec) {
  return static_cast<int>(spec.points.rows()) * OutputDim(spec.architecture);
}

absl::Status ValidateFieldCompatibility(const ExperimentSpec& spec) {
  const bool checks =
      !spec.symmetry_checks.empty() || !spec.cluster_checks.empty();
  const bool multi = OutputDim(spec.architecture) > 1;
  const MlpSpec* mlp = std::get_if<MlpSpec>(&spec.architecture);
  const bool axes =
      (mlp != nullptr && !mlp->field.sw0_axes.empty()) ||
      (std::holds_alternative<GaussNetSpec>(spec.architecture) &&
       !std::get<GaussNetSpec>(spec.architecture).field.sw0_axes.empty());
  struct Feature {
    bool used;
    const char* name;
  };
  const Feature features[] = {
      {spec.training.has_value(), "training"},
      {!spec.width_sweep.empty(), "width_sweep"},
      {spec.insertion.has_value(), "insertion"},
      {spec.effective_coupling.has_value(), "effective_coupling"},
      {spec.reflection.enabled, "reflection"},
      {mlp != nullptr && mlp->deformation.has_value(),
       "architecture.mlp.deformation"},
  };
  for (const Feature& f : features) {
    if (!f.used) continue;
    if (multi) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output_dim = ", OutputDim(spec.architecture), " with ", f.name,
          ": multi-component fields are not supported there; use "
          "output_dim = 1"));
    }
    if (checks) {
      return absl::InvalidArgumentError(absl::StrCat(
          "symmetry_checks, cluster_checks: not supported together with ",
          f.name));
    }
  }
  if (spec.training.has_value() && mlp != nullptr &&
      (axes || !mlp->field.output_mean.empty())) {
    return absl::InvalidArgumentError(
        "architecture.mlp.sw0_axes, output_mean with training: not supported "
        "(the trained networks are isotropic and centred); leave them empty");
  }
  if (axes && mlp != nullptr && mlp->deformation.has_value()) {
    return absl::InvalidArgumentError(
        "architecture.mlp.sw0_axes with architecture.mlp.deformation: not "
        "supported (the radial law acts on the isotropic weights); leave "
        "sw0_axes empty");
  }
  return absl::OkStatus();
}

absl::Status ValidateChecks(const ExperimentSpec& spec, const Limits& limits) {
  const bool checks =
      !spec.symmetry_checks.empty() || !spec.cluster_checks.empty();
  if (checks && (std::holds_alternative<NullConeSpec>(spec.architecture) ||
                 std::holds_alternative<OuNetSpec>(spec.architecture))) {
    return absl::InvalidArgumentError(
        "symmetry_checks, cluster_checks: available for mlp, gauss_net and "
        "cos_net only (null_cone and ou_net evaluate their points jointly)");
  }
  const int d = InputDim(spec.architecture);
  const int dout = OutputDim(spec.architecture);
  const int p = static_cast<int>(spec.points.rows());
  for (size_t i = 0; i < spec.symmetry_checks.size(); ++i) {
    NNFT_RETURN_IF_ERROR(CheckSymmetry(spec.symmetry_checks[i],
                                       absl::StrCat("symmetry_checks[", i, "]"),
                                       d, dout, p));
  }
  for (size_t i = 0; i < spec.cluster_checks.size(); ++i) {
    NNFT_RETURN_IF_ERROR(CheckCluster(spec.cluster_checks[i],
                                      absl::StrCat("cluster_checks[", i, "]"),
                                      d, dout, p));
  }
  if (spec.symmetry_checks.empty() && spec.cluster_checks.empty()) {
    return absl::OkStatus();
  }
  const EvaluationPlan plan = MakeEvaluationPlan(spec);
  if (plan.points.rows() > limits.max_points) {
    return absl::InvalidArgumentError(absl::StrCat(
        "symmetry_checks, cluster_checks: the checks need ", plan.points.rows(),
        " evaluation points with the spec's: more than the limit max_points = ",
        limits.max_points));
  }
  return BuildSpecTuples(spec, plan, limits.max_tuples).status();
}

EvaluationPlan MakeEvaluationPlan(const ExperimentSpec& spec) {
  using Kind = SymmetryCheck::Kind;
  EvaluationPlan plan;
  plan.output_dim = OutputDim(spec.architecture);
  plan.base_points = static_cast<int>(spec.points.rows());
  plan.points = spec.points;
  const int dout = plan.output_dim, base = plan.base_slots();
  // Virtual slots are numbered after every real slot, so they are collected
  // first with provisional indices (offset -1 - v) and fixed at the end.
  for (const SymmetryCheck& c : spec.symmetry_checks) {
    const Eigen::MatrixXd& x = spec.points;
    std::vector<int> map(base);
    switch (c.kind) {
      case Kind::kRotation:
        map = InputMap(plan, x * c.matrix.transpose());
        break;
      case Kind::kTranslation:
        map = InputMap(plan, x.rowwise() + c.vector.transpose());
        break;
      case Kind::kReflection: {
        Eigen::MatrixXd moved = x;
        moved.col(c.axis) *= -1.0;
        map = InputMap(plan, moved);
        break;
      }
      case Kind::kCoordinatePermutation: {
        Eigen::MatrixXd moved(x.rows(), x.cols());
        for (int k = 0; k < x.cols(); ++k) {
          moved.col(k) = x.col(c.permutation[k]);
        }
        map = InputMap(plan, moved);
        break;
      }
      case Kind::kPhiSignFlip:
      case Kind::kOutputRotation:
        for (int s = 0; s < base; ++s) {
          const int p = s / dout, a = s % dout;
          std::vector<EvaluationPlan::Term> terms;
          if (c.kind == Kind::kPhiSignFlip) {
            terms.push_back({s, -1.0});
          } else {
            for (int e = 0; e < dout; ++e) {
              if (c.matrix(a, e) != 0.0) {
                terms.push_back({p * dout + e, c.matrix(a, e)});
              }
            }
          }
          map[s] = -1 - static_cast<int>(plan.virtual_slots.size());
          plan.virtual_slots.push_back(std::move(terms));
        }
        break;
    }
    plan.slot_maps.push_back(std::move(map));
  }
  for (const ClusterCheck& c : spec.cluster_checks) {
    const Eigen::RowVectorXd u = c.direction.transpose();
    std::vector<std::array<int, 4>> slots;
    for (double sep : c.separations) {
      Eigen::MatrixXd moved(2, spec.points.cols());
      moved.row(0) = spec.points.row(c.points[2]) + sep * u;
      moved.row(1) = spec.points.row(c.points[3]) + sep * u;
      const int first = AppendPoints(plan, moved);
      slots.push_back(
          {c.points[0] * dout + c.component, c.points[1] * dout + c.component,
           first * dout + c.component, (first + 1) * dout + c.component});
    }
    plan.cluster_slots.push_back(std::move(slots));
  }
  plan.real_slots = static_cast<int>(plan.points.rows()) * dout;
  for (auto& map : plan.slot_maps) {
    for (int& s : map) {
      if (s < 0) s = plan.real_slots + (-1 - s);
    }
  }
  return plan;
}

absl::StatusOr<TupleSet> BuildSpecTuples(const ExperimentSpec& spec,
                                         const EvaluationPlan& plan,
                                         int64_t max_tuples) {
  NNFT_ASSIGN_OR_RETURN(
      TupleSet base,
      TupleSet::Build(plan.base_slots(), spec.observables, max_tuples));
  if (plan.slot_maps.empty() && plan.cluster_slots.empty()) return base;
  std::vector<Tuple> extra;
  for (size_t c = 0; c < plan.slot_maps.size(); ++c) {
    for (int r : base.requested()) {
      extra.push_back(plan.Map(static_cast<int>(c), base.tuples()[r]));
    }
  }
  for (const auto& check : plan.cluster_slots) {
    for (const auto& s : check) {
      extra.push_back({s[0], s[1], s[2], s[3]});
      extra.push_back({s[0], s[1]});
      extra.push_back({s[2], s[3]});
    }
  }
  return TupleSet::WithExtra(base, extra, plan.total_slots(), max_tuples);
}

absl::StatusOr<TupleSet> BuildSpecTuples(const ExperimentSpec& spec,
                                         int64_t max_tuples) {
  return BuildSpecTuples(spec, MakeEvaluationPlan(spec), max_tuples);
}

}  // namespace nnft
