// Slot theory for multi-component fields (core/theory/slot_theory.h).
#include "core/theory/slot_theory.h"

#include <limits>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/theory/wick.h"

namespace nnft::theory {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

FieldOptions OptionsOf(const Architecture& a) {
  if (const auto* m = std::get_if<MlpSpec>(&a)) return m->field;
  if (const auto* g = std::get_if<GaussNetSpec>(&a)) return g->field;
  return {};
}

// The single-component isotropic architecture (axes and mean dropped).
Architecture Reduced(const Architecture& a) {
  return std::visit(
      [](auto arch) -> Architecture {
        if constexpr (requires { arch.field; }) arch.field = FieldOptions{};
        if constexpr (requires { arch.output_dim; }) arch.output_dim = 1;
        return arch;
      },
      a);
}

bool AnyNonZero(const std::vector<double>& v) {
  for (double x : v) {
    if (x != 0.0) return true;
  }
  return false;
}

}  // namespace

bool NeedsSlotTheory(const ExperimentSpec& spec, const TupleSet& tuples) {
  const FieldOptions o = OptionsOf(spec.architecture);
  return OutputDim(spec.architecture) > 1 || !o.sw0_axes.empty() ||
         !o.output_mean.empty() || !spec.symmetry_checks.empty() ||
         !spec.cluster_checks.empty() ||
         tuples.num_points() != spec.points.rows();
}

absl::StatusOr<TheoryValues> SlotTheory(const ExperimentSpec& spec,
                                        const Eigen::MatrixXd& points_in,
                                        const TupleSet& tuples) {
  const int dout = OutputDim(spec.architecture);
  const FieldOptions o = OptionsOf(spec.architecture);
  const std::vector<int>& requested = tuples.requested();
  const size_t count = requested.size();
  TheoryValues out;
  out.gp_full.assign(count, kNaN);
  out.gp_connected.assign(count, kNaN);
  out.exact_full.assign(count, kNaN);
  out.exact_connected.assign(count, kNaN);
  if (AnyNonZero(o.output_mean)) {
    out.method = "no theory: output_mean shifts the output layer";
    return out;
  }
  ExperimentSpec reduced;
  reduced.architecture = Reduced(spec.architecture);
  reduced.points = points_in.size() > 0 ? points_in : spec.points;
  if (!o.sw0_axes.empty()) {
    for (int k = 0; k < reduced.points.cols(); ++k) {
      reduced.points.col(k) *= o.sw0_axes[k];
    }
  }
  reduced.sampling = spec.sampling;
  reduced.sampling.integrate_output_layer = false;
  // Single-component tuples: the reduced theory at their point tuples.
  std::vector<int> same_to_request(count, -1);
  reduced.observables.orders.clear();
  absl::flat_hash_map<Tuple, int> point_tuples;
  for (size_t i = 0; i < count; ++i) {
    const Tuple& t = tuples.tuples()[requested[i]];
    Tuple pts;
    bool same = true;
    for (int s : t) {
      same = same && s % dout == t[0] % dout;
      pts.push_back(s / dout);
    }
    if (!same) continue;
    auto [it, added] = point_tuples.emplace(
        pts, static_cast<int>(reduced.observables.tuples.size()));
    if (added) reduced.observables.tuples.push_back(pts);
    same_to_request[i] = it->second;
  }
  // A kernel that is not computed (attention beyond the supported shapes
  // or over its point budget: Unimplemented, ResourceExhausted) leaves the
  // GP values NaN; ComputeTheory's method says why.
  absl::StatusOr<Eigen::MatrixXd> kernel =
      NngpKernel(reduced.architecture, reduced.points);
  if (kernel.ok()) {
    out.kernel = *std::move(kernel);
  } else if (kernel.status().code() == absl::StatusCode::kInvalidArgument) {
    return kernel.status();
  }
  TheoryValues single;
  if (!reduced.observables.tuples.empty()) {
    NNFT_ASSIGN_OR_RETURN(
        TupleSet set, TupleSet::Build(static_cast<int>(reduced.points.rows()),
                                      reduced.observables, int64_t{1} << 22));
    NNFT_ASSIGN_OR_RETURN(single, ComputeTheory(reduced, set));
  }
  out.has_exact = single.has_exact;
  out.leading_order_in_inverse_width = single.leading_order_in_inverse_width;
  for (size_t i = 0; i < count; ++i) {
    const Tuple& t = tuples.tuples()[requested[i]];
    if (same_to_request[i] >= 0) {
      const int j = same_to_request[i];
      out.gp_full[i] = single.gp_full[j];
      out.gp_connected[i] = single.gp_connected[j];
      out.exact_full[i] = single.exact_full[j];
      out.exact_connected[i] = single.exact_connected[j];
      continue;
    }
    const int n = static_cast<int>(t.size());
    if (out.kernel.size() == 0) continue;
    Eigen::MatrixXd k(n, n);  // delta^{ab} K over the tuple's slots
    for (int a = 0; a < n; ++a) {
      for (int b = 0; b < n; ++b) {
        k(a, b) = t[a] % dout == t[b] % dout
                      ? out.kernel(t[a] / dout, t[b] / dout)
                      : 0.0;
      }
    }
    std::vector<int> idx(n);
    for (int a = 0; a < n; ++a) idx[a] = a;
    out.gp_full[i] = WickSum(k, idx);
    out.gp_connected[i] = n == 2 ? k(0, 1) : 0.0;
    if (n <= 3 && out.has_exact) {
      out.exact_full[i] = out.exact_connected[i] = 0.0;
    }
  }
  out.method = absl::StrCat(
      single.method.empty() ? "NNGP kernel" : single.method,
      dout > 1 ? "; components independent: delta^{ab} K, mixed tuples of "
                 "order >= 4 GP only"
               : "",
      o.sw0_axes.empty() ? ""
                         : "; anisotropic first layer as x'_k = axes_k x_k");
  return out;
}

}  // namespace nnft::theory
