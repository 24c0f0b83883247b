#include "client/cli/spec_file.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace nnft::client::cli {
namespace {

namespace pb = ::google::protobuf;

// The prefix of an enum's value names, from its *_UNSPECIFIED value
// ("ACTIVATION_" for Activation).
std::string EnumPrefix(const pb::EnumDescriptor& e) {
  for (int i = 0; i < e.value_count(); ++i) {
    const std::string& name = e.value(i)->name();
    if (absl::EndsWith(name, "_UNSPECIFIED")) {
      return name.substr(0, name.size() - std::string("UNSPECIFIED").size());
    }
  }
  return "";
}

// `text` as the full name of a value of `e`: any case, with or without the
// prefix ("relu", "RELU", "ACTIVATION_RELU"). InvalidArgument naming `path`
// and listing the valid short names otherwise.
absl::StatusOr<std::string> EnumName(const pb::EnumDescriptor& e,
                                     const std::string& text,
                                     const std::string& path) {
  const std::string prefix = EnumPrefix(e);
  const std::string upper =
      absl::StrReplaceAll(absl::AsciiStrToUpper(text), {{"-", "_"}});
  for (const std::string& candidate : {upper, prefix + upper}) {
    if (e.FindValueByName(candidate) != nullptr) return candidate;
  }
  std::vector<std::string> names;
  for (int i = 0; i < e.value_count(); ++i) {
    if (e.value(i)->number() == 0) continue;
    names.push_back(
        absl::AsciiStrToLower(e.value(i)->name().substr(prefix.size())));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, " = \"", text, "\": must be one of ", absl::StrJoin(names, ", ")));
}

absl::Status Normalize(const pb::Descriptor& d, pb::Value& value,
                       const std::string& path);

// One field's value (a list element or the value itself).
absl::Status NormalizeField(const pb::FieldDescriptor& f, pb::Value& v,
                            const std::string& path) {
  if (f.enum_type() != nullptr && v.has_string_value()) {
    absl::StatusOr<std::string> name =
        EnumName(*f.enum_type(), v.string_value(), path);
    if (!name.ok()) return name.status();
    v.set_string_value(*name);
  } else if (f.message_type() != nullptr && !f.is_map()) {
    return Normalize(*f.message_type(), v, path);
  } else if ((f.cpp_type() == pb::FieldDescriptor::CPPTYPE_INT64 ||
              f.cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT64) &&
             v.has_number_value() && std::fabs(v.number_value()) > 0x1p53) {
    // The rewrite goes through doubles: refuse rather than round an int64.
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": write integers beyond 2^53 as strings (\"", "...\")"));
  }
  return absl::OkStatus();
}

// Rewrites every enum value below `value` (a JSON object of message `d`) to
// its full name. Unknown keys are left for the parser to report.
absl::Status Normalize(const pb::Descriptor& d, pb::Value& value,
                       const std::string& path) {
  if (!value.has_struct_value()) return absl::OkStatus();
  for (auto& [key, v] : *value.mutable_struct_value()->mutable_fields()) {
    const pb::FieldDescriptor* f = d.FindFieldByName(key);
    for (int i = 0; f == nullptr && i < d.field_count(); ++i) {
      if (d.field(i)->json_name() == key) f = d.field(i);
    }
    if (f == nullptr) continue;
    const std::string at = path.empty() ? key : absl::StrCat(path, ".", key);
    if (v.has_list_value()) {
      auto* items = v.mutable_list_value()->mutable_values();
      for (int i = 0; i < items->size(); ++i) {
        absl::Status s =
            NormalizeField(*f, (*items)[i], absl::StrCat(at, "[", i, "]"));
        if (!s.ok()) return s;
      }
    } else {
      absl::Status s = NormalizeField(*f, v, at);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseInto(absl::string_view json, pb::Message* message) {
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = pb::util::JsonStringToMessage(
      pb::StringPiece(json.data(), json.size()), message, options);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(std::string(status.message()));
}

}  // namespace

absl::StatusOr<nnft::v1::ExperimentSpec> ParseSpecJson(
    absl::string_view json, absl::string_view source) {
  nnft::v1::ExperimentSpec spec;
  const absl::Status direct = ParseInto(json, &spec);
  if (direct.ok()) return spec;
  // Enum values by short name ("relu", "gradient_flow"): rewrite them to
  // their full names and parse again; the first error stands otherwise.
  pb::Value tree;
  std::string rewritten;
  absl::Status status = ParseInto(json, &tree);
  if (status.ok()) {
    status = Normalize(*nnft::v1::ExperimentSpec::descriptor(), tree, "");
  }
  if (status.ok()) {
    status = pb::util::MessageToJsonString(tree, &rewritten).ok()
                 ? ParseInto(rewritten, &spec)
                 : direct;
  } else if (!absl::StrContains(status.message(), "must be one of")) {
    status = direct;
  }
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
