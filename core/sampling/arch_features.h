// Hidden features of the architectures beyond the MLP family (core/spec/spec.h:
// conv1d, multi-head attention, KAN), for the network sampler of
// core/sampling/network.cc. Each architecture ends in a Gaussian linear readout
//   phi(x) = b + sum_i w_i h_i(x),  w_i ~ N(0, weight_var), b ~ N(0, bias_var),
// so a feature map returns h (features x P, one column per point) and the
// sampler draws (or, with integrate_output_layer, integrates out) w and b.
//
// Streams of network m (core/sampling/rng.h, keyed by (seed, m, tag)):
//   conv1d: tag 2l = W^(l) (N x C_l x k, index (j C_l + c') N + c),
//     tag 2l + 1 = b^(l) (not drawn when sb[l] = 0), l = 0..L (L: readout).
//   attention: tag 0 = Wq, 1 = Wk, 2 = Wv (each N x D x e, index
//     ((h D) + a) e + b), tag 3 = readout bias, tag 4 + c = readout column c
//     of Wo (N e), c = output_component.
//   KAN: tag 0 = first-layer coefficients (N x d (1 + G + k), index
//     f N + q, f = p (1 + G + k) + basis, basis 0 the base activation),
//     tag 1 = readout (the inner node's features scaled by sa1, sc1; weights
//     N(0, 1/N)).
//
// Thread safety: a feature map owns scratch buffers; use one per thread.
#ifndef NNFT_CORE_SAMPLING_ARCH_FEATURES_H_
#define NNFT_CORE_SAMPLING_ARCH_FEATURES_H_

#include <cstdint>
#include <memory>

#include "Eigen/Core"
#include "core/spec/spec.h"

namespace nnft {

// The Gaussian readout of a feature map.
struct Readout {
  int64_t features = 0;     // rows of h
  double weight_var = 0;    // variance of each readout weight
  double bias_var = 0;      // variance of the readout bias
  uint32_t weight_tag = 0;  // stream tags (see above)
  uint32_t bias_tag = 0;
};

template <typename T>
class FeatureMap {
 public:
  virtual ~FeatureMap() = default;
  virtual const Readout& readout() const = 0;
  // The features of network m at the spec's points into h (features x P).
  virtual void Hidden(int64_t m,
                      Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& h) = 0;
};

// A feature map for a conv1d, attention or KAN spec that passed Validate;
// null for the other architectures.
template <typename T>
std::unique_ptr<FeatureMap<T>> MakeFeatureMap(const ExperimentSpec& spec);

// The order-k B-spline basis on the uniform grid of G intervals on [-r, r]
// extended by k knots each side (knots t_j = -r + (j - k) h, h = 2r / G,
// j = 0..G + 2k): writes B_0(x)..B_{G+k-1}(x) into out (zero outside
// [t_0, t_{G+2k})). Cox-de Boor recursion, O(k^2).
template <typename T>
void BsplineBasis(T x, int grid_size, int order, T range, T* out);

}  // namespace nnft

#endif  // NNFT_CORE_SAMPLING_ARCH_FEATURES_H_
