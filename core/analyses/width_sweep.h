// Width sweeps: the same experiment at a list of widths N, and what is read
// off across widths (arXiv 2008.08601, sections 3-4; PHYSICS.md):
//  - the expansion of a sweep spec into one ordinary spec per width (same
//    points, observables and sampling; every hidden width set to N; a seed
//    derived from the sweep's seed and N, so the widths are independent),
//  - the power law of the connected correlators, |G^(2k)_c| = A N^s, by
//    weighted least squares of log|G_c| on log N (exact for single-hidden-
//    layer nets: s = -(k - 1), since G4_c = c4 / N and G6_c = c6 / N^2),
//  - the deviation from the Gaussian process per width,
//    m_n = |G^(n) - G^(n)_GP| / |G^(n)_GP|, with its background, the
//    relative standard error stderr(G^(n)) / |G^(n)_GP| (the chunk spread).
// No I/O and no threads: pure functions over estimates and theory.
#ifndef NNFT_CORE_ANALYSES_WIDTH_SWEEP_H_
#define NNFT_CORE_ANALYSES_WIDTH_SWEEP_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/estimate/estimate.h"
#include "core/spec/spec.h"
#include "core/theory/theory.h"

namespace nnft {

inline constexpr int kMinSweepWidths = 2;
inline constexpr int kMaxSweepWidths = 32;

// `spec` with every hidden width set to `width` (single-layer MLP, Gauss-net
// and cos-net: the hidden width; deep MLP and the OU-net's MLP: every hidden
// layer; conv1d: channels; attention: heads; KAN: inner nodes; the null cone
// has none) and width_sweep cleared.
ExperimentSpec WithWidth(const ExperimentSpec& spec, int width);

// The seed width N of a sweep runs with: SplitMix64 of
// seed + N * 0x9E3779B97F4A7C15 (Steele, Lea and Flood 2014). Widths must not
// share the seed: network m draws neuron i from the same stream position at
// every width, so equal seeds would make the widths' estimates strongly
// correlated (width 8 would contain width 4's neurons) and the weighted fit,
// which treats the widths as independent, would misstate its errors.
uint64_t SweepWidthSeed(uint64_t seed, int width);

// The sub-experiment of width N of a sweep: WithWidth(spec, N) with seed
// SweepWidthSeed(spec.sampling.seed, N). A single experiment of this spec
// shares its chunks (same digest).
ExperimentSpec SweepWidthSpec(const ExperimentSpec& spec, int width);

// OK for an empty width_sweep. Otherwise InvalidArgument unless it holds
// kMinSweepWidths..kMaxSweepWidths distinct widths, each in
// [1, limits.max_width], and the spec is valid at every width (Validate of
// WithWidth; width-dependent failures such as the parameter limit of a deep
// MLP name "width_sweep.widths[i]"). Validate calls it for sweep specs.
absl::Status ValidateWidthSweep(const ExperimentSpec& spec,
                                const Limits& limits = {});

// The swept widths in ascending order (the order in which they run and are
// reported); empty for a single experiment.
std::vector<int> SweepWidths(const ExperimentSpec& spec);

// SweepWidthSpec for each width of SweepWidths(spec); InvalidArgument as
// Validate.
absl::StatusOr<std::vector<ExperimentSpec>> ExpandWidthSweep(
    const ExperimentSpec& spec, const Limits& limits = {});

// A fit of |G| = A N^s across widths.
struct PowerLawFit {
  int entry = -1;  // index of the tuple in the requested order
  Tuple tuple;
  int order = 0;                   // n = 2k of G^(n)_c
  double expected_exponent = 0.0;  // -(n/2 - 1): exact for one hidden layer
  double exponent = 0.0;           // s; NaN when fewer than 2 widths used
  double exponent_stderr = 0.0;
  double amplitude = 0.0;  // A, in the units of G^(n)
  double amplitude_stderr = 0.0;
  double chi2 = 0.0;
  int dof = 0;                // widths used - 2
  double chi2_per_dof = 0.0;  // NaN when dof == 0
  int widths_used = 0;        // widths with |G_c| >= min_snr * stderr
  int widths_dropped = 0;     // the others (noise-dominated or not run)
  double z = 0.0;             // (exponent - expected) / exponent_stderr
};

// Weighted least squares of y_i = log|v_i| on x_i = log N_i with
// sigma_i = s_i / |v_i| (first-order error propagation), weights 1/sigma_i^2:
//   s = (S Sxy - Sx Sy) / D,  log A = (Sxx Sy - Sx Sxy) / D,
//   D = S Sxx - Sx^2,  var(s) = S / D,  var(log A) = Sxx / D,
// S = sum w, Sx = sum w x, ... ; chi2 = sum w (y - log A - s x)^2.
// Widths whose value is not finite, whose error is not finite and positive,
// or with |v| < min_snr * s are dropped (log|v| is biased and its linear error
// wrong there). With fewer than 2 used widths the fit is NaN. The parameter
// errors are not rescaled by chi2/dof.
PowerLawFit FitPowerLaw(const std::vector<int>& widths,
                        const std::vector<double>& values,
                        const std::vector<double>& stderrs,
                        double min_snr = 2.0);

struct WidthSweepAnalysis {
  // [width][entry]: m_n and its background; NaN where G_GP is unknown or 0,
  // or the width has no estimate yet.
  std::vector<std::vector<double>> deviation;
  std::vector<std::vector<double>> deviation_background;
  // One fit of G^(n)_c per requested tuple of order 4 or 6, request order.
  std::vector<PowerLawFit> fits;
};

// `estimates[w]` and `theories[w]` belong to widths[w] and may be null (not
// run yet; such widths count as dropped). Every non-null estimate must hold
// the same tuples.
WidthSweepAnalysis AnalyzeWidthSweep(
    const std::vector<int>& widths,
    const std::vector<const CorrelatorEstimate*>& estimates,
    const std::vector<const TheoryValues*>& theories);

}  // namespace nnft

#endif  // NNFT_CORE_ANALYSES_WIDTH_SWEEP_H_
