// Content addressing of experiments: the engine fingerprint, a versioned and
// unambiguous byte encoding of a spec, and the SHA-256 digest under which the
// result store keeps its chunks (DESIGN.md section 3, "Store").
//
// The canonical encoding holds everything that changes a chunk's moment sums
// (the architecture with all its fields, the points as exact IEEE-754 bits,
// the orders and the sorted, deduplicated tuples that fix the tuple closure,
// the seed, the chunk size, the precision, integrate_output_layer) and nothing
// that does not (the number of networks, priorities, labels). Two specs with
// equal canonical bytes produce bit-identical chunk k for every k.
//
// The request encoding is the same format but keeps what a user sees and the
// digest ignores: the order of `orders` and of `tuples` as submitted (which
// fixes the order of the reported estimates). The job manager keeps it in the
// job row, so a restarted server rebuilds exactly the spec it was given;
// num_networks is kept beside it.
//
// All functions are pure and thread-safe.
#ifndef NNFT_SERVER_DIGEST_H_
#define NNFT_SERVER_DIGEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/spec.h"

namespace nnft::server {

// "nnft-engine/<N>; march=<target>/<compiler-version>" (CMake passes the
// resolved target as NNFT_MARCH). <N> is bumped whenever the numbers a
// spec produces could change, so chunks of an older engine are never mixed in.
std::string EngineFingerprint();

// The canonical bytes (see above). Little-endian, length-prefixed, with a
// magic and a format version; never empty.
std::string CanonicalSpecBytes(const ExperimentSpec& spec);

// The request bytes: canonical content plus the submitted order of orders and
// tuples. num_networks is not included (the job row stores it).
std::string RequestSpecBytes(const ExperimentSpec& spec);

// Lower-case hex SHA-256 (64 characters) of EngineFingerprint(), a NUL byte and
// CanonicalSpecBytes(spec).
std::string SpecDigest(const ExperimentSpec& spec);

// Rebuilds a spec from CanonicalSpecBytes or RequestSpecBytes. num_networks
// is left at 2 * chunk_size (the caller sets it). DataLoss for truncated or
// malformed bytes, InvalidArgument for an unknown format version. The result
// is not validated (call Validate).
absl::StatusOr<ExperimentSpec> DecodeCanonicalSpec(absl::string_view bytes);

}  // namespace nnft::server

#endif  // NNFT_SERVER_DIGEST_H_
