// Structured logs for the server: one line per event on stderr,
// "ts=<RFC3339 UTC> event=<name> key=value ...". Values with spaces, quotes
// or '=' are quoted with Go-style escapes, so a line splits unambiguously.
// Thread-safe: each line is written with a single fwrite.
//
//   LogEvent("job_submitted", {{"name", job.name}, {"priority", 3}});
//
// Lines read "ts=... component=<component> event=<event> key=value ...";
// LogEvent writes component=server.
#ifndef NNFT_SERVER_OPS_LOG_H_
#define NNFT_SERVER_OPS_LOG_H_

#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace nnft::server {

// A key and its value, formatted with absl::StrCat (numbers, strings).
struct LogField {
  template <typename T>
  LogField(absl::string_view k, const T& v) : key(k), value(absl::StrCat(v)) {}
  LogField(absl::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  absl::string_view key;
  std::string value;
};

// Quotes `value` when it is empty or holds a space, '"', '=' or a control
// character.
inline std::string LogQuote(absl::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' ||
        static_cast<unsigned char>(c) < 0x20) {
      plain = false;
    }
  }
  if (plain) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

inline void LogComponentEvent(absl::string_view component,
                              absl::string_view event,
                              std::initializer_list<LogField> fields = {}) {
  std::string line =
      absl::StrCat("ts=",
                   absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   " component=", component, " event=", event);
  for (const LogField& f : fields) {
    absl::StrAppend(&line, " ", f.key, "=", LogQuote(f.value));
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

inline void LogEvent(absl::string_view event,
                     std::initializer_list<LogField> fields = {}) {
  LogComponentEvent("server", event, fields);
}

}  // namespace nnft::server

#endif  // NNFT_SERVER_OPS_LOG_H_
