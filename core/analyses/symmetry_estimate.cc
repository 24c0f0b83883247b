// Symmetry and cluster estimates (core/analyses/symmetry_estimate.h).
#include "core/analyses/symmetry_estimate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include "Eigen/Cholesky"
#include "Eigen/Core"
#include "absl/strings/str_cat.h"
#include "core/estimate/reliability.h"
#include "core/status_macros.h"
#include "core/theory/slot_theory.h"

namespace nnft {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kFamilyAlpha = 0.01;

Tuple Sorted(Tuple t) {
  std::sort(t.begin(), t.end());
  return t;
}

// Hotelling's T^2 of the differences of the closure pairs (base[i],
// moved[i]) over the bins, and its F p-value (SymmetryResult). NaN pair
// when it does not apply.
std::pair<double, double> HotellingTest(const std::vector<int>& base,
                                        const std::vector<int>& moved,
                                        const TupleSet& tuples,
                                        const MomentAccumulator& acc) {
  const std::pair<double, double> none = {kNaN, kNaN};
  const BinnedSums sums = acc.Binned();
  const int nb = static_cast<int>(sums.bins.size());
  const int p = static_cast<int>(base.size());
  if (p == 0 || p >= nb || sums.networks <= 0) return none;
  for (const auto& bin : sums.bins) {
    if (static_cast<int64_t>(bin.size()) != tuples.size()) return none;
  }
  const double total_n = static_cast<double>(sums.networks);
  Eigen::MatrixXd d(nb, p);
  Eigen::VectorXd w(nb);
  for (int b = 0; b < nb; ++b) {
    const double n = static_cast<double>(sums.counts[b]);
    if (!(n > 0)) return none;
    w[b] = n / total_n;
    for (int i = 0; i < p; ++i) {
      d(b, i) = (sums.bins[b][moved[i]] - sums.bins[b][base[i]]) / n;
    }
  }
  const Eigen::VectorXd delta = d.transpose() * w;
  const Eigen::MatrixXd centred =
      w.asDiagonal() * (d.rowwise() - delta.transpose());
  const double norm = 1.0 - w.squaredNorm();
  if (!(norm > 0)) return none;
  const Eigen::MatrixXd c = centred.transpose() * centred / norm;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(c);
  const Eigen::VectorXd pivots = ldlt.vectorD();
  const double largest = pivots.cwiseAbs().maxCoeff();
  if (ldlt.info() != Eigen::Success || !(largest > 0) ||
      !(pivots.minCoeff() > 1e-12 * largest)) {
    return none;
  }
  const double t2 = delta.dot(ldlt.solve(delta));
  const double f = (nb - p) * t2 / (p * (nb - 1.0));
  return {t2, FSurvival(f, p, nb - p)};
}

SymmetryResult EstimateSymmetry(const SymmetryCheck& check, int index,
                                const EvaluationPlan& plan,
                                const TupleSet& tuples,
                                const MomentAccumulator& acc) {
  SymmetryResult r;
  r.label = check.label;
  r.kind = SymmetryKindName(check.kind);
  std::vector<int> used_base, used_moved;
  for (int req : tuples.requested()) {
    const Tuple& t = tuples.tuples()[req];
    const int moved = tuples.Find(plan.Map(index, t));
    const auto e = acc.MeansJackknife(
        {req, moved}, [](const std::vector<double>& m) { return m[1] - m[0]; });
    r.tuples.push_back(t);
    r.difference.push_back(e.value);
    r.stderr_difference.push_back(e.stderr_value);
    const bool usable = std::isfinite(e.stderr_value) && e.stderr_value > 0;
    const double z = usable ? e.value / e.stderr_value : kNaN;
    r.z.push_back(z);
    if (!usable || !std::isfinite(z)) continue;
    r.chi2 += z * z;
    r.dof += 1;
    used_base.push_back(req);
    used_moved.push_back(moved);
    r.max_abs_z = std::max(r.max_abs_z, std::abs(z));
  }
  if (r.dof == 0) {
    r.chi2_per_dof = r.max_abs_z = kNaN;
    r.z_threshold = kNaN;
    return r;
  }
  r.chi2_per_dof = r.chi2 / r.dof;
  r.z_threshold = BonferroniThreshold(r.dof, kFamilyAlpha);
  r.consistent = r.max_abs_z <= r.z_threshold;
  std::tie(r.hotelling_t2, r.p_value_correlated) =
      HotellingTest(used_base, used_moved, tuples, acc);
  return r;
}

absl::StatusOr<ClusterResult> EstimateCluster(const ExperimentSpec& spec,
                                              const ClusterCheck& check,
                                              int index,
                                              const EvaluationPlan& plan,
                                              const TupleSet& tuples,
                                              const MomentAccumulator& acc) {
  ClusterResult r;
  r.label = check.label;
  r.separations = check.separations;
  ObservableSpec theory_tuples;
  theory_tuples.orders.clear();
  for (const auto& s : plan.cluster_slots[index]) {
    const int g4 = tuples.Find(Sorted({s[0], s[1], s[2], s[3]}));
    const int a = tuples.Find(Sorted({s[0], s[1]}));
    const int b = tuples.Find(Sorted({s[2], s[3]}));
    const auto e = acc.MeansJackknife(
        {g4, a, b},
        [](const std::vector<double>& m) { return m[0] - m[1] * m[2]; });
    r.value.push_back(e.value);
    r.stderr_value.push_back(e.stderr_value);
    theory_tuples.tuples.push_back({s[0], s[1], s[2], s[3]});
    theory_tuples.tuples.push_back({s[0], s[1]});
    theory_tuples.tuples.push_back({s[2], s[3]});
  }
  NNFT_ASSIGN_OR_RETURN(
      TupleSet set,
      TupleSet::Build(plan.real_slots, theory_tuples, int64_t{1} << 22));
  NNFT_ASSIGN_OR_RETURN(TheoryValues th,
                        theory::SlotTheory(spec, plan.points, set));
  const bool exact = th.has_exact;
  const std::vector<double>& full = exact ? th.exact_full : th.gp_full;
  r.theory_kind = exact ? "finite width" : "infinite width (GP)";
  // Build deduplicates repeated tuples: look each one up again.
  std::vector<double> by_tuple(set.size(), kNaN);
  for (size_t i = 0; i < set.requested().size(); ++i) {
    by_tuple[set.requested()[i]] = full[i];
  }
  for (size_t j = 0; j < r.value.size(); ++j) {
    const auto& q = theory_tuples.tuples;
    auto at = [&](const std::vector<int>& t) {
      return by_tuple[set.Find(Sorted(t))];
    };
    const double d = at(q[3 * j]) - at(q[3 * j + 1]) * at(q[3 * j + 2]);
    r.theory.push_back(d);
    r.z_theory.push_back((r.value[j] - d) / r.stderr_value[j]);
  }
  r.exponential = FitDecay(r.separations, r.value, r.stderr_value,
                           DecayModel::kExponential);
  r.gaussian =
      FitDecay(r.separations, r.value, r.stderr_value, DecayModel::kGaussian);
  r.power =
      FitDecay(r.separations, r.value, r.stderr_value, DecayModel::kPower);
  double best = std::numeric_limits<double>::infinity();
  for (const DecayFit* f : {&r.exponential, &r.gaussian, &r.power}) {
    if (f->model.empty()) continue;
    const double score = std::isfinite(f->chi2_per_dof) ? f->chi2_per_dof : 0;
    if (score < best) best = score, r.preferred = f->model;
  }
  r.z_last = r.value.back() / r.stderr_value.back();
  return r;
}

}  // namespace

std::string SymmetryKindName(SymmetryCheck::Kind kind) {
  using Kind = SymmetryCheck::Kind;
  switch (kind) {
    case Kind::kRotation:
      return "rotation";
    case Kind::kTranslation:
      return "translation";
    case Kind::kReflection:
      return "reflection";
    case Kind::kPhiSignFlip:
      return "phi_sign_flip";
    case Kind::kOutputRotation:
      return "output_rotation";
    case Kind::kCoordinatePermutation:
      return "coordinate_permutation";
  }
  return "unknown";
}

double BonferroniThreshold(int dof, double alpha) {
  if (dof <= 0) return kNaN;
  // Solve erfc(z / sqrt 2) = alpha / dof by bisection (erfc decreasing).
  const double target = alpha / dof;
  double lo = 0.0, hi = 40.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (std::erfc(mid / std::sqrt(2.0)) > target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

DecayFit FitDecay(const std::vector<double>& s, const std::vector<double>& d,
                  const std::vector<double>& se, DecayModel model) {
  DecayFit fit;
  const bool power = model == DecayModel::kPower;
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  std::vector<double> xs, ys, ws;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!(std::abs(d[i]) > 2 * se[i]) || (power && s[i] <= 0)) continue;
    const double x = model == DecayModel::kExponential ? s[i]
                     : model == DecayModel::kGaussian  ? s[i] * s[i]
                                                       : std::log(s[i]);
    const double y = std::log(std::abs(d[i]));
    const double w = (d[i] / se[i]) * (d[i] / se[i]);
    xs.push_back(x);
    ys.push_back(y);
    ws.push_back(w);
    sw += w, sx += w * x, sy += w * y, sxx += w * x * x, sxy += w * x * y;
  }
  const int n = static_cast<int>(xs.size());
  const double delta = sw * sxx - sx * sx;
  if (n < 2 || !(delta > 0)) return fit;
  const double b = (sw * sxy - sx * sy) / delta;
  const double a = (sxx * sy - sx * sxy) / delta;
  const double b_err = std::sqrt(sw / delta);
  double chi2 = 0;
  for (int i = 0; i < n; ++i) {
    const double res = ys[i] - a - b * xs[i];
    chi2 += ws[i] * res * res;
  }
  fit.amplitude = std::exp(a);
  switch (model) {
    case DecayModel::kExponential:  // b = -1 / xi
      fit.model = "exponential";
      fit.scale = -1.0 / b;
      fit.scale_stderr = b_err / (b * b);
      break;
    case DecayModel::kGaussian:  // b = -1 / xi^2
      fit.model = "gaussian";
      fit.scale = 1.0 / std::sqrt(std::abs(b));
      fit.scale_stderr = 0.5 * b_err / std::pow(std::abs(b), 1.5);
      break;
    case DecayModel::kPower:  // b = -p
      fit.model = "power";
      fit.scale = -b;
      fit.scale_stderr = b_err;
      break;
  }
  fit.chi2_per_dof = n > 2 ? chi2 / (n - 2) : kNaN;
  fit.points = n;
  return fit;
}

absl::StatusOr<CheckResults> EstimateChecks(const ExperimentSpec& spec,
                                            const TupleSet& tuples,
                                            const MomentAccumulator& acc) {
  CheckResults out;
  if (spec.symmetry_checks.empty() && spec.cluster_checks.empty()) return out;
  const EvaluationPlan plan = MakeEvaluationPlan(spec);
  for (size_t c = 0; c < spec.symmetry_checks.size(); ++c) {
    out.symmetry.push_back(EstimateSymmetry(
        spec.symmetry_checks[c], static_cast<int>(c), plan, tuples, acc));
  }
  for (size_t c = 0; c < spec.cluster_checks.size(); ++c) {
    NNFT_ASSIGN_OR_RETURN(
        ClusterResult r,
        EstimateCluster(spec, spec.cluster_checks[c], static_cast<int>(c), plan,
                        tuples, acc));
    out.cluster.push_back(std::move(r));
  }
  return out;
}

}  // namespace nnft
