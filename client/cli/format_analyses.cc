// Tables of the analyses carried in ResultHeader: the null-cone conformal
// result and the reflection-positivity spectra (format.h).
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/format.h"

namespace nnft::client::cli {
namespace {

std::string G(double v, int digits = 6) {
  if (std::isnan(v)) return "nan";
  return absl::StrFormat("%.*g", digits, v);
}

std::string PlusMinus(const v1::Measured& m) {
  return absl::StrCat(G(m.value()), " +- ", G(m.stderr(), 2));
}

std::string Z(const v1::Measured& m) {
  return m.stderr() > 0
             ? absl::StrFormat("%+.2f", (m.value() - m.exact()) / m.stderr())
             : "-";
}

std::string Aligned(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (size_t c = 0; c < r.size(); ++c) {
      width[c] = std::max(width[c], r[c].size());
    }
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      absl::StrAppend(
          &line, c ? "  " : "",
          absl::StrFormat("%-*s", static_cast<int>(width[c]), r[c]));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string Doubles(const google::protobuf::RepeatedField<double>& v) {
  std::vector<std::string> s;
  for (double x : v) s.push_back(G(x, 5));
  return absl::StrJoin(s, " ");
}

std::string MatrixText(const v1::RpMatrix& m, const char* name) {
  std::string out = absl::StrFormat(
      "# %s (%dx%d): smallest eigenvalue %s +- %s (z = %s), verdict: %s, "
      "P(true smallest < 0) = %s\n",
      name, m.size(), m.size(), G(m.min_eigenvalue()), G(m.min_stderr(), 2),
      G(m.z(), 3), m.verdict(), G(m.p_negative(), 3));
  absl::StrAppend(&out, "#   eigenvalues: ", Doubles(m.eigenvalues()), "\n");
  absl::StrAppend(&out, "#   errors:      ", Doubles(m.eigenvalue_stderr()),
                  "\n");
  if (m.has_exact()) {
    absl::StrAppend(&out, "#   exact:       ", Doubles(m.exact_eigenvalues()),
                    "\n");
  }
  return out;
}

}  // namespace

std::string ConformalTable(const v1::ConformalResult& c) {
  std::string out = absl::StrFormat(
      "# null-cone conformal field, D = %d, Delta = -1 (X.Y = -|x-y|^2/2)\n",
      c.dimension());
  const std::vector<std::pair<const char*, const v1::Measured*>> moments = {
      {"mu2", &c.mu2()}, {"mu4", &c.mu4()}, {"3 mu22", &c.mu4_mixed()}};
  std::vector<std::vector<std::string>> rows = {
      {"moment", "estimate +- err", "exact", "z"}};
  for (const auto& [name, m] : moments) {
    rows.push_back({name, PlusMinus(*m), G(m->exact()), Z(*m)});
  }
  absl::StrAppend(&out, Aligned(rows));
  rows = {{"points", "u", "v", "g(u,v) +- err", "exact", "z", "G4 +- err",
           "exact", "G4_c +- err", "exact"}};
  for (const auto& q : c.four_point()) {
    rows.push_back({absl::StrCat("(", absl::StrJoin(q.index(), ","), ")"),
                    G(q.u()), G(q.v()), PlusMinus(q.g()), G(q.g().exact()),
                    Z(q.g()), PlusMinus(q.g4()), G(q.g4().exact()),
                    PlusMinus(q.g4_connected()), G(q.g4_connected().exact())});
  }
  if (c.four_point_size() > 0) absl::StrAppend(&out, Aligned(rows));
  rows = {{"check", "dof", "chi2/dof", "max|z|", "passed"}};
  for (const auto& k : c.checks()) {
    rows.push_back({k.transformation(), absl::StrCat(k.dof()),
                    G(k.chi2_per_dof(), 3), G(k.max_abs_z(), 3),
                    k.dof() > 0 ? (k.passed() ? "yes" : "NO") : k.note()});
  }
  absl::StrAppend(&out, "# conformal covariance\n", Aligned(rows));
  return out;
}

std::string ReflectionTable(const v1::ReflectionPositivityResult& r) {
  std::string out = absl::StrFormat(
      "# reflection positivity: theta flips x[%d], %d points, verdict "
      "threshold z = %s\n",
      r.axis(), r.points_size(), G(r.z_threshold(), 3));
  absl::StrAppend(&out, MatrixText(r.two_point(), "<phi(theta x_i) phi(x_j)>"));
  if (r.has_four_point()) {
    absl::StrAppend(
        &out, MatrixText(r.four_point(), "<F(theta x) F(x)>, F = phi phi"));
  }
  return out;
}

}  // namespace nnft::client::cli
