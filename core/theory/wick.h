// Gaussian (Wick) correlators and the combinatorics of the finite-width
// cumulant formulas: pairings of n slots, the 15 (4,2)-splits of 6 slots, and
// the sums over them. For a zero-mean Gaussian field with covariance K,
//   G^(n)_GP(x_1..x_n) = sum over the (n-1)!! pairings of prod K(x_a, x_b)
// (Isserlis 1918; Wick 1950); 0 for odd n. Slots index into a tuple of point
// indices, so repeated points are handled like any others.
#ifndef NNFT_CORE_THEORY_WICK_H_
#define NNFT_CORE_THEORY_WICK_H_

#include <array>
#include <utility>
#include <vector>

#include "Eigen/Core"

namespace nnft::theory {

using Pairing = std::vector<std::pair<int, int>>;

// All perfect matchings of slots {0..n-1} (n even, n <= 8); empty for odd n.
// (n-1)!! of them, each listing pairs (a, b) with a < b.
const std::vector<Pairing>& Pairings(int n);

// Splits of slots {0..5} into a 4-block and a 2-block (15 of them): the
// 4-block's slots, then the 2-block's.
struct SplitFourTwo {
  std::array<int, 4> four;
  std::array<int, 2> two;
};
const std::vector<SplitFourTwo>& SplitsFourTwo();

// sum over pairings of prod k(idx[a], idx[b]); 1 for an empty tuple, 0 for odd
// size. `idx` are point indices into k (size <= 8).
double WickSum(const Eigen::MatrixXd& k, const std::vector<int>& idx);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_WICK_H_
