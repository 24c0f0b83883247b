#include "server/mpi/chunk_stream.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/store/chunk_codec.h"

namespace nnft::mpi {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the record header is written in the host's byte order");

constexpr uint32_t kTypeChunk = 1;
constexpr uint32_t kTypeEnd = 2;
constexpr size_t kHeaderBytes = 4 + 4 + 8 + 8 + 8;
constexpr size_t kCrcBytes = 4;

template <typename T>
void Put(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out->append(bytes, sizeof(T));
}

template <typename T>
T Get(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

std::string Encode(uint32_t type, int64_t a, int64_t b,
                   const std::vector<double>& sums) {
  std::string out;
  out.reserve(kHeaderBytes + 8 * sums.size() + kCrcBytes);
  Put(&out, kChunkRecordMagic);
  Put(&out, type);
  Put(&out, a);
  Put(&out, b);
  Put(&out, static_cast<uint64_t>(sums.size()));
  out += server::EncodeChunkBlob(sums);
  Put(&out, server::Crc32(out));
  return out;
}

}  // namespace

std::string EncodeChunkRecord(const ChunkSums& chunk) {
  return Encode(kTypeChunk, chunk.chunk, chunk.networks, chunk.sums);
}

std::string EncodeEndRecord(int64_t chunks, int64_t networks) {
  return Encode(kTypeEnd, chunks, networks, {});
}

absl::StatusOr<std::optional<StreamRecord>> ChunkStreamDecoder::Next() {
  if (!error_.ok()) return error_;
  const size_t available = buffer_.size() - offset_;
  if (available < kHeaderBytes) return std::nullopt;
  const char* p = buffer_.data() + offset_;
  const uint32_t magic = Get<uint32_t>(p);
  const uint32_t type = Get<uint32_t>(p + 4);
  const uint64_t n = Get<uint64_t>(p + 24);
  const uint64_t expected_n = type == kTypeEnd ? 0 : num_sums_;
  if (magic != kChunkRecordMagic || (type != kTypeChunk && type != kTypeEnd) ||
      n != expected_n) {
    error_ = absl::DataLossError(absl::StrCat(
        "chunk stream at byte ", offset_, ": bad record header (magic ", magic,
        ", type ", type, ", ", n, " sums; expected ", expected_n, ")"));
    return error_;
  }
  const size_t size = kHeaderBytes + 8 * n + kCrcBytes;
  if (available < size) return std::nullopt;
  const uint32_t crc = Get<uint32_t>(p + size - kCrcBytes);
  if (crc != server::Crc32(absl::string_view(p, size - kCrcBytes))) {
    error_ = absl::DataLossError(absl::StrCat("chunk stream at byte ", offset_,
                                              ": record fails its CRC-32"));
    return error_;
  }
  StreamRecord record;
  record.end = type == kTypeEnd;
  const int64_t a = Get<int64_t>(p + 8), b = Get<int64_t>(p + 16);
  if (record.end) {
    record.end_chunks = a;
    record.end_networks = b;
  } else {
    record.chunk.chunk = a;
    record.chunk.networks = b;
    absl::StatusOr<std::vector<double>> sums =
        server::DecodeChunkSums(absl::string_view(p + kHeaderBytes, 8 * n));
    if (!sums.ok()) {
      error_ = sums.status();
      return error_;
    }
    record.chunk.sums = *std::move(sums);
  }
  offset_ += size;
  if (offset_ > (1 << 20) && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return record;
}

}  // namespace nnft::mpi
