#include "core/analyses/width_sweep.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace nnft {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct SetWidthVisitor {
  int width;
  void operator()(MlpSpec& mlp) const {
    for (int& n : mlp.widths) n = width;
  }
  void operator()(GaussNetSpec& g) const { g.width = width; }
  void operator()(CosNetSpec& c) const { c.width = width; }
  void operator()(OuNetSpec& o) const {
    for (int& n : o.mlp.widths) n = width;
  }
  void operator()(Conv1dSpec& c) const { c.channels = width; }
  void operator()(AttentionSpec& a) const { a.heads = width; }
  void operator()(KanSpec& k) const { k.width = width; }
  void operator()(NullConeSpec&) const {}  // no width: rejected by Validate
};

}  // namespace

ExperimentSpec WithWidth(const ExperimentSpec& spec, int width) {
  ExperimentSpec out = spec;
  out.width_sweep.clear();
  std::visit(SetWidthVisitor{width}, out.architecture);
  return out;
}

uint64_t SweepWidthSeed(uint64_t seed, int width) {
  uint64_t z = seed + static_cast<uint64_t>(width) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

ExperimentSpec SweepWidthSpec(const ExperimentSpec& spec, int width) {
  ExperimentSpec out = WithWidth(spec, width);
  out.sampling.seed = SweepWidthSeed(spec.sampling.seed, width);
  return out;
}

absl::Status ValidateWidthSweep(const ExperimentSpec& spec,
                                const Limits& limits) {
  const std::vector<int>& w = spec.width_sweep;
  if (w.empty()) return absl::OkStatus();
  const int n = static_cast<int>(w.size());
  if (n < kMinSweepWidths || n > kMaxSweepWidths) {
    return absl::InvalidArgumentError(
        absl::StrCat("width_sweep.widths has ", n, " entries: must be in [",
                     kMinSweepWidths, ", ", kMaxSweepWidths, "]"));
  }
  if (spec.training.has_value()) {
    return absl::InvalidArgumentError(
        "width_sweep: not supported together with training");
  }
  if (std::holds_alternative<NullConeSpec>(spec.architecture)) {
    return absl::InvalidArgumentError(
        "width_sweep: the null_cone architecture has no width to sweep");
  }
  std::set<int> seen;
  for (int i = 0; i < n; ++i) {
    const std::string field = absl::StrCat("width_sweep.widths[", i, "]");
    if (w[i] < 1 || w[i] > limits.max_width) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " = ", w[i], ": must be in [1, ", limits.max_width, "]"));
    }
    if (!seen.insert(w[i]).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " = ", w[i], ": repeated; the widths must be distinct"));
    }
  }
  // Everything but the width, as for a single experiment; then what depends
  // on the width (the parameter limit), per width.
  NNFT_RETURN_IF_ERROR(Validate(WithWidth(spec, w[0]), limits));
  for (int i = 1; i < n; ++i) {
    const std::string field = absl::StrCat("width_sweep.widths[", i, "]");
    ExperimentSpec one = WithWidth(spec, w[i]);
    absl::Status s =
        ValidateArchitectureAndPoints(one.architecture, one.points, limits);
    if (!s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat(field, " = ", w[i], ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

std::vector<int> SweepWidths(const ExperimentSpec& spec) {
  std::vector<int> widths = spec.width_sweep;
  std::sort(widths.begin(), widths.end());
  return widths;
}

absl::StatusOr<std::vector<ExperimentSpec>> ExpandWidthSweep(
    const ExperimentSpec& spec, const Limits& limits) {
  NNFT_RETURN_IF_ERROR(ValidateWidthSweep(spec, limits));
  std::vector<ExperimentSpec> out;
  for (int width : SweepWidths(spec)) {
    out.push_back(SweepWidthSpec(spec, width));
  }
  return out;
}

PowerLawFit FitPowerLaw(const std::vector<int>& widths,
                        const std::vector<double>& values,
                        const std::vector<double>& stderrs, double min_snr) {
  PowerLawFit fit;
  double s = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  std::vector<double> xs, ys, ws;
  for (size_t i = 0; i < widths.size(); ++i) {
    const double v = std::abs(values[i]), e = stderrs[i];
    if (!std::isfinite(v) || !std::isfinite(e) || !(e > 0) || v < min_snr * e) {
      ++fit.widths_dropped;
      continue;
    }
    const double x = std::log(static_cast<double>(widths[i]));
    const double y = std::log(v);
    const double sigma = e / v;
    const double w = 1.0 / (sigma * sigma);
    s += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    sxy += w * x * y;
    xs.push_back(x);
    ys.push_back(y);
    ws.push_back(w);
  }
  fit.widths_used = static_cast<int>(xs.size());
  const double d = s * sxx - sx * sx;
  if (fit.widths_used < 2 || !(d > 0)) {
    fit.exponent = fit.exponent_stderr = fit.amplitude = kNaN;
    fit.amplitude_stderr = fit.chi2 = fit.chi2_per_dof = fit.z = kNaN;
    return fit;
  }
  fit.exponent = (s * sxy - sx * sy) / d;
  const double log_a = (sxx * sy - sx * sxy) / d;
  fit.exponent_stderr = std::sqrt(s / d);
  fit.amplitude = std::exp(log_a);
  fit.amplitude_stderr = fit.amplitude * std::sqrt(sxx / d);
  for (size_t i = 0; i < xs.size(); ++i) {
    const double r = ys[i] - log_a - fit.exponent * xs[i];
    fit.chi2 += ws[i] * r * r;
  }
  fit.dof = fit.widths_used - 2;
  fit.chi2_per_dof = fit.dof > 0 ? fit.chi2 / fit.dof : kNaN;
  return fit;
}

WidthSweepAnalysis AnalyzeWidthSweep(
    const std::vector<int>& widths,
    const std::vector<const CorrelatorEstimate*>& estimates,
    const std::vector<const TheoryValues*>& theories) {
  WidthSweepAnalysis out;
  const size_t nw = widths.size();
  const std::vector<Tuple>* tuples = nullptr;
  for (const CorrelatorEstimate* e : estimates) {
    if (e != nullptr) tuples = &e->tuples;
  }
  if (tuples == nullptr) return out;
  const size_t ne = tuples->size();
  out.deviation.assign(nw, std::vector<double>(ne, kNaN));
  out.deviation_background.assign(nw, std::vector<double>(ne, kNaN));
  for (size_t w = 0; w < nw; ++w) {
    const CorrelatorEstimate* e = estimates[w];
    const TheoryValues* t = theories[w];
    if (e == nullptr || t == nullptr || t->gp_full.size() != ne) continue;
    for (size_t i = 0; i < ne; ++i) {
      const double gp = std::abs(t->gp_full[i]);
      if (!(gp > 0) || !std::isfinite(gp)) continue;
      out.deviation[w][i] = std::abs(e->mean[i] - t->gp_full[i]) / gp;
      out.deviation_background[w][i] = e->stderr_mean[i] / gp;
    }
  }
  for (size_t i = 0; i < ne; ++i) {
    const int order = static_cast<int>((*tuples)[i].size());
    if (order != 4 && order != 6) continue;
    std::vector<double> values(nw, kNaN), errors(nw, kNaN);
    for (size_t w = 0; w < nw; ++w) {
      if (estimates[w] == nullptr) continue;
      values[w] = estimates[w]->connected[i];
      errors[w] = estimates[w]->stderr_connected[i];
    }
    PowerLawFit fit = FitPowerLaw(widths, values, errors);
    fit.entry = static_cast<int>(i);
    fit.tuple = (*tuples)[i];
    fit.order = order;
    fit.expected_exponent = -(order / 2 - 1);
    fit.z = (fit.exponent - fit.expected_exponent) / fit.exponent_stderr;
    out.fits.push_back(std::move(fit));
  }
  return out;
}

}  // namespace nnft
