// The MPI-free half of nnft-mpi-worker: which chunks a rank computes, how a
// chunk travels as doubles, and the in-order merge on rank 0.
//
// Chunks are dealt block-cyclically: blocks of `block` consecutive chunks,
// block b to rank b mod R (block 1 is plain round-robin, k = r, r+R, ...).
// Every chunk's sums depend on (spec, seed, k) alone (core/sampling/engine.h),
// and rank 0 folds them into a MomentAccumulator strictly in chunk-index order
// whatever order they arrive in, so the estimate has the same bits for any
// number of ranks, threads or block size: those of one process folding
// chunks 0, 1, 2, ... (DESIGN.md section 6).
//
// Thread safety: OrderedMerger is not thread-safe (one writer); the free
// functions are.
#ifndef NNFT_SERVER_MPI_CHUNK_MERGE_H_
#define NNFT_SERVER_MPI_CHUNK_MERGE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/spec/tuples.h"

namespace nnft::mpi {

// Chunk ranges [first, last) of rank `rank` of `ranks`, in increasing order,
// for `num_chunks` chunks dealt in blocks of `block`. Requires num_chunks >= 0,
// 0 <= rank < ranks and block >= 1 (aborts otherwise: a programming error).
std::vector<std::pair<int64_t, int64_t>> RankBlocks(int64_t num_chunks,
                                                    int rank, int ranks,
                                                    int64_t block);

// The rank that computes chunk k under the same plan.
int OwnerOfChunk(int64_t k, int ranks, int64_t block);

// A chunk as one message of doubles: {k, networks, sums...}. k and networks
// are integers below 2^53, so the doubles hold them exactly.
std::vector<double> PackChunk(const ChunkSums& chunk);

// The inverse of PackChunk. InvalidArgument for a message shorter than the
// header, a header that is not a pair of non-negative integers below 2^53,
// or sums of a length other than `num_sums`.
absl::StatusOr<ChunkSums> UnpackChunk(absl::Span<const double> message,
                                      int64_t num_sums);

// Folds chunks 0..num_chunks-1, offered in any order, into a
// MomentAccumulator in index order, and hashes what it folds: SHA-256 over,
// per chunk in index order, k and networks (int64) and the IEEE-754 bits of
// every sum (little-endian), so runs compare bit for bit by one string.
class OrderedMerger {
 public:
  // `tuples` must outlive the merger; num_chunks >= 1.
  OrderedMerger(const TupleSet& tuples, uint64_t seed, int64_t num_chunks);
  ~OrderedMerger();

  // Takes chunk `chunk.chunk` and folds every chunk now contiguous with the
  // folded prefix. InvalidArgument for an index outside [0, num_chunks) or
  // a sums length other than tuples.size(); AlreadyExists for a chunk
  // offered twice; InvalidArgument for networks < 1. Errors leave the
  // merger unchanged.
  absl::Status Offer(ChunkSums chunk);

  int64_t folded() const { return next_; }
  int64_t networks_folded() const { return networks_; }
  int64_t pending() const { return static_cast<int64_t>(pending_.size()); }
  bool complete() const { return next_ == num_chunks_; }

  // Seconds spent folding (MomentAccumulator::Add and hashing) so far.
  double fold_seconds() const { return fold_seconds_; }

  // The estimate from the folded prefix.
  CorrelatorEstimate Finish() const { return accumulator_.Finish(); }

  // Lower-case hex SHA-256 of the folded chunks so far.
  std::string ChunkHash() const;

 private:
  absl::Status Fold(const ChunkSums& chunk);

  const TupleSet* tuples_;
  int64_t num_chunks_;
  MomentAccumulator accumulator_;
  int64_t next_ = 0;  // index of the next chunk to fold
  int64_t networks_ = 0;
  std::map<int64_t, ChunkSums> pending_;  // offered, not yet foldable
  double fold_seconds_ = 0;
  struct Hasher;
  std::unique_ptr<Hasher> hasher_;
};

// Lower-case hex SHA-256 of the IEEE-754 bits of the estimate's mean,
// stderr_mean, connected and stderr_connected, in that order.
std::string EstimateHash(const CorrelatorEstimate& estimate);

}  // namespace nnft::mpi

#endif  // NNFT_SERVER_MPI_CHUNK_MERGE_H_
