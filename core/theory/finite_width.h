// Exact finite-width correlators of single-hidden-layer networks
// phi(x) = b1 + sum_{i=1..N} Y_i(x), Y_i = W1_i h_i(x), with i.i.d. neurons and
// W1 ~ N(0, sw1^2/N) independent of h. Cumulants of independent summands add
// and the symmetric W1 kills odd orders, so with
//   c(x, y) = sw1^2 C = N E[Y Y],  m4 = sw1^4 M4,  m6 = sw1^6 M6
// (E[W^4] = 3 sw1^4/N^2, E[W^6] = 15 sw1^6/N^3) the moment-cumulant formula
// of one neuron gives, at every N (PHYSICS.md; arXiv 2008.08601):
//   G2   = sb1^2 + c,
//   G4_c = (1/N) [3 m4 - (c12 c34 + c13 c24 + c14 c23)],
//   G6_c = (1/N^2) [15 m6 - 3 sum_15 m4 c + 2 sum_15 c c c],
//   G4   = G4_c + sum_3 G2 G2,
//   G6   = G6_c + sum_15 G4_c G2 + sum_15 G2 G2 G2,
// odd orders 0. The formulas hold for any tuple, repeated points included.
#ifndef NNFT_CORE_THEORY_FINITE_WIDTH_H_
#define NNFT_CORE_THEORY_FINITE_WIDTH_H_

#include <functional>
#include <vector>

namespace nnft::theory {

struct SingleLayerMoments {
  double width = 1.0;            // N
  double output_bias_var = 0.0;  // sb1^2
  // Scaled neuron moment sw1^n M_n at point indices idx (n in {2, 4, 6});
  // NaN where unknown.
  std::function<double(const std::vector<int>&)> moment;
};

struct ExactCorrelator {
  double full = 0.0;
  double connected = 0.0;
};

// The same moments, memoised by the sorted index tuple (the moments are
// symmetric), so sub-tuples shared by many 6-point tuples are computed once.
// The result is not thread-safe.
SingleLayerMoments Memoized(SingleLayerMoments moments);

// Exact G^(n) and G^(n)_c at the tuple `idx` (n = idx.size() in [1, 6]).
ExactCorrelator ExactSingleLayerCorrelator(const SingleLayerMoments& moments,
                                           const std::vector<int>& idx);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_FINITE_WIDTH_H_
