#include "client/cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "client/cli/format.h"

namespace nnft::client::cli {
namespace {

namespace v1 = ::nnft::v1;

std::string EntriesText(const v1::JobUpdate& update, int entries_shown) {
  const v1::Estimate& est = update.estimate();
  std::string out;
  const int n = std::min(entries_shown, est.tuples_size());
  for (int i = 0; i < n; ++i) {
    const double mean = i < est.mean_size() ? est.mean(i) : std::nan("");
    const double err = i < est.stderr_size() ? est.stderr(i) : std::nan("");
    absl::StrAppend(&out, " G", TupleLabel(est.tuples(i)), "=",
                    absl::StrFormat("%.5g+-%.2g", mean, err));
  }
  return out;
}

// Width sweeps: the width running now and the fitted exponents so far.
std::string SweepText(const v1::JobUpdate& update, int entries_shown) {
  const v1::WidthSweepUpdate& sweep = update.width_sweep();
  if (sweep.blocks_size() == 0) return "";
  const v1::SweepWidthBlock& last = sweep.blocks(sweep.blocks_size() - 1);
  std::string out = absl::StrCat(" N=", last.width());
  const int n = std::min(entries_shown, sweep.fits_size());
  for (int i = 0; i < n; ++i) {
    const v1::PowerLawFit& fit = sweep.fits(i);
    absl::StrAppend(
        &out, " s", TupleLabel(fit.tuple()), "=",
        absl::StrFormat("%.4g+-%.2g", fit.exponent(), fit.exponent_stderr()));
  }
  return out;
}

}  // namespace

std::string ProgressLine(const v1::JobUpdate& update, int entries_shown) {
  const v1::Job& job = update.job();
  const v1::Progress& p = job.progress();
  return absl::StrCat(job.name(), " ", StateName(job.state()), " ",
                      p.chunks_done(), "/", p.chunks_total(), " chunks ",
                      p.networks_done(), "/", p.networks_total(), " networks",
                      EntriesText(update, entries_shown),
                      SweepText(update, entries_shown));
}

std::string ProgressBar(const v1::JobUpdate& update, int entries_shown,
                        int width) {
  const v1::Progress& p = update.job().progress();
  constexpr int kBarWidth = 24;
  const double fraction =
      p.chunks_total() > 0
          ? std::clamp(static_cast<double>(p.chunks_done()) /
                           static_cast<double>(p.chunks_total()),
                       0.0, 1.0)
          : 0.0;
  const int filled = static_cast<int>(std::floor(fraction * kBarWidth));
  std::string line = absl::StrCat(
      StateName(update.job().state()), " [", std::string(filled, '#'),
      std::string(kBarWidth - filled, '-'), "] ", p.chunks_done(), "/",
      p.chunks_total(), " chunks ", p.networks_done(), " nets",
      EntriesText(update, entries_shown), SweepText(update, entries_shown));
  if (width > 0 && static_cast<int>(line.size()) > width) line.resize(width);
  return line;
}

std::string FinalLine(const v1::Job& job) {
  const v1::Progress& p = job.progress();
  std::string line = absl::StrCat(
      job.name(), " ", StateName(job.state()), " ", p.chunks_done(), "/",
      p.chunks_total(), " chunks (", p.chunks_from_store(), " from store) ",
      p.networks_done(), " networks");
  if (job.state() == v1::Job::FAILED) {
    absl::StrAppend(&line, " error ",
                    absl::StatusCodeToString(
                        static_cast<absl::StatusCode>(job.error_code())),
                    ": ", job.error_message());
  }
  return line;
}

ProgressPrinter::ProgressPrinter(std::FILE* out, bool terminal,
                                 int entries_shown, absl::Duration min_interval)
    : out_(out),
      terminal_(terminal),
      entries_shown_(entries_shown),
      min_interval_(min_interval) {}

int ProgressPrinter::TerminalWidth() const {
  struct winsize size = {};
  if (ioctl(fileno(out_), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col - 1;
  }
  return 79;
}

void ProgressPrinter::Update(const v1::JobUpdate& update) {
  const absl::Time now = absl::Now();
  const int state = update.job().state();
  const int64_t chunks = update.job().progress().chunks_done();
  if (terminal_) {
    std::fprintf(out_, "\r\033[K%s",
                 ProgressBar(update, entries_shown_, TerminalWidth()).c_str());
    std::fflush(out_);
    bar_drawn_ = true;
    return;
  }
  // A terminal state is printed once, by Finish.
  if (state == v1::Job::SUCCEEDED || state == v1::Job::FAILED ||
      state == v1::Job::CANCELLED) {
    return;
  }
  const bool changed_state = state != last_state_;
  const bool due = chunks != last_chunks_ && now - last_print_ >= min_interval_;
  if (!changed_state && !due) return;
  std::fprintf(out_, "%s\n", ProgressLine(update, entries_shown_).c_str());
  std::fflush(out_);
  last_print_ = now;
  last_state_ = state;
  last_chunks_ = chunks;
}

void ProgressPrinter::Finish(const v1::Job& job) {
  if (terminal_ && bar_drawn_) std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "%s\n", FinalLine(job).c_str());
  std::fflush(out_);
  bar_drawn_ = false;
}

}  // namespace nnft::client::cli
