// Activations as straight-line code of core/sampling/vector_math.h, for the
// `omp simd` inner loops of the Gauss-Hermite quadratures (kernels.cc,
// gaussian_moments .cc, deep_finite_width.cc); ~1e-14 relative to
// ActivationValue. Callers compile with -fno-math-errno (core/CMakeLists.txt).
// Internal to core/theory.
#ifndef NNFT_CORE_THEORY_VECTOR_ACTIVATION_H_
#define NNFT_CORE_THEORY_VECTOR_ACTIVATION_H_

#include <cmath>

#include "core/sampling/vector_math.h"
#include "core/spec/spec.h"

namespace nnft::theory {

// softplus(x) = max(x, 0) + log1p(y), y = e^-|x| in (0, 1], with
// log1p(y) = 2 atanh(s), s = y / (2 + y) in (0, 1/3], by its series in s^2
// (17 terms: the remainder is below 1e-17 relative): one division and no
// exponent split, where vmath::Softplus takes a log and two divisions (and
// GCC does not vectorise a loop over vmath::Log's special-case selects).
// Within 4e-16 relative of softplus (checked against long double on
// [-40, 40]).
NNFT_VMATH_INLINE double QuadratureSoftplus(double x) {
  constexpr double c[] = {1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11,
                          1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21,
                          1.0 / 23, 1.0 / 25, 1.0 / 27, 1.0 / 29, 1.0 / 31,
                          1.0 / 33, 1.0 / 35};
  const double y = vmath::Exp(-std::fabs(x));
  const double s = y / (2.0 + y);
  const double s2 = s * s;
  const double two_s = s + s;
  const double log1p =
      std::fma(two_s * s2, vmath::internal::Poly(s2, c), two_s);
  return (x > 0.0 ? x : 0.0) + log1p;
}

// True for the activations VectorActivation covers.
constexpr bool HasVectorActivation(Activation a) {
  switch (a) {
    case Activation::kIdentity:
    case Activation::kRelu:
    case Activation::kTanh:
    case Activation::kErf:
    case Activation::kSigmoid:
    case Activation::kGelu:
    case Activation::kSoftplus:
      return true;
    default:
      return false;
  }
}

template <Activation A>
NNFT_VMATH_INLINE double VectorActivation(double x) {
  static_assert(HasVectorActivation(A));
  if constexpr (A == Activation::kRelu) return x > 0.0 ? x : 0.0;
  if constexpr (A == Activation::kTanh) return vmath::Tanh(x);
  if constexpr (A == Activation::kErf) return vmath::Erf(x);
  if constexpr (A == Activation::kSigmoid) return vmath::Sigmoid(x);
  if constexpr (A == Activation::kGelu) return vmath::Gelu(x);
  if constexpr (A == Activation::kSoftplus) return QuadratureSoftplus(x);
  return x;
}

// act(x)^P, P in [1, 4].
template <Activation A, int P>
NNFT_VMATH_INLINE double ActivationPower(double x) {
  static_assert(P >= 1 && P <= 4);
  const double f = VectorActivation<A>(x);
  if constexpr (P == 1) return f;
  if constexpr (P == 2) return f * f;
  if constexpr (P == 3) return f * f * f;
  const double f2 = f * f;
  return f2 * f2;
}

// sum_{m in [lo, hi)} w[m] act(s + d x[m])^P in one simd reduction.
template <Activation A, int P>
double WeightedActivationSum(const double* w, const double* x, double s,
                             double d, int lo, int hi) {
  double total = 0.0;
#pragma omp simd reduction(+ : total)
  for (int m = lo; m < hi; ++m) {
    total += w[m] * ActivationPower<A, P>(s + d * x[m]);
  }
  return total;
}

// out[m] = w[m] act(s + d x[m])^P for m in [lo, hi).
template <Activation A, int P>
void WeightedActivationValues(double* out, const double* w, const double* x,
                              double s, double d, int lo, int hi) {
#pragma omp simd
  for (int m = lo; m < hi; ++m) {
    out[m] = w[m] * ActivationPower<A, P>(s + d * x[m]);
  }
}

// The two above with the power p in [1, 4] chosen at run time outside the
// loop (a select on p inside it stops GCC from vectorising).
template <Activation A>
double WeightedActivationSum(int p, const double* w, const double* x, double s,
                             double d, int lo, int hi) {
  switch (p) {
    case 1:
      return WeightedActivationSum<A, 1>(w, x, s, d, lo, hi);
    case 2:
      return WeightedActivationSum<A, 2>(w, x, s, d, lo, hi);
    case 3:
      return WeightedActivationSum<A, 3>(w, x, s, d, lo, hi);
    default:
      return WeightedActivationSum<A, 4>(w, x, s, d, lo, hi);
  }
}

template <Activation A>
void WeightedActivationValues(int p, double* out, const double* w,
                              const double* x, double s, double d, int lo,
                              int hi) {
  switch (p) {
    case 1:
      return WeightedActivationValues<A, 1>(out, w, x, s, d, lo, hi);
    case 2:
      return WeightedActivationValues<A, 2>(out, w, x, s, d, lo, hi);
    case 3:
      return WeightedActivationValues<A, 3>(out, w, x, s, d, lo, hi);
    default:
      return WeightedActivationValues<A, 4>(out, w, x, s, d, lo, hi);
  }
}

// Calls f.template operator()<A>() with the activation as a template
// argument; false (f not called) for an activation without a vector form.
template <typename F>
bool DispatchVectorActivation(Activation a, F&& f) {
  switch (a) {
    case Activation::kIdentity:
      f.template operator()<Activation::kIdentity>();
      return true;
    case Activation::kRelu:
      f.template operator()<Activation::kRelu>();
      return true;
    case Activation::kTanh:
      f.template operator()<Activation::kTanh>();
      return true;
    case Activation::kErf:
      f.template operator()<Activation::kErf>();
      return true;
    case Activation::kSigmoid:
      f.template operator()<Activation::kSigmoid>();
      return true;
    case Activation::kGelu:
      f.template operator()<Activation::kGelu>();
      return true;
    case Activation::kSoftplus:
      f.template operator()<Activation::kSoftplus>();
      return true;
    default:
      return false;
  }
}

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_VECTOR_ACTIVATION_H_
