// The byte stream nnft-mpi-worker --stream writes on rank 0's stdout and the
// server's launcher (server/ops/launcher.h) reads: one self-checking record per
// finished chunk, in the order chunks finish, then an end record.
//
// Record layout (little-endian, no padding):
//   u32 magic 0x43464E4E ("NNFC")  u32 type (1 chunk, 2 end)
//   i64 a (chunk: the index k; end: chunks sent)
//   i64 b (chunk: networks;    end: networks sent)
//   u64 n (chunk: number of sums; end: 0)
//   sums[n] in the store's chunk encoding (server/store/chunk_codec.h)
//   u32 CRC-32 (Crc32 of chunk_codec.h) of every preceding byte of the record
// A reader that meets a bad magic, type, length or CRC stops: the stream is
// not resynchronised, and nothing after the first bad byte is trusted.
//
// Thread safety: EncodeChunkRecord/EncodeEndRecord are pure; a
// ChunkStreamDecoder is used by one thread.
#ifndef NNFT_SERVER_MPI_CHUNK_STREAM_H_
#define NNFT_SERVER_MPI_CHUNK_STREAM_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/sampling/engine.h"

namespace nnft::mpi {

inline constexpr uint32_t kChunkRecordMagic = 0x43464E4E;

std::string EncodeChunkRecord(const ChunkSums& chunk);
std::string EncodeEndRecord(int64_t chunks, int64_t networks);

// One decoded record: a chunk, or the end (chunks and networks sent).
struct StreamRecord {
  bool end = false;
  ChunkSums chunk;           // when !end
  int64_t end_chunks = 0;    // when end
  int64_t end_networks = 0;  // when end
};

class ChunkStreamDecoder {
 public:
  // Chunk records must carry exactly `num_sums` sums (the spec's tuples).
  explicit ChunkStreamDecoder(int64_t num_sums) : num_sums_(num_sums) {}

  // Appends bytes read from the stream.
  void Feed(absl::string_view bytes) {
    buffer_.append(bytes.data(), bytes.size());
  }

  // The next complete record, nullopt when more bytes are needed.
  // DataLoss for a bad magic, type, sum count or CRC (sticky: every later
  // call returns the same error).
  absl::StatusOr<std::optional<StreamRecord>> Next();

  // Bytes fed but not yet decoded (a truncated record at the end of a stream).
  size_t pending_bytes() const { return buffer_.size() - offset_; }

 private:
  int64_t num_sums_;
  std::string buffer_;
  size_t offset_ = 0;
  absl::Status error_;
};

}  // namespace nnft::mpi

#endif  // NNFT_SERVER_MPI_CHUNK_STREAM_H_
