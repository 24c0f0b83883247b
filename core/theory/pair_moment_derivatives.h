// Derivatives of the two-point neuron moment with respect to the kernel, the
// "susceptibilities" that carry finite-width corrections from layer to layer
// (Roberts, Yaida & Hanin, arXiv 2106.10165, ch. 4-5).
//
// For (u, v) ~ N(0, [[kaa, kab], [kab, kbb]]) let
//   G(kaa, kbb, kab) = E[act(u) act(v)]   (kab one variable).
// The Gaussian heat equation (Price's theorem / Stein's lemma) gives
//   dG/dkab = E[act'(u) act'(v)],          dG/dkaa = (1/2) E[act''(u) act(v)],
//   d2G/dkab2 = E[act''(u) act''(v)],      d2G/dkaa dkab = (1/2) E[act'''(u)
//   act'(v)], d2G/dkaa2 = (1/4) E[act''''(u) act(v)], d2G/dkaa dkbb = (1/4)
//   E[act''(u) act''(v)].
// On the diagonal (one input), g(k) = E[act(u)^2], u ~ N(0, k):
//   g' = E[act'^2 + act act''],  g'' = (1/4) E[2 act act'''' + 8 act' act''' +
//   6 act''^2].
// Closed forms: identity (G = kab) and ReLU (derivatives of the arc-cosine
// kernel, t = acos(kab / sqrt(kaa kbb)), s = sin t:
//   dG/dkab = (pi - t)/(2 pi), dG/dkaa = sqrt(kbb) s / (4 pi sqrt(kaa)),
//   d2G/dkab2 = 1/(2 pi sqrt(kaa kbb) s), d2G/dkaa dkab = -cos t/(4 pi kaa s),
//   d2G/dkaa2 = sqrt(kbb) cos 2t / (8 pi kaa^{3/2} s),
//   d2G/dkaa dkbb = 1/(8 pi sqrt(kaa kbb) s); diagonal g = k/2).
// Every other activation: nested Gauss-Hermite over the activation's
// derivatives up to fourth order (160 nodes per dimension for variances <= 1,
// 256 beyond). Cost: one n x n grid per call.
#ifndef NNFT_CORE_THEORY_PAIR_MOMENT_DERIVATIVES_H_
#define NNFT_CORE_THEORY_PAIR_MOMENT_DERIVATIVES_H_

#include <array>

#include "core/spec/spec.h"

namespace nnft::theory {

// Index of the kernel entries in the jets below.
enum PairEntry { kEntryAa = 0, kEntryBb = 1, kEntryAb = 2 };

// G and its first and second partial derivatives in (kaa, kbb, kab).
struct PairMomentJet {
  double value = 0.0;
  std::array<double, 3> grad{};
  std::array<std::array<double, 3>, 3> hess{};
};

// g(k) = E[act(u)^2], u ~ N(0, k), and its first two derivatives in k.
struct DiagonalMomentJet {
  double value = 0.0;
  double first = 0.0;
  double second = 0.0;
};

// The k-th derivative of act at x (k in [0, 4]); ReLU: Heaviside for k = 1 and
// 0 above (its distributional parts are handled in closed form).
double ActivationDerivative(Activation activation, int k, double x);

// The jet at a non-degenerate pair (kaa, kbb > 0, |kab| < sqrt(kaa kbb)); the
// ReLU second derivatives diverge as the correlation tends to +-1 (NaN there).
PairMomentJet PairMomentDerivatives(Activation activation, double kaa,
                                    double kbb, double kab);

// The diagonal jet (k > 0).
DiagonalMomentJet DiagonalMomentDerivatives(Activation activation, double k);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_PAIR_MOMENT_DERIVATIVES_H_
