#include "server/store/chunk_codec.h"

#include <zlib.h>

#include <bit>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace nnft::server {

uint32_t Crc32(absl::string_view data) {
  return static_cast<uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

std::string EncodeChunkBlob(const std::vector<double>& sums) {
  std::string blob(sums.size() * 8, '\0');
  for (size_t i = 0; i < sums.size(); ++i) {
    const uint64_t bits = std::bit_cast<uint64_t>(sums[i]);
    for (int b = 0; b < 8; ++b) {
      blob[8 * i + b] = static_cast<char>(bits >> (8 * b));
    }
  }
  return blob;
}

absl::StatusOr<std::vector<double>> DecodeChunkSums(absl::string_view blob) {
  if (blob.size() % 8 != 0) {
    return absl::DataLossError(absl::StrCat(
        "stored sums are ", blob.size(),
        " bytes, not a whole number of 8-byte doubles (truncated or corrupt)"));
  }
  std::vector<double> sums(blob.size() / 8);
  for (size_t i = 0; i < sums.size(); ++i) {
    uint64_t bits = 0;
    for (int b = 0; b < 8; ++b) {
      bits |= static_cast<uint64_t>(static_cast<uint8_t>(blob[8 * i + b]))
              << (8 * b);
    }
    sums[i] = std::bit_cast<double>(bits);
  }
  return sums;
}

absl::StatusOr<std::vector<double>> DecodeChunkBlob(absl::string_view blob,
                                                    int64_t stored_crc) {
  if (blob.size() % 8 == 0 && static_cast<int64_t>(Crc32(blob)) != stored_crc) {
    return absl::DataLossError("checksum mismatch (stored sums are corrupt)");
  }
  return DecodeChunkSums(blob);
}

}  // namespace nnft::server
