// Box lattice, lattice-sum propagators and the exact phi^4 integral; see
// box.h.
#include "core/sampling/box.h"

#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"

namespace nnft {

absl::StatusOr<BoxLattice> MakeBoxLattice(int dim, double side, double cutoff,
                                          int64_t max_momenta,
                                          int64_t max_grid) {
  constexpr double kTwoPi = 2 * std::numbers::pi;
  const double unit = kTwoPi / side;
  if (!(unit < cutoff)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.cos_net.box_side = ", side, ": too small for the cutoff ",
        cutoff, ": the smallest non-zero lattice momentum 2 pi / box_side = ",
        unit, " must be < cutoff (box_side > ", kTwoPi / cutoff, ")"));
  }
  BoxLattice lattice;
  lattice.dim = dim;
  lattice.side = side;
  const int64_t kmax = static_cast<int64_t>(std::floor(cutoff / unit));
  int64_t cube = 1;
  for (int i = 0; i < dim; ++i) cube *= 2 * kmax + 1;
  if (kmax > (1 << 20) || cube > 8 * max_momenta) {
    return absl::InvalidArgumentError(
        absl::StrCat("architecture.cos_net.box_side = ", side, " with cutoff ",
                     cutoff, ": about ", cube, " lattice momenta: at most ",
                     max_momenta, " allowed"));
  }
  const int64_t span[3] = {kmax, dim > 1 ? kmax : 0, dim > 2 ? kmax : 0};
  const double cut2 = cutoff * cutoff;
  for (int64_t a = -span[0]; a <= span[0]; ++a) {
    for (int64_t b = -span[1]; b <= span[1]; ++b) {
      for (int64_t c = -span[2]; c <= span[2]; ++c) {
        const double p2 = unit * unit * double(a * a + b * b + c * c);
        if (!(p2 < cut2)) continue;
        lattice.k.push_back(
            {static_cast<int>(a), static_cast<int>(b), static_cast<int>(c)});
        for (int64_t v : {a, b, c}) {
          lattice.kmax = std::max<int>(lattice.kmax, std::abs(int(v)));
        }
      }
    }
  }
  if (static_cast<int64_t>(lattice.k.size()) > max_momenta) {
    return absl::InvalidArgumentError(
        absl::StrCat("architecture.cos_net.box_side = ", side, " with cutoff ",
                     cutoff, ": ", lattice.k.size(),
                     " lattice momenta: at most ", max_momenta, " allowed"));
  }
  lattice.grid = 4 * lattice.kmax + 1;
  const double grid = std::pow(double(lattice.grid), dim);
  if (grid > double(max_grid)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.cos_net.box_side = ", side, " with cutoff ", cutoff,
        ": the exact phi^4 grid has ", grid, " points (", lattice.grid,
        " per axis): at most ", max_grid, " allowed"));
  }
  return lattice;
}

double BoxPropagator(const BoxLattice& lattice, int q, double mass,
                     const Eigen::VectorXd& r) {
  const double unit = 2 * std::numbers::pi / lattice.side;
  double total = 0;
  for (const auto& k : lattice.k) {
    double p2 = 0, pr = 0;
    for (int i = 0; i < lattice.dim; ++i) {
      p2 += unit * unit * k[i] * k[i];
      pr += unit * k[i] * r[i];
    }
    total += std::cos(pr) / std::pow(p2 + mass * mass, q);
  }
  return total / std::pow(lattice.side, lattice.dim);
}

std::vector<double> TrigTable(int n, int which) {
  std::vector<double> t(n);
  for (int i = 0; i < n; ++i) {
    const double a = 2 * std::numbers::pi * i / n;
    t[i] = which == 0 ? std::cos(a) : std::sin(a);
  }
  return t;
}

double BoxPhi4Integral(const BoxLattice& lattice, const double* c,
                       const double* s, const std::vector<double>& cos_table,
                       const std::vector<double>& sin_table,
                       std::vector<double>& phi) {
  const int n = lattice.grid, d = lattice.dim;
  int64_t points = 1;
  for (int i = 0; i < d; ++i) points *= n;
  phi.assign(points, 0.0);
  const int64_t stride[3] = {1, n, int64_t{n} * n};
  for (size_t j = 0; j < lattice.k.size(); ++j) {
    if (c[j] == 0 && s[j] == 0) continue;
    const auto& k = lattice.k[j];
    // Phase index (k.g) mod n, advanced incrementally over the grid.
    for (int64_t g = 0; g < points; ++g) {
      int64_t t = 0;
      for (int i = 0; i < d; ++i) t += k[i] * ((g / stride[i]) % n);
      t %= n;
      if (t < 0) t += n;
      phi[g] += c[j] * cos_table[t] - s[j] * sin_table[t];
    }
  }
  double total = 0;
  for (int64_t g = 0; g < points; ++g) {
    const double p2 = phi[g] * phi[g];
    total += p2 * p2;
  }
  return total * std::pow(lattice.side / n, d);
}

}  // namespace nnft
