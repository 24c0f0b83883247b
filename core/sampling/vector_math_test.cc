// Accuracy of core/sampling/vector_math.h against the C library evaluated in
// long double, over wide ranges including the tails. The functions are applied
// in
// `#pragma omp simd` loops, so the vectorised code path is what is checked.
#include "core/sampling/vector_math.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace nnft::vmath {
namespace {

using LD = long double;

// Points: log-uniform magnitudes in [lo, hi] with both signs (if `both`),
// plus a uniform grid on [-grid, grid] (or [0, grid]).
std::vector<LD> Points(LD lo, LD hi, bool both, LD grid, int n = 20000) {
  std::mt19937_64 gen(12345);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<LD> x;
  for (int i = 0; i < n; ++i) {
    LD m = std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * u(gen));
    x.push_back(both && (i & 1) ? -m : m);
  }
  for (int i = 1; i <= n; ++i) {
    LD g = grid * i / n;
    x.push_back(g);
    if (both) x.push_back(-g);
  }
  return x;
}

// Error of `got` against `ref` in units of the precision: ulps of T when the
// reference is above `abs_floor`, else absolute error / (eps of T * floor).
template <typename T>
double Err(T got, LD ref, LD abs_floor) {
  const LD eps = std::numeric_limits<T>::epsilon();
  const LD diff = std::fabs(static_cast<LD>(got) - ref);
  if (diff == 0) return 0.0;
  if (std::isinf(ref) || std::isinf(static_cast<LD>(got))) {
    return static_cast<LD>(got) == ref ? 0.0 : 1e30;
  }
  const LD scale = std::max(std::fabs(ref), abs_floor);
  return static_cast<double>(diff / (scale * eps));
}

struct Case {
  std::string name;
  std::function<void(const float*, float*, int)> vf;
  std::function<void(const double*, double*, int)> vd;
  std::function<LD(LD)> ref;
};

#define NNFT_VECTOR_CASE(NAME, F, REF)                           \
  Case {                                                         \
    NAME,                                                        \
        [](const float* x, float* y, int n) {                    \
          _Pragma("omp simd") for (int i = 0; i < n; ++i) y[i] = \
              F<float>(x[i]);                                    \
        },                                                       \
        [](const double* x, double* y, int n) {                  \
          _Pragma("omp simd") for (int i = 0; i < n; ++i) y[i] = \
              F<double>(x[i]);                                   \
        },                                                       \
        REF                                                      \
  }

// Largest error (as in Err) of the case on the points, in float and double.
void MaxErrors(const Case& c, const std::vector<LD>& pts, LD abs_floor,
               double& worst_f, double& worst_d) {
  std::vector<float> xf, yf(pts.size());
  std::vector<double> xd, yd(pts.size());
  for (LD p : pts) {
    xf.push_back(static_cast<float>(p));
    xd.push_back(static_cast<double>(p));
  }
  c.vf(xf.data(), yf.data(), static_cast<int>(pts.size()));
  c.vd(xd.data(), yd.data(), static_cast<int>(pts.size()));
  worst_f = worst_d = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    const double ef = Err<float>(yf[i], c.ref(xf[i]), abs_floor);
    const double ed = Err<double>(yd[i], c.ref(xd[i]), abs_floor);
    EXPECT_LE(ef, 1e29) << c.name << " float x=" << xf[i] << " got " << yf[i];
    EXPECT_LE(ed, 1e29) << c.name << " double x=" << xd[i] << " got " << yd[i];
    worst_f = std::max(worst_f, ef);
    worst_d = std::max(worst_d, ed);
  }
}

// Double tolerance: 1e-14 relative = 45 eps; float: 4 ulp.
constexpr double kFloatUlps = 4.0;
constexpr double kDoubleEps = 1e-14 / 2.220446049250313e-16;

void ExpectAccurate(const Case& c, const std::vector<LD>& pts, LD abs_floor = 0,
                    double float_ulps = kFloatUlps) {
  double wf, wd;
  MaxErrors(c, pts, abs_floor, wf, wd);
  EXPECT_LE(wf, float_ulps) << c.name << " float";
  EXPECT_LE(wd, kDoubleEps) << c.name << " double";
  std::printf("%-10s float %.2f ulp, double %.2f eps\n", c.name.c_str(), wf,
              wd);
}

TEST(VectorMathTest, LogMatchesLibmFromSubnormalToHuge) {
  ExpectAccurate(NNFT_VECTOR_CASE("log", Log, [](LD x) { return std::log(x); }),
                 Points(1e-37L, 1e37L, false, 4.0L));
  // Uniforms as Box-Muller feeds them.
  ExpectAccurate(
      NNFT_VECTOR_CASE("logpos", LogPositive, [](LD x) { return std::log(x); }),
      Points(1e-9L, 1.0L, false, 1.0L));
}

TEST(VectorMathTest, LogSpecialValues) {
  EXPECT_EQ(Log(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(Log(-1.0f)));
  EXPECT_EQ(Log(std::numeric_limits<float>::infinity()),
            std::numeric_limits<float>::infinity());
  EXPECT_NEAR(Log(1e-310), std::log(1e-310), 1e-12);
}

TEST(VectorMathTest, ExpAndExpm1MatchLibm) {
  ExpectAccurate(NNFT_VECTOR_CASE("exp", Exp, [](LD x) { return std::exp(x); }),
                 Points(1e-12L, 86.0L, true, 86.0L));
  ExpectAccurate(
      NNFT_VECTOR_CASE("expm1", Expm1, [](LD x) { return std::expm1(x); }),
      Points(1e-30L, 80.0L, true, 80.0L));
  EXPECT_EQ(Exp(1000.0), std::numeric_limits<double>::infinity());
  EXPECT_EQ(Exp(-1000.0f), 0.0f);
  EXPECT_NEAR(Exp(700.0) / std::exp(700.0), 1.0, 1e-14);
}

TEST(VectorMathTest, SinCosMatchLibmOverWideRange) {
  // Near zeros of sin/cos the reduction's absolute error dominates: compare
  // relative to max(|ref|, 1e-3) for arguments up to 1e4.
  auto sin_case =
      NNFT_VECTOR_CASE("sin", Sin, [](LD x) { return std::sin(x); });
  auto cos_case =
      NNFT_VECTOR_CASE("cos", Cos, [](LD x) { return std::cos(x); });
  ExpectAccurate(sin_case, Points(1e-20L, 1e4L, true, 20.0L), 1e-3L);
  ExpectAccurate(cos_case, Points(1e-20L, 1e4L, true, 20.0L), 1e-3L);
  // Small arguments: relative accuracy.
  ExpectAccurate(sin_case, Points(1e-30L, 1.0L, true, 1.0L));
}

TEST(VectorMathTest, SinCos2PiOfUniforms) {
  auto s_case = Case{
      "sin2pi",
      [](const float* x, float* y, int n) {
#pragma omp simd
        for (int i = 0; i < n; ++i) {
          float c;
          SinCos2Pi(x[i], y[i], c);
        }
      },
      [](const double* x, double* y, int n) {
#pragma omp simd
        for (int i = 0; i < n; ++i) {
          double c;
          SinCos2Pi(x[i], y[i], c);
        }
      },
      [](LD u) { return std::sin(2 * 3.14159265358979323846264338328L * u); }};
  auto c_case = Case{
      "cos2pi",
      [](const float* x, float* y, int n) {
#pragma omp simd
        for (int i = 0; i < n; ++i) {
          float s;
          SinCos2Pi(x[i], s, y[i]);
        }
      },
      [](const double* x, double* y, int n) {
#pragma omp simd
        for (int i = 0; i < n; ++i) {
          double s;
          SinCos2Pi(x[i], s, y[i]);
        }
      },
      [](LD u) { return std::cos(2 * 3.14159265358979323846264338328L * u); }};
  // Relative accuracy, floored at 1e-4: near u = 1/2, 1 the long-double
  // reference itself is off by ~1e-19 (its pi is rounded).
  ExpectAccurate(s_case, Points(1e-9L, 1.0L, false, 1.0L), 1e-4L);
  ExpectAccurate(c_case, Points(1e-9L, 1.0L, false, 1.0L), 1e-4L);
}

TEST(VectorMathTest, ErfAndErfcMatchLibmIncludingTails) {
  ExpectAccurate(NNFT_VECTOR_CASE("erf", Erf, [](LD x) { return std::erf(x); }),
                 Points(1e-30L, 30.0L, true, 7.0L));
  // erfc: relative accuracy down to the float / double underflow.
  auto erfc_case =
      NNFT_VECTOR_CASE("erfc", Erfc, [](LD x) { return std::erfc(x); });
  ExpectAccurate(erfc_case, Points(1e-30L, 9.0L, true, 9.0L));
  double wf, wd;
  MaxErrors(erfc_case, Points(9.0L, 26.0L, false, 26.0L), 0, wf, wd);
  EXPECT_LE(wd, kDoubleEps) << "double erfc tail";
}

TEST(VectorMathTest, ActivationsMatchLibm) {
  ExpectAccurate(
      NNFT_VECTOR_CASE("tanh", Tanh, [](LD x) { return std::tanh(x); }),
      Points(1e-30L, 40.0L, true, 10.0L));
  ExpectAccurate(NNFT_VECTOR_CASE("sigmoid", Sigmoid,
                                  [](LD x) { return 1 / (1 + std::exp(-x)); }),
                 Points(1e-30L, 80.0L, true, 20.0L));
  ExpectAccurate(NNFT_VECTOR_CASE("softplus", Softplus,
                                  [](LD x) { return std::log1p(std::exp(x)); }),
                 Points(1e-30L, 80.0L, true, 20.0L));
  // gelu: x Phi(x), accurate in the left tail to x = -12 (float) as well;
  // there Phi is ill-conditioned (relative condition number x^2), so float
  // gets 6 ulp.
  ExpectAccurate(
      NNFT_VECTOR_CASE(
          "gelu", Gelu,
          [](LD x) { return x * 0.5L * std::erfc(-x / std::sqrt(2.0L)); }),
      Points(1e-30L, 12.0L, true, 12.0L), 0, 6.0);
  EXPECT_EQ(Relu(-2.0f), 0.0f);
  EXPECT_EQ(Relu(3.0), 3.0);
}

}  // namespace
}  // namespace nnft::vmath
