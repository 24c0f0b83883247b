// The experiment spec in core types: an architecture with its parameter
// density, the points, the observables and the sampling plan. The proto in
// proto/nnft/v1/ mirrors it; server/ converts between the two. Conventions
// follow DESIGN.md section 2 (fan-in scaling, layer l maps n_l -> n_{l+1}).
#ifndef NNFT_CORE_SPEC_SPEC_H_
#define NNFT_CORE_SPEC_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "Eigen/Core"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace nnft {

enum class Activation {
  kIdentity,
  kRelu,
  kErf,
  kTanh,
  kSigmoid,
  kGelu,      // x * Phi(x), the exact (erf) form
  kSoftplus,  // log(1 + e^x)
  kSin,
  kCos,
};

// Lower-case name ("relu", "erf", ...), as used in the API and in logs.
absl::string_view ActivationName(Activation activation);

// Law of the first hidden layer's bias.
enum class BiasLaw {
  kGaussian,      // b0_i ~ N(0, sb_0^2)
  kUniformPhase,  // b0_i ~ Unif[-pi, pi] (cos activation only; sb_0 unused)
};

// Independence breaking by a radially deformed Gaussian on one layer's weight
// matrix W^(l) (n_{l+1} x n_l, D = n_{l+1} n_l entries). With A = sqrt(n_l) W
// (the fan-in-scaled matrix):
//   P(A) ∝ exp(-Tr(A^T A)/s^2 - lambda (Tr A^T A)^2),
// sampled exactly: a uniform direction times a radius r = |A| drawn from
// r^(D-1) exp(-r^2/s^2 - lambda r^4) (core/sampling/radial.h). At lambda = 0
// this is the Gaussian layer with sw[l]^2 = s^2/2; the deformation replaces
// sw[l]. On the output layer of a single-hidden-layer net (PHYSICS.md,
// "Independence breaking"), with rho = |a|^2/N:
//   G2 = sb^2 + E[rho] C,  G4_c = Var(rho) sum_3 C C + 3 E[rho^2]/(N+2) (M4 -
//   sum_3 C C).
struct Deformation {
  double s = 1.0;       // > 0
  double lambda = 0.0;  // >= 0
  int layer = -1;       // l in [0, L]; -1 means the output layer L
};

// Fields shared by the MLP and the Gauss-net (the cos-net has output_dim
// alone; arXiv 2106.00694 for the SO(d_out) study):
//  - output_dim d_out in [1, 64]: phi^c(x), c = 0..d_out-1, each component
//    with its own output layer (row c of W_L and b_L^c drawn independently;
//    the hidden layers are shared). Correlator slots are s = p * d_out + c:
//    index tuples then index slots, and with d_out = 1 slots are points.
//  - sw0_axes (empty: all 1, else d values > 0): the first
//    layer's weights W0_ik ~ N(0, sw0^2 sw0_axes[k]^2 / d), an anisotropic
//    density. Equivalent to the isotropic net at points x'_k = axes_k x_k
//    (the Gauss-net normalisation uses |x'|^2), which the theory uses.
//  - output_mean (empty: all 0, else d_out finite values):
//    row c of the output weights has mean output_mean[c] / n_L, so
//    E[phi^c(x)] = output_mean[c] E[h(x)]: breaks SO(d_out) on those rows.
//    Exact theory is NaN when any is non-zero.
struct FieldOptions {
  int output_dim = 1;
  std::vector<double> sw0_axes{};
  std::vector<double> output_mean{};
};

// Multi-layer perceptron with L >= 1 hidden layers, fan-in scaling:
//   z^(1) = b^(0) + W^(0) x,  z^(l+1) = b^(l) + W^(l) act(z^(l)),
//   phi(x) = z^(L+1),  W^(l)_ij ~ N(0, sw[l]^2 / n_l),  b^(l)_i ~ N(0,
//   sb[l]^2),
// with n_0 = input_dim, n_l = widths[l-1] for l = 1..L, n_{L+1} = 1.
struct MlpSpec {
  // Input dimension d, in [1, Limits::max_input_dim].
  int input_dim = 1;
  // Hidden widths n_1..n_L, each in [1, Limits::max_width]; 1 <= L <=
  // max_depth.
  std::vector<int> widths = {1000};
  Activation activation = Activation::kErf;
  // Weight scales sw[0..L] (L + 1 entries), each > 0.
  std::vector<double> sw = {1.0, 1.0};
  // Bias scales sb[0..L] (L + 1 entries), each >= 0; 0 means no bias.
  std::vector<double> sb = {0.0, 0.0};
  // Law of b^(0). kUniformPhase requires the cos activation.
  BiasLaw first_bias = BiasLaw::kGaussian;
  // Residual hidden layers (needs all widths equal): for l = 1..L-1,
  //   z^(l+1) = z^(l) + b^(l) + W^(l) act(z^(l)),
  // same fan-in scaling W^(l)_ij ~ N(0, sw[l]^2 / n_l). The pre-activation
  // variance then grows additively with depth: NNGP recursion
  //   K^(l+1) = K^(l) + sb[l]^2 + sw[l]^2 E_{N(0, K^(l))}[act(u) act(v)].
  bool residual = false;
  // Rotation-invariant input layer g(Wx): when k = input_projection_dim > 0,
  // the MLP above (its input_dim being d) acts on W x in R^k, with
  // W (k x d), W_ij ~ N(0, input_projection_scale^2 / d), no bias, drawn per
  // network. Exactly an MLP whose first layer has width k, identity
  // activation and no bias; kept as its own field because the other layers
  // share one activation. 0 = no projection; in [0, Limits::max_width].
  int input_projection_dim = 0;
  double input_projection_scale = 1.0;  // s > 0
  // Radial deformation of one layer's weights; absent: every layer Gaussian.
  std::optional<Deformation> deformation;
  // Multi-component fields, symmetry breaking (FieldOptions above).
  FieldOptions field;
};

// Gauss-net (arXiv 2008.08601), normalised for every d:
//   phi(x) = b1 + sum_i W1_i exp(W0_i.x + b0_i) / sqrt(exp(2 (sb0^2 + sw0^2
//   |x|^2 / d))), W0 ~ N(0, sw0^2/d), b0 ~ N(0, sb0^2), W1 ~ N(0, sw1^2/N), b1
//   ~ N(0, sb1^2).
// Then G2(x, y) = sb1^2 + sw1^2 exp(-sw0^2 |x - y|^2 / (2d)).
struct GaussNetSpec {
  int input_dim = 1;  // d >= 1
  int width = 1000;   // N >= 1
  double sw0 = 1.0;   // > 0
  double sb0 = 0.0;   // >= 0
  double sw1 = 1.0;   // > 0
  double sb1 = 0.0;   // >= 0
  // Multi-component fields, anisotropy, mean shifts (FieldOptions above).
  FieldOptions field;
};

// The phi^4 free cos-net (arXiv 2307.03223):
//   phi(x) = sqrt(2 vol(B_L^d) / (sa^2 (2 pi)^d)) sum_i a_i cos(b_i.x + c_i) /
//   sqrt(b_i^2 + m^2), a_i ~ N(0, sa^2/N), b_i ~ Unif(ball of radius cutoff in
//   R^d), c_i ~ Unif[-pi, pi];
// G2(p) = 1 / (p^2 + m^2) for |p| < cutoff.
struct CosNetSpec {
  int input_dim = 1;     // d in [1, 3]
  int width = 1000;      // N >= 1
  double mass = 1.0;     // m > 0
  double cutoff = 10.0;  // Lambda > 0 (momentum-space ball radius)
  double sa = 1.0;  // > 0 (drops out of every correlator; kept for fidelity)
  // Side L_box of a periodic box [0, L_box)^d; 0 = continuum. When > 0, each
  // b_i is uniform over the M lattice momenta 2 pi k / L_box (k in Z^d) with
  // |2 pi k / L_box| < cutoff, and vol(B_L^d)/(2 pi)^d in the prefactor
  // becomes M / L_box^d, so G2(x, y) = L_box^-d sum_k e^{i p_k (x-y)} /
  // (p_k^2 + m^2), the lattice-sum propagator (core/theory/box.h). Needs
  // 2 pi / L_box < cutoff (a non-zero momentum) and M <= 1048576.
  double box_side = 0.0;
  // Output components d_out (independent output layers a_i^(c)); >= 1.
  int output_dim = 1;
};

// Law of the null-cone field's Theta in R^(D+2) (rotation invariant).
enum class ThetaLaw {
  kGaussian,  // Theta_A ~ N(0, scale^2) i.i.d.: mu2 = s^2, mu4 = 3 s^4
  kSphere,    // uniform on the sphere of radius scale: mu2 = s^2/n,
              // mu4 = 3 s^4/(n(n+2)), n = D + 2
  kRadial,    // Theta = scale R U, U uniform on S^(n-1), R from the table
};

// Conformal field from the projective null cone (arXiv 2409.12222):
// Phi(X) = Theta.X, X on the Poincare section of the null cone in R^(D+2)
// (core/analyses/null_cone.h states the embedding). The engine estimates the
// moments of Theta; the D-dimensional correlators are pushed from them exactly.
struct NullConeSpec {
  int input_dim = 4;  // D in [1, 8]
  ThetaLaw law = ThetaLaw::kSphere;
  double scale = 1.0;  // > 0; see ThetaLaw
  // kRadial only: atoms r_k >= 0 of the radial law and their weights
  // (> 0, normalised internally); 1 to 1024 atoms.
  std::vector<double> radii;
  std::vector<double> radial_weights;
  // Set only by NullConeEngineSpec (core/analyses/null_cone.h): the engine
  // form, whose three "points" are statistics of Theta. Not part of the API.
  bool theta_moments = false;
};

// A network acting on a stationary Ornstein-Uhlenbeck path (arXiv
// 2504.05462): network m draws its own path X_t (mean 0, variance sigma^2,
// correlation exp(-|t - s|/tau)) at the points' times and evaluates the
// single-input MLP `mlp` at X_t: phi(t) = mlp(X_t). A function of the state
// of a reversible stationary Markov process, so reflection positive under
// t -> -t. Points are times (input_dim 1).
struct OuNetSpec {
  int input_dim = 1;   // always 1 (the time t)
  double tau = 1.0;    // correlation time, > 0, units of t
  double sigma = 1.0;  // stationary standard deviation of X, > 0
  MlpSpec mlp;         // mlp.input_dim must be 1
};

// Padding of a 1-D convolution: the activations beyond the sequence ends.
enum class Padding {
  kCircular,  // periodic: position t + T is position t
  kZero,      // zeros beyond the ends
};

// 1-D convolutional net over sequences of length T with C_in input channels;
// a point is a sequence, x[t * in_channels + c] (input dimension T C_in).
// Every conv layer has N = channels output channels and kernel size k,
// offset o = (k - 1) / 2 (integer division):
//   z^(1)_c(t) = b^(0)_c + sum_{c', j < k} W^(0)_{c c' j} x_{c'}(t + j - o),
//   z^(l+1)_c(t) = b^(l)_c + sum_{c', j} W^(l)_{c c' j} act(z^(l)_{c'}(t+j-o)),
//   phi(x) = b^(L) + sum_c W^(L)_c act(z^(L)_c(output_position)),
// W^(l) ~ N(0, sw[l]^2 / (C_l k)) with C_0 = C_in, C_l = N; the readout
// W^(L) ~ N(0, sw[L]^2 / N); b^(l) ~ N(0, sb[l]^2).
struct Conv1dSpec {
  int sequence_length = 8;  // T in [1, Limits::max_input_dim]
  int in_channels = 1;      // C_in >= 1, T C_in <= max_input_dim
  int kernel_size = 3;      // k in [1, T]
  int channels = 64;        // N in [1, Limits::max_width]
  int layers = 1;           // L in [1, Limits::max_depth]
  Activation activation = Activation::kErf;
  Padding padding = Padding::kCircular;
  int output_position = 0;              // in [0, T)
  std::vector<double> sw = {1.0, 1.0};  // L + 1 entries, each > 0
  std::vector<double> sb = {0.0, 0.0};  // L + 1 entries, each >= 0
  int InputDim() const { return sequence_length * in_channels; }
};

// One multi-head softmax self-attention layer over T tokens of dimension D;
// a point is a sequence, x[t * embed_dim + a] (input dimension T D). Head h
// (h = 1..N) with head dimension e:
//   q_t = Wq_h^T x_t, k_s = Wk_h^T x_s, v_s = Wv_h^T x_s  (each in R^e),
//   A_h(t, s) = softmax_s(q_t . k_s / sqrt(e)),  o_h(t) = sum_s A_h(t,s) v_s,
//   phi(x) = b + sum_{h, a} Wo_{(h,a), c} o_h(t_out)_a,
// Wq, Wk, Wv ~ N(0, s^2 / D) (scales sq, sk, sv), Wo ~ N(0, so^2 / (N e)),
// b ~ N(0, sb^2); t_out = output_position, c = output_component (the
// components are i.i.d. fields; c picks which). Heads are i.i.d., so
// G4_c = O(1/N), and G2 = sb^2 + (so^2 sv^2 / D) E[u(x).u(y)] (u the
// attention-weighted mean token of one head) at every N: the infinite-heads
// NNGP kernel, computed by the Gauss-chi rule of
// core/theory/attention_kernel.h for D <= 2 (D = 3 with e = 1).
struct AttentionSpec {
  int sequence_length = 4;   // T >= 1, T D <= max_input_dim
  int embed_dim = 2;         // D >= 1
  int heads = 64;            // N in [1, Limits::max_width]
  int head_dim = 1;          // e in [1, Limits::max_width]
  int output_position = 0;   // in [0, T)
  int output_component = 0;  // in [0, D)
  double sq = 1.0, sk = 1.0, sv = 1.0, so = 1.0;  // each > 0
  double sb = 0.0;                                // >= 0
  int InputDim() const { return sequence_length * embed_dim; }
};

// Kolmogorov-Arnold network [d, N, 1] (arXiv 2404.19756) with random
// coefficients: every edge carries phi(x) = a base(x) + sum_i c_i B_i(x),
// B_i (i < G + k) the order-k B-splines on the uniform grid of G intervals on
// [-grid_range, grid_range], extended by k knots on each side:
//   u_q(x) = sum_p [a_qp base(x_p) + sum_i c_qpi B_i(x_p)],
//   a_qp ~ N(0, sa0^2 / d), c_qpi ~ N(0, sc0^2 / d),
//   phi(x) = sum_q [a'_q base(u_q) + sum_i c'_qi B_i(u_q)],
//   a'_q ~ N(0, sa1^2 / N), c'_qi ~ N(0, sc1^2 / N).
// u_q is exactly Gaussian and the N inner nodes are i.i.d.: G2 is the kernel
// at every N (see core/theory/arch_kernels.h), G4_c = O(1/N).
struct KanSpec {
  int input_dim = 1;        // d in [1, Limits::max_input_dim]
  int width = 64;           // N inner nodes, in [1, Limits::max_width]
  int grid_size = 5;        // G in [1, 1000]
  int spline_order = 3;     // k in [0, 5]
  double grid_range = 2.0;  // > 0
  Activation base_activation = Activation::kGelu;
  double sa0 = 1.0, sc0 = 1.0, sa1 = 1.0, sc1 = 1.0;  // each >= 0
};

using Architecture =
    std::variant<MlpSpec, GaussNetSpec, CosNetSpec, NullConeSpec, OuNetSpec,
                 Conv1dSpec, AttentionSpec, KanSpec>;

// Output components d_out of any architecture.
int OutputDim(const Architecture& architecture);

// A symmetry check: correlators at transformed slots against the originals
// in the same run (same networks), for every requested tuple.
struct SymmetryCheck {
  enum class Kind {
    kRotation,               // x -> R x, R in SO(d) (d x d)
    kTranslation,            // x -> x + v
    kReflection,             // x_axis -> -x_axis
    kPhiSignFlip,            // phi -> -phi
    kOutputRotation,         // phi^c -> sum_e R_ce phi^e, R in SO(d_out)
    kCoordinatePermutation,  // x_k -> x_{permutation[k]}
  };
  Kind kind = Kind::kPhiSignFlip;
  std::string label;             // free text, reported back
  Eigen::MatrixXd matrix;        // kRotation, kOutputRotation
  Eigen::VectorXd vector;        // kTranslation (d values)
  int axis = 0;                  // kReflection, in [0, d)
  std::vector<int> permutation;  // kCoordinatePermutation, of [0, d)
};

// Cluster property: D(s) = G4(x_i, x_j, x_k + s u, x_l + s u)
//   - G2(x_i, x_j) G2(x_k + s u, x_l + s u) against the separation s, which
// must tend to 0 for a theory with the cluster property.
struct ClusterCheck {
  std::string label;
  std::vector<int> points = {0, 0, 0, 0};  // i, j, k, l in [0, P)
  int component = 0;                       // in [0, d_out)
  Eigen::VectorXd direction;               // u: d values, not all 0
  std::vector<double> separations;         // 2..64 finite values >= 0
};

// Input dimension d of any architecture.
int InputDim(const Architecture& architecture);

enum class Precision {
  kFloat64,  // networks evaluated in double precision
  kFloat32,  // networks evaluated in single precision (moments still summed in
             // double)
};

// Which correlators G^(n)(x_i1..x_in) to estimate.
struct ObservableSpec {
  // Orders n, each in [1, 6], no repeats.
  std::vector<int> orders = {2, 4};
  // Explicit index tuples (point indices in [0, P), any order; stored sorted).
  // Empty: every tuple of each order in `orders`, up to permutation.
  std::vector<std::vector<int>> tuples;
};

struct SamplingSpec {
  // Seed of the counter-based stream; network m draws from the stream keyed by
  // (seed, m).
  uint64_t seed = 1;
  // Number of networks; rounded up to a whole number of chunks, at least 2
  // chunks.
  int64_t num_networks = 100000;
  // Networks per chunk C, in [1, Limits::max_chunk_size]. Chunk k holds
  // networks [kC, (k+1)C).
  int chunk_size = 1000;
  Precision precision = Precision::kFloat64;
  // Exact variance reduction: integrate the Gaussian output layer (W_L, b_L)
  // analytically given the last hidden layer (Wick's theorem on the conditional
  // covariance). Unbiased; changes the numbers, so it is part of the digest.
  bool integrate_output_layer = false;
  // Exact variance reduction on top of integrate_output_layer, Gauss-net only:
  // also integrate the first-layer biases b_j ~ N(0, sb0^2) analytically
  // (each hidden unit is exp(b_j) times a bias-free unit, and the log-normal
  // moments E[exp(2 k b)] = exp(2 k^2 sb0^2) are exact; core/sampling/
  // engine.cc). Unbiased; removes the log-normal tails of exp(b_j) from the
  // estimator. Needs architecture.gauss_net with output_dim 1 and
  // integrate_output_layer; part of the digest.
  bool integrate_first_layer_bias = false;
};

// Reflection-positivity (Osterwalder-Schrader) analysis: the matrix
// M_ij = <phi(theta x_i) phi(x_j)> over `points` in the positive half-space
// x[axis] > 0, theta flipping x[axis]. The engine appends these points and
// their reflections after the spec's points (core/analyses/reflection.h).
struct ReflectionSpec {
  bool enabled = false;
  int axis = 0;                     // in [0, d)
  Eigen::MatrixXd points;           // Q x d, Q in [1, 64], x[axis] > 0
  bool include_four_point = false;  // also F = phi(x_i) phi(x_j), i <= j
  double z_threshold = 3.0;         // verdict threshold in standard errors, > 0
};

// Ensemble training (learning dynamics; Jacot et al. arXiv 1806.07572, Lee et
// al. arXiv 1902.06720). Every network of the ensemble is trained on the same
// data (x, y) from its own initialisation, and f_t at the spec's points (the
// test points) and the training loss are recorded at the requested times.
//
// Conventions (they change the numbers):
//  - NTK parameterisation: W^(l) = (sw[l] / sqrt(n_l)) omega^(l),
//    b^(l) = sb[l] beta^(l), omega, beta ~ N(0, 1) are the trained
//    parameters, so the initial function has the law of the plain MLP.
//    Biases with sb[l] = 0 stay 0 and are not trained.
//  - Loss L = (1/2) sum_i (f(x_i) - y_i)^2 over the n training points.
//  - Time t is training time: gradient descent omega <- omega - eta dL/domega
//    reaches t = eta * steps; gradient flow solves domega/dt = -dL/domega.
//    At infinite width df/dt = -Theta(x, X)(f(X) - Y), Theta the NTK.
enum class TrainingMethod {
  kGradientDescent,  // full batch, fixed step eta
  kGradientFlow,     // adaptive Runge-Kutta (Bogacki-Shampine 3(2))
};

// Distribution of the training loss over the ensemble at each recorded time:
// counts of networks in `bins` log-spaced bins on [min, max), plus an
// underflow (L < min) and an overflow (L >= max, or not finite) count. The
// counts are singleton sums of 0/1 indicators in the chunk sums, so they are
// exact and independent of the chunk split and the thread count.
struct LossHistogramSpec {
  int bins = 48;      // in [1, 256]
  double min = 1e-8;  // lowest edge, finite and > 0
  double max = 1e4;   // highest edge, finite and > min
  // The bins + 1 edges min (max / min)^(k / bins), k = 0..bins (the last is
  // max exactly).
  std::vector<double> Edges() const;
};

struct TrainingSpec {
  // Training inputs, n x d (n in [1, Limits::max_points]), and targets (n).
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  // Step size of gradient descent, > 0 (unused by the flow).
  double eta = 0.1;
  // Training times at which to record, each >= 0, strictly increasing, at
  // most Limits::max_training_times. Gradient descent: each a whole multiple
  // of eta (relative 1e-9).
  std::vector<double> times = {0.0};
  TrainingMethod method = TrainingMethod::kGradientDescent;
  // Gradient flow: relative and absolute tolerance of each step, in (0, 0.1].
  double tolerance = 1e-6;
  // Train only the output layer (W_L, b_L); then the flow tends to the NNGP
  // posterior mean and covariance.
  bool last_layer_only = false;
  // Also record the empirical NTK of each network at initialisation at the
  // spec's points (its ensemble mean and spread).
  bool empirical_ntk = false;
  // The loss histogram at every recorded time (none when absent).
  std::optional<LossHistogramSpec> loss_histogram;
};

// phi^4 operator insertion by reweighting (arXiv 2307.03223): each network is
// weighted by exp(-(lambda/4!) int_box phi^4 d^dx) over the cos-net's periodic
// box (cos-net with box_side > 0 only; not with integrate_output_layer).
struct Insertion {
  double lambda = 0.0;  // >= 0, in units of [x]^(d-4) for a dimensionless phi
  // A warning is raised when ESS < ess_warning_fraction * networks; in [0, 1].
  double ess_warning_fraction = 0.1;
};

// Effective quartic couplings from the connected 4-point function
// (arXiv 2008.08601; core/analyses/effective_coupling.h). Analysis only: it
// changes no sample, but it is part of the digest (a job answers one request).
struct EffectiveCouplingSpec {
  // Cutoffs Lambda > 0 of the region [-Lambda, Lambda]^d (d = 1 or 2); each
  // coupling averages the requested 4-point tuples whose points all lie in
  // the region. Empty: none.
  std::vector<double> cutoffs;
  // The amputated connected vertex -sum G4_c K^-1 K^-1 K^-1 K^-1 on the point
  // set (needs every 4-point tuple requested; P <= 24).
  bool amputated_vertex = false;
};

struct ExperimentSpec {
  Architecture architecture = MlpSpec{};
  // P points, one per row, P x d.
  Eigen::MatrixXd points;
  ObservableSpec observables;
  SamplingSpec sampling;
  ReflectionSpec reflection;
  // When set, the networks are trained and the observables are the training
  // flow (core/train/train.h); `observables` is then ignored. MLP only.
  std::optional<TrainingSpec> training;
  // Width sweep (core/analyses/width_sweep.h): empty for a single experiment;
  // otherwise 2..32 distinct widths, each in [1, Limits::max_width], and the
  // spec stands for one sub-experiment per width (WithWidth).
  std::vector<int> width_sweep;
  std::optional<Insertion> insertion;
  std::optional<EffectiveCouplingSpec> effective_coupling;
  // Part of the canonical spec (they add evaluation points and tuples).
  std::vector<SymmetryCheck> symmetry_checks;
  std::vector<ClusterCheck> cluster_checks;
};

// Resource limits checked by Validate. Defaults suit one machine.
struct Limits {
  int max_input_dim = 4096;
  int max_width = 1000000;
  int max_depth = 64;
  int max_points = 4096;
  // Tuples in the sub-multiset closure of the requested tuples (memory: 8 bytes
  // per tuple per thread and per stored chunk).
  int64_t max_tuples = int64_t{1} << 22;
  int64_t max_networks = int64_t{1} << 40;
  int max_chunk_size = 1 << 20;
  // Parameters of one network (sum of layer sizes); bounds per-thread memory.
  int64_t max_parameters = int64_t{1} << 28;
  // Training: recorded times, and gradient-descent steps per network.
  int max_training_times = 1024;
  int64_t max_training_steps = int64_t{1} << 24;
};

// Checks every field against its range and `limits`. Errors are
// InvalidArgument naming the field and the allowed range, e.g.
// "architecture.mlp.widths[0] = 0: must be in [1, 1000000]".
absl::Status Validate(const ExperimentSpec& spec, const Limits& limits = {});

// The architecture and the points alone (what the exact theory needs), with
// the same messages as Validate.
absl::Status ValidateArchitectureAndPoints(const Architecture& architecture,
                                           const Eigen::MatrixXd& points,
                                           const Limits& limits = {});

// The training part of a spec with `training` set (core/train/train.cc):
// architecture an MLP with a Gaussian first bias, data shapes, eta, times,
// tolerance, and the virtual-point count against the limits. InvalidArgument
// naming the field and the allowed range.
absl::Status ValidateTraining(const ExperimentSpec& spec, const Limits& limits);
// The interaction fields (spec_interactions.cc): deformation, box, insertion,
// effective coupling. Validate calls it; `sampling` may be null (kernel-only
// requests).
absl::Status ValidateInteractionArchitecture(const Architecture& architecture,
                                             const SamplingSpec* sampling);
absl::Status ValidateInteractions(const ExperimentSpec& spec);

// Number of chunks the spec's sampling plan needs (num_networks rounded up).
int64_t NumChunks(const SamplingSpec& sampling);

// Parameters of one network (weights and biases of every layer), as checked
// against Limits::max_parameters.
int64_t NetworkParameters(const Architecture& architecture);

}  // namespace nnft

#endif  // NNFT_CORE_SPEC_SPEC_H_
