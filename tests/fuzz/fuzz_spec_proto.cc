// libFuzzer harness: arbitrary bytes as a binary nnft.v1.ExperimentSpec (the
// gRPC wire form), through validation and canonicalisation. Invariants:
// tests/fuzz/fuzz_util.h.
#include <cstddef>
#include <cstdint>

#include "nnft/v1/spec.pb.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return -1;
  nnft::v1::ExperimentSpec proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  nnft::fuzz::CheckProtoSpec(proto);
  return 0;
}
