// libFuzzer harness: arbitrary text as an experiment spec in its JSON form,
// through parsing, validation and canonicalisation (the path every CLI,
// Python and Node submission takes). Invariants: tests/fuzz/fuzz_util.h.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "server/spec/spec_proto.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return -1;  // specs this large say nothing new
  absl::StatusOr<nnft::v1::ExperimentSpec> proto =
      nnft::server::SpecProtoFromJson(
          absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!proto.ok()) {
    nnft::fuzz::Check(
        proto.status().code() == absl::StatusCode::kInvalidArgument,
        "malformed JSON is InvalidArgument");
    return 0;
  }
  nnft::fuzz::CheckProtoSpec(*proto);
  return 0;
}
