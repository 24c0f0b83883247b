// Conformal fields from the projective null cone (arXiv 2409.12222).
//
// The field is Phi_E(X) = Theta.X with Theta in R^n, n = D + 2, drawn from a
// rotation-invariant law: E[Theta^A Theta^B] = mu2 delta^AB and
// E[Theta^A Theta^B Theta^C Theta^D] = (mu4/3)(dd + dd + dd), mu4 =
// E[Theta_1^4]. Embedding (Euclidean signature, BILINEAR product, no complex
// conjugation):
//   X_E(x) = (i (1 + x^2)/2, (1 - x^2)/2, x) in C^n,
//   X_E(x).X_E(y) = -|x - y|^2 / 2,
// the same products as the Poincare section X = (1, x^2, x) of the light cone
// with the Lorentzian product. So Phi has conformal weight Delta = -1 and
//   G2 = mu2 X12,  G4 = (mu4/3)(X12 X34 + X13 X24 + X14 X23)
//      = X12 X34 g(u, v),  g = (mu4/3)(1 + 1/u + v/u),
//   G4_c = (mu4/3 - mu2^2)(X12 X34 + X13 X24 + X14 X23),
//   u = x12^2 x34^2 / (x13^2 x24^2),  v = x14^2 x23^2 / (x13^2 x24^2),
// with Xij = -|x_i - x_j|^2 / 2.
//
// The engine runs the spec's "engine form" (NullConeEngineSpec): three
// per-network statistics of Theta, averaged over components to cut the
// variance (rotation invariance):
//   s2 = (1/n) sum_A Theta_A^2                 -> E = mu2,
//   s4 = (1/n) sum_A Theta_A^4                 -> E = mu4,
//   s22 = sum_{A<B} Theta_A^2 Theta_B^2 / C(n,2) -> E = mu4 / 3.
// Correlators at the user's points are pushed from their means, with errors
// by the delete-one-bin jackknife (core/estimate/jackknife.h).
#ifndef NNFT_CORE_ANALYSES_NULL_CONE_H_
#define NNFT_CORE_ANALYSES_NULL_CONE_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/estimate/estimate.h"
#include "core/sampling/network.h"
#include "core/spec/spec.h"
#include "core/spec/tuples.h"
#include "core/theory/theory.h"

namespace nnft {

// Exact mu2 = E[Theta_1^2] and mu4 = E[Theta_1^4] of the law
// (Gaussian: s^2, 3 s^4; sphere of radius s: s^2/n, 3 s^4/(n(n+2));
// radial Theta = s R U: s^2 E[R^2]/n, 3 s^4 E[R^4]/(n(n+2))).
struct ThetaMoments {
  double mu2 = 0.0;
  double mu4 = 0.0;
};
ThetaMoments ExactThetaMoments(const NullConeSpec& net);

// The engine form: three points (the statistics s2, s4, s22), order 1.
ExperimentSpec NullConeEngineSpec(const ExperimentSpec& spec);

// True for the engine form (its architecture is marked theta_moments).
bool IsNullConeEngineForm(const ExperimentSpec& spec);

// Sampler of the engine form: phi[0..3) = (s2, s4, s22) of network m's
// Theta, drawn from the stream (seed, m, 0) (normals) and (seed, m, 1)
// (the radial atom's uniform).
std::unique_ptr<NetworkSampler> MakeNullConeSampler(const ExperimentSpec& spec);

// Exact theory: for the engine form, (mu2, mu4, mu4/3) on its three tuples;
// for a user spec, G2 and G4 at the points (odd orders 0, order 6 NaN), the
// kernel mu2 X.X and Wick's Gaussian values beside them.
TheoryValues NullConeTheory(const ExperimentSpec& spec, const TupleSet& tuples);

// X_i.X_j = -|x_i - x_j|^2 / 2.
double NullConeProduct(const Eigen::VectorXd& x, const Eigen::VectorXd& y);

struct ConformalTwoPoint {
  int i = 0, j = 0;
  double value = 0.0, stderr_value = 0.0, exact = 0.0;  // G2
};

struct ConformalFourPoint {
  std::array<int, 4> index{};
  double u = 0.0, v = 0.0;
  double g4 = 0.0, g4_stderr = 0.0, g4_exact = 0.0;
  double g4c = 0.0, g4c_stderr = 0.0, g4c_exact = 0.0;
  double g = 0.0, g_stderr = 0.0, g_exact = 0.0;  // g(u, v)
};

// Conformal covariance under one transformation x -> x' with
// |x' - y'|^2 = W(x) W(y) |x - y|^2: G_n(x') = prod_i W(x_i)^(-Delta) G_n(x),
// Delta = -1, checked on every pushed G2 and G4 with
// z = (G(x') - prod W G(x)) / sqrt(se(G(x'))^2 + (prod W se(G(x)))^2).
struct CovarianceCheck {
  std::string transformation;  // "translation", "rotation", ...
  int dof = 0;
  double chi2_per_dof = 0.0;
  double max_abs_z = 0.0;
  bool passed = false;  // max |z| < 3
  std::string note;     // why a check was skipped (dof 0)
};

struct ConformalResult {
  int dimension = 0;  // D
  double mu2 = 0, mu2_stderr = 0, mu2_exact = 0;
  double mu4 = 0, mu4_stderr = 0, mu4_exact = 0;
  // 3 s22: mu4 from the mixed moments (a rotation-invariance check).
  double mu4_mixed = 0, mu4_mixed_stderr = 0;
  std::vector<ConformalTwoPoint> two_point;
  std::vector<ConformalFourPoint> four_point;
  int64_t two_point_omitted = 0;  // beyond the caps below
  int64_t four_point_omitted = 0;
  std::vector<CovarianceCheck> checks;
};

inline constexpr int kMaxConformalPairs = 512;
inline constexpr int kMaxConformalQuads = 256;

// The push of the engine form's binned sums to the user's points: every pair
// i < j, and the quadruples of distinct points (the spec's explicit order-4
// tuples, else every i < j < k < l), capped as above.
ConformalResult AnalyzeNullCone(const ExperimentSpec& spec,
                                const TupleSet& engine_tuples,
                                const BinnedSums& sums);

}  // namespace nnft

#endif  // NNFT_CORE_ANALYSES_NULL_CONE_H_
