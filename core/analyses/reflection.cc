// Reflection-positivity matrices and their spectra (reflection.h).
#include "core/analyses/reflection.h"

#include <cmath>
#include <limits>
#include <utility>

#include "Eigen/Eigenvalues"
#include "absl/container/flat_hash_map.h"
#include "core/estimate/jackknife.h"
#include "core/status_macros.h"

namespace nnft {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Index layout of the engine form's points.
struct Layout {
  int p = 0;  // the spec's points
  int q = 0;  // RP points
  int Original(int i) const { return p + i; }
  int Reflected(int i) const { return p + q + i; }
};

Layout LayoutOf(const ExperimentSpec& spec) {
  return {static_cast<int>(spec.points.rows()),
          static_cast<int>(spec.reflection.points.rows())};
}

Tuple Sorted(Tuple t) {
  std::sort(t.begin(), t.end());
  return t;
}

// The tuple behind M(a, b): two-point a, b in [0, Q); four-point over the
// pairs (i <= j) listed in `pairs`.
std::vector<std::vector<Tuple>> MatrixTuples(
    const Layout& l, bool four_point,
    const std::vector<std::pair<int, int>>& pairs) {
  std::vector<std::vector<Tuple>> m;
  if (!four_point) {
    m.assign(l.q, std::vector<Tuple>(l.q));
    for (int a = 0; a < l.q; ++a)
      for (int b = 0; b < l.q; ++b)
        m[a][b] = Sorted({l.Reflected(a), l.Original(b)});
    return m;
  }
  const int n = static_cast<int>(pairs.size());
  m.assign(n, std::vector<Tuple>(n));
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b)
      m[a][b] =
          Sorted({l.Reflected(pairs[a].first), l.Reflected(pairs[a].second),
                  l.Original(pairs[b].first), l.Original(pairs[b].second)});
  return m;
}

std::vector<std::pair<int, int>> Pairs(int q) {
  std::vector<std::pair<int, int>> out;
  for (int i = 0; i < q; ++i)
    for (int j = i; j < q; ++j) out.emplace_back(i, j);
  return out;
}

std::string Verdict(const RpMatrix& m, double z_threshold) {
  const double se_max = m.eigenvalue_stderr.back();
  if (!std::isfinite(m.min_stderr)) return "inconclusive";
  if (m.min_stderr == 0.0) {
    const double tol = 1e-12 * std::abs(m.eigenvalues.back());
    return m.min_eigenvalue >= -tol ? "holds" : "violated";
  }
  if (m.z < -z_threshold) return "violated";
  if (!(m.eigenvalues.back() >= z_threshold * se_max)) return "inconclusive";
  return "holds";
}

RpMatrix EstimateMatrix(const std::vector<std::vector<Tuple>>& cells,
                        const TupleSet& tuples, const BinnedSums& sums,
                        double z_threshold) {
  const int n = static_cast<int>(cells.size());
  std::vector<int> index(n * n);
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) index[a * n + b] = tuples.Find(cells[a][b]);
  const auto matrix = [&](const std::vector<double>& means) {
    Eigen::MatrixXd m(n, n);
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b) m(a, b) = means[index[a * n + b]];
    return m;
  };
  const JackknifeResult jk =
      Jackknife(sums, [&](const std::vector<double>& means) {
        return SymmetricEigenvalues(matrix(means));
      });
  RpMatrix out;
  out.size = n;
  std::vector<double> means(sums.total.size());
  for (size_t t = 0; t < means.size(); ++t) {
    means[t] = sums.total[t] / static_cast<double>(sums.networks);
  }
  const Eigen::MatrixXd m = matrix(means);
  out.estimate = 0.5 * (m + m.transpose());
  out.eigenvalues = jk.value;
  out.eigenvalue_stderr = jk.stderr_value;
  out.min_eigenvalue = jk.value.front();
  out.min_stderr = jk.stderr_value.front();
  out.z = out.min_eigenvalue / out.min_stderr;
  out.p_negative = 0.5 * std::erfc(out.z / std::sqrt(2.0));
  out.verdict = Verdict(out, z_threshold);
  return out;
}

// Exact M from the engine theory: the kernel (two-point; exact G2 at every
// width for every architecture, their output layers being Gaussian) or the
// exact full correlators (four-point, where known).
void AddExact(const std::vector<std::vector<Tuple>>& cells, bool four_point,
              const TupleSet& tuples, const TheoryValues& theory,
              RpMatrix* out) {
  const int n = static_cast<int>(cells.size());
  Eigen::MatrixXd m(n, n);
  absl::flat_hash_map<int, int> position;  // closure index -> requested
  const auto& requested = tuples.requested();
  for (size_t r = 0; r < requested.size(); ++r) position[requested[r]] = r;
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      const Tuple& t = cells[a][b];
      if (!four_point) {
        const bool ok = theory.kernel.rows() > std::max(t[0], t[1]);
        m(a, b) = ok ? theory.kernel(t[0], t[1]) : kNaN;
      } else {
        auto it = position.find(tuples.Find(t));
        m(a, b) = theory.has_exact && it != position.end()
                      ? theory.exact_full[it->second]
                      : kNaN;
      }
    }
  }
  if (!m.allFinite()) return;
  out->has_exact = true;
  out->exact = 0.5 * (m + m.transpose());
  out->exact_eigenvalues = SymmetricEigenvalues(out->exact);
}

}  // namespace

std::vector<double> SymmetricEigenvalues(const Eigen::MatrixXd& m) {
  if (!m.allFinite()) {
    return std::vector<double>(m.rows(), kNaN);
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(
      0.5 * (m + m.transpose()), Eigen::EigenvaluesOnly);
  const Eigen::VectorXd& e = solver.eigenvalues();  // ascending
  return std::vector<double>(e.data(), e.data() + e.size());
}

absl::StatusOr<ExperimentSpec> ReflectionEngineSpec(const ExperimentSpec& spec,
                                                    const Limits& limits) {
  const Layout l = LayoutOf(spec);
  const ReflectionSpec& r = spec.reflection;
  ExperimentSpec out = spec;
  out.reflection = ReflectionSpec{};
  out.points.resize(l.p + 2 * l.q, spec.points.cols());
  out.points.topRows(l.p) = spec.points;
  out.points.middleRows(l.p, l.q) = r.points;
  Eigen::MatrixXd reflected = r.points;
  reflected.col(r.axis) *= -1.0;
  out.points.bottomRows(l.q) = reflected;
  NNFT_ASSIGN_OR_RETURN(
      TupleSet user, TupleSet::Build(l.p, spec.observables, limits.max_tuples));
  ObservableSpec obs;
  for (int t : user.requested()) obs.tuples.push_back(user.tuples()[t]);
  const auto add = [&](const std::vector<std::vector<Tuple>>& cells) {
    for (const auto& row : cells)
      for (const Tuple& t : row) obs.tuples.push_back(t);
  };
  add(MatrixTuples(l, false, {}));
  if (r.include_four_point) add(MatrixTuples(l, true, Pairs(l.q)));
  out.observables = std::move(obs);
  NNFT_RETURN_IF_ERROR(
      TupleSet::CountClosure(static_cast<int>(out.points.rows()),
                             out.observables, limits.max_tuples)
          .status());
  return out;
}

ReflectionResult AnalyzeReflection(const ExperimentSpec& spec,
                                   const TupleSet& engine_tuples,
                                   const BinnedSums& sums,
                                   const TheoryValues& engine_theory) {
  const Layout l = LayoutOf(spec);
  const ReflectionSpec& r = spec.reflection;
  ReflectionResult out;
  out.axis = r.axis;
  out.z_threshold = r.z_threshold;
  out.points = r.points;
  const auto two = MatrixTuples(l, false, {});
  out.two_point = EstimateMatrix(two, engine_tuples, sums, r.z_threshold);
  AddExact(two, false, engine_tuples, engine_theory, &out.two_point);
  if (r.include_four_point) {
    const auto four = MatrixTuples(l, true, Pairs(l.q));
    out.has_four_point = true;
    out.four_point = EstimateMatrix(four, engine_tuples, sums, r.z_threshold);
    AddExact(four, true, engine_tuples, engine_theory, &out.four_point);
  }
  return out;
}

}  // namespace nnft
