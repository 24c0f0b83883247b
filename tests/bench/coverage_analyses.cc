// The analysis families of the coverage study: effective couplings and their
// running slope, symmetry chi-squares, the training flow, and phi^4
// reweighting.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/analyses/effective_coupling.h"
#include "core/analyses/symmetry_estimate.h"
#include "core/train/train.h"
#include "core/train/train_result.h"
#include "tests/bench/coverage_families.h"

namespace nnft::coverage {
namespace {

constexpr int kChunks = 64;

bool AnyFlagged(const CorrelatorEstimate& e) {
  for (const EntryReliability& r : e.reliability) {
    if (r.verdict != Verdict::kOk) return true;
  }
  return false;
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "nnft-coverage: %s\n", what);
  std::abort();
}

// --- effective couplings ---

// lambda(Lambda) = mean_t -G4_c(t) / (24 I_t(Lambda)) over the 4-tuples in
// the region; here every point lies in every region, so over all of them.
std::vector<double> ExactLambdas(const ExperimentSpec& spec, const McRun& run) {
  const CorrelatorEstimate& e = run.estimate;
  std::vector<double> out;
  for (double cutoff : spec.effective_coupling->cutoffs) {
    auto integrals = KernelProductIntegrals(spec, e.tuples, cutoff);
    CheckOk(integrals.status(), "KernelProductIntegrals");
    double sum = 0;
    for (size_t t = 0; t < e.tuples.size(); ++t) {
      sum += -run.theory.exact_connected[t] / (24 * (*integrals)[t]);
    }
    out.push_back(sum / static_cast<double>(e.tuples.size()));
  }
  return out;
}

// Least-squares slope of log|lambda| on log Lambda (as the estimator).
double Slope(const std::vector<double>& cutoffs,
             const std::vector<double>& lambda) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(cutoffs.size());
  for (size_t c = 0; c < cutoffs.size(); ++c) {
    const double x = std::log(cutoffs[c]), y = std::log(std::abs(lambda[c]));
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

// -sum_abcd G4_c(abcd) K^-1_a,q0 K^-1_b,q1 K^-1_c,q2 K^-1_d,q3, by loops.
double ExactVertex(const ExperimentSpec& spec, const McRun& run,
                   const Tuple& q) {
  auto kinv = InverseKernel(spec);
  CheckOk(kinv.status(), "InverseKernel");
  const int p = static_cast<int>(spec.points.rows());
  double v = 0;
  for (int a = 0; a < p; ++a)
    for (int b = 0; b < p; ++b)
      for (int c = 0; c < p; ++c)
        for (int d = 0; d < p; ++d) {
          Tuple t = {a, b, c, d};
          std::sort(t.begin(), t.end());
          const double g4c =
              run.theory.exact_connected[EntryOf(run.estimate, t)];
          v -= g4c * (*kinv)(a, q[0]) * (*kinv)(b, q[1]) * (*kinv)(c, q[2]) *
               (*kinv)(d, q[3]);
        }
  return v;
}

Study CouplingStudy() {
  Study s;
  s.name = "couplings";
  s.setup =
      "erf net N=10, sw=(1.5,1), sb=(0.5,0), points -1,0.2,1.1, output "
      "layer integrated, cutoffs 1.5,2,3; 64 x 250";
  s.exact =
      "the same formulas on the exact G4_c (lambda, slope, amputated "
      "vertex)";
  s.rows = {{"coupling lambda(1.5)", Reference::kStudentT, kChunks - 1},
            {"coupling lambda(3)", Reference::kStudentT, kChunks - 1},
            {"coupling running slope", Reference::kStudentT, kChunks - 1},
            {"amputated vertex (0,0,1,2)", Reference::kStudentT, kChunks - 1}};
  s.run = [](uint64_t seed, int threads) {
    ExperimentSpec spec;
    spec.architecture = MlpSpec{.input_dim = 1,
                                .widths = {10},
                                .activation = Activation::kErf,
                                .sw = {1.5, 1.0},
                                .sb = {0.5, 0.0}};
    spec.points = Points1d({-1.0, 0.2, 1.1});
    spec.observables.orders = {4};
    spec.sampling = {.seed = 60000 + seed,
                     .num_networks = kChunks * 250,
                     .chunk_size = 250,
                     .integrate_output_layer = true};
    spec.effective_coupling = EffectiveCouplingSpec{.cutoffs = {1.5, 2.0, 3.0},
                                                    .amputated_vertex = true};
    const McRun run = RunMc(spec, threads);
    auto ec = ComputeEffectiveCouplings(spec, run.engine->tuples(), *run.acc);
    CheckOk(ec.status(), "ComputeEffectiveCouplings");
    for (int used : ec->tuples_used) {
      if (used != static_cast<int>(run.estimate.tuples.size())) {
        Fail("a coupling region leaves a tuple out");
      }
    }
    const std::vector<double> exact = ExactLambdas(spec, run);
    const Tuple vertex = {0, 0, 1, 2};
    size_t v = 0;
    while (v < ec->vertex_tuples.size() && ec->vertex_tuples[v] != vertex) ++v;
    if (v == ec->vertex_tuples.size()) Fail("vertex (0,0,1,2) missing");
    const bool flagged = AnyFlagged(run.estimate);
    return std::vector<Sample>{
        {Z(ec->lambda[0], ec->lambda_stderr[0], exact[0]), flagged},
        {Z(ec->lambda[2], ec->lambda_stderr[2], exact[2]), flagged},
        {Z(ec->slope, ec->slope_stderr, Slope(ec->cutoffs, exact)), flagged},
        {Z(ec->vertex[v], ec->vertex_stderr[v], ExactVertex(spec, run, vertex)),
         flagged}};
  };
  return s;
}

// --- symmetry chi-squares ---

Study SymmetryStudy() {
  Study s;
  s.name = "symmetry";
  s.setup =
      "erf net d=2, N=8, sw=(1.5,1), sb=(0.5,0.1), 3 points, orders 1-4; "
      "checks: rotation by 0.7 rad, phi -> -phi; 64 x 250";
  s.exact = "exact invariance: chi^2 p-values ~ Uniform(0,1)";
  s.rows = {{"rotation chi^2 p-value (entries as independent)",
             Reference::kUniform, 0},
            {"rotation Hotelling T^2 p-value", Reference::kUniform, 0},
            {"phi->-phi chi^2 p-value (entries as independent)",
             Reference::kUniform, 0},
            {"phi->-phi Hotelling T^2 p-value", Reference::kUniform, 0}};
  s.run = [](uint64_t seed, int threads) {
    ExperimentSpec spec;
    spec.architecture = MlpSpec{.input_dim = 2,
                                .widths = {8},
                                .activation = Activation::kErf,
                                .sw = {1.5, 1.0},
                                .sb = {0.5, 0.1}};
    spec.points.resize(3, 2);
    spec.points << 0.8, -0.3, -0.6, 0.9, 0.1, 0.4;
    spec.observables.orders = {1, 2, 3, 4};
    spec.sampling = {
        .seed = 70000 + seed, .num_networks = kChunks * 250, .chunk_size = 250};
    SymmetryCheck rotation;
    rotation.kind = SymmetryCheck::Kind::kRotation;
    rotation.label = "rotation";
    rotation.matrix.resize(2, 2);
    rotation.matrix << std::cos(0.7), -std::sin(0.7), std::sin(0.7),
        std::cos(0.7);
    SymmetryCheck flip;
    flip.kind = SymmetryCheck::Kind::kPhiSignFlip;
    flip.label = "flip";
    spec.symmetry_checks = {rotation, flip};
    const McRun run = RunMc(spec, threads, /*with_theory=*/false);
    auto checks =
        EstimateChecks(run.engine->spec(), run.engine->tuples(), *run.acc);
    CheckOk(checks.status(), "EstimateChecks");
    const bool flagged = AnyFlagged(run.estimate);
    std::vector<Sample> out;
    for (const SymmetryResult& r : checks->symmetry) {
      out.push_back(
          {r.dof > 0 ? ChiSquareSurvival(r.chi2, r.dof) : std::nan(""),
           flagged});
      out.push_back({r.p_value_correlated, flagged});
    }
    return out;
  };
  return s;
}

// --- training flow ---

// Last-layer training of phi(x) = sum_i (sw1/sqrt(N)) w_i h_i(x) with the
// identity activation, d = 1 and no biases: h_i(x) = sw0 v_i x, so every
// network is phi(x) = c x and gradient flow on L = (1/2) sum_j (c x_j -
// y_j)^2 moves c alone: dc/dt = -R (S c - Sxy), R = beta Q the tangent
// kernel per x x', beta = sw0^2 sw1^2 / N, Q = sum v_i^2 ~ chi^2_N,
// S = sum x_j^2, Sxy = sum x_j y_j. So c_t = c* + (c_0 - c*) e^{-R S t},
// c* = Sxy / S, c_0 | Q ~ N(0, R), and with E[e^{-s Q}] = (1 + 2s)^{-N/2}:
//   E c_t = c* (1 - E1),  E1 = (1 + 2 beta S t)^{-N/2},
//   E c_t^2 = c*^2 (1 - 2 E1 + E2) + beta N (1 + 4 beta S t)^{-N/2 - 1},
//   E2 = (1 + 4 beta S t)^{-N/2};
// mu_t(x) = x E c_t, Sigma_t(x, x') = x x' Var c_t, E L_t = (1/2)(S E c_t^2
// - 2 Sxy E c_t + Syy). Exact at every width N.
struct LinearFlowExact {
  double mean_c = 0, var_c = 0, mean_loss = 0;
};

LinearFlowExact LinearFlow(int width, double sw0, double sw1,
                           const std::vector<double>& x,
                           const std::vector<double>& y, double t) {
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t j = 0; j < x.size(); ++j) {
    sxx += x[j] * x[j], sxy += x[j] * y[j], syy += y[j] * y[j];
  }
  const double beta = sw0 * sw0 * sw1 * sw1 / width, half = width / 2.0;
  const double cstar = sxy / sxx;
  const double e1 = std::pow(1 + 2 * beta * sxx * t, -half);
  const double e2 = std::pow(1 + 4 * beta * sxx * t, -half);
  const double c2 = cstar * cstar * (1 - 2 * e1 + e2) +
                    beta * width * std::pow(1 + 4 * beta * sxx * t, -half - 1);
  LinearFlowExact out;
  out.mean_c = cstar * (1 - e1);
  out.var_c = c2 - out.mean_c * out.mean_c;
  out.mean_loss = 0.5 * (sxx * c2 - 2 * sxy * out.mean_c + syy);
  return out;
}

Study TrainingStudy() {
  Study s;
  s.name = "training";
  s.setup =
      "identity net d=1, N=8, sw=(1,1.2), no biases, last layer trained by "
      "gradient flow (tol 1e-8) on x=(0.5,1), y=(0.3,0.8), t=0.5; test "
      "points 0.7,-1.2; 64 x 100";
  s.exact = "closed form of the linear last-layer flow at finite N";
  s.rows = {{"training mu_t(0.7)", Reference::kStudentT, kChunks - 1},
            {"training Sigma_t(0.7,-1.2)", Reference::kStudentT, kChunks - 1},
            {"training mean loss L_t", Reference::kStudentT, kChunks - 1}};
  s.run = [](uint64_t seed, int threads) {
    const int width = 8;
    const double sw0 = 1.0, sw1 = 1.2, t = 0.5;
    const std::vector<double> xs = {0.5, 1.0}, ys = {0.3, 0.8};
    ExperimentSpec spec;
    spec.architecture = MlpSpec{.input_dim = 1,
                                .widths = {width},
                                .activation = Activation::kIdentity,
                                .sw = {sw0, sw1},
                                .sb = {0.0, 0.0}};
    spec.points = Points1d({0.7, -1.2});
    TrainingSpec training;
    training.x = Points1d(xs);
    training.y = Eigen::Vector2d(ys[0], ys[1]);
    training.times = {t};
    training.method = TrainingMethod::kGradientFlow;
    training.tolerance = 1e-8;
    training.last_layer_only = true;
    spec.training = training;
    spec.sampling = {
        .seed = 80000 + seed, .num_networks = kChunks * 100, .chunk_size = 100};
    const McRun run = RunMc(spec, threads, /*with_theory=*/false);
    const TrainingFlow flow = MakeTrainingFlow(spec, run.estimate, nullptr);
    const TrainingTimeEstimate& r = flow.times.at(0);
    const LinearFlowExact exact = LinearFlow(width, sw0, sw1, xs, ys, t);
    const bool flagged = AnyFlagged(run.estimate);
    return std::vector<Sample>{
        {Z(r.mu(0), r.mu_stderr(0), 0.7 * exact.mean_c), flagged},
        {Z(r.sigma(0, 1), r.sigma_stderr(0, 1), 0.7 * -1.2 * exact.var_c),
         flagged},
        {Z(r.loss_mean, r.loss_stderr, exact.mean_loss), flagged}};
  };
  return s;
}

// --- phi^4 reweighting ---

ExperimentSpec ReweightSpec(uint64_t seed, int64_t networks) {
  ExperimentSpec spec;
  spec.architecture = CosNetSpec{
      .input_dim = 1, .width = 10, .mass = 1.0, .cutoff = 5.0, .box_side = 4.0};
  spec.points = Points1d({0.0, 0.7});
  spec.observables.orders = {2};
  spec.sampling = {.seed = seed, .num_networks = networks, .chunk_size = 250};
  spec.insertion = Insertion{.lambda = 20.0};
  return spec;
}

struct ReweightValues {
  double g = 0, g_se = 0, shift = 0, shift_se = 0;
  double ess_fraction = 0;
  bool flagged = false;
};

ReweightValues ReweightRun(uint64_t seed, int64_t networks, int threads) {
  const McRun run = RunMc(ReweightSpec(seed, networks), threads, false);
  const CorrelatorEstimate& e = run.estimate;
  const int i = EntryOf(e, {0, 1});
  const ReweightEstimate& rw = *e.reweight;
  return {.g = e.mean[i],
          .g_se = e.stderr_mean[i],
          .shift = rw.shift[i],
          .shift_se = rw.shift_stderr[i],
          .ess_fraction = rw.ess_fraction,
          .flagged = AnyFlagged(e) || rw.ess_fraction < 0.1};
}

Study ReweightStudy() {
  Study s;
  s.name = "reweight";
  s.setup =
      "phi^4 cos-net box: d=1, N=10, m=1, Lambda=5, L_box=4, lambda=20 "
      "(ESS 67%), "
      "points 0,0.7; 64 x 250";
  s.exact =
      "no finite-N exact value: a reference run of 64x the networks "
      "(seed 999), z = (x - ref) / sqrt(se^2 + se_ref^2)";
  s.rows = {
      {"reweighted G2(0,1) vs reference", Reference::kStudentT, kChunks - 1},
      {"reweighting shift G2(0,1) vs reference", Reference::kStudentT,
       kChunks - 1}};
  auto reference = std::make_shared<ReweightValues>();
  s.prepare = [reference](int threads) {
    *reference = ReweightRun(999, int64_t{64} * kChunks * 250, threads);
    const ReweightValues& r = *reference;
    std::fprintf(stderr,
                 "reweight reference: G2(0,1) = %.6g +- %.2g, shift = %.4g "
                 "+- %.2g, ESS fraction %.3f\n",
                 r.g, r.g_se, r.shift, r.shift_se, r.ess_fraction);
  };
  s.run = [reference](uint64_t seed, int threads) {
    const ReweightValues v = ReweightRun(90000 + seed, kChunks * 250, threads);
    const ReweightValues& r = *reference;
    return std::vector<Sample>{
        {Z(v.g, std::hypot(v.g_se, r.g_se), r.g), v.flagged},
        {Z(v.shift, std::hypot(v.shift_se, r.shift_se), r.shift), v.flagged}};
  };
  return s;
}

}  // namespace

std::vector<Study> AnalysisStudies() {
  return {CouplingStudy(), SymmetryStudy(), TrainingStudy(), ReweightStudy()};
}

}  // namespace nnft::coverage
