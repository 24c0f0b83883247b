// Effective couplings from G4_c; formulas and conventions in
// effective_coupling.h.
#include "core/analyses/effective_coupling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "Eigen/Cholesky"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/theory/interactions.h"
#include "core/theory/quadrature.h"

namespace nnft {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Gauss-Legendre nodes and weights on [-cutoff, cutoff], split at 0 and at
// the coordinates in `breaks` that fall inside.
void AxisRule(double cutoff, std::vector<double> breaks, int panels, int order,
              std::vector<double>& nodes, std::vector<double>& weights) {
  breaks.push_back(-cutoff);
  breaks.push_back(0.0);
  breaks.push_back(cutoff);
  std::sort(breaks.begin(), breaks.end());
  std::vector<double> cuts;
  for (double b : breaks) {
    if (b >= -cutoff && b <= cutoff && (cuts.empty() || b > cuts.back())) {
      cuts.push_back(b);
    }
  }
  const theory::QuadratureRule& rule = theory::GaussLegendre(order);
  for (size_t c = 0; c + 1 < cuts.size(); ++c) {
    const double h = (cuts[c + 1] - cuts[c]) / panels;
    for (int p = 0; p < panels; ++p) {
      const double mid = cuts[c] + (p + 0.5) * h;
      for (int i = 0; i < order; ++i) {
        nodes.push_back(mid + 0.5 * h * rule.nodes[i]);
        weights.push_back(0.5 * h * rule.weights[i]);
      }
    }
  }
}

// Cross kernel K(node, x_j): nodes (Q x d) against the spec's points, in
// batches so each kernel call stays small.
absl::StatusOr<Eigen::MatrixXd> CrossKernel(const ExperimentSpec& spec,
                                            const Eigen::MatrixXd& nodes) {
  const Eigen::Index p = spec.points.rows(), d = spec.points.cols();
  constexpr Eigen::Index kBatch = 32;
  Eigen::MatrixXd out(nodes.rows(), p);
  for (Eigen::Index start = 0; start < nodes.rows(); start += kBatch) {
    const Eigen::Index b = std::min(kBatch, nodes.rows() - start);
    Eigen::MatrixXd all(p + b, d);
    all << spec.points, nodes.middleRows(start, b);
    NNFT_ASSIGN_OR_RETURN(Eigen::MatrixXd k,
                          theory::TwoPointKernel(spec.architecture, all));
    out.middleRows(start, b) = k.block(p, 0, b, p);
  }
  return out;
}

bool InsideRegion(const ExperimentSpec& spec, const Tuple& t, double cutoff) {
  for (int i : t) {
    if ((spec.points.row(i).array().abs() > cutoff).any()) return false;
  }
  return true;
}

// V = -G4_c contracted with K^-1 on every leg; g4 is the P^4 tensor.
std::vector<double> Amputate(const std::vector<double>& g4,
                             const Eigen::MatrixXd& kinv, int p) {
  std::vector<double> a = g4, b(g4.size());
  const int64_t p3 = int64_t{p} * p * p;
  // Contract the leading index and rotate it to the back, four times.
  for (int leg = 0; leg < 4; ++leg) {
    std::fill(b.begin(), b.end(), 0.0);
    for (int i = 0; i < p; ++i) {
      for (int q = 0; q < p; ++q) {
        const double c = kinv(q, i);
        if (c == 0) continue;
        const double* src = a.data() + q * p3;
        for (int64_t r = 0; r < p3; ++r) b[r * p + i] += c * src[r];
      }
    }
    a.swap(b);
  }
  for (double& v : a) v = -v;
  return a;
}

}  // namespace

absl::StatusOr<Eigen::MatrixXd> InverseKernel(const ExperimentSpec& spec) {
  NNFT_ASSIGN_OR_RETURN(Eigen::MatrixXd k,
                        theory::TwoPointKernel(spec.architecture, spec.points));
  Eigen::LDLT<Eigen::MatrixXd> ldlt(k);
  const Eigen::VectorXd diag = ldlt.vectorD();
  const double largest = diag.cwiseAbs().maxCoeff();
  for (Eigen::Index i = 0; i < diag.size(); ++i) {
    if (ldlt.info() != Eigen::Success || !(diag[i] > 1e-10 * largest)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "effective_coupling.amputated_vertex: the two-point function K at "
          "the points is singular (LDLT pivot ",
          i, " = ", diag[i], " against largest ", largest,
          "): K^-1 does not exist; use points where K has full rank"));
    }
  }
  return ldlt.solve(Eigen::MatrixXd::Identity(k.rows(), k.cols()));
}

absl::StatusOr<std::vector<double>> KernelProductIntegrals(
    const ExperimentSpec& spec, const std::vector<Tuple>& tuples,
    double cutoff) {
  const int d = static_cast<int>(spec.points.cols());
  std::vector<double> out(tuples.size(), 0.0);
  if (d > 2) return absl::InvalidArgumentError("cutoff integral: d > 2");
  std::vector<std::vector<double>> axis_nodes(d), axis_weights(d);
  for (int a = 0; a < d; ++a) {
    std::vector<double> breaks(spec.points.col(a).data(),
                               spec.points.col(a).data() + spec.points.rows());
    AxisRule(cutoff, breaks, d == 1 ? 8 : 4, d == 1 ? 16 : 8, axis_nodes[a],
             axis_weights[a]);
  }
  const Eigen::Index n0 = axis_nodes[0].size();
  const Eigen::Index n1 = d == 2 ? axis_nodes[1].size() : 1;
  Eigen::MatrixXd nodes(n0 * n1, d);
  Eigen::VectorXd weights(n0 * n1);
  for (Eigen::Index i = 0; i < n0; ++i) {
    for (Eigen::Index j = 0; j < n1; ++j) {
      nodes(i * n1 + j, 0) = axis_nodes[0][i];
      if (d == 2) nodes(i * n1 + j, 1) = axis_nodes[1][j];
      weights[i * n1 + j] =
          axis_weights[0][i] * (d == 2 ? axis_weights[1][j] : 1.0);
    }
  }
  NNFT_ASSIGN_OR_RETURN(Eigen::MatrixXd k, CrossKernel(spec, nodes));
  for (size_t t = 0; t < tuples.size(); ++t) {
    Eigen::VectorXd prod = weights;
    for (int i : tuples[t]) prod = prod.cwiseProduct(k.col(i));
    out[t] = prod.sum();
  }
  return out;
}

absl::StatusOr<EffectiveCouplingResult> ComputeEffectiveCouplings(
    const ExperimentSpec& spec, const TupleSet& tuples,
    const MomentAccumulator& accumulator) {
  if (!spec.effective_coupling.has_value()) {
    return absl::InvalidArgumentError("no effective_coupling request");
  }
  const EffectiveCouplingSpec& ec = *spec.effective_coupling;
  EffectiveCouplingResult out;
  out.cutoffs = ec.cutoffs;
  const std::vector<int>& req = tuples.requested();
  std::vector<Tuple> four;  // requested 4-point tuples
  std::vector<int> four_pos;
  for (size_t i = 0; i < req.size(); ++i) {
    if (tuples.tuples()[req[i]].size() != 4) continue;
    four.push_back(tuples.tuples()[req[i]]);
    four_pos.push_back(static_cast<int>(i));
  }
  // Per cutoff: coefficients c_t = -1/(24 I_t) of the tuples in the region.
  std::vector<std::vector<std::pair<int, double>>> coeff(ec.cutoffs.size());
  for (size_t c = 0; c < ec.cutoffs.size(); ++c) {
    NNFT_ASSIGN_OR_RETURN(std::vector<double> integrals,
                          KernelProductIntegrals(spec, four, ec.cutoffs[c]));
    for (size_t t = 0; t < four.size(); ++t) {
      if (!InsideRegion(spec, four[t], ec.cutoffs[c]) || integrals[t] == 0) {
        continue;
      }
      coeff[c].push_back({four_pos[t], -1.0 / (24.0 * integrals[t])});
    }
    out.tuples_used.push_back(static_cast<int>(coeff[c].size()));
  }
  const size_t nc = ec.cutoffs.size();
  // Vertex set-up: K^-1 and the position of every sorted 4-tuple.
  const int p = static_cast<int>(spec.points.rows());
  Eigen::MatrixXd kinv;
  std::vector<int> slot;  // P^4 -> requested position
  if (ec.amputated_vertex) {
    NNFT_ASSIGN_OR_RETURN(kinv, InverseKernel(spec));
    slot.assign(static_cast<size_t>(p) * p * p * p, -1);
    for (size_t t = 0; t < four.size(); ++t) {
      const Tuple& q = four[t];
      int perm[4] = {q[0], q[1], q[2], q[3]};
      do {
        slot[((perm[0] * p + perm[1]) * p + perm[2]) * p + perm[3]] =
            four_pos[t];
      } while (std::next_permutation(perm, perm + 4));
      out.vertex_tuples.push_back(q);
    }
  }
  auto g = [&](const std::vector<double>& connected) {
    std::vector<double> values(nc + 1, kNaN);
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int used = 0;
    for (size_t c = 0; c < nc; ++c) {
      if (coeff[c].empty()) continue;
      double sum = 0;
      for (const auto& [pos, w] : coeff[c]) sum += w * connected[pos];
      values[c] = sum / static_cast<double>(coeff[c].size());
      if (values[c] == 0 || !std::isfinite(values[c])) continue;
      const double x = std::log(ec.cutoffs[c]);
      const double y = std::log(std::abs(values[c]));
      sx += x, sy += y, sxx += x * x, sxy += x * y, ++used;
    }
    if (used >= 2) {
      values[nc] = (used * sxy - sx * sy) / (used * sxx - sx * sx);
    }
    if (ec.amputated_vertex) {
      std::vector<double> g4(slot.size());
      for (size_t i = 0; i < slot.size(); ++i) g4[i] = connected[slot[i]];
      const std::vector<double> v = Amputate(g4, kinv, p);
      for (const Tuple& q : out.vertex_tuples) {
        values.push_back(v[((q[0] * p + q[1]) * p + q[2]) * p + q[3]]);
      }
    }
    return values;
  };
  const DerivedEstimate derived = accumulator.Derived(g);
  if (derived.value.empty()) return out;
  out.lambda.assign(derived.value.begin(), derived.value.begin() + nc);
  out.lambda_stderr.assign(derived.stderr_value.begin(),
                           derived.stderr_value.begin() + nc);
  out.slope = derived.value[nc];
  out.slope_stderr = derived.stderr_value[nc];
  out.vertex.assign(derived.value.begin() + nc + 1, derived.value.end());
  out.vertex_stderr.assign(derived.stderr_value.begin() + nc + 1,
                           derived.stderr_value.end());
  out.method = absl::StrCat(
      "lambda(Lambda) = mean over 4-point tuples in [-Lambda, Lambda]^d of "
      "-G4_c / (24 int prod K) (arXiv 2008.08601 sign: lambda > 0 when G4_c "
      "< 0); slope of log|lambda| on log Lambda by least squares; "
      "jackknife errors over ",
      accumulator.Finish().bins, " bins",
      ec.amputated_vertex ? "; vertex -sum G4_c K^-1 K^-1 K^-1 K^-1 (LDLT)"
                          : "");
  return out;
}

}  // namespace nnft
