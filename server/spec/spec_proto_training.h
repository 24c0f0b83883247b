// Proto <-> core conversion of the training part of a spec (learning
// dynamics; proto/nnft/v1/spec.proto Training). Validation of ranges is
// core's ValidateTraining; here only shapes and enum values.
#ifndef NNFT_SERVER_SPEC_SPEC_PROTO_TRAINING_H_
#define NNFT_SERVER_SPEC_SPEC_PROTO_TRAINING_H_

#include <optional>

#include "absl/status/statusor.h"
#include "core/spec/spec.h"
#include "nnft/v1/spec.pb.h"

namespace nnft::server {

// nullopt when the spec has no training; InvalidArgument ("spec.training...")
// for mixed inline and generated data, ragged points, the standard
// parameterisation, or unknown enum values. Generated data is materialised;
// inline data of more than limits.max_points points keeps only its count
// (n x 0), which Validate reports.
absl::StatusOr<std::optional<TrainingSpec>> TrainingFromProto(
    const v1::ExperimentSpec& proto, int input_dim, const Limits& limits);

// Inline data (generated data comes back as its values).
void TrainingToProto(const TrainingSpec& training, v1::Training* out);

}  // namespace nnft::server

#endif  // NNFT_SERVER_SPEC_SPEC_PROTO_TRAINING_H_
