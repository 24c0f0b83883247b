// Shared checks of the fuzz harnesses: the invariants every accepted spec
// must satisfy, whatever bytes produced it. A violated invariant aborts (the
// fuzzer records the input); rejected input is simply not interesting.
#ifndef NNFT_TESTS_FUZZ_FUZZ_UTIL_H_
#define NNFT_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstdio>
#include <cstdlib>

#include "core/spec/spec.h"
#include "nnft/v1/spec.pb.h"

namespace nnft::fuzz {

// Limits small enough that one input costs milliseconds, not gigabytes.
Limits FuzzLimits();

// Aborts with `what` when `condition` is false (assert survives NDEBUG).
inline void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

// The invariants of a proto spec: when SpecFromProto accepts it,
//  - its request bytes decode back to the same bytes (DecodeSpecBytes),
//  - SpecToProto -> SpecFromProto and the JSON round trip give the same
//    request bytes and the same digest,
//  - a spec differing in one numeric field (seed, chunk size, a point) has
//    different canonical bytes and a different digest.
void CheckProtoSpec(const v1::ExperimentSpec& proto);

}  // namespace nnft::fuzz

#endif  // NNFT_TESTS_FUZZ_FUZZ_UTIL_H_
