// Quadrature rules for the exact-theory side: Gauss-Hermite rules for
// expectations over standard normal variables (1-D and tensor products over a
// correlated Gaussian after factorising its covariance), and Gauss-Legendre
// rules for finite intervals (radial momentum integrals, arcs of circles).
//
// Gauss-Hermite nodes and weights come from the Golub-Welsch eigenproblem of
// the Jacobi matrix of the probabilists' Hermite polynomials He_k
// (recurrence He_{k+1} = x He_k - k He_{k-1}), so that
//   E_{z ~ N(0,1)}[f(z)] ~= sum_i w_i f(x_i),  sum_i w_i = 1,
// exact for polynomials of degree <= 2n - 1 (Golub & Welsch, Math. Comp. 23
// (1969) 221). Gauss-Legendre nodes come from Newton's method on P_n.
// Rules are computed once per size and cached; all accessors are thread-safe.
#ifndef NNFT_CORE_THEORY_QUADRATURE_H_
#define NNFT_CORE_THEORY_QUADRATURE_H_

#include <vector>

#include "Eigen/Core"

namespace nnft::theory {

struct QuadratureRule {
  std::vector<double> nodes;
  std::vector<double> weights;
};

// n-point Gauss-Hermite rule for the standard normal density (n in [1, 256]).
const QuadratureRule& GaussHermite(int n);

// n-point Gauss-Legendre rule on [-1, 1] (n in [1, 256]).
const QuadratureRule& GaussLegendre(int n);

// n-point rule for E[f(r)] over a chi-distributed r with k degrees of freedom
// (density ~ r^(k-1) exp(-r^2/2) on r >= 0), weights summing to 1: the
// generalized Gauss-Laguerre rule in u = r^2/2 (weight u^(k/2-1) e^-u;
// Jacobi matrix diagonal 2j + k/2, off-diagonal sqrt(j (j + k/2 - 1))) with
// nodes r = sqrt(2u). Exact for polynomials in r^2 of degree <= 2n - 1, so
// fast for integrands even in r (n in [1, 256], k >= 1).
const QuadratureRule& GaussChi(int n, int k);

// Integral of f over [a, b] by `panels` equal panels, each with an n-point
// Gauss-Legendre rule.
template <typename F>
double CompositeGaussLegendre(F&& f, double a, double b, int panels, int n) {
  const QuadratureRule& rule = GaussLegendre(n);
  const double h = (b - a) / panels;
  double total = 0.0;
  for (int p = 0; p < panels; ++p) {
    const double mid = a + (p + 0.5) * h;
    double panel = 0.0;
    for (int i = 0; i < n; ++i) {
      panel += rule.weights[i] * f(mid + 0.5 * h * rule.nodes[i]);
    }
    total += 0.5 * h * panel;
  }
  return total;
}

// A factor A (n x r) with A A^T = cov for a symmetric positive semi-definite
// `cov`, r its numerical rank (eigenvalues above rel_tol * largest; negative
// rounding noise is dropped). Works for singular covariances such as those of
// repeated points. Columns are ordered by decreasing eigenvalue.
Eigen::MatrixXd GaussianFactor(const Eigen::MatrixXd& cov,
                               double rel_tol = 1e-12);

// Tensor-product Gauss-Hermite grid over z ~ N(0, I_r) with `n` nodes per
// dimension: calls f(z, w) for every node z (an r-vector) with weight w.
// Cost n^r calls.
template <typename F>
void ForEachHermiteNode(int r, int n, F&& f) {
  const QuadratureRule& rule = GaussHermite(n);
  Eigen::VectorXd z(r);
  std::vector<int> idx(r, 0);
  if (r == 0) {
    f(z, 1.0);
    return;
  }
  while (true) {
    double w = 1.0;
    for (int k = 0; k < r; ++k) {
      z[k] = rule.nodes[idx[k]];
      w *= rule.weights[idx[k]];
    }
    f(z, w);
    int k = 0;
    while (k < r && ++idx[k] == n) idx[k++] = 0;
    if (k == r) break;
  }
}

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_QUADRATURE_H_
