// libFuzzer harness: arbitrary bytes as a stored chunk (its CRC-32 column in
// the first 4 bytes, the sums blob after). Corrupt or truncated blobs must be
// refused with DataLoss, never decoded; accepted blobs re-encode to the same
// bytes; any doubles survive an encode/decode round trip.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/store/store.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nnft::fuzz::Check;
  if (size < 4 || size > 1 << 20) return -1;
  uint32_t crc = 0;
  std::memcpy(&crc, data, 4);
  const absl::string_view blob(reinterpret_cast<const char*>(data) + 4,
                               size - 4);
  absl::StatusOr<std::vector<double>> sums =
      nnft::server::DecodeChunkBlob(blob, crc);
  const bool intact = blob.size() % 8 == 0 && nnft::server::Crc32(blob) == crc;
  Check(sums.ok() == intact, "a blob is decoded exactly when it is intact");
  if (!sums.ok()) {
    Check(sums.status().code() == absl::StatusCode::kDataLoss,
          "a corrupt chunk is DataLoss");
  } else {
    Check(nnft::server::EncodeChunkBlob(*sums) == blob,
          "decoded sums re-encode to the stored bytes");
  }
  // Any doubles (the input's bytes, NaNs and all) survive encode + decode
  // bit for bit.
  std::vector<double> values(blob.size() / 8);
  if (!values.empty())
    std::memcpy(values.data(), blob.data(), values.size() * 8);
  const std::string encoded = nnft::server::EncodeChunkBlob(values);
  absl::StatusOr<std::vector<double>> decoded =
      nnft::server::DecodeChunkBlob(encoded, nnft::server::Crc32(encoded));
  Check(decoded.ok() && decoded->size() == values.size() &&
            (values.empty() || std::memcmp(decoded->data(), values.data(),
                                           values.size() * 8) == 0),
        "encoded doubles decode to the same bits");
  return 0;
}
