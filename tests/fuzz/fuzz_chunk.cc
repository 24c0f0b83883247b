// libFuzzer harness: arbitrary bytes as a stored chunk (its CRC-32 column in
// the first 4 bytes, the sums blob after). Corrupt or truncated blobs must be
// refused with DataLoss, never decoded; accepted blobs re-encode to the same
// bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/store.h"
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
  // A freshly encoded blob of the same length always decodes.
  const std::string again =
      nnft::server::EncodeChunkBlob(std::vector<double>(blob.size() / 8, 0.5));
  Check(nnft::server::DecodeChunkBlob(again, nnft::server::Crc32(again)).ok(),
        "a freshly encoded blob decodes");
  return 0;
}
