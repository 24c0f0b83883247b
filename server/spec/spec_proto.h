// Conversions of the experiment spec between its proto form
// (nnft.v1.ExperimentSpec, proto/nnft/v1/spec.proto), its JSON form
// (protobuf's JSON mapping: what the CLI and the other-language clients read
// and write) and the core type nnft::ExperimentSpec (core/spec/spec.h).
//
// Proto -> core is the trust boundary: it applies the documented defaults
// (empty sw -> all 1, empty sb -> all 0, unset optional scalars -> their
// defaults, empty orders -> [2, 4], num_networks 100000, chunk_size 1000;
// the values are the core types' own, core/spec/spec.h, never repeated here),
// rejects what the core type cannot express (unset architecture or
// activation, ragged points, unknown enum values), then runs core Validate.
// Every error is InvalidArgument and names the field by its proto path from
// the request ("spec.architecture.mlp.widths[0] = 0: must be in [1, 1000000]").
//
// Core results -> proto (estimates, theory, jobs) live in server/api/convert.h;
// this file is the spec alone, so tools that only read experiment files (the
// benchmarks, the CLI) need neither gRPC nor the job manager.
//
// All functions are pure and thread-safe.
#ifndef NNFT_SERVER_SPEC_SPEC_PROTO_H_
#define NNFT_SERVER_SPEC_SPEC_PROTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/spec/spec.h"
#include "nnft/v1/spec.pb.h"

namespace nnft::server {

// The spec with defaults applied, validated against `limits`.
absl::StatusOr<ExperimentSpec> SpecFromProto(const v1::ExperimentSpec& proto,
                                             const Limits& limits = {});

// Parses protobuf JSON (snake_case or lowerCamelCase field names) into the
// proto. Malformed JSON or an unknown field: InvalidArgument with the
// parser's message.
absl::StatusOr<v1::ExperimentSpec> SpecProtoFromJson(absl::string_view json);

// SpecProtoFromJson then SpecFromProto.
absl::StatusOr<ExperimentSpec> SpecFromJson(absl::string_view json,
                                            const Limits& limits = {});

// The proto form of a core spec, every default written out explicitly, so
// SpecFromProto(SpecToProto(s)) == s for every valid s.
v1::ExperimentSpec SpecToProto(const ExperimentSpec& spec);

// Protobuf JSON of `proto` (lowerCamelCase names, as protobuf prints them).
// `pretty` adds indentation and newlines.
std::string SpecProtoToJson(const v1::ExperimentSpec& proto,
                            bool pretty = false);

// Sampling.target_stderr of the proto (the early-stop rule; not a core spec
// field), checked finite and >= 0.
// The interaction fields (spec_proto_interactions.cc), used by SpecFromProto
// (before Validate) and SpecToProto.
void InteractionsFromProto(const v1::ExperimentSpec& proto,
                           ExperimentSpec& spec);
void InteractionsToProto(const ExperimentSpec& spec, v1::ExperimentSpec* proto);

absl::StatusOr<double> TargetStderrFromProto(const v1::ExperimentSpec& proto);

}  // namespace nnft::server

#endif  // NNFT_SERVER_SPEC_SPEC_PROTO_H_
