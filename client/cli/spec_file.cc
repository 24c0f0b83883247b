#include "client/cli/spec_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace nnft::client::cli {

absl::StatusOr<nnft::v1::ExperimentSpec> ParseSpecJson(
    absl::string_view json, absl::string_view source) {
  nnft::v1::ExperimentSpec spec;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &spec, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a valid nnft.v1.ExperimentSpec in JSON: ",
                     std::string(status.message())));
  }
  return spec;
}

absl::StatusOr<nnft::v1::ExperimentSpec> ReadSpecFile(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin),
                std::istreambuf_iterator<char>());
    return ParseSpecJson(text, "<stdin>");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string why = error != 0 ? std::strerror(error) : "unreadable";
    if (error == EACCES) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot read spec file ", path, ": ", why));
    }
    return absl::NotFoundError(
        absl::StrCat("cannot read spec file ", path, ": ", why));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return ParseSpecJson(buffer.str(), path);
}

}  // namespace nnft::client::cli
