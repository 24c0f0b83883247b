#include "server/spec/digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/spec/spec_proto.h"

#ifndef NNFT_MARCH
#define NNFT_MARCH "unknown"
#endif

namespace nnft::server {
namespace {

// Bump whenever the numbers any spec produces could change (engine, RNG
// streams, summation order).
constexpr int kEngineVersion = 1;

// Names the encoding hashed after the fingerprint; bump when the meaning of
// the canonical proto changes (a field cleared or sorted differently).
constexpr char kCodec[] = "nnft.v1.ExperimentSpec/deterministic/1";

// The magic the binary codec of schema 2 and earlier began with. Its first
// byte, 'N' (field 9, wire type 6), never starts a valid proto message.
constexpr char kLegacyMagic[] = "NNFT-SPEC";

std::string Deterministic(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

// Makes SpecToProto(spec) without num_networks canonical in place: orders
// sorted and deduplicated, tuples as sorted multisets (sorted,
// deduplicated), sweep widths sorted, labels cleared.
void Canonicalise(v1::ExperimentSpec& proto) {
  proto.clear_label();
  v1::Observables* o = proto.mutable_observables();
  std::vector<int> orders(o->orders().begin(), o->orders().end());
  std::sort(orders.begin(), orders.end());
  orders.erase(std::unique(orders.begin(), orders.end()), orders.end());
  o->mutable_orders()->Assign(orders.begin(), orders.end());
  if (o->tuples_size() > 0) {
    std::vector<std::vector<int>> tuples;
    tuples.reserve(o->tuples_size());
    for (const v1::IndexTuple& t : o->tuples()) {
      tuples.emplace_back(t.index().begin(), t.index().end());
      std::sort(tuples.back().begin(), tuples.back().end());
    }
    std::sort(tuples.begin(), tuples.end());
    tuples.erase(std::unique(tuples.begin(), tuples.end()), tuples.end());
    o->clear_tuples();
    for (const std::vector<int>& t : tuples) {
      o->add_tuples()->mutable_index()->Add(t.begin(), t.end());
    }
  }
  if (proto.has_width_sweep()) {
    auto* widths = proto.mutable_width_sweep()->mutable_widths();
    std::sort(widths->begin(), widths->end());
  }
  for (v1::SymmetryCheck& c : *proto.mutable_symmetry_checks()) {
    c.clear_label();
  }
  for (v1::ClusterCheck& c : *proto.mutable_cluster_checks()) {
    c.clear_label();
  }
}

// SpecDigest of the canonical bytes.
std::string DigestOf(absl::string_view canonical_bytes) {
  std::string input = EngineFingerprint();
  input.push_back('\0');
  input += kCodec;
  input.push_back('\0');
  input.append(canonical_bytes.data(), canonical_bytes.size());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  // EVP_Digest fails only on allocation failure or a broken OpenSSL.
  if (EVP_Digest(input.data(), input.size(), md, &md_len, EVP_sha256(),
                 nullptr) != 1 ||
      md_len != 32) {
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), md_len));
}

}  // namespace

std::string EngineFingerprint() {
  return absl::StrCat("nnft-engine/", kEngineVersion, "; march=", NNFT_MARCH);
}

v1::ExperimentSpec CanonicalSpecProto(const ExperimentSpec& spec) {
  v1::ExperimentSpec proto = SpecToProto(spec);
  proto.mutable_sampling()->clear_num_networks();
  Canonicalise(proto);
  return proto;
}

std::string CanonicalSpecBytes(const ExperimentSpec& spec) {
  return Deterministic(CanonicalSpecProto(spec));
}

std::string RequestSpecBytes(const ExperimentSpec& spec) {
  v1::ExperimentSpec proto = SpecToProto(spec);
  proto.mutable_sampling()->clear_num_networks();
  return Deterministic(proto);
}

std::string SpecDigest(const ExperimentSpec& spec) {
  return DigestOf(CanonicalSpecBytes(spec));
}

SpecKeys SpecDigestAndRequestBytes(const ExperimentSpec& spec) {
  v1::ExperimentSpec proto = SpecToProto(spec);
  proto.mutable_sampling()->clear_num_networks();
  SpecKeys keys;
  keys.request_bytes = Deterministic(proto);
  Canonicalise(proto);
  keys.digest = DigestOf(Deterministic(proto));
  return keys;
}

bool IsLegacySpecBytes(absl::string_view bytes) {
  return absl::StartsWith(bytes, kLegacyMagic);
}

absl::StatusOr<ExperimentSpec> DecodeSpecBytes(absl::string_view bytes,
                                               const Limits& limits) {
  if (IsLegacySpecBytes(bytes)) {
    return absl::InvalidArgumentError(
        "spec bytes: the binary format of job-store schema 2; rebuild the "
        "spec from the row's JSON");
  }
  v1::ExperimentSpec proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("spec bytes: not an nnft.v1.ExperimentSpec");
  }
  NNFT_ASSIGN_OR_RETURN(ExperimentSpec spec, SpecFromProto(proto, limits));
  spec.sampling.num_networks = int64_t{2} * spec.sampling.chunk_size;
  return spec;
}

}  // namespace nnft::server
