// Check results as text (client/cli/format_sym.h).
#include "client/cli/format_sym.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nnft::client::cli {
namespace {

std::string G(double value, int digits = 4) {
  if (std::isnan(value)) return "nan";
  return absl::StrFormat("%.*g", digits, value);
}

std::string FitText(const v1::DecayFit& f) {
  if (f.model().empty()) return "-";
  const char* what = f.model() == "power" ? "p" : "xi";
  return absl::StrFormat("%s %s = %s +- %s (chi2/dof %s, %d points)", f.model(),
                         what, G(f.scale()), G(f.scale_stderr(), 2),
                         G(f.chi2_per_dof(), 3), f.points());
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::string ChecksTable(const v1::ResultHeader& header) {
  std::string out;
  if (header.symmetry_size() > 0) {
    absl::StrAppend(&out,
                    "# symmetry checks: paired G(transformed) - G(original), "
                    "same networks\n");
    std::vector<std::vector<std::string>> rows = {
        {"check", "kind", "tuples", "dof", "chi2/dof", "p(T^2)", "max|z|",
         "threshold", "verdict"}};
    for (const v1::SymmetryResult& r : header.symmetry()) {
      rows.push_back({r.label().empty() ? "-" : r.label(), r.kind(),
                      absl::StrCat(r.num_tuples()), absl::StrCat(r.dof()),
                      G(r.chi2_per_dof(), 3), G(r.p_value(), 3),
                      G(r.max_abs_z(), 3), G(r.z_threshold(), 3),
                      r.dof() == 0     ? "exact (every difference 0)"
                      : r.consistent() ? "invariant"
                                       : "BROKEN"});
    }
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& row : rows) {
      for (size_t c = 0; c < row.size(); ++c) {
        width[c] = std::max(width[c], row[c].size());
      }
    }
    for (const auto& row : rows) {
      std::string line;
      for (size_t c = 0; c < row.size(); ++c) {
        line += c + 1 < row.size() ? Pad(row[c], width[c] + 2) : row[c];
      }
      absl::StrAppend(&out, line, "\n");
    }
  }
  for (const v1::ClusterResult& r : header.cluster()) {
    absl::StrAppend(&out, "# cluster check ",
                    r.label().empty() ? "-" : r.label(),
                    ": D(s) = G4(xi, xj, xk + s u, xl + s u) - G2 G2; theory: ",
                    r.theory_kind().empty() ? "-" : r.theory_kind(), "\n");
    absl::StrAppend(&out, Pad("s", 10), Pad("D(s) +- err", 26),
                    Pad("theory", 12), "z\n");
    for (int i = 0; i < r.separations_size(); ++i) {
      const double th = i < r.theory_size() ? r.theory(i) : std::nan("");
      const double z = i < r.z_theory_size() ? r.z_theory(i) : std::nan("");
      absl::StrAppend(
          &out, Pad(G(r.separations(i)), 10),
          Pad(absl::StrCat(G(r.value(i), 6), " +- ", G(r.stderr(i), 2)), 26),
          Pad(G(th, 6), 12), G(z, 3), "\n");
    }
    absl::StrAppend(
        &out, "# fits: ", FitText(r.exponential()), "; ", FitText(r.gaussian()),
        "; ", FitText(r.power()),
        "\n# preferred: ", r.preferred().empty() ? "-" : r.preferred(),
        "; D(s_max)/err = ", G(r.z_last(), 3), "\n");
  }
  return out;
}

}  // namespace nnft::client::cli
