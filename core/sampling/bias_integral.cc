// Gauss-net moments with the first-layer biases integrated (bias_integral.h
// derives the formula).
#include "core/sampling/bias_integral.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <map>
#include <utility>

namespace nnft {
namespace {

constexpr int kMaxMasks = 1 << kMaxOrder;

// Perfect matchings of positions {0..n-1}, each a list of pair masks.
void Matchings(int free_mask, std::vector<int>& current,
               std::vector<std::vector<int>>& out) {
  if (free_mask == 0) {
    out.push_back(current);
    return;
  }
  const int first = std::countr_zero(static_cast<unsigned>(free_mask));
  for (int j = first + 1; j < kMaxOrder; ++j) {
    if (!(free_mask & (1 << j))) continue;
    current.push_back((1 << first) | (1 << j));
    Matchings(free_mask & ~((1 << first) | (1 << j)), current, out);
    current.pop_back();
  }
}

struct Constants {
  double a = 0, c = 0;
  std::vector<double> kappa;
};

// The sum over subsets S of the matching's remaining `edges` (the others
// taking the factor a) and over partitions of S into blocks B (each
// c^|B| kappa_|B| Q(union of B)); products keyed by their sorted masks.
void Blocks(const std::vector<int>& edges, double coef, std::vector<int> masks,
            const Constants& k, std::map<std::vector<int>, double>& out) {
  if (edges.empty()) {
    std::sort(masks.begin(), masks.end());
    out[masks] += coef;
    return;
  }
  const std::vector<int> rest(edges.begin() + 1, edges.end());
  Blocks(rest, coef * k.a, masks, k, out);  // edges[0] not in S
  const int r = static_cast<int>(rest.size());
  for (int pick = 0; pick < (1 << r); ++pick) {  // edges[0]'s block
    int block = edges[0];
    std::vector<int> left;
    for (int i = 0; i < r; ++i) {
      if (pick & (1 << i)) {
        block |= rest[i];
      } else {
        left.push_back(rest[i]);
      }
    }
    const int size = 1 + std::popcount(static_cast<unsigned>(pick));
    std::vector<int> with = masks;
    with.push_back(block);
    Blocks(left, coef * std::pow(k.c, size) * k.kappa[size], with, k, out);
  }
}

// Neurons per block of the power sums: a block's products of every tuple
// stay in cache (T x 64 doubles).
constexpr int kBlock = 64;

}  // namespace

std::vector<double> LogNormalCumulants(double sb0, int max_order) {
  std::vector<double> m(max_order + 1), kappa(max_order + 1, 0.0);
  for (int k = 0; k <= max_order; ++k) m[k] = std::exp(2.0 * k * k * sb0 * sb0);
  // kappa_n = m_n - sum_{k=1}^{n-1} C(n-1, k-1) kappa_k m_{n-k}.
  for (int n = 1; n <= max_order; ++n) {
    double s = m[n], binom = 1;  // C(n-1, k-1), from k = 1
    for (int k = 1; k < n; ++k) {
      s -= binom * kappa[k] * m[n - k];
      binom = binom * (n - k) / k;
    }
    kappa[n] = s;
  }
  return kappa;
}

BiasIntegral::BiasIntegral(const GaussNetSpec& net, const TupleSet& tuples)
    : width_(net.width), tuples_(&tuples.tuples()) {
  const Constants k{.a = net.sb1 * net.sb1,
                    .c = net.sw1 * net.sw1 / net.width,
                    .kappa = LogNormalCumulants(net.sb0, kMaxOrder / 2)};
  terms_.resize(kMaxOrder + 1);
  for (int n = 2; n <= kMaxOrder; n += 2) {
    std::vector<std::vector<int>> matchings;
    std::vector<int> current;
    Matchings((1 << n) - 1, current, matchings);
    std::map<std::vector<int>, double> merged;
    for (const auto& mu : matchings) Blocks(mu, 1.0, {}, k, merged);
    for (auto& [masks, coef] : merged) terms_[n].push_back({coef, masks});
  }
  const auto& all = *tuples_;
  prefix_.resize(all.size());
  last_.resize(all.size());
  for (size_t t = 0; t < all.size(); ++t) {
    last_[t] = all[t].back();
    prefix_[t] = all[t].size() == 1
                     ? -1
                     : tuples.Find(Tuple(all[t].begin(), all[t].end() - 1));
    // The closure holds every prefix and orders tuples by size.
    assert(all[t].size() == 1 ||
           (prefix_[t] >= 0 && prefix_[t] < static_cast<int>(t)));
  }
  sub_.assign(all.size() * kMaxMasks, -1);
  for (size_t t = 0; t < all.size(); ++t) {
    const int n = static_cast<int>(all[t].size());
    if (n % 2 == 1) continue;
    for (int mask = 1; mask < (1 << n); ++mask) {
      if (std::popcount(static_cast<unsigned>(mask)) % 2 == 1) continue;
      Tuple sub;
      for (int i = 0; i < n; ++i) {
        if (mask & (1 << i)) sub.push_back(all[t][i]);
      }
      // The closure holds every sub-multiset (tuples.h); sub is sorted.
      sub_[t * kMaxMasks + mask] = tuples.Find(sub);
      assert(sub_[t * kMaxMasks + mask] >= 0);
    }
  }
}

void BiasIntegral::Add(const double* g, std::vector<double>& scratch,
                       double* sums) const {
  const auto& all = *tuples_;
  const int64_t num = static_cast<int64_t>(all.size());
  scratch.resize(num * (kBlock + 1));
  double* power_sums = scratch.data();  // Q(t) for every tuple t
  double* block = power_sums + num;     // products, tuple-major
  std::fill(power_sums, power_sums + num, 0.0);
  // Q(t) = sum_j prod_{i in t} g_j(x_i): per block of neurons, tuple t's
  // products are its prefix's times g(last); each block's sum is a
  // fixed-order SIMD reduction (same bits on every run of a build).
  for (int j0 = 0; j0 < width_; j0 += kBlock) {
    const int len = std::min(kBlock, width_ - j0);
    for (int64_t t = 0; t < num; ++t) {
      const double* gl = g + static_cast<int64_t>(width_) * last_[t] + j0;
      double* out = block + t * kBlock;
      const double* in =
          prefix_[t] < 0 ? nullptr : block + int64_t{prefix_[t]} * kBlock;
      double acc = 0;
      if (in == nullptr) {
#pragma omp simd reduction(+ : acc)
        for (int k = 0; k < len; ++k) {
          out[k] = gl[k];
          acc += gl[k];
        }
      } else {
#pragma omp simd reduction(+ : acc)
        for (int k = 0; k < len; ++k) {
          const double p = in[k] * gl[k];
          out[k] = p;
          acc += p;
        }
      }
      power_sums[t] += acc;
    }
  }
  for (int64_t t = 0; t < num; ++t) {
    const int n = static_cast<int>(all[t].size());
    if (n % 2 == 1) continue;  // odd moments of a centred Gaussian vanish
    const int* sub = sub_.data() + t * kMaxMasks;
    double value = 0;
    for (const Term& term : terms_[n]) {
      double p = term.coef;
      for (int mask : term.masks) p *= power_sums[sub[mask]];
      value += p;
    }
    sums[t] += value;
  }
}

}  // namespace nnft
