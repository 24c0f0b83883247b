// The attention layer's kernel by the Gauss-chi product rule
// (core/theory/attention_kernel.h).
#include "core/theory/attention_kernel.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "core/theory/quadrature.h"

namespace nnft::theory {
namespace {

constexpr int kMaxDimensions = 7;
constexpr double kAutoNodeBudget = 4e7;
constexpr int kMaxAutoOrder = 32;
// Outer nodes are summed in at most this many fixed blocks (one partial
// kernel each), so the result does not depend on the thread count.
constexpr int64_t kBlocks = 64;
// Below this the factorised softmax normaliser may have lost its digits
// (logit spreads of ~600): the node is evaluated directly instead.
constexpr double kTinyNorm = 1e-250;

// One entry of L: its row, column and law (chi_dof > 0: chi with that many
// degrees of freedom; 0: standard normal).
struct Entry {
  int row = 0, col = 0, chi_dof = 0;
};

int Rank(const AttentionSpec& a) { return std::min(a.embed_dim, a.head_dim); }

std::vector<Entry> LEntries(const AttentionSpec& a) {
  const int d = a.embed_dim, r = Rank(a);
  std::vector<Entry> out;
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < std::min(i + 1, r); ++j) {
      out.push_back({i, j, i == j ? a.head_dim - i : 0});
    }
  }
  return out;
}

int Dimensions(const AttentionSpec& a) {
  return static_cast<int>(LEntries(a).size()) + Rank(a) * a.embed_dim;
}

int AutoOrder(int q) {
  int n = 2;
  while (n < kMaxAutoOrder && std::pow(n + 1.0, q) <= kAutoNodeBudget) ++n;
  return n;
}

// The tensor grid over `h` standard normals with n nodes each: node m has
// coordinates values[m * h + k] and weight weights[m].
struct HalfGrid {
  int h = 0;
  int64_t size = 1;
  std::vector<double> values, weights;
};

HalfGrid MakeHalfGrid(int h, int n) {
  const QuadratureRule& rule = GaussHermite(n);
  HalfGrid g;
  g.h = h;
  for (int k = 0; k < h; ++k) g.size *= n;
  g.values.resize(g.size * h);
  g.weights.resize(g.size);
  for (int64_t m = 0; m < g.size; ++m) {
    int64_t rest = m;
    double w = 1.0;
    for (int k = 0; k < h; ++k) {
      const int digit = static_cast<int>(rest % n);
      rest /= n;
      g.values[m * h + k] = rule.nodes[digit];
      w *= rule.weights[digit];
    }
    g.weights[m] = w;
  }
  return g;
}

// Sums w_L w1 w2 u_p u_q^T over the outer nodes [begin, end) of L into acc.
class Accumulator {
 public:
  Accumulator(const AttentionSpec& a, const Eigen::MatrixXd& points, int n)
      : a_(a),
        x_(points),
        n_(n),
        entries_(LEntries(a)),
        p_(static_cast<int>(points.rows())),
        t_(a.sequence_length),
        d_(a.embed_dim),
        r_(Rank(a)) {
    const int g = r_ * d_;
    half1_ = MakeHalfGrid(g / 2, n);
    half2_ = MakeHalfGrid(g - g / 2, n);
    c_ = a.sq * a.sk / (d_ * std::sqrt(static_cast<double>(a.head_dim)));
    sqrt_w2_.resize(half2_.size);
    for (int64_t m = 0; m < half2_.size; ++m) {
      sqrt_w2_[m] = std::sqrt(half2_.weights[m]);
    }
  }

  int64_t OuterSize() const {
    int64_t s = 1;
    for (size_t k = 0; k < entries_.size(); ++k) s *= n_;
    return s;
  }

  void Run(int64_t begin, int64_t end, Eigen::MatrixXd& acc) {
    const int64_t n2 = half2_.size;
    coeff_.resize(int64_t{p_} * t_ * r_ * d_);
    raw1_.resize(half1_.size * p_ * t_);
    exp1_.resize(raw1_.size());
    raw2_.resize(int64_t{p_} * t_ * n2);
    exp2_.resize(raw2_.size());
    max1_.resize(half1_.size * p_);
    max2_.resize(int64_t{p_} * n2);
    norm_.resize(n2);
    u_.resize(p_, d_ * n2);
    acc = Eigen::MatrixXd::Zero(p_, p_);
    for (int64_t node = begin; node < end; ++node) {
      const double w = SetOuterNode(node);
      Tables();
      for (int64_t m1 = 0; m1 < half1_.size; ++m1) {
        FillU(m1, std::sqrt(w * half1_.weights[m1]));
        acc.selfadjointView<Eigen::Lower>().rankUpdate(u_);
      }
    }
  }

 private:
  // Token s of point p.
  double X(int p, int s, int j) const { return x_(p, int64_t{s} * d_ + j); }

  // Sets coeff_[(p T + s) r D + i D + j] = a_p,i x_ps,j for outer node
  // `node`, a_p = c L^T x_{p, t_out}; returns the node's weight.
  double SetOuterNode(int64_t node) {
    Eigen::MatrixXd l = Eigen::MatrixXd::Zero(d_, r_);
    double w = 1.0;
    int64_t rest = node;
    for (const Entry& e : entries_) {
      const int digit = static_cast<int>(rest % n_);
      rest /= n_;
      const QuadratureRule& rule =
          e.chi_dof > 0 ? GaussChi(n_, e.chi_dof) : GaussHermite(n_);
      l(e.row, e.col) = rule.nodes[digit];
      w *= rule.weights[digit];
    }
    for (int p = 0; p < p_; ++p) {
      for (int i = 0; i < r_; ++i) {
        double ai = 0.0;
        for (int row = 0; row < d_; ++row) {
          ai += l(row, i) * X(p, a_.output_position, row);
        }
        ai *= c_;
        for (int s = 0; s < t_; ++s) {
          for (int j = 0; j < d_; ++j) {
            coeff_[((int64_t{p} * t_ + s) * r_ + i) * d_ + j] = ai * X(p, s, j);
          }
        }
      }
    }
    return w;
  }

  // The logits' two halves and their shifted exponentials:
  // raw1_[(m1 P + p) T + s] over G coordinates [0, h1), raw2_[(p T + s) N2 +
  // m2] over [h1, r D).
  void Tables() {
    const int g = r_ * d_, h1 = half1_.h, h2 = half2_.h;
    const int64_t n2 = half2_.size;
    for (int64_t m1 = 0; m1 < half1_.size; ++m1) {
      const double* gv = half1_.values.data() + m1 * h1;
      for (int p = 0; p < p_; ++p) {
        double top = -std::numeric_limits<double>::infinity();
        double* raw = raw1_.data() + (m1 * p_ + p) * t_;
        for (int s = 0; s < t_; ++s) {
          const double* c = coeff_.data() + (int64_t{p} * t_ + s) * g;
          double v = 0.0;
          for (int k = 0; k < h1; ++k) v += gv[k] * c[k];
          raw[s] = v;
          top = std::max(top, v);
        }
        max1_[m1 * p_ + p] = top;
        for (int s = 0; s < t_; ++s) {
          exp1_[(m1 * p_ + p) * t_ + s] = std::exp(raw[s] - top);
        }
      }
    }
    for (int p = 0; p < p_; ++p) {
      double* top = max2_.data() + int64_t{p} * n2;
      std::fill(top, top + n2, -std::numeric_limits<double>::infinity());
      for (int s = 0; s < t_; ++s) {
        const double* c = coeff_.data() + (int64_t{p} * t_ + s) * g + h1;
        double* raw = raw2_.data() + (int64_t{p} * t_ + s) * n2;
        for (int64_t m2 = 0; m2 < n2; ++m2) {
          const double* gv = half2_.values.data() + m2 * h2;
          double v = 0.0;
          for (int k = 0; k < h2; ++k) v += gv[k] * c[k];
          raw[m2] = v;
          top[m2] = std::max(top[m2], v);
        }
      }
      for (int s = 0; s < t_; ++s) {
        const int64_t at = (int64_t{p} * t_ + s) * n2;
        for (int64_t m2 = 0; m2 < n2; ++m2) {
          exp2_[at + m2] = std::exp(raw2_[at + m2] - top[m2]);
        }
      }
    }
  }

  // u_(p, j N2 + m2) = scale sqrt(w2[m2]) u_p,j at G node (m1, m2).
  void FillU(int64_t m1, double scale) {
    const int64_t n2 = half2_.size;
    for (int p = 0; p < p_; ++p) {
      const double* e1 = exp1_.data() + (m1 * p_ + p) * t_;
      const double* e2 = exp2_.data() + int64_t{p} * t_ * n2;
      double* norm = norm_.data();
      std::fill(norm, norm + n2, 0.0);
      double* row = u_.row(p).data();
      std::fill(row, row + d_ * n2, 0.0);
      for (int s = 0; s < t_; ++s) {
        const double f = e1[s];
        const double* es = e2 + int64_t{s} * n2;
#pragma omp simd
        for (int64_t m2 = 0; m2 < n2; ++m2) norm[m2] += f * es[m2];
        for (int j = 0; j < d_; ++j) {
          const double fx = f * X(p, s, j);
          double* uj = row + j * n2;
#pragma omp simd
          for (int64_t m2 = 0; m2 < n2; ++m2) uj[m2] += fx * es[m2];
        }
      }
      for (int64_t m2 = 0; m2 < n2; ++m2) {
        if (norm[m2] < kTinyNorm) Direct(m1, p, m2);
      }
      const double* sw2 = sqrt_w2_.data();
      for (int j = 0; j < d_; ++j) {
        double* uj = row + j * n2;
#pragma omp simd
        for (int64_t m2 = 0; m2 < n2; ++m2) {
          uj[m2] *= scale * sw2[m2] / norm[m2];
        }
      }
    }
  }

  // The softmax at G node (m1, m2) for point p from the raw logits, when
  // the factorised normaliser underflowed; leaves u_ and norm_ consistent.
  void Direct(int64_t m1, int p, int64_t m2) {
    const int64_t n2 = half2_.size;
    std::vector<double> logit(t_);
    double top = -std::numeric_limits<double>::infinity();
    for (int s = 0; s < t_; ++s) {
      logit[s] = raw1_[(m1 * p_ + p) * t_ + s] +
                 raw2_[(int64_t{p} * t_ + s) * n2 + m2];
      top = std::max(top, logit[s]);
    }
    double norm = 0.0;
    for (int j = 0; j < d_; ++j) u_(p, j * n2 + m2) = 0.0;
    for (int s = 0; s < t_; ++s) {
      const double w = std::exp(logit[s] - top);
      norm += w;
      for (int j = 0; j < d_; ++j) u_(p, j * n2 + m2) += w * X(p, s, j);
    }
    norm_[m2] = norm;
  }

  const AttentionSpec& a_;
  const Eigen::MatrixXd& x_;
  int n_;
  std::vector<Entry> entries_;
  int p_, t_, d_, r_;
  double c_ = 0.0;
  HalfGrid half1_, half2_;
  std::vector<double> sqrt_w2_;
  std::vector<double> coeff_, raw1_, exp1_, raw2_, exp2_, max1_, max2_, norm_;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> u_;
};

}  // namespace

absl::Status AttentionKernelOptions::Validate() const {
  if (order != 0 && (order < 2 || order > 64)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "order = ", order, ": must be 0 (automatic) or in [2, 64]"));
  }
  if (threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads = ", threads, ": must be >= 1"));
  }
  if (!(max_evaluations > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_evaluations = ", max_evaluations, ": must be positive"));
  }
  return absl::OkStatus();
}

absl::StatusOr<AttentionQuadrature> PlanAttentionKernel(
    const AttentionSpec& a, int64_t num_points,
    const AttentionKernelOptions& options) {
  NNFT_RETURN_IF_ERROR(options.Validate());
  AttentionQuadrature plan;
  plan.dimensions = Dimensions(a);
  if (plan.dimensions > kMaxDimensions) {
    return absl::UnimplementedError(absl::StrCat(
        "architecture.attention.embed_dim = ", a.embed_dim,
        " with head_dim = ", a.head_dim,
        ": the attention kernel's quadrature would have ", plan.dimensions,
        " dimensions; it is computed for embed_dim <= 2 (any head_dim) or "
        "embed_dim = 3 with head_dim = 1 (at most ",
        kMaxDimensions, ")"));
  }
  plan.order = options.order > 0 ? options.order : AutoOrder(plan.dimensions);
  plan.nodes = std::pow(static_cast<double>(plan.order), plan.dimensions);
  plan.evaluations =
      plan.nodes * static_cast<double>(num_points) * a.sequence_length;
  if (plan.evaluations > options.max_evaluations) {
    const double most =
        std::floor(options.max_evaluations / (plan.nodes * a.sequence_length));
    return absl::ResourceExhaustedError(absl::StrFormat(
        "points: %d sequences of %d tokens need %.3g softmax evaluations for "
        "the attention kernel (%.0f quadrature nodes x points x tokens), over "
        "the limit of %.3g; ask for at most %.0f points",
        num_points, a.sequence_length, plan.evaluations, plan.nodes,
        options.max_evaluations, most));
  }
  return plan;
}

absl::StatusOr<Eigen::MatrixXd> AttentionKernel(
    const AttentionSpec& a, const Eigen::MatrixXd& points,
    const AttentionKernelOptions& options) {
  NNFT_ASSIGN_OR_RETURN(const AttentionQuadrature plan,
                        PlanAttentionKernel(a, points.rows(), options));
  const int p = static_cast<int>(points.rows());
  const int64_t outer = Accumulator(a, points, plan.order).OuterSize();
  const int64_t blocks = std::min(outer, kBlocks);
  std::vector<Eigen::MatrixXd> partial(blocks);
#pragma omp parallel num_threads(options.threads)
  {
    Accumulator acc(a, points, plan.order);
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < blocks; ++b) {
      acc.Run(b * outer / blocks, (b + 1) * outer / blocks, partial[b]);
    }
  }
  // The blocks fill the lower triangle (rank updates).
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(p, p);
  for (const Eigen::MatrixXd& m : partial) mean += m;
  mean = mean.selfadjointView<Eigen::Lower>();
  const double scale = a.so * a.so * a.sv * a.sv / a.embed_dim;
  return (scale * mean).array() + a.sb * a.sb;
}

std::string AttentionKernelMethod(const AttentionSpec& a, int64_t num_points) {
  absl::StatusOr<AttentionQuadrature> plan = PlanAttentionKernel(a, num_points);
  if (!plan.ok()) {
    return absl::StrCat("attention: no kernel: ", plan.status().message());
  }
  return absl::StrFormat(
      "attention kernel G2 = sb^2 + (so^2 sv^2/D) E[u(x).u(y)], u the "
      "attention-weighted mean token, exact at every head count (i.i.d. "
      "heads); E over M = Wq Wk^T/sqrt(e) = c L G (Bartlett) by a %d-"
      "dimensional Gauss-chi product rule, %d nodes per dimension",
      plan->dimensions, plan->order);
}

}  // namespace nnft::theory
