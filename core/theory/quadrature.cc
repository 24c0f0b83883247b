#include "core/theory/quadrature.h"

#include <cassert>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>

#include "Eigen/Eigenvalues"

namespace nnft::theory {
namespace {

QuadratureRule ComputeGaussHermite(int n) {
  // Jacobi matrix of He_k: zero diagonal, off-diagonal sqrt(k).
  Eigen::VectorXd diag = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd sub(std::max(n - 1, 0));
  for (int k = 1; k < n; ++k) sub[k - 1] = std::sqrt(static_cast<double>(k));
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver;
  solver.computeFromTridiagonal(diag, sub, Eigen::ComputeEigenvectors);
  QuadratureRule rule;
  rule.nodes.resize(n);
  rule.weights.resize(n);
  for (int i = 0; i < n; ++i) {
    double x = solver.eigenvalues()[i];
    // Newton polish on the orthonormal Hermite polynomials
    // p_{k+1} = (x p_k - sqrt(k) p_{k-1}) / sqrt(k+1), p_n' = sqrt(n) p_{n-1};
    // weight from the Christoffel function 1 / sum_{k<n} p_k(x)^2.
    double christoffel = 1.0;
    for (int it = 0; it < 4; ++it) {
      double p0 = 0.0, p1 = 1.0, sum = 0.0;
      for (int k = 0; k < n; ++k) {
        sum += p1 * p1;
        const double p2 = (x * p1 - std::sqrt(static_cast<double>(k)) * p0) /
                          std::sqrt(static_cast<double>(k + 1));
        p0 = p1;
        p1 = p2;
      }
      christoffel = sum;
      const double dp = std::sqrt(static_cast<double>(n)) * p0;
      if (it == 3 || dp == 0.0) break;
      x -= p1 / dp;
    }
    rule.nodes[i] = x;
    rule.weights[i] = 1.0 / christoffel;
  }
  // Symmetrise: the rule is exactly symmetric about 0.
  for (int i = 0; i < n / 2; ++i) {
    const int j = n - 1 - i;
    const double x = 0.5 * (rule.nodes[j] - rule.nodes[i]);
    const double w = 0.5 * (rule.weights[i] + rule.weights[j]);
    rule.nodes[i] = -x;
    rule.nodes[j] = x;
    rule.weights[i] = rule.weights[j] = w;
  }
  if (n % 2 == 1) rule.nodes[n / 2] = 0.0;
  double total = 0.0;
  for (double w : rule.weights) total += w;
  for (double& w : rule.weights) w /= total;
  return rule;
}

QuadratureRule ComputeGaussLegendre(int n) {
  QuadratureRule rule;
  rule.nodes.resize(n);
  rule.weights.resize(n);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5));
    double dp = 1.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = x;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      if (n == 1) p0 = 1.0;
      dp = n * (x * p1 - p0) / (x * x - 1.0);
      const double dx = p1 / dp;
      x -= dx;
      if (std::abs(dx) < 1e-16) break;
    }
    const double w = 2.0 / ((1.0 - x * x) * dp * dp);
    rule.nodes[i] = -x;
    rule.nodes[n - 1 - i] = x;
    rule.weights[i] = rule.weights[n - 1 - i] = w;
  }
  if (n % 2 == 1) rule.nodes[n / 2] = 0.0;
  return rule;
}

const QuadratureRule& Cached(int n, bool hermite) {
  assert(n >= 1 && n <= 256);
  static std::mutex mu;
  static std::map<std::pair<bool, int>, std::unique_ptr<QuadratureRule>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[{hermite, n}];
  if (!slot) {
    slot = std::make_unique<QuadratureRule>(hermite ? ComputeGaussHermite(n)
                                                    : ComputeGaussLegendre(n));
  }
  return *slot;
}

QuadratureRule ComputeGaussChi(int n, int k) {
  const double alpha = 0.5 * k - 1.0;
  Eigen::VectorXd diag(n);
  Eigen::VectorXd sub(std::max(n - 1, 0));
  for (int j = 0; j < n; ++j) diag[j] = 2.0 * j + alpha + 1.0;
  for (int j = 1; j < n; ++j) sub[j - 1] = std::sqrt(j * (j + alpha));
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver;
  solver.computeFromTridiagonal(diag, sub, Eigen::ComputeEigenvectors);
  QuadratureRule rule;
  rule.nodes.resize(n);
  rule.weights.resize(n);
  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    const double v = solver.eigenvectors()(0, i);
    rule.nodes[i] = std::sqrt(2.0 * std::max(solver.eigenvalues()[i], 0.0));
    rule.weights[i] = v * v;
    total += v * v;
  }
  for (double& w : rule.weights) w /= total;
  return rule;
}

}  // namespace

const QuadratureRule& GaussChi(int n, int k) {
  assert(n >= 1 && n <= 256 && k >= 1);
  static std::mutex mu;
  static std::map<std::pair<int, int>, std::unique_ptr<QuadratureRule>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[{n, k}];
  if (!slot) slot = std::make_unique<QuadratureRule>(ComputeGaussChi(n, k));
  return *slot;
}

const QuadratureRule& GaussHermite(int n) { return Cached(n, true); }

const QuadratureRule& GaussLegendre(int n) { return Cached(n, false); }

Eigen::MatrixXd GaussianFactor(const Eigen::MatrixXd& cov, double rel_tol) {
  const int n = static_cast<int>(cov.rows());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(cov);
  const Eigen::VectorXd& vals = solver.eigenvalues();  // ascending
  const double top = n > 0 ? vals[n - 1] : 0.0;
  int r = 0;
  for (int i = n - 1; i >= 0; --i) {
    if (vals[i] > rel_tol * top && vals[i] > 0.0) ++r;
  }
  Eigen::MatrixXd a(n, r);
  for (int c = 0; c < r; ++c) {
    const int i = n - 1 - c;
    a.col(c) = solver.eigenvectors().col(i) * std::sqrt(vals[i]);
  }
  return a;
}

}  // namespace nnft::theory
