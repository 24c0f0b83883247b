// Sampling and evaluation of one network of each architecture
// (core/spec/spec.h, DESIGN.md section 2) at the spec's points, for the
// Monte-Carlo engine.
//
// Network m draws every parameter from the counter-based streams
// (seed, m, tag) of core/sampling/rng.h, one stream per parameter group, so
// each group's numbers do not depend on the other groups' sizes:
//   MLP, L hidden layers: tag 2l = W^(l) (n_{l+1} x n_l, column-major),
//     tag 2l + 1 = b^(l) (not drawn when sb[l] = 0; uniforms for
//     first_bias = kUniformPhase), l = 0..L (l = L is the output layer).
//   Gauss-net: as the MLP with L = 1.
//   phi^4 cos-net: tag 0 = directions of b_i (N x d normals, normalised),
//     tag 1 = radii (uniforms, r = Lambda U^(1/d)), tag 2 = phases c_i
//     (uniforms, c = pi (2U - 1)), tag 3 = output weights a_i. In a box
//     (box_side > 0) tag 0 is unused and tag 1 picks each b_i's lattice
//     momentum (index floor(U M)).
//   A deformed layer l (MlpSpec::deformation) draws its Gaussian as usual,
//     then one uniform from tag 0x4900 + l for the radius
//     (core/sampling/radial.h).
//   OU-net: as its MLP, plus tag 1000 = the normals of the OU path.
//   Null-cone field: see core/analyses/null_cone.h (tags 0 and 1).
//   MLP with a g(Wx) input projection: tag 1001 = W (k x d, column-major),
//     then the MLP's own tags on W x.
//   conv1d, attention, KAN: see core/sampling/arch_features.h.
// Hidden layers are evaluated in the spec's precision (float or double) as
// H (width x P, one column per point), deep layers by Eigen GEMMs; phi and
// the conditional covariance are returned in double.
//
// Thread safety: a sampler owns scratch buffers; use one per thread.
#ifndef NNFT_CORE_SAMPLING_NETWORK_H_
#define NNFT_CORE_SAMPLING_NETWORK_H_

#include <cassert>
#include <cstdint>
#include <memory>

#include "core/spec/spec.h"

namespace nnft {

class NetworkSampler {
 public:
  virtual ~NetworkSampler() = default;

  // phi_m(x_p) for p = 0..P-1 into phi[0..P).
  virtual void Evaluate(int64_t network, double* phi) = 0;

  // The covariance of phi_m at the points given network m's hidden layers,
  // the output layer (W_L, b_L) integrated out:
  //   cov(p, q) = sb_L^2 + (sw_L^2 / n_L) sum_i h_ip h_iq
  // (cos-net: 2 vol(B_Lambda^d) / ((2 pi)^d N) sum_i h_ip h_iq), into
  // cov[p + P q] (P x P, column-major). Draws no output-layer numbers.
  virtual void ConditionalCovariance(int64_t network, double* cov) = 0;

  // Gauss-net only (sampling.integrate_first_layer_bias,
  // core/sampling/bias_integral.h): network m's hidden units without their
  // first-layer biases, g_j(x_p) = exp(w_j.x_p - S(x_p, x_p)) = h_j(x_p)
  // exp(-b_j), into g[j + N p] (N x P, column-major). Draws neither the
  // biases nor the output layer.
  virtual void BiasFreeFeatures(int64_t network, double* g) {
    (void)network;
    (void)g;
    assert(false && "BiasFreeFeatures: Gauss-net samplers only");
  }

  // int_box phi^4 d^dx of the network last passed to Evaluate, exactly
  // (core/sampling/box.h); box cos-nets only (0 otherwise).
  virtual double Phi4Integral() { return 0.0; }
};

// A sampler for a spec that passed Validate.
std::unique_ptr<NetworkSampler> MakeNetworkSampler(const ExperimentSpec& spec);

}  // namespace nnft

#endif  // NNFT_CORE_SAMPLING_NETWORK_H_
