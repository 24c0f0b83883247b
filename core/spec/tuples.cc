// Tuple sets: the requested multisets of point indices closed under
// sub-multisets. Two modes:
//  - every tuple of the requested orders: the closure is then every multiset
//    of size 1..n_max over P points (any smaller multiset extends to one of
//    size n_max by repeating an index), sum_{k=1..n_max} C(P+k-1, k) =
//    C(P+n_max, n_max) - 1 tuples, counted before anything is materialised;
//  - explicit tuples: sorted, duplicates dropped, and every non-empty
//    sub-multiset (at most 2^6 - 1 per tuple) added, stopping as soon as the
//    closure passes the limit.
#include "core/spec/tuples.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace nnft {
namespace {

// Orders by size, then lexicographically.
bool TupleLess(const Tuple& a, const Tuple& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

// C(p + n - 1, n) multisets of size n over p points, saturated at `cap` + 1.
int64_t MultisetCount(int64_t p, int n, int64_t cap) {
  __int128 c = 1;
  for (int k = 1; k <= n; ++k) {
    c = c * (p + k - 1) / k;  // exact: c * (p+k-1) is divisible by k
    if (c > static_cast<__int128>(cap)) return cap + 1;
  }
  return static_cast<int64_t>(c);
}

// `count` < 0: the exact count is unknown (only that it passes the limit).
absl::Status TooManyTuples(int64_t count, int64_t max_tuples) {
  if (count < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "observables: the requested correlators need more index tuples (with "
        "their sub-multisets) than the limit max_tuples = ",
        max_tuples, " allows"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "observables: the requested correlators need ", count,
      " index tuples (with their sub-multisets): more than the limit "
      "max_tuples = ",
      max_tuples));
}

// Appends every multiset of size n over [0, p) in lexicographic order.
void AppendMultisets(int p, int n, std::vector<Tuple>* out) {
  Tuple t(n, 0);
  while (true) {
    out->push_back(t);
    int i = n - 1;
    while (i >= 0 && t[i] == p - 1) --i;
    if (i < 0) return;
    ++t[i];
    for (int j = i + 1; j < n; ++j) t[j] = t[i];
  }
}

absl::Status ValidateRequest(int num_points, const ObservableSpec& obs) {
  if (num_points < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("points: ", num_points, " points: at least 1 is needed"));
  }
  for (size_t i = 0; i < obs.orders.size(); ++i) {
    if (obs.orders[i] < 1 || obs.orders[i] > kMaxOrder) {
      return absl::InvalidArgumentError(
          absl::StrCat("observables.orders[", i, "] = ", obs.orders[i],
                       ": must be in [1, ", kMaxOrder, "]"));
    }
  }
  for (size_t i = 0; i < obs.tuples.size(); ++i) {
    const auto& t = obs.tuples[i];
    if (t.empty() || static_cast<int>(t.size()) > kMaxOrder) {
      return absl::InvalidArgumentError(
          absl::StrCat("observables.tuples[", i, "] has ", t.size(),
                       " indices: the order must be in [1, ", kMaxOrder, "]"));
    }
    for (size_t j = 0; j < t.size(); ++j) {
      if (t[j] < 0 || t[j] >= num_points) {
        return absl::InvalidArgumentError(
            absl::StrCat("observables.tuples[", i, "].index[", j, "] = ", t[j],
                         ": must be in [0, ", num_points - 1, "]"));
      }
    }
  }
  if (obs.orders.empty() && obs.tuples.empty()) {
    return absl::InvalidArgumentError(
        "observables: no orders and no tuples: give at least one order in "
        "[1, 6] or one explicit tuple");
  }
  return absl::OkStatus();
}

// Every tuple of the requested orders: the closure is all multisets of size
// 1..n_max, sum_{k=0..n} C(P+k-1, k) - 1 = C(P+n, n) - 1 of them (multisets
// of size n over P+1 points, less the empty one). InvalidArgument over the
// limit.
absl::StatusOr<int64_t> CountAll(int p, const std::vector<int>& orders,
                                 int64_t max_tuples) {
  const int n_max = *std::max_element(orders.begin(), orders.end());
  const int64_t cap = INT64_MAX - 1;
  const int64_t count = MultisetCount(int64_t{p} + 1, n_max, cap);
  const int64_t total = count - 1;
  if (total > max_tuples)
    return TooManyTuples(count > cap ? -1 : total, max_tuples);
  return total;
}

// The closure for every tuple of the requested orders; requested are those
// whose size is a requested order.
absl::Status BuildAll(int p, const std::vector<int>& orders, int64_t max_tuples,
                      std::vector<Tuple>* tuples) {
  NNFT_ASSIGN_OR_RETURN(const int64_t total, CountAll(p, orders, max_tuples));
  const int n_max = *std::max_element(orders.begin(), orders.end());
  tuples->reserve(total);
  for (int n = 1; n <= n_max; ++n) AppendMultisets(p, n, tuples);
  return absl::OkStatus();
}

// Inserts every non-empty sub-multiset of the sorted tuple `t` (the tuple
// itself included) into `closure`.
void InsertSubMultisets(const Tuple& t, absl::flat_hash_set<Tuple>* closure) {
  const int n = static_cast<int>(t.size());
  for (int mask = 1; mask < (1 << n); ++mask) {
    Tuple sub;
    for (int s = 0; s < n; ++s) {
      if (mask & (1 << s)) sub.push_back(t[s]);
    }
    closure->insert(std::move(sub));
  }
}

// Explicit tuples: sorted, deduplicated (first occurrence kept, in `unique`),
// closed under sub-multisets.
absl::Status BuildExplicit(const std::vector<std::vector<int>>& requested,
                           int64_t max_tuples, std::vector<Tuple>* unique,
                           std::vector<Tuple>* tuples) {
  absl::flat_hash_set<Tuple> seen_request;
  absl::flat_hash_set<Tuple> closure;
  for (const auto& r : requested) {
    Tuple t = r;
    std::sort(t.begin(), t.end());
    if (!seen_request.insert(t).second) continue;
    unique->push_back(t);
    InsertSubMultisets(t, &closure);
    if (static_cast<int64_t>(closure.size()) > max_tuples) {
      return TooManyTuples(-1, max_tuples);
    }
  }
  tuples->assign(closure.begin(), closure.end());
  std::sort(tuples->begin(), tuples->end(), TupleLess);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TupleSet> TupleSet::Build(int num_points,
                                         const ObservableSpec& observables,
                                         int64_t max_tuples) {
  NNFT_RETURN_IF_ERROR(ValidateRequest(num_points, observables));
  TupleSet set;
  set.num_points_ = num_points;
  std::vector<Tuple> unique;
  if (observables.tuples.empty()) {
    NNFT_RETURN_IF_ERROR(
        BuildAll(num_points, observables.orders, max_tuples, &set.tuples_));
  } else {
    NNFT_RETURN_IF_ERROR(
        BuildExplicit(observables.tuples, max_tuples, &unique, &set.tuples_));
  }
  set.BuildIndex();
  if (observables.tuples.empty()) {
    for (size_t i = 0; i < set.tuples_.size(); ++i) {
      const int n = static_cast<int>(set.tuples_[i].size());
      if (std::find(observables.orders.begin(), observables.orders.end(), n) !=
          observables.orders.end()) {
        set.requested_.push_back(static_cast<int>(i));
      }
    }
  } else {
    for (const Tuple& t : unique) set.requested_.push_back(set.Find(t));
  }
  return set;
}

absl::StatusOr<int64_t> TupleSet::CountClosure(
    int num_points, const ObservableSpec& observables, int64_t max_tuples) {
  NNFT_RETURN_IF_ERROR(ValidateRequest(num_points, observables));
  if (observables.tuples.empty()) {
    return CountAll(num_points, observables.orders, max_tuples);
  }
  std::vector<Tuple> unique, tuples;
  NNFT_RETURN_IF_ERROR(
      BuildExplicit(observables.tuples, max_tuples, &unique, &tuples));
  return static_cast<int64_t>(tuples.size());
}

absl::StatusOr<TupleSet> TupleSet::WithExtra(const TupleSet& base,
                                             const std::vector<Tuple>& extra,
                                             int num_points,
                                             int64_t max_tuples) {
  absl::flat_hash_set<Tuple> closure(base.tuples_.begin(), base.tuples_.end());
  for (const Tuple& e : extra) {
    Tuple t = e;
    std::sort(t.begin(), t.end());
    InsertSubMultisets(t, &closure);
    if (static_cast<int64_t>(closure.size()) > max_tuples) {
      return TooManyTuples(-1, max_tuples);
    }
  }
  TupleSet set;
  set.num_points_ = std::max(num_points, base.num_points_);
  set.tuples_.assign(closure.begin(), closure.end());
  std::sort(set.tuples_.begin(), set.tuples_.end(), TupleLess);
  set.BuildIndex();
  for (int r : base.requested_) {
    set.requested_.push_back(set.Find(base.tuples_[r]));
  }
  return set;
}

void TupleSet::BuildIndex() {
  index_.clear();
  index_.reserve(tuples_.size());
  for (size_t i = 0; i < tuples_.size(); ++i) {
    index_.emplace(tuples_[i], static_cast<int>(i));
  }
}

int TupleSet::Find(const Tuple& tuple) const {
  auto it = index_.find(tuple);
  return it == index_.end() ? -1 : it->second;
}

}  // namespace nnft
