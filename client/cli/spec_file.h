// Reads an experiment spec from a file in protobuf's JSON mapping (the form
// every nnft client shares). Unknown fields are errors, so a typo in a field
// name is caught here rather than silently ignored. Enum values may also be
// written by short name in any case ("relu" for ACTIVATION_RELU), as the
// Python and Node clients accept; an unknown one lists the valid names.
#ifndef NNFT_CLIENT_CLI_SPEC_FILE_H_
#define NNFT_CLIENT_CLI_SPEC_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nnft/v1/spec.pb.h"

namespace nnft::client::cli {

// Parses JSON text; `source` names it in errors. InvalidArgument with
// "<source>: <parser message>" when the text is not a valid spec.
absl::StatusOr<nnft::v1::ExperimentSpec> ParseSpecJson(
    absl::string_view json, absl::string_view source);

// Reads and parses `path` ("-" for standard input). NotFound or
// PermissionDenied (naming the path) when it cannot be read.
absl::StatusOr<nnft::v1::ExperimentSpec> ReadSpecFile(const std::string& path);

}  // namespace nnft::client::cli

#endif  // NNFT_CLIENT_CLI_SPEC_FILE_H_
