#include "core/theory/finite_width.h"

#include <algorithm>
#include <cassert>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "core/theory/wick.h"

namespace nnft::theory {
namespace {

std::vector<int> Pick(const std::vector<int>& idx,
                      std::initializer_list<int> slots) {
  std::vector<int> out;
  for (int s : slots) out.push_back(idx[s]);
  return out;
}

// Connected 4-point function at the tuple idx (size 4).
double Connected4(const SingleLayerMoments& mm, const std::vector<int>& idx) {
  double pairs = 0.0;
  for (const Pairing& p : Pairings(4)) {
    double term = 1.0;
    for (const auto& [a, b] : p) term *= mm.moment({idx[a], idx[b]});
    pairs += term;
  }
  return (3.0 * mm.moment(idx) - pairs) / mm.width;
}

}  // namespace

SingleLayerMoments Memoized(SingleLayerMoments moments) {
  auto cache =
      std::make_shared<absl::flat_hash_map<std::vector<int>, double>>();
  auto inner = std::move(moments.moment);
  moments.moment = [cache, inner](const std::vector<int>& idx) {
    std::vector<int> key = idx;
    std::sort(key.begin(), key.end());
    auto it = cache->find(key);
    if (it != cache->end()) return it->second;
    const double value = inner(key);
    cache->emplace(std::move(key), value);
    return value;
  };
  return moments;
}

ExactCorrelator ExactSingleLayerCorrelator(const SingleLayerMoments& mm,
                                           const std::vector<int>& idx) {
  const int n = static_cast<int>(idx.size());
  assert(n >= 1 && n <= 6);
  ExactCorrelator out;
  if (n % 2 == 1) return out;
  auto g2 = [&](int a, int b) {
    return mm.output_bias_var + mm.moment({idx[a], idx[b]});
  };
  if (n == 2) {
    out.full = out.connected = g2(0, 1);
    return out;
  }
  if (n == 4) {
    out.connected = Connected4(mm, idx);
    out.full = out.connected;
    for (const Pairing& p : Pairings(4)) {
      out.full += g2(p[0].first, p[0].second) * g2(p[1].first, p[1].second);
    }
    return out;
  }
  // n == 6.
  double m4c = 0.0, g4c_g2 = 0.0;
  for (const SplitFourTwo& s : SplitsFourTwo()) {
    const std::vector<int> four =
        Pick(idx, {s.four[0], s.four[1], s.four[2], s.four[3]});
    const double c = mm.moment({idx[s.two[0]], idx[s.two[1]]});
    m4c += mm.moment(four) * c;
    g4c_g2 += Connected4(mm, four) * g2(s.two[0], s.two[1]);
  }
  double ccc = 0.0, ggg = 0.0;
  for (const Pairing& p : Pairings(6)) {
    double c = 1.0, g = 1.0;
    for (const auto& [a, b] : p) {
      c *= mm.moment({idx[a], idx[b]});
      g *= g2(a, b);
    }
    ccc += c;
    ggg += g;
  }
  out.connected =
      (15.0 * mm.moment(idx) - 3.0 * m4c + 2.0 * ccc) / (mm.width * mm.width);
  out.full = out.connected + g4c_g2 + ggg;
  return out;
}

}  // namespace nnft::theory
