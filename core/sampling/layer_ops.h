// Layer operations shared by the network samplers (core/sampling/network.cc,
// core/sampling/arch_features.cc): activations applied in place and a
// fixed-order matrix product. Products are written out rather than left to
// Eigen's GEMM: Eigen picks its blocking (and so its summation order) from the
// thread count it sees; the engine's bits must not depend on it.
#ifndef NNFT_CORE_SAMPLING_LAYER_OPS_H_
#define NNFT_CORE_SAMPLING_LAYER_OPS_H_

#include <cmath>
#include <cstdint>

#include "Eigen/Core"
#include "core/sampling/vector_math.h"
#include "core/spec/spec.h"

namespace nnft {

template <typename T>
void ApplyActivation(Activation a, T* z, int64_t n) {
  using namespace vmath;
  switch (a) {
    case Activation::kIdentity:
      return;
    case Activation::kRelu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) z[i] = Relu(z[i]);
      return;
    case Activation::kErf:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) z[i] = Erf(z[i]);
      return;
    case Activation::kTanh:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) z[i] = Tanh(z[i]);
      return;
    case Activation::kSigmoid:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) z[i] = Sigmoid(z[i]);
      return;
    case Activation::kGelu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) z[i] = Gelu(z[i]);
      return;
    case Activation::kSoftplus:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) z[i] = Softplus(z[i]);
      return;
    case Activation::kSin:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) z[i] = Sin(z[i]);
      return;
    case Activation::kCos:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) z[i] = Cos(z[i]);
      return;
  }
}

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

// z (rows x P) = w (rows x inner, column-major) * h (inner x P). One pass
// over w (k outer); each update is an axpy over the rows, so the order of
// the sum over k is fixed: bit-reproducible on any thread count.
template <typename T>
void MatMul(const T* w, int rows, int inner, const Matrix<T>& h, Matrix<T>& z) {
  const int num = static_cast<int>(h.cols());
  z.setZero(rows, num);
  for (int k = 0; k < inner; ++k) {
    const T* wk = w + int64_t{rows} * k;
    for (int p = 0; p < num; ++p) {
      const T hkp = h(k, p);
      T* zp = z.col(p).data();
#pragma omp simd
      for (int i = 0; i < rows; ++i) zp[i] = std::fma(wk[i], hkp, zp[i]);
    }
  }
}

}  // namespace nnft

#endif  // NNFT_CORE_SAMPLING_LAYER_OPS_H_
