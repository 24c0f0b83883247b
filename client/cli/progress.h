// Live progress of a watched job for the `nnft` CLI. On a terminal: one line
// redrawn in place (a bar with chunks done/total, networks, the rate in
// networks per second with the time left, and the current estimate +- error
// of the first entries). Elsewhere (pipes, logs): plain
// lines, one per change of state or, while running, at most one per
// interval, so a log stays short whatever the server's update rate.
#ifndef NNFT_CLIENT_CLI_PROGRESS_H_
#define NNFT_CLIENT_CLI_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "absl/time/time.h"
#include "nnft/v1/nnft.pb.h"

namespace nnft::client::cli {

// Networks per second since the first update seen, and the time left at
// that rate. The origin is the first update, so networks answered at once
// from the store (or done before a watch began) do not inflate the rate.
class RateMeter {
 public:
  void Update(absl::Time now, int64_t networks_done, int64_t networks_total);
  // NaN until an update after the first shows progress.
  double per_second() const { return per_second_; }
  // absl::InfiniteDuration() while the rate is unknown.
  absl::Duration eta() const { return eta_; }

 private:
  bool started_ = false;
  absl::Time t0_;
  int64_t n0_ = 0;
  double per_second_ = std::numeric_limits<double>::quiet_NaN();
  absl::Duration eta_ = absl::InfiniteDuration();
};

// "1.2e+04 networks/s ETA 0:03"; "?" for what is unknown; the ETA only when
// `running`.
std::string RateText(const RateMeter& rate, bool running);

// "1:02:03", "2:03" or "5s"; "?" for an infinite duration.
std::string FormatEta(absl::Duration d);

// "jobs/x RUNNING 3/10 chunks 3000/10000 networks G(0,0)=1.23+-0.01 ..." with
// the first `entries_shown` entries of the update's estimate; `rate` (e.g.
// RateText) is inserted after the networks when not empty.
std::string ProgressLine(const nnft::v1::JobUpdate& update, int entries_shown,
                         const std::string& rate = "");

// The same as a bar of at most `width` columns (truncated to fit).
std::string ProgressBar(const nnft::v1::JobUpdate& update, int entries_shown,
                        int width, const std::string& rate = "");

// The line printed when a watch ends: state, chunks, networks, and for a
// failed job its error.
std::string FinalLine(const nnft::v1::Job& job);

class ProgressPrinter {
 public:
  // `out` is not owned. terminal: redraw one line in place.
  ProgressPrinter(std::FILE* out, bool terminal, int entries_shown = 3,
                  absl::Duration min_interval = absl::Seconds(1));

  void Update(const nnft::v1::JobUpdate& update);
  // Clears the bar (on a terminal) and prints FinalLine(job).
  void Finish(const nnft::v1::Job& job);

 private:
  int TerminalWidth() const;

  std::FILE* out_;
  bool terminal_;
  int entries_shown_;
  absl::Duration min_interval_;
  absl::Time last_print_ = absl::InfinitePast();
  int last_state_ = -1;
  int64_t last_chunks_ = -1;
  bool bar_drawn_ = false;
  RateMeter rate_;
};

}  // namespace nnft::client::cli

#endif  // NNFT_CLIENT_CLI_PROGRESS_H_
