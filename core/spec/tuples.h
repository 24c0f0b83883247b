// Index tuples of correlators: multisets of point indices, and the set of
// tuples an experiment needs (the requested ones closed under sub-multisets,
// which the moment-cumulant formula needs for connected parts).
#ifndef NNFT_CORE_SPEC_TUPLES_H_
#define NNFT_CORE_SPEC_TUPLES_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"

namespace nnft {

inline constexpr int kMaxOrder = 6;

// A multiset of point indices, sorted ascending; size in [1, kMaxOrder].
using Tuple = std::vector<int>;

class TupleSet {
 public:
  // Builds the closure of the tuples `observables` asks for over `num_points`
  // points. InvalidArgument for an order outside [1, 6], an index outside
  // [0, num_points), or a closure larger than `max_tuples` (naming the limit).
  static absl::StatusOr<TupleSet> Build(int num_points,
                                        const ObservableSpec& observables,
                                        int64_t max_tuples);

  // The closure's size without materialising it when every tuple of the
  // orders is requested (a binomial sum; explicit tuples are closed in a hash
  // set). Same errors as Build; cheap enough for validating every request.
  static absl::StatusOr<int64_t> CountClosure(int num_points,
                                              const ObservableSpec& observables,
                                              int64_t max_tuples);

  // `base` with the tuples `extra` (indices in [0, num_points), each sorted
  // or not) and their sub-multisets added to the closure but not to
  // requested(); num_points() becomes `num_points` (>= base's). The closure
  // is re-sorted, so requested() is re-indexed. InvalidArgument past
  // `max_tuples`. Used for the tuples of symmetry and cluster checks.
  static absl::StatusOr<TupleSet> WithExtra(const TupleSet& base,
                                            const std::vector<Tuple>& extra,
                                            int num_points, int64_t max_tuples);

  // All tuples of the closure, ordered by size, then lexicographically.
  const std::vector<Tuple>& tuples() const { return tuples_; }
  int64_t size() const { return static_cast<int64_t>(tuples_.size()); }
  // Indices into tuples() of the requested tuples, in request order (or in
  // closure order when every tuple was requested).
  const std::vector<int>& requested() const { return requested_; }
  // Index of `tuple` (sorted) in tuples(), or -1.
  int Find(const Tuple& tuple) const;
  int num_points() const { return num_points_; }

 private:
  // Fills index_ from tuples_.
  void BuildIndex();

  int num_points_ = 0;
  std::vector<Tuple> tuples_;
  std::vector<int> requested_;
  absl::flat_hash_map<Tuple, int> index_;
};

}  // namespace nnft

#endif  // NNFT_CORE_SPEC_TUPLES_H_
