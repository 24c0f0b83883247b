#include "core/theory/wick.h"

#include <cassert>

namespace nnft::theory {
namespace {

void BuildPairings(std::vector<int>& free_slots, Pairing& current,
                   std::vector<Pairing>& out) {
  if (free_slots.empty()) {
    out.push_back(current);
    return;
  }
  const int first = free_slots.front();
  for (size_t j = 1; j < free_slots.size(); ++j) {
    const int partner = free_slots[j];
    std::vector<int> rest;
    for (size_t k = 1; k < free_slots.size(); ++k) {
      if (k != j) rest.push_back(free_slots[k]);
    }
    current.emplace_back(first, partner);
    BuildPairings(rest, current, out);
    current.pop_back();
  }
}

std::vector<std::vector<Pairing>> AllPairings() {
  std::vector<std::vector<Pairing>> all(9);
  for (int n = 0; n <= 8; n += 2) {
    std::vector<int> slots;
    for (int i = 0; i < n; ++i) slots.push_back(i);
    Pairing current;
    BuildPairings(slots, current, all[n]);
  }
  return all;
}

}  // namespace

const std::vector<Pairing>& Pairings(int n) {
  assert(n >= 0 && n <= 8);
  static const std::vector<std::vector<Pairing>> all = AllPairings();
  return all[n];
}

const std::vector<SplitFourTwo>& SplitsFourTwo() {
  static const std::vector<SplitFourTwo> splits = [] {
    std::vector<SplitFourTwo> out;
    for (int a = 0; a < 6; ++a) {
      for (int b = a + 1; b < 6; ++b) {
        SplitFourTwo s;
        s.two = {a, b};
        int m = 0;
        for (int k = 0; k < 6; ++k) {
          if (k != a && k != b) s.four[m++] = k;
        }
        out.push_back(s);
      }
    }
    return out;
  }();
  return splits;
}

double WickSum(const Eigen::MatrixXd& k, const std::vector<int>& idx) {
  const int n = static_cast<int>(idx.size());
  if (n % 2 == 1) return 0.0;
  double total = 0.0;
  for (const Pairing& pairing : Pairings(n)) {
    double term = 1.0;
    for (const auto& [a, b] : pairing) term *= k(idx[a], idx[b]);
    total += term;
  }
  return total;
}

}  // namespace nnft::theory
