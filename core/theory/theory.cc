// Exact theory beside the Monte Carlo; the formulas live in core/theory/.
#include "core/theory/theory.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/analyses/null_cone.h"
#include "core/status_macros.h"
#include "core/theory/arch_kernels.h"
#include "core/theory/attention_kernel.h"
#include "core/theory/conv_finite_width.h"
#include "core/theory/cosnet_propagator.h"
#include "core/theory/deep_finite_width.h"
#include "core/theory/finite_width.h"
#include "core/theory/gaussian_moments.h"
#include "core/theory/interactions.h"
#include "core/theory/kernels.h"
#include "core/theory/ou_net.h"
#include "core/theory/slot_theory.h"
#include "core/theory/wick.h"

namespace nnft {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Most rank-4 Gaussian moments the deep-MLP 1/n theory may evaluate for one
// request (each a 24^4-node nested quadrature in vectorised loops, ~0.3 ms
// for tanh on one core, ~0.15 ms for ReLU): a few seconds at most.
constexpr int64_t kMaxDeepFourPointMoments = 10000;

Eigen::MatrixXd KernelOf(const Architecture& architecture,
                         const Eigen::MatrixXd& points, int threads) {
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    if (theory::HasDeformedOutput(*mlp)) {
      return theory::DeformedKernel(*mlp, points);
    }
    if (mlp->deformation.has_value()) return Eigen::MatrixXd();  // unknown
    return theory::MlpKernel(*mlp, points, threads);
  }
  if (const auto* g = std::get_if<GaussNetSpec>(&architecture)) {
    return theory::GaussNetKernel(*g, points);
  }
  if (const auto* ou = std::get_if<OuNetSpec>(&architecture)) {
    return OuNetKernel(*ou, points);
  }
  if (const auto* nc = std::get_if<NullConeSpec>(&architecture)) {
    const int p = static_cast<int>(points.rows());
    Eigen::MatrixXd k(p, p);
    const double mu2 = ExactThetaMoments(*nc).mu2;
    for (int i = 0; i < p; ++i)
      for (int j = 0; j < p; ++j)
        k(i, j) = mu2 * NullConeProduct(points.row(i).transpose(),
                                        points.row(j).transpose());
    return k;
  }
  if (const auto* c = std::get_if<CosNetSpec>(&architecture)) {
    theory::CosNetMoments moments(*c, points);
    return moments.Kernel();
  }
  if (const auto* conv = std::get_if<Conv1dSpec>(&architecture)) {
    return theory::Conv1dKernel(*conv, points);
  }
  if (const auto* kan = std::get_if<KanSpec>(&architecture)) {
    return theory::KanKernel(*kan, points);
  }
  if (const auto* att = std::get_if<AttentionSpec>(&architecture)) {
    // Unsupported shapes and over-budget point sets: no kernel (the method
    // string says why).
    absl::StatusOr<Eigen::MatrixXd> k = theory::AttentionKernel(*att, points);
    if (k.ok()) return *std::move(k);
  }
  return Eigen::MatrixXd();
}

struct ExactSetup {
  theory::SingleLayerMoments moments;
  std::string method;
};

std::string KernelMethod(const Architecture& architecture, int64_t num_points) {
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture);
      mlp != nullptr && mlp->deformation.has_value()) {
    return theory::HasDeformedOutput(*mlp)
               ? "deformed output layer: G2 = sb^2 + E[rho] C, rho = |a|^2/N, "
                 "E[rho] by quadrature of the radial law"
               : "no kernel for a deformed hidden layer";
  }
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    std::string first =
        mlp->first_bias == BiasLaw::kUniformPhase
            ? "uniform-phase cos first layer (1/2) exp(-sw0^2 |x-y|^2/(2d))"
            : absl::StrCat("first layer ", ActivationName(mlp->activation));
    const bool closed = theory::HasClosedPairMoment(mlp->activation);
    return absl::StrCat(
        "NNGP kernel by the layer recursion over ", mlp->widths.size(),
        " hidden layer(s)", mlp->residual ? " (residual)" : "",
        mlp->input_projection_dim > 0
            ? " after the g(Wx) projection in its k -> infinity limit "
              "(finite k: O(1/k) corrections, non-Gaussian)"
            : "",
        ", ", first, ", ",
        closed ? "closed-form layer expectations"
               : "layer expectations by nested Gauss-Hermite quadrature "
                 "(96-256 nodes per dimension)");
  }
  if (const auto* c = std::get_if<CosNetSpec>(&architecture);
      c != nullptr && c->box_side > 0) {
    return "cos-net box propagator L^-d sum_k cos(p_k.r)/(p_k^2+m^2) over "
           "the lattice momenta in the cutoff ball";
  }
  if (std::holds_alternative<GaussNetSpec>(architecture)) {
    return "Gauss-net kernel sb1^2 + sw1^2 exp(-sw0^2 |x-y|^2/(2d)) (arXiv "
           "2008.08601)";
  }
  if (std::holds_alternative<OuNetSpec>(architecture)) {
    return "OU-net G2 = E[K_mlp(X_t, X_s)] over the stationary OU pair by "
           "64 x 64 Gauss-Hermite (arXiv 2504.05462); exact at every width";
  }
  if (std::holds_alternative<Conv1dSpec>(architecture)) {
    return "conv1d NNGP kernel by the per-position layer recursion (arXiv "
           "1810.05148)";
  }
  if (std::holds_alternative<KanSpec>(architecture)) {
    return "KAN kernel: Gaussian inner sums, base and B-spline pair moments "
           "by quadrature (exact at every width; arXiv 2404.19756)";
  }
  if (const auto* att = std::get_if<AttentionSpec>(&architecture)) {
    return theory::AttentionKernelMethod(*att, num_points);
  }
  return "cos-net cutoff propagator by radial Gauss-Legendre quadrature "
         "(arXiv 2307.03223)";
}

// The exact finite-width setup of single-hidden-layer architectures.
std::optional<ExactSetup> MakeExact(const Architecture& architecture,
                                    const Eigen::MatrixXd& points) {
  using theory::NeuronKind;
  ExactSetup setup;
  if (const auto* conv = std::get_if<Conv1dSpec>(&architecture)) {
    if (conv->layers != 1) return std::nullopt;
    std::optional<ExactSetup> setup =
        MakeExact(theory::PatchMlp(*conv), theory::ConvPatches(*conv, points));
    if (setup) {
      setup->method = absl::StrCat(
          "one-layer conv1d = single-layer MLP on the output patch; ",
          setup->method);
    }
    return setup;
  }
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    if (mlp->widths.size() != 1 || mlp->input_projection_dim > 0) {
      return std::nullopt;
    }
    const bool uniform = mlp->first_bias == BiasLaw::kUniformPhase;
    const NeuronKind kind =
        uniform ? NeuronKind::kUniformPhase : NeuronKind::kGaussianBias;
    auto table = std::make_shared<theory::NeuronMomentTable>(
        kind, mlp->activation,
        theory::PreactivationCovariance(points, mlp->sw[0],
                                        uniform ? 0.0 : mlp->sb[0]));
    const Eigen::MatrixXd c = theory::FirstLayerNeuronCovariance(*mlp, points);
    const double sw1 = mlp->sw[1];
    setup.moments.width = mlp->widths[0];
    setup.moments.output_bias_var = mlp->sb[1] * mlp->sb[1];
    setup.moments.moment = [table, c, sw1](const std::vector<int>& idx) {
      const int n = static_cast<int>(idx.size());
      if (n == 2) return sw1 * sw1 * c(idx[0], idx[1]);
      return std::pow(sw1, n) * table->Moment(idx);
    };
    setup.method = absl::StrCat(
        "exact finite width (i.i.d. neurons): G4_c = (sw1^4/N)(3 M4 - sum C "
        "C), "
        "N^2 G6_c = sw1^6 (15 M6 - 3 sum M4 C + 2 sum C C C); M4, M6 ",
        uniform || mlp->activation == Activation::kIdentity ||
                mlp->activation == Activation::kCos ||
                mlp->activation == Activation::kSin
            ? "in closed form"
        : mlp->activation == Activation::kRelu
            ? "by exact angular integration (rank <= 3; Gauss-Hermite above)"
            : "by tensor Gauss-Hermite quadrature (NaN above rank 4)");
    return setup;
  }
  if (const auto* g = std::get_if<GaussNetSpec>(&architecture)) {
    auto table = std::make_shared<theory::NeuronMomentTable>(
        NeuronKind::kGaussNet, Activation::kIdentity,
        theory::PreactivationCovariance(points, g->sw0, g->sb0));
    const double sw1 = g->sw1;
    setup.moments.width = g->width;
    setup.moments.output_bias_var = g->sb1 * g->sb1;
    setup.moments.moment = [table, sw1](const std::vector<int>& idx) {
      return std::pow(sw1, static_cast<int>(idx.size())) * table->Moment(idx);
    };
    setup.method =
        "exact finite width: Gauss-net moments exp(sum S/2 - tr S) (arXiv "
        "2008.08601) in the i.i.d.-neuron cumulant formulas";
    return setup;
  }
  const auto* cos = std::get_if<CosNetSpec>(&architecture);
  if (cos == nullptr) return std::nullopt;
  const auto& c = *cos;
  auto moments = std::make_shared<theory::CosNetMoments>(c, points);
  setup.moments.width = c.width;
  setup.moments.moment = [moments](const std::vector<int>& idx) {
    return moments->Moment(idx);
  };
  setup.method =
      "exact finite width: N G4_c = (3/2) V_L sum_3 H(x_i+x_j-x_k-x_l) - sum G "
      "G, "
      "N^2 G6_c from the (p^2+m^2)^-3 propagator (arXiv 2307.03223)";
  return setup;
}

// First-order phi^4 shifts of the 2-point entries (box cos-net insertion).
void AddInsertionTheory(const ExperimentSpec& spec, const TupleSet& tuples,
                        TheoryValues& out) {
  if (!spec.insertion.has_value()) return;
  const auto& net = std::get<CosNetSpec>(spec.architecture);
  for (int r : tuples.requested()) {
    const Tuple& t = tuples.tuples()[r];
    out.pt_shift.push_back(
        t.size() != 2
            ? kNaN
            : theory::TadpoleShift(net, spec.insertion->lambda,
                                   spec.points.row(t[0]).transpose(),
                                   spec.points.row(t[1]).transpose()));
  }
  out.method +=
      "; first-order phi^4 shift of G2: -(lambda/2) G(0) H(x-y) (tadpole, "
      "lattice sums over the box); the exact and gp values are the free "
      "(lambda = 0) theory";
}

// Exact correlators of the deformed output layer (single hidden layer).
void AddDeformedTheory(const MlpSpec& mlp, const Eigen::MatrixXd& points,
                       const TupleSet& tuples, TheoryValues& out) {
  if (!theory::HasDeformedOutput(mlp)) {
    out.method += "; no exact theory for a deformed hidden layer";
    return;
  }
  std::vector<Tuple> requested;
  for (int r : tuples.requested()) requested.push_back(tuples.tuples()[r]);
  theory::DeformedCorrelators d = theory::DeformedExact(mlp, points, requested);
  out.exact_full = std::move(d.full);
  out.exact_connected = std::move(d.connected);
  out.has_exact = true;
  out.method +=
      "; exact deformed output layer: G4_c = Var(rho) sum C C + 3 E[rho^2]/"
      "(N+2) (M4 - sum C C) (G6 not given)";
}

// The four-point tuples (with the 4-of-6 splits) and the pairs the
// leading-order theories need for the requested even tuples.
void LeadingOrderTuples(const TupleSet& tuples,
                        std::vector<std::array<int, 4>>& fours,
                        std::vector<std::pair<int, int>>& pairs) {
  auto add_pairs = [&](const Tuple& t) {
    for (size_t a = 0; a < t.size(); ++a) {
      for (size_t b = a + 1; b < t.size(); ++b) pairs.push_back({t[a], t[b]});
    }
  };
  for (int r : tuples.requested()) {
    const Tuple& t = tuples.tuples()[r];
    if (t.size() % 2 == 1) continue;
    add_pairs(t);
    if (t.size() == 4) fours.push_back({t[0], t[1], t[2], t[3]});
    if (t.size() == 6) {
      for (const theory::SplitFourTwo& s : theory::SplitsFourTwo()) {
        fours.push_back(
            {t[s.four[0]], t[s.four[1]], t[s.four[2]], t[s.four[3]]});
      }
    }
  }
}

// Synchronous callers (ComputeKernel) must not wait minutes: above the
// budget the column says so instead. True when within it.
bool WithinLeadingOrderBudget(int64_t cost, TheoryValues& out) {
  if (cost <= kMaxDeepFourPointMoments) return true;
  out.method = absl::StrCat(
      out.method,
      "; finite width at leading order in 1/n not computed: points and "
      "observables.orders/tuples ask for ",
      cost,
      " four-point Gaussian moments at distinct points over all layers, "
      "over the limit of ",
      kMaxDeepFourPointMoments, " (allowed: 0 to ", kMaxDeepFourPointMoments,
      "; ~0.3 ms each); ask for fewer points or 4-/6-point tuples");
  return false;
}

// G2 = K + dK, G4 = G4_c + Wick(G2), G6 to O(1/n) from a leading-order
// theory (DeepFiniteWidth, ConvFiniteWidth); G6_c (O(1/n^2)) NaN.
template <typename LeadingOrder>
void FillLeadingOrder(const LeadingOrder& deep, const TupleSet& tuples,
                      TheoryValues& out) {
  const Eigen::MatrixXd g2 = deep.kernel() + deep.kernel_correction();
  const std::vector<int>& requested = tuples.requested();
  for (size_t i = 0; i < requested.size(); ++i) {
    const Tuple& t = tuples.tuples()[requested[i]];
    double full = 0.0, connected = 0.0;  // odd orders vanish (W -> -W)
    if (t.size() == 2) {
      full = connected = g2(t[0], t[1]);
    } else if (t.size() == 4) {
      connected = deep.Connected4({t[0], t[1], t[2], t[3]});
      full = connected + theory::WickSum(g2, t);
    } else if (t.size() == 6) {
      connected = kNaN;
      full = theory::WickSum(g2, t);
      for (const theory::SplitFourTwo& s : theory::SplitsFourTwo()) {
        full += deep.Connected4(
                    {t[s.four[0]], t[s.four[1]], t[s.four[2]], t[s.four[3]]}) *
                g2(t[s.two[0]], t[s.two[1]]);
      }
    }
    out.exact_full[i] = full;
    out.exact_connected[i] = connected;
  }
  out.has_exact = true;
  out.leading_order_in_inverse_width = true;
}

// Deep MLPs (two or more hidden layers) at leading order in 1/n: G2 = K +
// dK, G4_c = sum_3 T (core/theory/deep_finite_width.h), full G4 and G6 from
// them to O(1/n) (G6_c = O(1/n^2) is not given: NaN). False, with the reason
// in `method`, when the recursion does not cover the net.
bool AddDeepTheory(const MlpSpec& mlp, const Eigen::MatrixXd& points,
                   const TupleSet& tuples, int threads, TheoryValues& out) {
  if (const absl::Status supported = theory::DeepFiniteWidthSupported(mlp);
      !supported.ok()) {
    out.method = absl::StrCat(
        out.method, "; no finite-width theory: ", supported.message());
    return false;
  }
  std::vector<std::array<int, 4>> fours;
  std::vector<std::pair<int, int>> pairs;
  LeadingOrderTuples(tuples, fours, pairs);
  if (!WithinLeadingOrderBudget(
          theory::DeepFiniteWidthCost(static_cast<int>(mlp.widths.size()),
                                      fours, pairs),
          out)) {
    return false;
  }
  FillLeadingOrder(
      theory::DeepFiniteWidth(mlp, points, fours, pairs, {.threads = threads}),
      tuples, out);
  out.method = absl::StrCat(
      out.method,
      "; finite width at leading order in 1/n, not exact (Roberts-Yaida-"
      "Hanin arXiv 2106.10165 ch. 4): G4_c = sum_3 V^(L+1)/n_L by the vertex "
      "recursion over ",
      mlp.widths.size(),
      " hidden layers, G2 = K + O(1/n) correction by the K^{(1)} recursion, "
      "G4 and G6 to O(1/n), G6_c (O(1/n^2)) not given; kernel derivatives ",
      mlp.activation == Activation::kRelu ||
              mlp.activation == Activation::kIdentity
          ? "in closed form"
          : "by Gauss-Hermite quadrature",
      ", 4-point moments by tensor Gauss-Hermite; neglected terms are "
      "O(1/n^2)");
  return true;
}

// Multi-layer conv nets at leading order in 1/channels
// (core/theory/conv_finite_width.h).
bool AddConvTheory(const Conv1dSpec& conv, const Eigen::MatrixXd& points,
                   const TupleSet& tuples, int threads, TheoryValues& out) {
  std::vector<std::array<int, 4>> fours;
  std::vector<std::pair<int, int>> pairs;
  LeadingOrderTuples(tuples, fours, pairs);
  if (!WithinLeadingOrderBudget(theory::ConvFiniteWidthCost(conv, fours, pairs),
                                out)) {
    return false;
  }
  FillLeadingOrder(
      theory::ConvFiniteWidth(conv, points, fours, pairs, {.threads = threads}),
      tuples, out);
  out.method = absl::StrCat(
      out.method,
      "; finite width at leading order in 1/channels, not exact: the MLP "
      "vertex and K^{(1)} recursions (arXiv 2106.10165 ch. 4) over the ",
      conv.layers,
      " conv layers' (point, position) samples, averaged over the kernel "
      "taps (each pair of a channel sharing its tap); G6_c (O(1/N^2)) not "
      "given");
  return true;
}

}  // namespace

absl::Status TheoryOptions::Validate() const {
  if (threads < 1 || threads > 1024) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "TheoryOptions.threads %d: must be between 1 and 1024", threads));
  }
  return absl::OkStatus();
}

absl::StatusOr<Eigen::MatrixXd> NngpKernel(const Architecture& architecture,
                                           const Eigen::MatrixXd& points,
                                           const TheoryOptions& options) {
  NNFT_RETURN_IF_ERROR(options.Validate());
  NNFT_RETURN_IF_ERROR(ValidateArchitectureAndPoints(architecture, points));
  if (const auto* att = std::get_if<AttentionSpec>(&architecture)) {
    return theory::AttentionKernel(*att, points);
  }
  return KernelOf(architecture, points, options.threads);
}

absl::StatusOr<TheoryValues> ComputeTheory(const ExperimentSpec& spec,
                                           const TupleSet& tuples,
                                           const TheoryOptions& options) {
  NNFT_RETURN_IF_ERROR(options.Validate());
  NNFT_RETURN_IF_ERROR(Validate(spec));
  if (theory::NeedsSlotTheory(spec, tuples)) {
    return theory::SlotTheory(spec, Eigen::MatrixXd(), tuples);
  }
  if (tuples.num_points() != spec.points.rows()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tuple set over %d points: must match the spec's %d points",
        tuples.num_points(), spec.points.rows()));
  }
  if (std::holds_alternative<NullConeSpec>(spec.architecture)) {
    return NullConeTheory(spec, tuples);
  }
  TheoryValues out;
  out.kernel = KernelOf(spec.architecture, spec.points, options.threads);
  const std::vector<int>& requested = tuples.requested();
  const size_t count = requested.size();
  out.gp_full.resize(count);
  out.gp_connected.resize(count);
  out.exact_full.assign(count, kNaN);
  out.exact_connected.assign(count, kNaN);
  const bool has_kernel = out.kernel.size() > 0;
  for (size_t i = 0; i < count; ++i) {
    const Tuple& t = tuples.tuples()[requested[i]];
    out.gp_full[i] = has_kernel ? theory::WickSum(out.kernel, t) : kNaN;
    out.gp_connected[i] = !has_kernel     ? kNaN
                          : t.size() == 2 ? out.kernel(t[0], t[1])
                                          : 0.0;
  }
  out.method = absl::StrCat(KernelMethod(spec.architecture, spec.points.rows()),
                            "; Gaussian correlators by Wick pairings");
  AddInsertionTheory(spec, tuples, out);
  if (const auto* mlp = std::get_if<MlpSpec>(&spec.architecture);
      mlp != nullptr && mlp->deformation.has_value()) {
    AddDeformedTheory(*mlp, spec.points, tuples, out);
    return out;
  }
  std::optional<ExactSetup> exact = MakeExact(spec.architecture, spec.points);
  if (const auto* mlp = std::get_if<MlpSpec>(&spec.architecture);
      !exact.has_value() && mlp != nullptr && mlp->widths.size() >= 2) {
    AddDeepTheory(*mlp, spec.points, tuples, options.threads, out);
    return out;
  }
  if (const auto* conv = std::get_if<Conv1dSpec>(&spec.architecture);
      !exact.has_value() && conv != nullptr && conv->layers >= 2) {
    AddConvTheory(*conv, spec.points, tuples, options.threads, out);
    return out;
  }
  if (!exact.has_value()) {
    out.method +=
        std::holds_alternative<OuNetSpec>(spec.architecture)
            ? "; G2 exact at every width, higher orders Gaussian only"
        : std::holds_alternative<AttentionSpec>(spec.architecture)
            ? (has_kernel ? "; G2 exact at every head count, higher orders "
                            "Gaussian only (the infinite-heads limit; G4_c = "
                            "O(1/N))"
                          : "")
            : "; no exact finite-width theory for this architecture";
    return out;
  }
  out.has_exact = true;
  const theory::SingleLayerMoments moments =
      theory::Memoized(std::move(exact->moments));
  for (size_t i = 0; i < count; ++i) {
    const theory::ExactCorrelator e = theory::ExactSingleLayerCorrelator(
        moments, tuples.tuples()[requested[i]]);
    out.exact_full[i] = e.full;
    out.exact_connected[i] = e.connected;
  }
  out.method = absl::StrCat(out.method, "; ", exact->method);
  return out;
}

}  // namespace nnft
