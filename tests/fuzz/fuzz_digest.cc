// libFuzzer harness: arbitrary bytes as a stored spec (the canonical or
// request encoding the job rows keep: a spec proto). The decoder must reject
// what is not a valid spec with DataLoss or InvalidArgument, never crash or
// allocate without bound; what it accepts must re-encode to a fixed point with
// a stable digest, and a one-field change must change the digest.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "server/spec/digest.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nnft::fuzz::Check;
  if (size > 64 * 1024) return -1;
  absl::StatusOr<nnft::ExperimentSpec> spec = nnft::server::DecodeSpecBytes(
      absl::string_view(reinterpret_cast<const char*>(data), size),
      nnft::fuzz::FuzzLimits());
  if (!spec.ok()) {
    const absl::StatusCode code = spec.status().code();
    Check(code == absl::StatusCode::kDataLoss ||
              code == absl::StatusCode::kInvalidArgument,
          "undecodable bytes are DataLoss or InvalidArgument");
    return 0;
  }
  const std::string canonical = nnft::server::CanonicalSpecBytes(*spec);
  absl::StatusOr<nnft::ExperimentSpec> again =
      nnft::server::DecodeSpecBytes(canonical, nnft::fuzz::FuzzLimits());
  Check(again.ok(), "canonical bytes of a decoded spec decode");
  Check(nnft::server::CanonicalSpecBytes(*again) == canonical,
        "canonical bytes are a fixed point");
  Check(nnft::server::SpecDigest(*again) == nnft::server::SpecDigest(*spec),
        "equal specs have equal digests");
  nnft::ExperimentSpec other = *spec;
  other.sampling.seed += 1;
  Check(nnft::server::SpecDigest(other) != nnft::server::SpecDigest(*spec),
        "specs differing in the seed have different digests");
  return 0;
}
