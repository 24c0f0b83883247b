// Estimates of symmetry checks and cluster checks from a job's moment
// accumulator (core/analyses/symmetry.h says how the engine evaluates them).
//
// Symmetry: for every requested tuple t, the paired difference
//   Delta(t) = G(t') - G(t),  t' = the tuple at the transformed slots,
// with its error from the bins (the same networks give both sides, so the
// error is that of the difference, and an exact invariance gives exactly 0
// per network: such entries are left out). chi^2 = sum z^2 over the entries
// with an error, z = Delta / se; like Compare (core/estimate/compare.h) it
// treats entries as independent. Verdict: consistent when max |z| stays under
// the two-sided Bonferroni threshold for a 1% family-wise false alarm, 2 dof (1
// - Phi(z*)) = 0.01.
//
// Cluster: D(s) = G4(x_i, x_j, x_k + s u, x_l + s u) - G2(x_i, x_j)
// G2(x_k + s u, x_l + s u), jackknife errors, beside the exact D(s) where
// theory has it. The decay is fitted to |D(s)| on the separations where
// |D| > 2 se, by weighted least squares on log|D| (weights (|D|/se)^2):
// exponential |D| = A exp(-s / xi), Gaussian |D| = A exp(-s^2 / xi^2) (the
// GP part of a Gauss-net, K13 K24 ~ exp(-sw0^2 s^2 / d)) and power
// |D| = A s^-p (s > 0); the preferred model is the one with the smallest
// chi^2 per dof (needs 3 points; with 2 the exponential is reported).
#ifndef NNFT_CORE_ANALYSES_SYMMETRY_ESTIMATE_H_
#define NNFT_CORE_ANALYSES_SYMMETRY_ESTIMATE_H_

#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/analyses/symmetry.h"
#include "core/estimate/estimate.h"
#include "core/spec/spec.h"
#include "core/spec/tuples.h"

namespace nnft {

struct SymmetryResult {
  std::string label;
  std::string kind;           // "rotation", "translation", "reflection", ...
  std::vector<Tuple> tuples;  // requested tuples (base slots)
  std::vector<double> difference;         // G(t') - G(t)
  std::vector<double> stderr_difference;  // 0 where exactly invariant
  std::vector<double> z;                  // NaN where se == 0
  double chi2 = 0.0;
  int dof = 0;
  double chi2_per_dof = 0.0;  // NaN when dof == 0
  double max_abs_z = 0.0;     // NaN when dof == 0
  double z_threshold = 0.0;   // Bonferroni threshold on max |z|
  bool consistent = true;     // max |z| <= z_threshold (or dof == 0)
  // chi2 above treats the entries as independent, but they share networks:
  // under an exact invariance it is then not chi^2(dof) (its spread is too
  // wide), so its p-value is not uniform. The joint test uses the entries'
  // covariance from the same bins: with d_b the B bins' mean differences
  // (weights w_b = n_b / N), Delta = sum_b w_b d_b and
  //   C = sum_b w_b^2 (d_b - Delta)(d_b - Delta)^T / (1 - sum_b w_b^2)
  // (the covariance of Delta, the matrix form of the standard error in
  // core/estimate/estimate.h), Hotelling's
  //   T^2 = Delta^T C^-1 Delta,  (B - p) T^2 / (p (B - 1)) ~ F(p, B - p)
  // for Gaussian bin means of equal size (Hotelling 1931). NaN (and
  // p_value_correlated NaN) when p = dof >= B, C is singular (an LDLT pivot
  // below 1e-12 of the largest), or the run is reweighted. Cost O(B p^2 +
  // p^3), only for p < B.
  double hotelling_t2 = std::numeric_limits<double>::quiet_NaN();
  double p_value_correlated = std::numeric_limits<double>::quiet_NaN();
};

enum class DecayModel { kExponential, kGaussian, kPower };

struct DecayFit {
  std::string model;  // "exponential", "gaussian", "power"; "" if not fitted
  double amplitude = 0.0;
  double scale = 0.0;         // xi (exponential, Gaussian) or p (power)
  double scale_stderr = 0.0;  // from the fit's covariance
  double chi2_per_dof = 0.0;  // NaN with 2 points
  int points = 0;             // separations used
};

struct ClusterResult {
  std::string label;
  std::vector<double> separations;
  std::vector<double> value;  // D(s)
  std::vector<double> stderr_value;
  std::vector<double> theory;    // exact D(s); NaN where unknown
  std::string theory_kind;       // "finite width", "infinite width (GP)", ""
  std::vector<double> z_theory;  // (D - theory) / se
  DecayFit exponential;
  DecayFit gaussian;
  DecayFit power;
  std::string preferred;  // model with the smaller chi^2/dof; "" if none
  double z_last = 0.0;    // D(s_max) / se: the cluster property needs ~0
};

struct CheckResults {
  std::vector<SymmetryResult> symmetry;
  std::vector<ClusterResult> cluster;
};

// `tuples` is BuildSpecTuples(spec); `acc` has folded the job's chunks.
absl::StatusOr<CheckResults> EstimateChecks(const ExperimentSpec& spec,
                                            const TupleSet& tuples,
                                            const MomentAccumulator& acc);

// Name of a check kind ("rotation", ...).
std::string SymmetryKindName(SymmetryCheck::Kind kind);

// Two-sided Bonferroni threshold z* with 2 dof (1 - Phi(z*)) = alpha.
double BonferroniThreshold(int dof, double alpha);

// The fits above, for separations s, values D and errors se.
DecayFit FitDecay(const std::vector<double>& s, const std::vector<double>& d,
                  const std::vector<double>& se, DecayModel model);

}  // namespace nnft

#endif  // NNFT_CORE_ANALYSES_SYMMETRY_ESTIMATE_H_
