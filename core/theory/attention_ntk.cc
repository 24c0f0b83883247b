// The attention layer's NTK by the Gauss-chi product rule
// (core/theory/attention_ntk.h).
#include "core/theory/attention_ntk.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/theory/quadrature.h"

namespace nnft::theory {
namespace {

constexpr int kMaxDimensions = 7;
constexpr double kAutoNodeBudget = 2.1e6;  // 8^7: order 8 for Q = 7
constexpr int kMaxAutoOrder = 32;
constexpr int kMinAutoOrder = 6;
constexpr int64_t kBlocks = 64;
// Nodes whose features are gathered before one rank update.
constexpr int kBatch = 64;
// Largest embed_dim (and rank) the 7-dimensional rule allows.
constexpr int kMaxD = 3;

// One quadrature coordinate: an entry of L (row, col; chi_dof > 0: chi law)
// or of G (row >= 0 in G's coordinates, is_g).
struct Coordinate {
  bool is_g = false;
  int row = 0, col = 0, chi_dof = 0;
};

std::vector<Coordinate> Coordinates(const AttentionSpec& a) {
  const int d = a.embed_dim, r = std::min(a.embed_dim, a.head_dim);
  std::vector<Coordinate> out;
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < std::min(i + 1, r); ++j) {
      out.push_back(
          {.row = i, .col = j, .chi_dof = i == j ? a.head_dim - i : 0});
    }
  }
  for (int i = 0; i < r; ++i) {
    for (int j = 0; j < d; ++j)
      out.push_back({.is_g = true, .row = i, .col = j});
  }
  return out;
}

// Sums of w F F^T over nodes for the three feature maps.
struct Sums {
  Eigen::MatrixXd uu, f1, f2;
};

class NodeSummer {
 public:
  NodeSummer(const AttentionSpec& a, const Eigen::MatrixXd& points, int n)
      : a_(a),
        x_(points),
        n_(n),
        coords_(Coordinates(a)),
        p_(static_cast<int>(points.rows())),
        t_(a.sequence_length),
        d_(a.embed_dim),
        r_(std::min(a.embed_dim, a.head_dim)),
        c_(a.sq * a.sk / (a.embed_dim * std::sqrt(double(a.head_dim)))),
        extra_(std::sqrt(double(a.head_dim - r_))) {
    for (const Coordinate& c : coords_) {
      rules_.push_back(c.chi_dof > 0 ? &GaussChi(n, c.chi_dof)
                                     : &GaussHermite(n));
    }
    logit_.resize(t_);
    weight_.resize(t_);
    du_ = d_;
    d1_ = d_ * (r_ + d_);
    d2_ = r_ * d_ * d_;
    u_.resize(p_, kBatch * du_);
    f1_.resize(p_, kBatch * d1_);
    f2_.resize(p_, kBatch * d2_);
  }

  int64_t Size() const {
    int64_t s = 1;
    for (size_t k = 0; k < coords_.size(); ++k) s *= n_;
    return s;
  }

  void Run(int64_t begin, int64_t end, Sums& sums) {
    sums.uu = Eigen::MatrixXd::Zero(p_, p_);
    sums.f1 = Eigen::MatrixXd::Zero(p_, p_);
    sums.f2 = Eigen::MatrixXd::Zero(p_, p_);
    // Features of kBatch nodes, each scaled by sqrt(w) (the weights are
    // positive), then one rank-k update per sum: BLAS-3 speed.
    int filled = 0;
    auto flush = [&] {
      if (filled == 0) return;
      sums.uu.selfadjointView<Eigen::Lower>().rankUpdate(
          u_.leftCols(filled * du_));
      sums.f1.selfadjointView<Eigen::Lower>().rankUpdate(
          f1_.leftCols(filled * d1_));
      sums.f2.selfadjointView<Eigen::Lower>().rankUpdate(
          f2_.leftCols(filled * d2_));
      filled = 0;
    };
    for (int64_t node = begin; node < end; ++node) {
      const double w = SetNode(node);
      if (w == 0.0) continue;
      Features(filled++, std::sqrt(w));
      if (filled == kBatch) flush();
    }
    flush();
  }

 private:
  double SetNode(int64_t node) {
    for (auto& row : l_) std::fill(std::begin(row), std::end(row), 0.0);
    for (auto& row : g_) std::fill(std::begin(row), std::end(row), 0.0);
    double w = 1.0;
    int64_t rest = node;
    for (size_t k = 0; k < coords_.size(); ++k) {
      const int digit = static_cast<int>(rest % n_);
      rest /= n_;
      const double v = rules_[k]->nodes[digit];
      w *= rules_[k]->weights[digit];
      if (coords_[k].is_g) {
        g_[coords_[k].row][coords_[k].col] = v;
      } else {
        l_[coords_[k].row][coords_[k].col] = v;
      }
    }
    return w;
  }

  // Column block `slot` of u_, f1_, f2_ at the current node, times scale.
  // Plain arrays (D, r <= 3): no allocation per node.
  void Features(int slot, double scale) {
    const int t0 = a_.output_position;
    double lx[kMaxD], a[kMaxD], u[kMaxD], y[kMaxD][kMaxD];
    for (int p = 0; p < p_; ++p) {
      const double* tokens = x_.data() + int64_t{p} * t_ * d_;  // row-major
      const double* xt = tokens + t0 * d_;
      for (int k = 0; k < r_; ++k) {  // L^T x_t
        lx[k] = 0.0;
        for (int i = 0; i < d_; ++i) lx[k] += l_[i][k] * xt[i];
      }
      for (int j = 0; j < d_; ++j) {  // logits = a.x_s, a = c G^T L^T x_t
        a[j] = 0.0;
        for (int k = 0; k < r_; ++k) a[j] += g_[k][j] * lx[k];
        a[j] *= c_;
      }
      double top = -std::numeric_limits<double>::infinity();
      for (int s = 0; s < t_; ++s) {
        double v = 0.0;
        for (int j = 0; j < d_; ++j) v += a[j] * tokens[s * d_ + j];
        logit_[s] = v;
        top = std::max(top, v);
      }
      double norm = 0.0;
      for (int s = 0; s < t_; ++s) {
        weight_[s] = std::exp(logit_[s] - top);
        norm += weight_[s];
      }
      std::fill(u, u + d_, 0.0);
      for (int s = 0; s < t_; ++s) {
        weight_[s] /= norm;
        for (int j = 0; j < d_; ++j) u[j] += weight_[s] * tokens[s * d_ + j];
      }
      for (int i = 0; i < d_; ++i) std::fill(y[i], y[i] + d_, 0.0);
      for (int s = 0; s < t_; ++s) {
        const double* xs = tokens + s * d_;
        for (int i = 0; i < d_; ++i) {
          const double c = weight_[s] * (xs[i] - u[i]) * scale;
          for (int j = 0; j < d_; ++j) y[i][j] += c * xs[j];
        }
      }
      for (int j = 0; j < d_; ++j)
        u_(p, int64_t{slot} * du_ + j) = scale * u[j];
      int64_t at = int64_t{slot} * d1_;
      for (int i = 0; i < d_; ++i) {
        for (int k = 0; k < r_; ++k) {  // (Y G^T)_ik
          double v = 0.0;
          for (int j = 0; j < d_; ++j) v += y[i][j] * g_[k][j];
          f1_(p, at++) = v;
        }
        for (int j = 0; j < d_; ++j) f1_(p, at++) = extra_ * y[i][j];
      }
      at = int64_t{slot} * d2_;
      for (int k = 0; k < r_; ++k) {
        for (int i = 0; i < d_; ++i) {
          for (int j = 0; j < d_; ++j) f2_(p, at++) = lx[k] * y[i][j];
        }
      }
    }
  }

  const AttentionSpec& a_;
  // The points, row-major: point p's token s at x_.data() + (p T + s) D.
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x_;
  int n_;
  std::vector<Coordinate> coords_;
  std::vector<const QuadratureRule*> rules_;
  int p_, t_, d_, r_;
  double c_, extra_;
  int du_ = 0, d1_ = 0, d2_ = 0;  // feature widths per node
  double l_[kMaxD][kMaxD] = {}, g_[kMaxD][kMaxD] = {};
  std::vector<double> logit_, weight_;
  Eigen::MatrixXd u_, f1_, f2_;
};

}  // namespace

absl::StatusOr<NtkKernels> AttentionNtk(const AttentionSpec& a,
                                        const Eigen::MatrixXd& points,
                                        const AttentionNtkOptions& options) {
  if (options.order != 0 && (options.order < 2 || options.order > 64)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "order = ", options.order, ": must be 0 (automatic) or in [2, 64]"));
  }
  if (options.threads < 1 || !(options.max_evaluations > 0)) {
    return absl::InvalidArgumentError(
        "threads must be >= 1 and max_evaluations positive");
  }
  const int q = static_cast<int>(Coordinates(a).size());
  if (q > kMaxDimensions) {
    return absl::UnimplementedError(absl::StrCat(
        "architecture.attention.embed_dim = ", a.embed_dim, " with head_dim = ",
        a.head_dim, ": the attention NTK's quadrature would have ", q,
        " dimensions; it is computed for embed_dim <= 2 (any head_dim) or "
        "embed_dim = 3 with head_dim = 1 (at most ",
        kMaxDimensions, ")"));
  }
  // Work per node: P softmaxes over T tokens and the rank updates of the
  // P x P sums (~P^2 per node): about 10 ns per unit.
  const double per_node =
      static_cast<double>(points.rows()) *
      (a.sequence_length + static_cast<double>(points.rows()));
  int n = options.order;
  if (n == 0) {
    n = kMinAutoOrder;
    while (n < kMaxAutoOrder && std::pow(n + 1.0, q) <= kAutoNodeBudget &&
           std::pow(n + 1.0, q) * per_node <= options.max_evaluations) {
      ++n;
    }
  }
  const double evaluations = std::pow(double(n), q) * per_node;
  if (evaluations > options.max_evaluations) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "points: %d sequences of %d tokens need %.3g work units for the "
        "attention NTK (%d^%d quadrature nodes x P (T + P)), over the limit "
        "of %.3g; ask for fewer points",
        points.rows(), a.sequence_length, evaluations, n, q,
        options.max_evaluations));
  }
  const int p = static_cast<int>(points.rows());
  const int64_t size = NodeSummer(a, points, n).Size();
  const int64_t blocks = std::min(size, kBlocks);
  std::vector<Sums> partial(blocks);
#pragma omp parallel num_threads(options.threads)
  {
    NodeSummer summer(a, points, n);
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < blocks; ++b) {
      summer.Run(b * size / blocks, (b + 1) * size / blocks, partial[b]);
    }
  }
  Sums total{.uu = Eigen::MatrixXd::Zero(p, p),
             .f1 = Eigen::MatrixXd::Zero(p, p),
             .f2 = Eigen::MatrixXd::Zero(p, p)};
  for (const Sums& s : partial) {
    total.uu += s.uu;
    total.f1 += s.f1;
    total.f2 += s.f2;
  }
  const Eigen::MatrixXd uu = total.uu.selfadjointView<Eigen::Lower>();
  const Eigen::MatrixXd f1 = total.f1.selfadjointView<Eigen::Lower>();
  const Eigen::MatrixXd f2 = total.f2.selfadjointView<Eigen::Lower>();
  const int d = a.embed_dim;
  Eigen::MatrixXd xt(p, d);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < d; ++j) {
      xt(i, j) = points(i, int64_t{a.output_position} * d + j);
    }
  }
  const Eigen::MatrixXd gram = xt * xt.transpose();
  const double cv = a.so * a.so * a.sv * a.sv / d;
  const double cq =
      cv * a.sq * a.sq * a.sk * a.sk / (double(d) * d * a.head_dim);
  const double sb2 = a.sb * a.sb;
  NtkKernels out;
  out.nngp = (cv * uu).array() + sb2;
  out.ntk = (2.0 * cv * uu + cq * (gram.cwiseProduct(f1) + f2)).array() + sb2;
  return out;
}

}  // namespace nnft::theory
