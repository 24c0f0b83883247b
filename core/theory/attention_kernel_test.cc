// The attention kernel's Gauss-chi rule against exact special cases and a
// brute-force Monte Carlo of the expectation over Wq, Wk (its own generator,
// no Bartlett decomposition), with per-entry |z| bounds.
#include "core/theory/attention_kernel.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "core/theory/kernel_answer.h"
#include "core/theory/quadrature.h"
#include "core/theory/test_util.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

AttentionSpec Spec(int t, int d, int e) {
  return AttentionSpec{.sequence_length = t,
                       .embed_dim = d,
                       .heads = 8,
                       .head_dim = e,
                       .output_position = 1,
                       .output_component = 0,
                       .sq = 1.5,
                       .sk = 1.2,
                       .sv = 0.9,
                       .so = 1.1,
                       .sb = 0.3};
}

// P sequences of T tokens in R^D, entries uniform in [-1, 1] (fixed seed).
Eigen::MatrixXd Sequences(int p, int t, int d, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Eigen::MatrixXd x(p, t * d);
  for (int i = 0; i < x.size(); ++i) x.data()[i] = uniform(gen);
  return x;
}

// sum_s A_p(t_out, s) x_s for one draw of Wq, Wk (D x e).
Eigen::VectorXd MeanToken(const AttentionSpec& a, const Eigen::MatrixXd& wq,
                          const Eigen::MatrixXd& wk, const Eigen::MatrixXd& x,
                          int p) {
  const int d = a.embed_dim, len = a.sequence_length;
  auto token = [&](int s) {
    return Eigen::VectorXd(x.row(p).segment(s * d, d).transpose());
  };
  const Eigen::VectorXd q = wq.transpose() * token(a.output_position);
  Eigen::VectorXd logit(len);
  for (int s = 0; s < len; ++s) {
    logit[s] = q.dot(wk.transpose() * token(s)) / std::sqrt(a.head_dim);
  }
  const Eigen::VectorXd w = (logit.array() - logit.maxCoeff()).exp();
  Eigen::VectorXd u = Eigen::VectorXd::Zero(d);
  for (int s = 0; s < len; ++s) u += w[s] / w.sum() * token(s);
  return u;
}

struct McKernel {
  Eigen::MatrixXd mean, stderr_mean;
};

// G2 = sb^2 + (so^2 sv^2 / D) E[u_p . u_q] by `samples` draws of Wq, Wk.
McKernel BruteForce(const AttentionSpec& a, const Eigen::MatrixXd& x,
                    int samples, uint64_t seed) {
  const int d = a.embed_dim, e = a.head_dim, num = static_cast<int>(x.rows());
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(num, num), sum2 = sum;
  Eigen::MatrixXd wq(d, e), wk(d, e), u(d, num);
  for (int n = 0; n < samples; ++n) {
    for (int i = 0; i < d * e; ++i) {
      wq.data()[i] = normal(gen) * a.sq / std::sqrt(d);
      wk.data()[i] = normal(gen) * a.sk / std::sqrt(d);
    }
    for (int p = 0; p < num; ++p) u.col(p) = MeanToken(a, wq, wk, x, p);
    const Eigen::MatrixXd v = u.transpose() * u;
    sum += v;
    sum2 += v.cwiseProduct(v);
  }
  const double c = a.so * a.so * a.sv * a.sv / d;
  const Eigen::MatrixXd mean = sum / samples;
  const Eigen::MatrixXd var =
      (sum2 / samples - mean.cwiseProduct(mean)) / (samples - 1);
  return {(c * mean).array() + a.sb * a.sb, c * var.cwiseSqrt()};
}

TEST(GaussChiTest, ReproducesTheEvenChiMoments) {
  for (int k : {1, 2, 3, 7}) {
    const QuadratureRule& rule = GaussChi(12, k);
    double m0 = 0, m2 = 0, m4 = 0, m6 = 0;
    for (int i = 0; i < 12; ++i) {
      const double r2 = rule.nodes[i] * rule.nodes[i];
      m0 += rule.weights[i];
      m2 += rule.weights[i] * r2;
      m4 += rule.weights[i] * r2 * r2;
      m6 += rule.weights[i] * r2 * r2 * r2;
    }
    EXPECT_TRUE(IsClose(m0, 1.0, 1e-13)) << k;
    EXPECT_TRUE(IsClose(m2, k, 1e-12)) << k;
    EXPECT_TRUE(IsClose(m4, k * (k + 2.0), 1e-12)) << k;
    EXPECT_TRUE(IsClose(m6, k * (k + 2.0) * (k + 4.0), 1e-12)) << k;
  }
}

TEST(AttentionKernelTest, ZeroQueryAttendsUniformlyToTheMeanToken) {
  // x_{t_out} = 0: every logit vanishes, A = 1/T, u = the mean token.
  const AttentionSpec a = Spec(4, 2, 2);
  Eigen::MatrixXd x = Sequences(3, 4, 2, 1);
  x.block(0, a.output_position * 2, 3, 2).setZero();
  const absl::StatusOr<Eigen::MatrixXd> k = AttentionKernel(a, x);
  ASSERT_TRUE(k.ok()) << k.status();
  for (int p = 0; p < 3; ++p) {
    for (int q = 0; q < 3; ++q) {
      Eigen::Vector2d up = Eigen::Vector2d::Zero(), uq = up;
      for (int s = 0; s < 4; ++s) {
        up += x.row(p).segment(2 * s, 2).transpose() / 4;
        uq += x.row(q).segment(2 * s, 2).transpose() / 4;
      }
      const double exact =
          a.sb * a.sb + a.so * a.so * a.sv * a.sv / 2 * up.dot(uq);
      EXPECT_TRUE(IsClose((*k)(p, q), exact, 1e-12, 1e-14));
    }
  }
}

TEST(AttentionKernelTest, IdenticalTokensGiveTheLinearKernel) {
  // Every token equal: u = x_0 whatever the weights.
  for (int e : {1, 3}) {
    const AttentionSpec a = Spec(3, 2, e);
    Eigen::MatrixXd x(2, 6);
    x << 0.4, -0.9, 0.4, -0.9, 0.4, -0.9,  //
        1.3, 0.2, 1.3, 0.2, 1.3, 0.2;
    const absl::StatusOr<Eigen::MatrixXd> k = AttentionKernel(a, x);
    ASSERT_TRUE(k.ok()) << k.status();
    const double c = a.so * a.so * a.sv * a.sv / 2;
    EXPECT_TRUE(IsClose((*k)(0, 1), a.sb * a.sb + c * (0.4 * 1.3 - 0.9 * 0.2),
                        1e-12, 1e-14));
    EXPECT_TRUE(IsClose((*k)(1, 1), a.sb * a.sb + c * (1.69 + 0.04), 1e-12));
  }
}

// Every (D, e) shape the rule supports, including the rank-deficient
// Wishart (e < D) and e > D, against 100000 draws of Wq, Wk.
TEST(AttentionKernelTest, MatchesABruteForceMonteCarlo) {
  constexpr double kMaxZ = 4.0;  // per entry; 36 entries, pass rate 0.998
  struct Shape {
    int t, d, e;
  };
  for (const Shape& s : {Shape{4, 1, 1}, Shape{4, 1, 3}, Shape{4, 2, 1},
                         Shape{4, 2, 2}, Shape{3, 2, 5}, Shape{3, 3, 1}}) {
    const AttentionSpec a = Spec(s.t, s.d, s.e);
    const Eigen::MatrixXd x = Sequences(3, s.t, s.d, 10 + s.d * 10 + s.e);
    const absl::StatusOr<Eigen::MatrixXd> k = AttentionKernel(a, x);
    ASSERT_TRUE(k.ok()) << k.status();
    const McKernel mc = BruteForce(a, x, 100000, 100 + s.e);
    double max_z = 0;
    for (int p = 0; p < 3; ++p) {
      for (int q = p; q < 3; ++q) {
        const double z = ((*k)(p, q) - mc.mean(p, q)) / mc.stderr_mean(p, q);
        max_z = std::max(max_z, std::fabs(z));
        EXPECT_LT(std::fabs(z), kMaxZ)
            << "T D e = " << s.t << s.d << s.e << " entry " << p << q << ": "
            << (*k)(p, q) << " vs " << mc.mean(p, q) << " +- "
            << mc.stderr_mean(p, q);
      }
    }
    std::printf("T=%d D=%d e=%d: max |z| = %.2f over 6 entries\n", s.t, s.d,
                s.e, max_z);
  }
}

TEST(AttentionKernelTest, ConvergedAtTheAutomaticOrder) {
  // D = 2, e = 2 (7 dimensions): order 12 (automatic) against 14 agree to
  // 3e-5 relative (measured), far below a Monte Carlo's error.
  const AttentionSpec a = Spec(4, 2, 2);
  const Eigen::MatrixXd x = Sequences(2, 4, 2, 5);
  const absl::StatusOr<Eigen::MatrixXd> k12 = AttentionKernel(a, x);
  const absl::StatusOr<Eigen::MatrixXd> k14 =
      AttentionKernel(a, x, {.order = 14, .threads = 2});
  ASSERT_TRUE(k12.ok() && k14.ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(IsClose(k12->data()[i], k14->data()[i], 1e-4));
  }
}

TEST(AttentionKernelTest, SameBitsOnOneAndTwoThreads) {
  const AttentionSpec a = Spec(4, 2, 3);
  const Eigen::MatrixXd x = Sequences(3, 4, 2, 6);
  const absl::StatusOr<Eigen::MatrixXd> k1 =
      AttentionKernel(a, x, {.order = 8, .threads = 1});
  const absl::StatusOr<Eigen::MatrixXd> k2 =
      AttentionKernel(a, x, {.order = 8, .threads = 2});
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_EQ(*k1, *k2);
  EXPECT_EQ(*k1, k1->transpose());
}

TEST(AttentionKernelTest, RefusesLargeEmbedDimAndTooManyPoints) {
  const absl::Status wide =
      AttentionKernel(Spec(2, 3, 2), Sequences(2, 2, 3, 1)).status();
  EXPECT_EQ(wide.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(wide.message().find("architecture.attention.embed_dim = 3"),
            std::string::npos)
      << wide.message();
  EXPECT_NE(wide.message().find("embed_dim <= 2"), std::string::npos);
  const absl::StatusOr<AttentionQuadrature> many =
      PlanAttentionKernel(Spec(4, 2, 2), 1000);
  EXPECT_EQ(many.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(many.status().message().find("points: 1000 sequences"),
            std::string::npos)
      << many.status().message();
  const absl::StatusOr<AttentionQuadrature> plan =
      PlanAttentionKernel(Spec(4, 2, 2), 8);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->dimensions, 7);
  EXPECT_EQ(plan->order, 12);
  EXPECT_EQ(PlanAttentionKernel(Spec(4, 2, 1), 8)->dimensions, 4);
  EXPECT_EQ(PlanAttentionKernel(Spec(4, 1, 5), 8)->dimensions, 2);
}

// Logits of thousands (sq = sk = 40): the factorised softmax normaliser
// underflows at many nodes and those are evaluated directly; the kernel stays
// finite and inside the convex hull bound |u| <= max_s |x_s|.
TEST(AttentionKernelTest, HugeLogitsStayFiniteAndBounded) {
  AttentionSpec a = Spec(4, 2, 2);
  a.sq = a.sk = 40.0;
  const Eigen::MatrixXd x = 2.0 * Sequences(2, 4, 2, 8);
  const absl::StatusOr<Eigen::MatrixXd> k = AttentionKernel(a, x, {.order = 6});
  ASSERT_TRUE(k.ok()) << k.status();
  const double c = a.so * a.so * a.sv * a.sv / 2;
  for (int p = 0; p < 2; ++p) {
    double top = 0;
    for (int s = 0; s < 4; ++s) {
      top = std::max(top, x.row(p).segment(2 * s, 2).squaredNorm());
    }
    EXPECT_TRUE(std::isfinite((*k)(p, p)));
    EXPECT_GT((*k)(p, p), a.sb * a.sb);
    EXPECT_LE((*k)(p, p), a.sb * a.sb + c * top * (1 + 1e-12));
  }
  EXPECT_TRUE(std::isfinite((*k)(0, 1)));
}

// ComputeKernel's cross kernel K(X, Y) is the kernel over the union.
TEST(AttentionKernelTest, ComputeKernelGivesTheCrossKernel) {
  const AttentionSpec a = Spec(4, 2, 1);
  const Eigen::MatrixXd all = Sequences(3, 4, 2, 7);
  ExperimentSpec spec;
  spec.architecture = a;
  spec.points = all.topRows(2);
  const absl::StatusOr<KernelAnswer> answer =
      ComputeKernelAnswer(spec, all.bottomRows(1), {});
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->cross_kernel_absent_reason, "");
  const absl::StatusOr<Eigen::MatrixXd> k = AttentionKernel(a, all);
  ASSERT_TRUE(k.ok());
  ASSERT_EQ(answer->cross_kernel.rows(), 2);
  ASSERT_EQ(answer->cross_kernel.cols(), 1);
  for (int p = 0; p < 2; ++p) {
    EXPECT_TRUE(IsClose(answer->cross_kernel(p, 0), (*k)(p, 2), 1e-12));
  }
}

}  // namespace
}  // namespace nnft::theory
