// Content addressing of experiments: the engine fingerprint, the one canonical
// encoding of a spec, and the SHA-256 digest under which the result store
// keeps its chunks (DESIGN.md section 3, "Store").
//
// There is one codec: the spec's proto (proto/nnft/v1/spec.proto, written by
// SpecToProto with every default explicit) serialised deterministically. A
// new spec field therefore reaches the digest, the stored job rows and every
// client through the proto and its two conversions (server/spec/spec_proto.h)
// alone.
//
// The canonical proto holds everything that changes a chunk's moment sums and
// nothing that does not: the number of networks, free-text labels and the
// order in which orders, tuples and sweep widths were submitted are cleared
// or sorted (tuples as sorted multisets, deduplicated). Two specs with equal
// canonical bytes produce bit-identical chunk k for every k. Points keep their
// exact IEEE-754 bits (SpecFromProto has cleared the sign of zero).
//
// The request bytes keep what a user sees and the digest ignores (labels and
// the submitted order, which fixes the order of the reported estimates); the
// job manager keeps them in the job row, so a restarted server rebuilds exactly
// the spec it was given. num_networks is kept beside them.
//
// Protobuf promises deterministic bytes for one build, not across protobuf
// versions: a library upgrade that reorders the bytes changes digests, which
// costs recomputation (a cache miss), never a wrong answer.
//
// All functions are pure and thread-safe.
#ifndef NNFT_SERVER_SPEC_DIGEST_H_
#define NNFT_SERVER_SPEC_DIGEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/spec/spec.h"
#include "nnft/v1/spec.pb.h"

namespace nnft::server {

// "nnft-engine/<N>; march=<target>/<compiler-version>" (CMake passes the
// resolved target as NNFT_MARCH). <N> is bumped whenever the numbers a
// spec produces could change, so chunks of an older engine are never mixed in.
std::string EngineFingerprint();

// The canonical proto of a spec (see above).
v1::ExperimentSpec CanonicalSpecProto(const ExperimentSpec& spec);

// Deterministic serialisation of CanonicalSpecProto(spec).
std::string CanonicalSpecBytes(const ExperimentSpec& spec);

// Deterministic serialisation of SpecToProto(spec) without num_networks.
std::string RequestSpecBytes(const ExperimentSpec& spec);

// Lower-case hex SHA-256 (64 characters) of EngineFingerprint(), a NUL byte,
// the codec's name, a NUL byte and CanonicalSpecBytes(spec).
std::string SpecDigest(const ExperimentSpec& spec);

// SpecDigest(spec) and RequestSpecBytes(spec) from one SpecToProto (what
// a submission needs).
struct SpecKeys {
  std::string digest;
  std::string request_bytes;
};
SpecKeys SpecDigestAndRequestBytes(const ExperimentSpec& spec);

// Rebuilds a spec from CanonicalSpecBytes or RequestSpecBytes through
// SpecFromProto (defaults, then Validate against `limits`). num_networks is
// left at 2 * chunk_size (the caller sets it). DataLoss for bytes that are
// not a spec proto; SpecFromProto's InvalidArgument for a spec this build
// rejects.
absl::StatusOr<ExperimentSpec> DecodeSpecBytes(absl::string_view bytes,
                                               const Limits& limits = {});

// True for the bytes of the binary format that job rows of schema 2 and
// earlier hold (rebuilt from the row's JSON instead).
bool IsLegacySpecBytes(absl::string_view bytes);

}  // namespace nnft::server

#endif  // NNFT_SERVER_SPEC_DIGEST_H_
