#include "server/mpi/chunk_merge.h"

#include <openssl/evp.h>

#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nnft::mpi {
namespace {

constexpr double kTwoTo53 = 9007199254740992.0;

// Integer-valued double in [0, 2^53), or -1.
int64_t ExactIndex(double value) {
  if (!(value >= 0 && value < kTwoTo53) || std::floor(value) != value) {
    return -1;
  }
  return static_cast<int64_t>(value);
}

// Incremental SHA-256 over raw bytes (OpenSSL EVP).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr ||
        EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      std::abort();  // out of memory or a broken libcrypto
    }
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size) {
    if (EVP_DigestUpdate(ctx_, data, size) != 1) std::abort();
  }
  void UpdateInt(int64_t value) { Update(&value, sizeof(value)); }
  void UpdateDoubles(const std::vector<double>& values) {
    // x86-64 and every target nnft builds for are little-endian, so the
    // in-memory bytes are the little-endian IEEE-754 encoding.
    Update(values.data(), values.size() * sizeof(double));
  }

  // Hex digest of everything so far; the running state is left untouched.
  std::string HexDigest() const {
    EVP_MD_CTX* copy = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (copy == nullptr || EVP_MD_CTX_copy_ex(copy, ctx_) != 1 ||
        EVP_DigestFinal_ex(copy, digest, &size) != 1) {
      std::abort();
    }
    EVP_MD_CTX_free(copy);
    std::string hex;
    for (unsigned int i = 0; i < size; ++i) {
      absl::StrAppendFormat(&hex, "%02x", digest[i]);
    }
    return hex;
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace

std::vector<std::pair<int64_t, int64_t>> RankBlocks(int64_t num_chunks,
                                                    int rank, int ranks,
                                                    int64_t block) {
  assert(num_chunks >= 0 && ranks >= 1 && rank >= 0 && rank < ranks &&
         block >= 1);
  std::vector<std::pair<int64_t, int64_t>> blocks;
  const int64_t stride = block * ranks;
  for (int64_t first = rank * block; first < num_chunks; first += stride) {
    blocks.emplace_back(first, std::min(first + block, num_chunks));
  }
  return blocks;
}

int OwnerOfChunk(int64_t k, int ranks, int64_t block) {
  return static_cast<int>((k / block) % ranks);
}

std::vector<double> PackChunk(const ChunkSums& chunk) {
  std::vector<double> message;
  message.reserve(2 + chunk.sums.size());
  message.push_back(static_cast<double>(chunk.chunk));
  message.push_back(static_cast<double>(chunk.networks));
  message.insert(message.end(), chunk.sums.begin(), chunk.sums.end());
  return message;
}

absl::StatusOr<ChunkSums> UnpackChunk(absl::Span<const double> message,
                                      int64_t num_sums) {
  if (message.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chunk message of ", message.size(), " doubles: must hold at least ",
        "the 2-double header {chunk, networks}"));
  }
  ChunkSums chunk;
  chunk.chunk = ExactIndex(message[0]);
  chunk.networks = ExactIndex(message[1]);
  if (chunk.chunk < 0 || chunk.networks < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "chunk message header {%g, %g}: must be integers in [0, 2^53)",
        message[0], message[1]));
  }
  if (static_cast<int64_t>(message.size()) - 2 != num_sums) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chunk ", chunk.chunk, " message carries ", message.size() - 2,
        " sums: must carry one per tuple, ", num_sums));
  }
  chunk.sums.assign(message.begin() + 2, message.end());
  return chunk;
}

struct OrderedMerger::Hasher {
  Sha256 sha;
};

OrderedMerger::OrderedMerger(const TupleSet& tuples, uint64_t seed,
                             int64_t num_chunks)
    : tuples_(&tuples),
      num_chunks_(num_chunks),
      accumulator_(tuples, seed),
      hasher_(std::make_unique<Hasher>()) {
  assert(num_chunks >= 1);
}

OrderedMerger::~OrderedMerger() = default;

absl::Status OrderedMerger::Offer(ChunkSums chunk) {
  const int64_t k = chunk.chunk;
  if (k < 0 || k >= num_chunks_) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk ", k, ": must be in [0, ", num_chunks_, ")"));
  }
  if (static_cast<int64_t>(chunk.sums.size()) != tuples_->size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk ", k, " has ", chunk.sums.size(),
                     " sums: must have one per tuple, ", tuples_->size()));
  }
  if (chunk.networks < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chunk ", k, " has networks = ", chunk.networks, ": must be >= 1"));
  }
  if (k < next_ || pending_.contains(k)) {
    return absl::AlreadyExistsError(
        absl::StrCat("chunk ", k, " was already offered"));
  }
  if (k != next_) {
    pending_.emplace(k, std::move(chunk));
    return absl::OkStatus();
  }
  absl::Status status = Fold(chunk);
  if (!status.ok()) return status;
  for (auto it = pending_.begin(); it != pending_.end() && it->first == next_;
       it = pending_.erase(it)) {
    status = Fold(it->second);
    if (!status.ok()) return status;  // unreachable: Offer checked the shape
  }
  return absl::OkStatus();
}

absl::Status OrderedMerger::Fold(const ChunkSums& chunk) {
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = accumulator_.Add(chunk);
  if (status.ok()) {
    hasher_->sha.UpdateInt(chunk.chunk);
    hasher_->sha.UpdateInt(chunk.networks);
    hasher_->sha.UpdateDoubles(chunk.sums);
    ++next_;
    networks_ += chunk.networks;
  }
  fold_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return status;
}

std::string OrderedMerger::ChunkHash() const {
  return hasher_->sha.HexDigest();
}

std::string EstimateHash(const CorrelatorEstimate& estimate) {
  Sha256 sha;
  sha.UpdateDoubles(estimate.mean);
  sha.UpdateDoubles(estimate.stderr_mean);
  sha.UpdateDoubles(estimate.connected);
  sha.UpdateDoubles(estimate.stderr_connected);
  return sha.HexDigest();
}

}  // namespace nnft::mpi
