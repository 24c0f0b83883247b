// Vectorisable elementary functions for the engine's hot loops, templated on
// float and double. Every function is branch-free straight-line code (selects
// instead of branches, no libm calls except sqrt and fma, which map to single
// instructions), so GCC vectorises a loop that calls them under
// `#pragma omp simd` (AVX-512 on the build machine). Compile the caller with
// -fno-math-errno so that std::sqrt vectorises too.
//
// Accuracy (checked against std:: in vector_math_test): float within a few
// ulp, double within ~1e-14 relative, on the stated domains. Methods:
//   log    x = 2^e m, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s),
//          s = (m - 1) / (m + 1), Taylor series in s^2.
//   exp    x = k ln2 + r, |r| <= ln2 / 2 (ln2 split in two), Taylor in r.
//   expm1  as exp, returning 2^k expm1(r) + (2^k - 1), exact for k = 0.
//   sin, cos   x = k pi/2 + r (pi/2 split in three, fma), Taylor on
//          |r| <= pi/4, quadrant by selects. Domain |x| <= 1e5 (float),
//          1e9 (double).
//   sincos(2 pi u)  exact reduction u = q/4 + r, then as above.
//   erf, erfc  Chebyshev interpolants (vector_math_coefficients.h):
//          erf(x) = x P(x^2) for |x| < 1; erfc(a) = exp(-a^2) R(a) beyond,
//          with a^2 split exactly by fma so that erfc keeps its relative
//          accuracy in the tail.
//   tanh = sign(x) e / (e + 2), e = expm1(2|x|); sigmoid = 1 / (1 + e^-x);
//   softplus = max(x, 0) + log1p(e^-|x|); gelu = x Phi(x),
//   Phi(x) = erfc(-x / sqrt 2) / 2 (exact form, accurate in the left tail).
#ifndef NNFT_CORE_SAMPLING_VECTOR_MATH_H_
#define NNFT_CORE_SAMPLING_VECTOR_MATH_H_

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

#include "core/sampling/vector_math_coefficients.h"

// Every function here is forced inline: the callers' `omp simd` loops only
// vectorise when the whole body is visible, and GCC's size heuristics
// otherwise keep e.g. Exp<double> out of a function with many such loops
// (ApplyActivation), which made float64 erf nets several times slower.
#define NNFT_VMATH_INLINE inline __attribute__((always_inline))

namespace nnft::vmath {

namespace internal {

template <typename T>
struct FloatTraits;
template <>
struct FloatTraits<float> {
  using Int = int32_t;
  using UInt = uint32_t;
  static constexpr int kMantissa = 23;
  static constexpr int kBias = 127;
  static constexpr float kShifter = 0x1.8p23f;  // rounds to integers
};
template <>
struct FloatTraits<double> {
  using Int = int64_t;
  using UInt = uint64_t;
  static constexpr int kMantissa = 52;
  static constexpr int kBias = 1023;
  static constexpr double kShifter = 0x1.8p52;
};

// Round to nearest integer (ties to even) for |x| < 2^22 (float) / 2^51.
template <typename T>
NNFT_VMATH_INLINE T RoundInt(T x) {
  return (x + FloatTraits<T>::kShifter) - FloatTraits<T>::kShifter;
}

// 2^k for an integral-valued k within the normal exponent range.
template <typename T>
NNFT_VMATH_INLINE T Pow2(T k) {
  using Tr = FloatTraits<T>;
  const typename Tr::Int e = static_cast<typename Tr::Int>(k) + Tr::kBias;
  return std::bit_cast<T>(static_cast<typename Tr::UInt>(e) << Tr::kMantissa);
}

// Horner's rule, lowest degree first, with explicit fma; unrolled at compile
// time (a loop here would stop GCC from vectorising the caller's loop).
template <typename T, std::size_t N, std::size_t... I>
NNFT_VMATH_INLINE T PolyImpl(T s, const double (&c)[N],
                             std::index_sequence<I...>) {
  T p = static_cast<T>(c[N - 1]);
  ((p = std::fma(p, s, static_cast<T>(c[N - 2 - I]))), ...);
  return p;
}
template <typename T, std::size_t N>
NNFT_VMATH_INLINE T Poly(T s, const double (&c)[N]) {
  return PolyImpl(s, c, std::make_index_sequence<N - 1>());
}

template <typename T>
NNFT_VMATH_INLINE T Select(bool c, T a, T b) {
  return c ? a : b;
}
// min/max as compares, which GCC vectorises (std::fmin/fmax it may not).
template <typename T>
NNFT_VMATH_INLINE T Min(T a, T b) {
  return a < b ? a : b;
}
template <typename T>
NNFT_VMATH_INLINE T Max(T a, T b) {
  return a > b ? a : b;
}

}  // namespace internal

// log(x) for finite positive normal x (no checks): the Box-Muller path.
template <typename T>
NNFT_VMATH_INLINE T LogPositive(T x) {
  using Tr = internal::FloatTraits<T>;
  using UInt = typename Tr::UInt;
  using Int = typename Tr::Int;
  // Bits of sqrt(1/2): subtracting them puts m in [sqrt(1/2), sqrt(2)).
  constexpr UInt kOff =
      static_cast<UInt>(sizeof(T) == 4 ? 0x3f3504f3ull : 0x3fe6a09e667f3bcdull);
  constexpr UInt kMantMask = (UInt{1} << Tr::kMantissa) - 1;
  const UInt ix = std::bit_cast<UInt>(x) - kOff;
  const Int e = static_cast<Int>(ix) >> Tr::kMantissa;  // arithmetic shift
  const T m = std::bit_cast<T>((ix & kMantMask) + kOff);
  const T f = m - T(1);
  const T s = f / (T(2) + f);
  const T z = s * s;
  T q;
  if constexpr (sizeof(T) == 4) {
    constexpr double c[] = {1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11};
    q = internal::Poly(z, c);
  } else {
    constexpr double c[] = {1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,
                            1.0 / 11, 1.0 / 13, 1.0 / 15, 1.0 / 17,
                            1.0 / 19, 1.0 / 21, 1.0 / 23, 1.0 / 25};
    q = internal::Poly(z, c);
  }
  constexpr T kLn2Hi =
      sizeof(T) == 4 ? T(0.693145751953125) : T(6.93147180369123816490e-01);
  constexpr T kLn2Lo =
      sizeof(T) == 4 ? T(1.428606765330187e-06) : T(1.90821492927058770002e-10);
  const T ef = static_cast<T>(e);
  const T two_s = s + s;
  // log x = e ln2 + 2s + 2s z q, small terms first.
  const T small = std::fma(two_s * z, q, ef * kLn2Lo);
  return std::fma(ef, kLn2Hi, two_s + small);
}

// log(x) for any x: subnormals scaled, log 0 = -inf, log of x < 0 or NaN is
// NaN, log inf = inf.
template <typename T>
NNFT_VMATH_INLINE T Log(T x) {
  constexpr T kMinNormal = std::numeric_limits<T>::min();
  constexpr T kScale = sizeof(T) == 4 ? T(0x1p23) : T(0x1p52);
  constexpr T kScaleLog =
      sizeof(T) == 4 ? T(15.942385152878742) : T(36.04365338911715);
  const bool sub = x < kMinNormal;
  const T xs = internal::Select(sub, x * kScale, x);
  T y = LogPositive(internal::Select(xs > T(0), xs, T(1)));
  y = internal::Select(sub, y - kScaleLog, y);
  y = internal::Select(x == T(0), -std::numeric_limits<T>::infinity(), y);
  y = internal::Select(x < T(0) || x != x, std::numeric_limits<T>::quiet_NaN(),
                       y);
  return internal::Select(x == std::numeric_limits<T>::infinity(), x, y);
}

namespace internal {

// Reduction x = k ln2 + r for exp/expm1; x already clamped.
template <typename T>
NNFT_VMATH_INLINE T ExpReduce(T x, T& k) {
  constexpr T kLog2e = T(1.44269504088896340736);
  constexpr T kLn2Hi =
      sizeof(T) == 4 ? T(0.693145751953125) : T(6.93147180369123816490e-01);
  constexpr T kLn2Lo =
      sizeof(T) == 4 ? T(1.428606765330187e-06) : T(1.90821492927058770002e-10);
  k = RoundInt(x * kLog2e);
  return std::fma(-k, kLn2Lo, std::fma(-k, kLn2Hi, x));
}

// expm1(r) - r - r^2/2 ... as r + r^2 P(r), |r| <= ln2/2.
template <typename T>
NNFT_VMATH_INLINE T Expm1Small(T r) {
  T p;
  if constexpr (sizeof(T) == 4) {
    constexpr double c[] = {1.0 / 2,   1.0 / 6,   1.0 / 24,
                            1.0 / 120, 1.0 / 720, 1.0 / 5040};
    p = Poly(r, c);
  } else {
    constexpr double c[] = {
        1.0 / 2,       1.0 / 6,        1.0 / 24,        1.0 / 120,
        1.0 / 720,     1.0 / 5040,     1.0 / 40320,     1.0 / 362880,
        1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0};
    p = Poly(r, c);
  }
  return std::fma(r * r, p, r);
}

template <typename T>
inline constexpr T kExpMax = sizeof(T) == 4 ? T(88.72283) : T(709.782712893384);
template <typename T>
inline constexpr T kExpMin = sizeof(T) == 4 ? T(-86.5) : T(-707.0);

}  // namespace internal

// exp(x): inf above the overflow threshold, 0 below kExpMin (results that
// would be subnormal are flushed to 0: x < -86.5 float, < -707 double).
template <typename T>
NNFT_VMATH_INLINE T Exp(T x) {
  const T xc = internal::Min(internal::Max(x, internal::kExpMin<T>),
                             internal::kExpMax<T>);
  T k;
  const T r = internal::ExpReduce(xc, k);
  const T p = internal::Expm1Small(r) + T(1);
  // 2^k = 2 * 2^(k-1) keeps k = max exponent + 1 representable.
  T y = p * internal::Pow2(k - T(1)) * T(2);
  y = internal::Select(x > internal::kExpMax<T>,
                       std::numeric_limits<T>::infinity(), y);
  y = internal::Select(x < internal::kExpMin<T>, T(0), y);
  return internal::Select(x != x, x, y);
}

// exp(x) - 1, relative accuracy near 0; for x in [kExpMin, kExpMax - 1].
template <typename T>
NNFT_VMATH_INLINE T Expm1(T x) {
  const T xc = internal::Min(internal::Max(x, internal::kExpMin<T>),
                             internal::kExpMax<T> - T(1));
  T k;
  const T r = internal::ExpReduce(xc, k);
  const T p = internal::Expm1Small(r);
  const T two_k = internal::Pow2(k);
  return std::fma(two_k, p, two_k - T(1));
}

namespace internal {

// sin and cos of r, |r| <= pi/4 (Taylor).
template <typename T>
NNFT_VMATH_INLINE void SinCosReduced(T r, T& s, T& c) {
  const T z = r * r;
  if constexpr (sizeof(T) == 4) {
    constexpr double cs[] = {-1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880};
    constexpr double cc[] = {-1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320,
                             -1.0 / 3628800};
    s = std::fma(r * z, Poly(z, cs), r);
    c = std::fma(z, Poly(z, cc), T(1));
  } else {
    constexpr double cs[] = {-1.0 / 6,
                             1.0 / 120,
                             -1.0 / 5040,
                             1.0 / 362880,
                             -1.0 / 39916800,
                             1.0 / 6227020800.0,
                             -1.0 / 1307674368000.0,
                             1.0 / 355687428096000.0};
    constexpr double cc[] = {-1.0 / 2,
                             1.0 / 24,
                             -1.0 / 720,
                             1.0 / 40320,
                             -1.0 / 3628800,
                             1.0 / 479001600,
                             -1.0 / 87178291200.0,
                             1.0 / 20922789888000.0,
                             -1.0 / 6402373705728000.0};
    s = std::fma(r * z, Poly(z, cs), r);
    c = std::fma(z, Poly(z, cc), T(1));
  }
}

// Rotates (sin r, cos r) by quadrant q (an integral value): angle r + q pi/2.
template <typename T>
NNFT_VMATH_INLINE void Quadrant(T q, T sr, T cr, T& s, T& c) {
  using Int = typename FloatTraits<T>::Int;
  const Int qi = static_cast<Int>(q) & 3;
  const bool swap = (qi & 1) != 0;
  const T s0 = Select(swap, cr, sr);
  const T c0 = Select(swap, sr, cr);
  s = Select(qi >= 2, -s0, s0);
  c = Select(qi == 1 || qi == 2, -c0, c0);
}

}  // namespace internal

// sin(2 pi u) and cos(2 pi u), |u| < 2^20 (float) / 2^48 (double); the
// reduction u - q/4 is exact.
template <typename T>
NNFT_VMATH_INLINE void SinCos2Pi(T u, T& s, T& c) {
  constexpr T kTwoPi = T(6.28318530717958647692);
  const T q = internal::RoundInt(u * T(4));
  const T r = std::fma(q, T(-0.25), u);
  T sr, cr;
  internal::SinCosReduced(r * kTwoPi, sr, cr);
  internal::Quadrant(q, sr, cr, s, c);
}

// sin x and cos x, |x| <= 1e5 (float) / 1e9 (double).
template <typename T>
NNFT_VMATH_INLINE void SinCos(T x, T& s, T& c) {
  constexpr T kTwoOverPi = T(0.63661977236758134308);
  // pi/2 = P1 + P2 + P3, each part rounded to the working precision.
  constexpr T kP1 = sizeof(T) == 4 ? T(1.57079637050628662109375)
                                   : T(1.5707963267948965579989817);
  constexpr T kP2 = sizeof(T) == 4 ? T(-4.37113900018624283e-08)
                                   : T(6.123233995736766035868820e-17);
  constexpr T kP3 = sizeof(T) == 4 ? T(-1.7151245100059549e-15)
                                   : T(-1.4973849048591698329e-33);
  const T q = internal::RoundInt(x * kTwoOverPi);
  T r = std::fma(-q, kP1, x);
  r = std::fma(-q, kP2, r);
  r = std::fma(-q, kP3, r);
  T sr, cr;
  internal::SinCosReduced(r, sr, cr);
  internal::Quadrant(q, sr, cr, s, c);
}
template <typename T>
NNFT_VMATH_INLINE T Sin(T x) {
  T s, c;
  SinCos(x, s, c);
  return s;
}
template <typename T>
NNFT_VMATH_INLINE T Cos(T x) {
  T s, c;
  SinCos(x, s, c);
  return c;
}

namespace internal {

// exp(-(a2 + a2_err)) for a2 = a^2 rounded and a2_err its rounding error.
template <typename T>
NNFT_VMATH_INLINE T ExpNegSquare(T a2, T a2_err) {
  return Exp(-a2) * (T(1) - a2_err);
}

// erf(a) / a for 0 <= a < 1 (a2 = a^2).
template <typename T>
NNFT_VMATH_INLINE T ErfSmallOverA(T a2) {
  if constexpr (sizeof(T) == 4) {
    return Poly(std::fma(a2, T(2), T(-1)), kErfSmallF);
  } else {
    return Poly(std::fma(a2, T(2), T(-1)), kErfSmallD);
  }
}

// exp(a^2) erfc(a) for 1 <= a (the mid table clamped at its end).
template <typename T>
NNFT_VMATH_INLINE T ErfcxMid(T a) {
  if constexpr (sizeof(T) == 4) {
    const T ac = internal::Min(a, T(4));
    return Poly(
        std::fma(ac, T(1 / kErfcMidFHalf), T(-kErfcMidFMid / kErfcMidFHalf)),
        kErfcMidF);
  } else {
    const T ac = internal::Min(a, T(6));
    return Poly(
        std::fma(ac, T(1 / kErfcMidDHalf), T(-kErfcMidDMid / kErfcMidDHalf)),
        kErfcMidD);
  }
}

// exp(a^2) erfc(a) for a >= 4 (float) / 6 (double).
template <typename T>
NNFT_VMATH_INLINE T ErfcxTail(T a) {
  constexpr T kInvSqrtPi = T(0.56418958354775628695);
  const T inv = T(1) / a;
  const T t = inv * inv;
  T h;
  if constexpr (sizeof(T) == 4) {
    h = Poly(
        std::fma(t, T(1 / kErfcTailFHalf), T(-kErfcTailFMid / kErfcTailFHalf)),
        kErfcTailF);
  } else {
    h = Poly(
        std::fma(t, T(1 / kErfcTailDHalf), T(-kErfcTailDMid / kErfcTailDHalf)),
        kErfcTailD);
  }
  return h * inv * kInvSqrtPi;
}

// erfc(a) for a >= 0, given a2 = a^2 rounded and its error a2_err.
template <typename T>
NNFT_VMATH_INLINE T ErfcPositive(T a, T a2, T a2_err) {
  constexpr T kTailStart = sizeof(T) == 4 ? T(4) : T(6);
  const T big = ExpNegSquare(a2, a2_err) *
                Select(a < kTailStart, ErfcxMid(internal::Max(a, T(1))),
                       ErfcxTail(internal::Max(a, kTailStart)));
  const T small = T(1) - a * ErfSmallOverA(internal::Min(a2, T(1)));
  return Select(a < T(1), small, big);
}

}  // namespace internal

// erf(x), all x. Float: two polynomials and no exp (the engine's hot path):
// x P(x^2) for |x| < 2, 1 - Q(|x|) for |x| in [2, 4], 1 beyond.
template <typename T>
NNFT_VMATH_INLINE T Erf(T x) {
  if constexpr (sizeof(T) == 4) {
    using internal::kErfFastSmallF;
    using internal::kErfFastTailF;
    const T a = std::fabs(x);
    const T t = internal::Min(a * a, T(4));
    const T small =
        a * internal::Poly(std::fma(t, T(0.5), T(-1)), kErfFastSmallF);
    const T ac = internal::Min(internal::Max(a, T(2)), T(4));
    const T tail = T(1) - internal::Poly(ac - T(3), kErfFastTailF);
    return std::copysign(internal::Select(a < T(2), small, tail), x);
  } else {
    const T a = internal::Min(std::fabs(x), T(6));
    const T a2 = a * a;
    const T small = a * internal::ErfSmallOverA(internal::Min(a2, T(1)));
    const T big = T(1) - internal::ExpNegSquare(a2, std::fma(a, a, -a2)) *
                             internal::ErfcxMid(internal::Max(a, T(1)));
    return std::copysign(internal::Select(a < T(1), small, big), x);
  }
}

// erfc(x), all x; relative accuracy in the right tail until underflow.
template <typename T>
NNFT_VMATH_INLINE T Erfc(T x) {
  const T a = std::fabs(x);
  const T a2 = a * a;
  const T e = internal::ErfcPositive(a, a2, std::fma(a, a, -a2));
  return internal::Select(x < T(0), T(2) - e, e);
}

// Standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, relative accuracy in
// the left tail (x^2 / 2 is formed exactly).
template <typename T>
NNFT_VMATH_INLINE T NormalCdf(T x) {
  constexpr T kInvSqrt2 = T(0.70710678118654752440);
  const T a = std::fabs(x) * kInvSqrt2;
  const T x2 = x * x;
  const T e =
      internal::ErfcPositive(a, x2 * T(0.5), std::fma(x, x, -x2) * T(0.5));
  return internal::Select(x < T(0), T(0.5) * e, T(1) - T(0.5) * e);
}

template <typename T>
NNFT_VMATH_INLINE T Tanh(T x) {
  constexpr T kEnd = sizeof(T) == 4 ? T(9) : T(19.5);
  const T a = internal::Min(std::fabs(x), kEnd);
  const T e = Expm1(a + a);
  return std::copysign(e / (e + T(2)), x);
}

template <typename T>
NNFT_VMATH_INLINE T Sigmoid(T x) {
  return T(1) / (T(1) + Exp(-x));
}

// log(1 + y) for y >= 0 (Goldberg's correction of the rounded 1 + y).
template <typename T>
NNFT_VMATH_INLINE T Log1pNonNegative(T y) {
  const T u = T(1) + y;
  const T d = u - T(1);
  const T l = Log(u) * (y / internal::Select(d == T(0), T(1), d));
  return internal::Select(d == T(0), y, l);
}

template <typename T>
NNFT_VMATH_INLINE T Softplus(T x) {
  return internal::Max(x, T(0)) + Log1pNonNegative(Exp(-std::fabs(x)));
}

template <typename T>
NNFT_VMATH_INLINE T Gelu(T x) {
  return x * NormalCdf(x);
}

template <typename T>
NNFT_VMATH_INLINE T Relu(T x) {
  return internal::Max(x, T(0));
}

}  // namespace nnft::vmath

#endif  // NNFT_CORE_SAMPLING_VECTOR_MATH_H_
