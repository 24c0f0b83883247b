// Test-only reverse-mode differentiation of a scalar network output, for the
// empirical NTK Theta_emp(x, y) = sum_theta df(x)/dtheta df(y)/dtheta of a
// network sampled in the test itself: the parameters are the first leaves
// of a tape, every later node records its parents and the local partials,
// and one reverse sweep gives the gradient with respect to all leaves.
// Independent of core/sampling (the networks are written from the spec's
// definitions) and of the analytic recursions it checks.
#ifndef NNFT_CORE_THEORY_TAPE_TEST_UTIL_H_
#define NNFT_CORE_THEORY_TAPE_TEST_UTIL_H_

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <random>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "gtest/gtest.h"

namespace nnft::theory::testing {

class Tape {
 public:
  // A new tape whose first `num_params` nodes are the parameters' values.
  explicit Tape(const std::vector<double>& params) {
    for (double v : params) Push(v);
  }
  int size() const { return static_cast<int>(value_.size()); }
  double value(int id) const { return value_[id]; }

  int Constant(double v) { return Push(v); }
  // sum_i c_i n_i + offset, with constant coefficients.
  int Linear(const std::vector<std::pair<int, double>>& terms,
             double offset = 0.0) {
    double v = offset;
    for (const auto& [id, c] : terms) v += c * value_[id];
    const int out = Push(v);
    for (const auto& [id, c] : terms) Parent(id, c);
    return out;
  }
  // sum_i a_i b_i (both nodes).
  int Dot(const std::vector<int>& a, const std::vector<int>& b) {
    assert(a.size() == b.size());
    double v = 0.0;
    for (size_t i = 0; i < a.size(); ++i) v += value_[a[i]] * value_[b[i]];
    const int out = Push(v);
    for (size_t i = 0; i < a.size(); ++i) {
      Parent(a[i], value_[b[i]]);
      Parent(b[i], value_[a[i]]);
    }
    return out;
  }
  int Mul(int a, int b) { return Dot({a}, {b}); }
  // f(n) given f(n) and f'(n).
  int Apply(int id, double f, double slope) {
    const int out = Push(f);
    Parent(id, slope);
    return out;
  }
  int Exp(int id) {
    const double e = std::exp(value_[id]);
    return Apply(id, e, e);
  }
  int Div(int a, int b) {
    const double v = value_[a] / value_[b];
    const int out = Push(v);
    Parent(a, 1.0 / value_[b]);
    Parent(b, -v / value_[b]);
    return out;
  }

  // d out / d leaf for the first `num_leaves` nodes.
  Eigen::VectorXd Gradient(int out, int num_leaves) const {
    std::vector<double> adjoint(value_.size(), 0.0);
    adjoint[out] = 1.0;
    for (int node = out; node >= num_leaves; --node) {
      const double a = adjoint[node];
      if (a == 0.0) continue;
      for (int k = start_[node]; k < start_[node + 1]; ++k) {
        adjoint[parent_[k]] += a * partial_[k];
      }
    }
    return Eigen::Map<const Eigen::VectorXd>(adjoint.data(), num_leaves);
  }

 private:
  int Push(double v) {
    value_.push_back(v);
    if (start_.empty()) start_.push_back(0);
    start_.push_back(start_.back());
    return static_cast<int>(value_.size()) - 1;
  }
  // Adds a parent to the node pushed last.
  void Parent(int id, double d) {
    parent_.push_back(id);
    partial_.push_back(d);
    ++start_.back();
  }

  std::vector<double> value_;
  std::vector<int> start_;  // node i's parents: [start_[i], start_[i+1])
  std::vector<int> parent_;
  std::vector<double> partial_;
};

// Ensemble mean and standard error of the empirical NTK over networks.
struct NtkEnsemble {
  Eigen::MatrixXd mean, stderr_;
};

// Theta_emp of one network over the points given the per-point gradients
// (columns).
inline Eigen::MatrixXd GramOfGradients(const Eigen::MatrixXd& gradients) {
  return gradients.transpose() * gradients;
}

// Runs `one(m)` (the P x P empirical NTK of network m) for m < networks.
template <typename F>
NtkEnsemble EnsembleNtk(int networks, F&& one) {
  Eigen::MatrixXd sum, sum2;
  for (int m = 0; m < networks; ++m) {
    const Eigen::MatrixXd t = one(m);
    if (m == 0) {
      sum = Eigen::MatrixXd::Zero(t.rows(), t.cols());
      sum2 = sum;
    }
    sum += t;
    sum2 += t.cwiseProduct(t);
  }
  NtkEnsemble out;
  out.mean = sum / networks;
  const Eigen::MatrixXd var =
      (sum2 / networks - out.mean.cwiseProduct(out.mean)) * networks /
      (networks - 1.0);
  out.stderr_ = (var / networks).cwiseSqrt();
  return out;
}

// Entries farther than this many standard errors from the theory fail.
inline constexpr double kMaxZ = 4.0;

// max |z| of the ensemble against a candidate kernel.
inline double MaxAbsZ(const NtkEnsemble& mc, const Eigen::MatrixXd& candidate) {
  return ((mc.mean - candidate).array() / mc.stderr_.array()).abs().maxCoeff();
}

inline void ExpectWithinErrors(const NtkEnsemble& mc,
                               const Eigen::MatrixXd& theory,
                               const char* label) {
  double max_z = 0.0;
  for (Eigen::Index p = 0; p < theory.rows(); ++p) {
    for (Eigen::Index q = 0; q <= p; ++q) {
      const double z = (mc.mean(p, q) - theory(p, q)) / mc.stderr_(p, q);
      max_z = std::max(max_z, std::abs(z));
      EXPECT_LT(std::abs(z), kMaxZ)
          << label << " (" << p << "," << q << "): ensemble " << mc.mean(p, q)
          << " +- " << mc.stderr_(p, q) << ", analytic " << theory(p, q);
    }
  }
  std::printf("%s: max |z| = %.2f over %d entries, rel. stderr %.2g\n", label,
              max_z, int(theory.rows() * (theory.rows() + 1) / 2),
              mc.stderr_(0, 0) / std::abs(mc.mean(0, 0)));
}

// A P x d matrix from its rows.
inline Eigen::MatrixXd Rows(
    std::initializer_list<std::initializer_list<double>> r) {
  Eigen::MatrixXd out(r.size(), r.begin()->size());
  int i = 0;
  for (const auto& row : r) {
    int j = 0;
    for (double v : row) out(i, j++) = v;
    ++i;
  }
  return out;
}

}  // namespace nnft::theory::testing

#endif  // NNFT_CORE_THEORY_TAPE_TEST_UTIL_H_
