#include "tests/fuzz/fuzz_util.h"

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

namespace nnft::fuzz {

Limits FuzzLimits() {
  Limits limits;
  limits.max_input_dim = 16;
  limits.max_width = 64;
  limits.max_depth = 4;
  limits.max_points = 16;
  limits.max_tuples = 2000;
  limits.max_networks = int64_t{1} << 20;
  limits.max_chunk_size = 4096;
  limits.max_parameters = 1 << 16;
  return limits;
}

namespace {

// Specs one field away from `spec` must have other digests; the number of
// networks alone must not change it.
void CheckDiffersFrom(const ExperimentSpec& spec) {
  const std::string canonical = server::CanonicalSpecBytes(spec);
  const std::string digest = server::SpecDigest(spec);

  ExperimentSpec seed = spec;
  seed.sampling.seed ^= 1;
  Check(server::CanonicalSpecBytes(seed) != canonical,
        "a different seed gives different canonical bytes");
  Check(server::SpecDigest(seed) != digest,
        "a different seed gives a different digest");

  ExperimentSpec chunk = spec;
  chunk.sampling.chunk_size =
      spec.sampling.chunk_size == 1 ? 2 : spec.sampling.chunk_size - 1;
  Check(server::SpecDigest(chunk) != digest,
        "a different chunk size gives a different digest");

  if (spec.points.size() > 0) {
    ExperimentSpec point = spec;
    double& x = point.points(0, 0);
    x = x == 0.0 ? 1.0 : -x;
    Check(server::SpecDigest(point) != digest,
          "a different point gives a different digest");
  }

  ExperimentSpec networks = spec;
  networks.sampling.num_networks += spec.sampling.chunk_size;
  Check(server::SpecDigest(networks) == digest,
        "the number of networks is not part of the digest");
}

}  // namespace

void CheckProtoSpec(const v1::ExperimentSpec& proto) {
  const Limits limits = FuzzLimits();
  absl::StatusOr<ExperimentSpec> spec = server::SpecFromProto(proto, limits);
  if (!spec.ok()) {
    Check(spec.status().code() == absl::StatusCode::kInvalidArgument,
          "a rejected spec is InvalidArgument");
    Check(!spec.status().message().empty(), "a rejection names its reason");
    return;
  }
  const std::string request = server::RequestSpecBytes(*spec);
  const std::string digest = server::SpecDigest(*spec);

  absl::StatusOr<ExperimentSpec> decoded =
      server::DecodeSpecBytes(request, limits);
  Check(decoded.ok(), "request bytes of an accepted spec decode");
  Check(server::RequestSpecBytes(*decoded) == request,
        "request bytes round-trip");
  Check(server::SpecDigest(*decoded) == digest, "decoded spec keeps digest");

  const v1::ExperimentSpec explicit_proto = server::SpecToProto(*spec);
  absl::StatusOr<ExperimentSpec> again =
      server::SpecFromProto(explicit_proto, limits);
  Check(again.ok(), "SpecToProto of an accepted spec is accepted");
  Check(server::RequestSpecBytes(*again) == request, "SpecToProto round-trips");

  absl::StatusOr<v1::ExperimentSpec> from_json =
      server::SpecProtoFromJson(server::SpecProtoToJson(explicit_proto));
  Check(from_json.ok(), "the JSON form of an accepted spec parses");
  absl::StatusOr<ExperimentSpec> json_spec =
      server::SpecFromProto(*from_json, limits);
  Check(json_spec.ok(), "the JSON form of an accepted spec is accepted");
  Check(server::SpecDigest(*json_spec) == digest,
        "JSON round trip keeps digest");

  CheckDiffersFrom(*spec);
}

}  // namespace nnft::fuzz
