// Exact two-point function of the OU-net (ou_net.h).
#include "core/theory/ou_net.h"

#include <cmath>
#include <map>

#include "core/theory/kernels.h"
#include "core/theory/quadrature.h"

namespace nnft {

Eigen::MatrixXd OuNetKernel(const OuNetSpec& net,
                            const Eigen::MatrixXd& times) {
  const theory::QuadratureRule& rule = theory::GaussHermite(64);
  const int n = static_cast<int>(rule.nodes.size());
  const auto expectation = [&](double rho) {
    // Every node pair at once: one kernel call on 2 n^2 scalar inputs would
    // be n^4 entries; instead one call per z1 node on the n + 1 inputs
    // (a, b_1..b_n).
    double total = 0;
    const double c = std::sqrt(std::max(0.0, 1 - rho * rho));
    Eigen::MatrixXd inputs(n + 1, 1);
    for (int i = 0; i < n; ++i) {
      const double z1 = rule.nodes[i];
      inputs(0, 0) = net.sigma * z1;
      for (int j = 0; j < n; ++j) {
        inputs(j + 1, 0) = net.sigma * (rho * z1 + c * rule.nodes[j]);
      }
      const Eigen::MatrixXd k = theory::MlpKernel(net.mlp, inputs);
      double row = 0;
      for (int j = 0; j < n; ++j) row += rule.weights[j] * k(0, j + 1);
      total += rule.weights[i] * row;
    }
    return total;
  };
  const int p = static_cast<int>(times.rows());
  Eigen::MatrixXd out(p, p);
  std::map<double, double> cache;  // |t - s| -> G2
  for (int a = 0; a < p; ++a) {
    for (int b = a; b < p; ++b) {
      const double dt = std::abs(times(a, 0) - times(b, 0));
      auto it = cache.find(dt);
      if (it == cache.end()) {
        it = cache.emplace(dt, expectation(std::exp(-dt / net.tau))).first;
      }
      out(a, b) = out(b, a) = it->second;
    }
  }
  return out;
}

}  // namespace nnft
