// Multi-layer 1-D conv nets (core/spec/spec.h Conv1dSpec) at finite channel
// count N, to leading order in 1/N: the four-point vertex and the O(1/N)
// correction to the two-point function, by the MLP recursion of
// core/theory/deep_finite_width.h carried over to spatial patches.
//
// Derivation. Given hidden layer m, the channels c of layer m + 1 are i.i.d.
// Gaussian over the samples alpha = (point p, position t) with covariance
//   G^_(alpha beta) = sb^2 + (sw^2 / N) sum_c' F_c'(alpha, beta),
//   F_c'(alpha, beta) = (1/k) sum_j s_c'(alpha + j) s_c'(beta + j),
// alpha + j = (p, src(t, j)) the tap j's source (a tap zero padding drops
// contributes 0), s = act(z^(m)). The channels c' play the MLP's neurons, so
// each channel of the connected four-point function of one channel of layer
// m + 1 is the tap average of the MLP's two terms:
//   T^(m+1)_(a1a2)(a3a4) = (sw^4 / k^2) sum_{j, j'} [
//       N^-1 (<s_b1 s_b2 s_b3 s_b4> - <s_b1 s_b2><s_b3 s_b4>)
//       + sum_{p in P(b1b2), q in P(b3b4)} T^(m)_pq dG_b1b2/dK_p
//                                                 dG_b3b4/dK_q ],
//   b1 = a1 + j, b2 = a2 + j, b3 = a3 + j', b4 = a4 + j',
// (a pair shares its tap: the same weight W_cc'j multiplies both), and
//   dK^(m+1)_(a1a2) = (sw^2 / k) sum_j [sum_p dK^(m)_p dG_b1b2/dK_p
//       + (1/2) sum_{p, q in P(b1b2)} T^(m)_pq d2G_b1b2/dK_p dK_q],
// with T^(1) = dK^(1) = dK^(2) = 0. The readout is the same step with one
// tap, b = (p, output_position), k = 1 and sw = sw[L]. G4_c of the output is
// the sum of its three channels + O(1/N^2); G2 = K + dK + O(1/N^2). One conv
// layer gives the exact single-layer result (no propagated term).
//
// Cost: as the MLP recursion over the P T samples, times k^2 tap pairs per
// channel and k taps per kernel pair; a channel's pairs keep a common
// position, so each layer holds at most (P^2 T)^2 channels.
#ifndef NNFT_CORE_THEORY_CONV_FINITE_WIDTH_H_
#define NNFT_CORE_THEORY_CONV_FINITE_WIDTH_H_

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "absl/container/flat_hash_map.h"
#include "core/spec/spec.h"
#include "core/theory/deep_finite_width.h"

namespace nnft::theory {

// The number of four-point Gaussian moments at four distinct samples that the
// recursion evaluates for these output tuples and pairs (no quadrature).
int64_t ConvFiniteWidthCost(const Conv1dSpec& conv,
                            const std::vector<std::array<int, 4>>& four_tuples,
                            const std::vector<std::pair<int, int>>& pairs);

// The leading-order theory of a valid conv spec at `points` (P x T C_in),
// for the output four-point tuples and two-point pairs (point indices).
// Immutable after construction; thread-compatible.
class ConvFiniteWidth {
 public:
  using Key = std::array<int, 4>;

  ConvFiniteWidth(const Conv1dSpec& conv, const Eigen::MatrixXd& points,
                  const std::vector<Key>& four_tuples,
                  const std::vector<std::pair<int, int>>& pairs,
                  const DeepFiniteWidthOptions& options = {});

  // NNGP kernel of the output (P x P).
  const Eigen::MatrixXd& kernel() const { return kernel_; }
  // dK of the output at the prepared pairs (and their diagonals), NaN
  // elsewhere; 0 for one conv layer.
  const Eigen::MatrixXd& kernel_correction() const { return correction_; }
  // Output channel T_(a1a2)(a3a4) (O(1/N)); NaN when not prepared.
  double Channel(int a1, int a2, int a3, int a4) const;
  // V = N T (O(1)).
  double Vertex(int a1, int a2, int a3, int a4) const;
  // G4_c at the output tuple to O(1/N).
  double Connected4(const Key& idx) const;

 private:
  int channels_ = 1;
  Eigen::MatrixXd kernel_, correction_;
  absl::flat_hash_map<Key, double> top_;
};

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_CONV_FINITE_WIDTH_H_
