// core/sampling/rng.h: Philox4x32-10 bit for bit against Random123 (test-only
// use of its reference implementation), the stream layout, and the moments of
// the uniforms and normals within stated numbers of standard errors.
#include "core/sampling/rng.h"

#include <Random123/philox.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace nnft {
namespace {

r123::Philox4x32::ctr_type Reference(uint64_t seed, uint64_t m, uint32_t block,
                                     uint32_t tag) {
  r123::Philox4x32 philox;
  r123::Philox4x32::ctr_type ctr = {
      {static_cast<uint32_t>(m), static_cast<uint32_t>(m >> 32), block, tag}};
  r123::Philox4x32::key_type key = {
      {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
  return philox(ctr, key);
}

TEST(PhiloxTest, MatchesRandom123OnRandomCountersAndKeys) {
  std::mt19937_64 gen(2024);
  for (int trial = 0; trial < 10000; ++trial) {
    const uint64_t seed = gen(), m = gen();
    const uint32_t block = static_cast<uint32_t>(gen()),
                   tag = static_cast<uint32_t>(gen());
    uint32_t x0 = static_cast<uint32_t>(m), x1 = static_cast<uint32_t>(m >> 32),
             x2 = block, x3 = tag;
    Philox4x32x10(x0, x1, x2, x3, static_cast<uint32_t>(seed),
                  static_cast<uint32_t>(seed >> 32));
    const auto ref = Reference(seed, m, block, tag);
    ASSERT_EQ(x0, ref.v[0]);
    ASSERT_EQ(x1, ref.v[1]);
    ASSERT_EQ(x2, ref.v[2]);
    ASSERT_EQ(x3, ref.v[3]);
  }
}

TEST(PhiloxTest, VectorisedGroupMatchesRandom123) {
  const StreamId id{
      .seed = 0x123456789abcdef0ull, .network = 77777777777ull, .tag = 5};
  for (int64_t group : {0, 1, 1000}) {
    alignas(64) uint32_t w[4][kPhiloxLanes];
    PhiloxGroup(id, group, w);
    for (int l = 0; l < kPhiloxLanes; ++l) {
      const auto ref = Reference(id.seed, id.network,
                                 static_cast<uint32_t>(group * 16 + l), id.tag);
      for (int r = 0; r < 4; ++r) EXPECT_EQ(w[r][l], ref.v[r]);
    }
  }
}

TEST(PhiloxTest, PortableAndIntrinsicGroupsAgree) {
  std::mt19937_64 gen(7);
  for (int trial = 0; trial < 1000; ++trial) {
    const StreamId id{
        .seed = gen(), .network = gen(), .tag = static_cast<uint32_t>(gen())};
    const int64_t group = static_cast<int64_t>(gen() >> 40);
    alignas(64) uint32_t a[4][kPhiloxLanes], b[4][kPhiloxLanes];
    PhiloxGroup(id, group, a);
    PhiloxGroupPortable(id, group, b);
    for (int r = 0; r < 4; ++r) {
      for (int l = 0; l < kPhiloxLanes; ++l) ASSERT_EQ(a[r][l], b[r][l]);
    }
  }
}

TEST(StreamTest, UniformLayoutIsStructureOfArraysPerGroup) {
  const StreamId id{.seed = 9, .network = 3, .tag = 1};
  std::vector<float> f(StreamPadded<float>(200));
  std::vector<double> d(StreamPadded<double>(200));
  FillUniforms(id, 200, f.data());
  FillUniforms(id, 200, d.data());
  for (int g = 0; g < 3; ++g) {
    for (int l = 0; l < 16; ++l) {
      const auto ref = Reference(9, 3, static_cast<uint32_t>(16 * g + l), 1);
      for (int r = 0; r < 4; ++r) {
        EXPECT_EQ(f[64 * g + 16 * r + l], UniformFloat(ref.v[r]));
      }
      EXPECT_EQ(d[32 * g + l], UniformDouble(ref.v[0], ref.v[1]));
      EXPECT_EQ(d[32 * g + 16 + l], UniformDouble(ref.v[2], ref.v[3]));
    }
  }
}

TEST(StreamTest, UniformsStayStrictlyInsideTheUnitInterval) {
  EXPECT_GT(UniformFloat(0), 0.0f);
  EXPECT_LT(UniformFloat(0xffffffffu), 1.0f);
  EXPECT_GT(UniformDouble(0, 0), 0.0);
  EXPECT_LT(UniformDouble(0xffffffffu, 0xffffffffu), 1.0);
}

TEST(StreamTest, PrefixesAndStreamsAreIndependentOfLength) {
  const StreamId id{.seed = 1, .network = 42, .tag = 0};
  std::vector<double> a(StreamPadded<double>(10)), b(StreamPadded<double>(100));
  FillNormals(id, 10, 1.0, a.data());
  FillNormals(id, 100, 1.0, b.data());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a[i], b[i]);
  StreamId other = id;
  other.network = 43;
  FillNormals(other, 10, 1.0, a.data());
  EXPECT_NE(a[0], b[0]);
  other = id;
  other.tag = 1;
  FillNormals(other, 10, 1.0, a.data());
  EXPECT_NE(a[0], b[0]);
}

// Sample moments of n draws against exact ones, within 5 standard errors.
template <typename T>
void CheckUniformMoments() {
  const int n = 1 << 21;
  std::vector<T> u(StreamPadded<T>(n));
  FillUniforms(StreamId{.seed = 31, .network = 5, .tag = 2}, n, u.data());
  double s1 = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    ASSERT_GT(u[i], T(0));
    ASSERT_LT(u[i], T(1));
    s1 += u[i];
    s2 += (u[i] - 0.5) * (u[i] - 0.5);
  }
  // mean 1/2, sd 1/sqrt(12 n); central second moment 1/12, its variance
  // (1/80 - 1/144) / n.
  EXPECT_NEAR(s1 / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(s2 / n, 1.0 / 12, 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
}

template <typename T>
void CheckNormalMoments() {
  const int n = 1 << 21;
  std::vector<T> z(StreamPadded<T>(n));
  FillNormals(StreamId{.seed = 77, .network = 1234, .tag = 0}, n, T(1),
              z.data());
  double m[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < n; ++i) {
    double p = 1;
    for (int k = 1; k <= 4; ++k) m[k] += (p *= z[i]);
  }
  for (double& x : m) x /= n;
  // Exact: 0, 1, 0, 3; variances of the sample moments: 1, 2, 15, 96 over n.
  EXPECT_NEAR(m[1], 0.0, 5 * std::sqrt(1.0 / n));
  EXPECT_NEAR(m[2], 1.0, 5 * std::sqrt(2.0 / n));
  EXPECT_NEAR(m[3], 0.0, 5 * std::sqrt(15.0 / n));
  EXPECT_NEAR(m[4], 3.0, 5 * std::sqrt(96.0 / n));
}

TEST(StreamTest, UniformMomentsFloat) { CheckUniformMoments<float>(); }
TEST(StreamTest, UniformMomentsDouble) { CheckUniformMoments<double>(); }
TEST(StreamTest, NormalMomentsFloat) { CheckNormalMoments<float>(); }
TEST(StreamTest, NormalMomentsDouble) { CheckNormalMoments<double>(); }

TEST(StreamTest, NormalTailFractionMatchesGaussian) {
  // P(|z| > 3) = erfc(3 / sqrt 2) = 0.0026998; binomial error.
  const int n = 1 << 21;
  std::vector<double> z(StreamPadded<double>(n));
  FillNormals(StreamId{.seed = 5, .network = 6, .tag = 7}, n, 1.0, z.data());
  int tail = 0;
  for (int i = 0; i < n; ++i) tail += std::fabs(z[i]) > 3;
  const double p = std::erfc(3 / std::sqrt(2.0));
  EXPECT_NEAR(static_cast<double>(tail) / n, p, 5 * std::sqrt(p * (1 - p) / n));
}

}  // namespace
}  // namespace nnft
