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

void RateMeter::Update(absl::Time now, int64_t networks_done,
                       int64_t networks_total) {
  if (!started_) {
    started_ = true;
    t0_ = now;
    n0_ = networks_done;
    per_second_ = std::nan("");
    return;
  }
  const double dt = absl::ToDoubleSeconds(now - t0_);
  const int64_t dn = networks_done - n0_;
  if (dt <= 0 || dn <= 0) return;
  per_second_ = static_cast<double>(dn) / dt;
  const int64_t left = std::max<int64_t>(networks_total - networks_done, 0);
  eta_ = absl::Seconds(static_cast<double>(left) / per_second_);
}

std::string FormatEta(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return "?";
  const int64_t s = absl::ToInt64Seconds(d + absl::Milliseconds(500));
  const int64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h > 0) return absl::StrFormat("%d:%02d:%02d", h, m, sec);
  if (m > 0) return absl::StrFormat("%d:%02d", m, sec);
  return absl::StrFormat("%ds", sec);
}

std::string RateText(const RateMeter& rate, bool running) {
  const double r = rate.per_second();
  std::string out = std::isfinite(r) ? absl::StrFormat("%.3g networks/s", r)
                                     : std::string("? networks/s");
  if (running) absl::StrAppend(&out, " ETA ", FormatEta(rate.eta()));
  return out;
}

std::string ProgressLine(const v1::JobUpdate& update, int entries_shown,
                         const std::string& rate) {
  const v1::Job& job = update.job();
  const v1::Progress& p = job.progress();
  return absl::StrCat(
      job.name(), " ", StateName(job.state()), " ", p.chunks_done(), "/",
      p.chunks_total(), " chunks ", p.networks_done(), "/", p.networks_total(),
      " networks", rate.empty() ? "" : " ", rate,
      EntriesText(update, entries_shown), SweepText(update, entries_shown));
}

std::string ProgressBar(const v1::JobUpdate& update, int entries_shown,
                        int width, const std::string& rate) {
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
      rate.empty() ? "" : " ", rate, EntriesText(update, entries_shown),
      SweepText(update, entries_shown));
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
  rate_.Update(now, update.job().progress().networks_done(),
               update.job().progress().networks_total());
  const bool running = state == v1::Job::QUEUED || state == v1::Job::RUNNING;
  const std::string rate = RateText(rate_, running);
  if (terminal_) {
    std::fprintf(
        out_, "\r\033[K%s",
        ProgressBar(update, entries_shown_, TerminalWidth(), rate).c_str());
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
  std::fprintf(out_, "%s\n",
               ProgressLine(update, entries_shown_, rate).c_str());
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
