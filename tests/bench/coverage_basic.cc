// The cheap families of the coverage study: correlator means G^(n) and
// connected parts of single-hidden-layer nets (exact at every width), the
// radially deformed output layer, width-sweep exponents and amplitudes,
// reflection-positivity eigenvalues and the null-cone conformal 4-point
// function.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/analyses/null_cone.h"
#include "core/analyses/reflection.h"
#include "core/analyses/width_sweep.h"
#include "core/estimate/tail_reach.h"
#include "tests/bench/coverage_families.h"

namespace nnft::coverage {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void CheckOk(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "nnft-coverage: %s: %s\n", what,
               status.ToString().c_str());
  std::abort();
}

McRun RunMc(const ExperimentSpec& spec, int threads, bool with_theory) {
  McRun run;
  auto engine = Engine::Create(spec);
  CheckOk(engine.status(), "Engine::Create");
  run.engine = *std::move(engine);
  const int64_t num_chunks = NumChunks(spec.sampling);
  std::vector<ChunkSums> chunks(num_chunks);
  CheckOk(run.engine->RunChunks(0, num_chunks, threads,
                                [&](ChunkSums c) {
                                  const int64_t k = c.chunk;
                                  chunks[k] = std::move(c);
                                  return true;
                                }),
          "RunChunks");
  run.acc = std::make_unique<MomentAccumulator>(
      run.engine->tuples(), spec.sampling.seed, 64, spec.insertion.has_value());
  for (const ChunkSums& c : chunks) CheckOk(run.acc->Add(c), "Add");
  run.estimate = run.acc->Finish();
  FlagUnreachedTails(run.engine->spec(), run.estimate);
  if (with_theory) {
    auto theory = ComputeTheory(run.engine->spec(), run.engine->tuples());
    CheckOk(theory.status(), "ComputeTheory");
    run.theory = *std::move(theory);
  }
  return run;
}

int EntryOf(const CorrelatorEstimate& estimate, const Tuple& tuple) {
  for (size_t i = 0; i < estimate.tuples.size(); ++i) {
    if (estimate.tuples[i] == tuple) return static_cast<int>(i);
  }
  std::fprintf(stderr, "nnft-coverage: tuple of order %zu not requested\n",
               tuple.size());
  std::abort();
}

double Z(double value, double stderr_value, double exact) {
  if (!(stderr_value > 0) || !std::isfinite(stderr_value)) return kNaN;
  return (value - exact) / stderr_value;
}

Eigen::MatrixXd Points1d(const std::vector<double>& xs) {
  Eigen::MatrixXd p(static_cast<int>(xs.size()), 1);
  for (size_t i = 0; i < xs.size(); ++i) p(static_cast<int>(i), 0) = xs[i];
  return p;
}

namespace {

constexpr int kChunks = 64;  // = the accumulator's bins: t(63) errors

bool Flagged(const CorrelatorEstimate& e, int entry) {
  return e.reliability[entry].verdict != Verdict::kOk;
}

bool AnyFlagged(const CorrelatorEstimate& e) {
  for (const EntryReliability& r : e.reliability) {
    if (r.verdict != Verdict::kOk) return true;
  }
  return false;
}

// "<title> over K seeds, median (10%-90%): name q50 (q10-q90), ..." of
// per-seed ratios (one vector per seed, one entry per name).
std::string RatioNotes(const std::string& title,
                       const std::vector<std::string>& names,
                       const std::vector<std::vector<double>>& ratios,
                       int decimals) {
  if (ratios.empty()) return "no seeds";
  std::string text =
      absl::StrFormat("%s over %d seeds, median (10%%-90%%):", title,
                      static_cast<int>(ratios.size()));
  for (size_t r = 0; r < names.size(); ++r) {
    std::vector<double> v;
    for (const auto& seed : ratios) v.push_back(seed[r]);
    std::sort(v.begin(), v.end());
    const auto q = [&](double f) {
      return v[static_cast<size_t>(f * (v.size() - 1))];
    };
    absl::StrAppendFormat(&text, " %s %.*f (%.*f-%.*f)%s", names[r], decimals,
                          q(0.5), decimals, q(0.1), decimals, q(0.9),
                          r + 1 < names.size() ? "," : "");
  }
  return text;
}

// Single hidden layer, erf, width 4, d = 1: far from Gaussian, exact theory.
MlpSpec SmallErfNet(int width) {
  return MlpSpec{.input_dim = 1,
                 .widths = {width},
                 .activation = Activation::kErf,
                 .sw = {1.2, 1.0},
                 .sb = {0.3, 0.1}};
}

// The tuple of order n on two points: ceil(n/2) zeros, then ones, e.g.
// (0), (0, 1), (0, 0, 1), (0, 0, 1, 1).
Tuple MixedTuple(int n) {
  Tuple t;
  for (int i = 0; i < n; ++i) t.push_back(i < (n + 1) / 2 ? 0 : 1);
  return t;
}

Study MomentsStudy() {
  Study s;
  s.name = "moments";
  s.setup =
      "1-hidden-layer erf net, d=1, N=4, sw=(1.2,1), sb=(0.3,0.1), points "
      "0.4,-0.9; 64 chunks x 250 networks";
  s.exact = "exact finite-width G^(n), G^(n)_c (PHYSICS.md single layer)";
  for (int n = 1; n <= 6; ++n) {
    s.rows.push_back(
        {absl::StrCat("G", n, " mean"), Reference::kStudentT, kChunks - 1});
  }
  for (int n = 2; n <= 6; ++n) {
    s.rows.push_back({absl::StrCat("G", n, "_c jackknife"),
                      Reference::kStudentT, kChunks - 1});
  }
  s.run = [](uint64_t seed, int threads) {
    ExperimentSpec spec;
    spec.architecture = SmallErfNet(4);
    spec.points = Points1d({0.4, -0.9});
    spec.observables.orders = {1, 2, 3, 4, 5, 6};
    spec.sampling = {
        .seed = 10000 + seed, .num_networks = kChunks * 250, .chunk_size = 250};
    const McRun run = RunMc(spec, threads);
    const CorrelatorEstimate& e = run.estimate;
    std::vector<Sample> out;
    for (int n = 1; n <= 6; ++n) {
      const int i = EntryOf(e, MixedTuple(n));
      out.push_back({Z(e.mean[i], e.stderr_mean[i], run.theory.exact_full[i]),
                     Flagged(e, i)});
    }
    for (int n = 2; n <= 6; ++n) {
      const int i = EntryOf(e, MixedTuple(n));
      out.push_back({Z(e.connected[i], e.stderr_connected[i],
                       run.theory.exact_connected[i]),
                     Flagged(e, i)});
    }
    return out;
  };
  return s;
}

// The moments family's heavy-tailed end with a better estimator: the same
// net, points and seeds with the Gaussian output layer integrated
// (sampling.integrate_output_layer: each network contributes the Gaussian
// moments of its output given the hidden layer), against the exact
// finite-width even G^(n) and G^(n)_c (the odd ones vanish exactly there and
// have no error bar). The notes give the ratio of standard errors, plain /
// integrated, over the seeds.
Study MomentsIntegratedStudy() {
  Study s;
  s.name = "moments_integrated";
  s.setup =
      "as moments (same seeds), output layer integrated; plain run beside it "
      "for the stderr ratio";
  s.exact = "exact finite-width G^(n), G^(n)_c (PHYSICS.md single layer)";
  const std::vector<int> orders = {2, 4, 6};
  for (int n : orders) {
    s.rows.push_back({absl::StrCat("G", n, " mean, output layer integrated"),
                      Reference::kStudentT, kChunks - 1});
  }
  for (int n : {4, 6}) {
    s.rows.push_back(
        {absl::StrCat("G", n, "_c jackknife, output layer integrated"),
         Reference::kStudentT, kChunks - 1});
  }
  // Per seed: stderr(plain) / stderr(integrated) of G2, G4, G6, G4_c, G6_c.
  auto ratios = std::make_shared<std::vector<std::vector<double>>>();
  s.run = [ratios, orders](uint64_t seed, int threads) {
    ExperimentSpec spec;
    spec.architecture = SmallErfNet(4);
    spec.points = Points1d({0.4, -0.9});
    spec.observables.orders = orders;
    spec.sampling = {
        .seed = 10000 + seed, .num_networks = kChunks * 250, .chunk_size = 250};
    const McRun plain = RunMc(spec, threads);
    spec.sampling.integrate_output_layer = true;
    const McRun run = RunMc(spec, threads);
    const CorrelatorEstimate& e = run.estimate;
    const CorrelatorEstimate& p = plain.estimate;
    std::vector<Sample> out;
    std::vector<double> ratio;
    for (int n : orders) {
      const int i = EntryOf(e, MixedTuple(n));
      out.push_back({Z(e.mean[i], e.stderr_mean[i], run.theory.exact_full[i]),
                     Flagged(e, i)});
      ratio.push_back(p.stderr_mean[EntryOf(p, MixedTuple(n))] /
                      e.stderr_mean[i]);
    }
    for (int n : {4, 6}) {
      const int i = EntryOf(e, MixedTuple(n));
      out.push_back({Z(e.connected[i], e.stderr_connected[i],
                       run.theory.exact_connected[i]),
                     Flagged(e, i)});
      ratio.push_back(p.stderr_connected[EntryOf(p, MixedTuple(n))] /
                      e.stderr_connected[i]);
    }
    ratios->push_back(ratio);
    return out;
  };
  s.notes = [ratios]() {
    return RatioNotes("stderr(plain) / stderr(output layer integrated)",
                      {"G2", "G4", "G6", "G4_c", "G6_c"}, *ratios, 1);
  };
  return s;
}

Study DeformedStudy() {
  Study s;
  s.name = "deformed";
  s.setup =
      "erf net N=4 as above, output layer radially deformed (s=1, "
      "lambda=0.5), points -0.8,0.4; 64 x 250";
  s.exact = "exact G2, G4_c of the deformed output layer (radial moments)";
  s.rows = {{"deformed G2 mean", Reference::kStudentT, kChunks - 1},
            {"deformed G4 mean", Reference::kStudentT, kChunks - 1},
            {"deformed G4_c jackknife", Reference::kStudentT, kChunks - 1}};
  s.run = [](uint64_t seed, int threads) {
    ExperimentSpec spec;
    MlpSpec net = SmallErfNet(4);
    net.sb = {0.3, 0.0};
    net.deformation = Deformation{.s = 1.0, .lambda = 0.5};
    spec.architecture = net;
    spec.points = Points1d({-0.8, 0.4});
    spec.observables.orders = {2, 4};
    spec.sampling = {
        .seed = 20000 + seed, .num_networks = kChunks * 250, .chunk_size = 250};
    const McRun run = RunMc(spec, threads);
    const CorrelatorEstimate& e = run.estimate;
    const TheoryValues& th = run.theory;
    const int i2 = EntryOf(e, {0, 1}), i4 = EntryOf(e, {0, 0, 1, 1});
    return std::vector<Sample>{
        {Z(e.mean[i2], e.stderr_mean[i2], th.exact_full[i2]), Flagged(e, i2)},
        {Z(e.mean[i4], e.stderr_mean[i4], th.exact_full[i4]), Flagged(e, i4)},
        {Z(e.connected[i4], e.stderr_connected[i4], th.exact_connected[i4]),
         Flagged(e, i4)}};
  };
  return s;
}

Study WidthSweepStudy() {
  Study s;
  s.name = "width_sweep";
  s.setup =
      "erf net (sw=(1.2,1), sb=(0.3,0.1)) at N=2,4,8,16, output layer "
      "integrated, points 0.4,-0.9; 64 x 250 per width";
  s.exact = "|G4_c| = A N^s exactly: s = -1, A = N G4_c(exact)";
  s.rows = {{"sweep exponent of G4_c(0,0,1,1)", Reference::kNormal, 0},
            {"sweep amplitude of G4_c(0,0,1,1)", Reference::kNormal, 0}};
  s.run = [](uint64_t seed, int threads) {
    ExperimentSpec sweep;
    sweep.architecture = SmallErfNet(4);
    sweep.points = Points1d({0.4, -0.9});
    sweep.observables.orders = {4};
    sweep.sampling = {.seed = 30000 + seed,
                      .num_networks = kChunks * 250,
                      .chunk_size = 250,
                      .integrate_output_layer = true};
    sweep.width_sweep = {2, 4, 8, 16};
    auto specs = ExpandWidthSweep(sweep);
    CheckOk(specs.status(), "ExpandWidthSweep");
    std::vector<McRun> runs;
    std::vector<const CorrelatorEstimate*> estimates;
    std::vector<const TheoryValues*> theories;
    for (const ExperimentSpec& spec : *specs) {
      runs.push_back(RunMc(spec, threads));
    }
    bool flagged = false;
    for (const McRun& run : runs) {
      estimates.push_back(&run.estimate);
      theories.push_back(&run.theory);
      flagged |= Flagged(run.estimate, EntryOf(run.estimate, {0, 0, 1, 1}));
    }
    const WidthSweepAnalysis a =
        AnalyzeWidthSweep(SweepWidths(sweep), estimates, theories);
    const int entry = EntryOf(runs[0].estimate, {0, 0, 1, 1});
    const double amplitude =
        std::abs(16 * runs.back().theory.exact_connected[entry]);
    for (const PowerLawFit& fit : a.fits) {
      if (fit.tuple != Tuple{0, 0, 1, 1}) continue;
      // A width dropped for low signal changes the fit: flag the seed.
      flagged |= fit.widths_dropped > 0;
      return std::vector<Sample>{
          {Z(fit.exponent, fit.exponent_stderr, fit.expected_exponent),
           flagged},
          {Z(fit.amplitude, fit.amplitude_stderr, amplitude), flagged}};
    }
    std::fprintf(stderr, "nnft-coverage: no sweep fit of G4_c(0,0,1,1)\n");
    std::abort();
  };
  return s;
}

Study ReflectionStudy() {
  Study s;
  s.name = "reflection";
  s.setup =
      "erf net N=8, sw=(1.5,1), sb=(0.5,0.2), d=1, reflection t -> -t at "
      "t=0.3,1,2 (3x3 and 6x6 matrices); 64 x 250";
  s.exact = "eigenvalues of the exact matrices (kernel; exact G4)";
  s.rows = {{"RP 2-pt smallest eigenvalue", Reference::kStudentT, kChunks - 1},
            {"RP 2-pt largest eigenvalue", Reference::kStudentT, kChunks - 1},
            {"RP 4-pt smallest eigenvalue", Reference::kStudentT, kChunks - 1},
            {"RP 4-pt largest eigenvalue", Reference::kStudentT, kChunks - 1}};
  s.run = [](uint64_t seed, int threads) {
    ExperimentSpec spec;
    spec.architecture = MlpSpec{.input_dim = 1,
                                .widths = {8},
                                .activation = Activation::kErf,
                                .sw = {1.5, 1.0},
                                .sb = {0.5, 0.2}};
    spec.points = Points1d({0.0});
    spec.observables.orders = {2};
    spec.reflection.enabled = true;
    spec.reflection.points = Points1d({0.3, 1.0, 2.0});
    spec.reflection.include_four_point = true;
    spec.sampling = {
        .seed = 40000 + seed, .num_networks = kChunks * 250, .chunk_size = 250};
    const McRun run = RunMc(spec, threads);
    const ReflectionResult r = AnalyzeReflection(spec, run.engine->tuples(),
                                                 run.acc->Binned(), run.theory);
    if (!r.two_point.has_exact || !r.four_point.has_exact) {
      std::fprintf(stderr, "nnft-coverage: reflection without exact\n");
      std::abort();
    }
    const bool flagged = AnyFlagged(run.estimate);
    const auto end = [&](const RpMatrix& m, bool largest) {
      const size_t k = largest ? m.eigenvalues.size() - 1 : 0;
      return Sample{
          Z(m.eigenvalues[k], m.eigenvalue_stderr[k], m.exact_eigenvalues[k]),
          flagged};
    };
    return std::vector<Sample>{end(r.two_point, false), end(r.two_point, true),
                               end(r.four_point, false),
                               end(r.four_point, true)};
  };
  return s;
}

Study NullConeStudy() {
  Study s;
  s.name = "null_cone";
  s.setup =
      "null-cone field, D=2, Gaussian Theta (scale 1), 4 points; "
      "64 x 250";
  s.exact =
      "mu2 = 1, mu4 = 3: G2 = mu2 X12, g(u,v) = (mu4/3)(1 + 1/u + v/u), "
      "G4_c = (mu4/3 - mu2^2) sum X X";
  s.rows = {{"null cone G2", Reference::kStudentT, kChunks - 1},
            {"null cone g(u,v)", Reference::kStudentT, kChunks - 1},
            {"null cone G4_c", Reference::kStudentT, kChunks - 1}};
  s.run = [](uint64_t seed, int threads) {
    ExperimentSpec spec;
    spec.architecture =
        NullConeSpec{.input_dim = 2, .law = ThetaLaw::kGaussian, .scale = 1.0};
    spec.points.resize(4, 2);
    spec.points << 0.1, 0.2, 1.0, -0.5, -0.7, 0.9, 0.4, 1.1;
    spec.observables.orders = {2, 4};
    spec.sampling = {
        .seed = 50000 + seed, .num_networks = kChunks * 250, .chunk_size = 250};
    const McRun run = RunMc(spec, threads, /*with_theory=*/false);
    const ConformalResult c =
        AnalyzeNullCone(spec, run.engine->tuples(), run.acc->Binned());
    const ConformalTwoPoint& p = c.two_point.at(0);
    const ConformalFourPoint& q = c.four_point.at(0);
    const bool flagged = AnyFlagged(run.estimate);
    return std::vector<Sample>{{Z(p.value, p.stderr_value, p.exact), flagged},
                               {Z(q.g, q.g_stderr, q.g_exact), flagged},
                               {Z(q.g4c, q.g4c_stderr, q.g4c_exact), flagged}};
  };
  return s;
}

// The Gauss-net's heavy tails (docs/error_bars.md): N = 4, sb0 = 1, inputs
// near zero. The same seeds with the output layer integrated, then with the
// first-layer biases integrated as well (bias_integral.h), against the exact
// finite-width G2, G4_c and G6_c; the notes give the ratio of their standard
// errors.
Study GaussBiasStudy() {
  Study s;
  s.name = "gauss_bias";
  s.setup =
      "Gauss-net d=1, N=4, sw0=sw1=1, sb0=1, sb1=0.2, points -0.05,0.1, "
      "output layer integrated, without and with "
      "integrate_first_layer_bias; 64 x 1000 each";
  s.exact = "exact finite-width G2, G4_c, G6_c (PHYSICS.md single layer)";
  s.rows = {
      {"Gauss G2 mean, output layer", Reference::kStudentT, kChunks - 1},
      {"Gauss G2 mean, + first-layer bias", Reference::kStudentT, kChunks - 1},
      {"Gauss G4_c jackknife, output layer", Reference::kStudentT, kChunks - 1},
      {"Gauss G4_c jackknife, + first-layer bias", Reference::kStudentT,
       kChunks - 1},
      {"Gauss G6_c jackknife, output layer", Reference::kStudentT, kChunks - 1},
      {"Gauss G6_c jackknife, + first-layer bias", Reference::kStudentT,
       kChunks - 1}};
  // Per seed: stderr(output layer only) / stderr(bias integrated) of G2(0,1),
  // G4_c(0,0,1,1), G6_c(0,0,0,1,1,1).
  auto ratios = std::make_shared<std::vector<std::vector<double>>>();
  s.run = [ratios](uint64_t seed, int threads) {
    ExperimentSpec spec;
    spec.architecture = GaussNetSpec{
        .input_dim = 1, .width = 4, .sw0 = 1, .sb0 = 1, .sw1 = 1, .sb1 = 0.2};
    // Not +-x: there G2(0,1) and G4(0,0,1,1) come out exact (no variance).
    spec.points = Points1d({-0.05, 0.1});
    spec.observables.orders = {2, 4, 6};
    spec.sampling = {.seed = 70000 + seed,
                     .num_networks = kChunks * 1000,
                     .chunk_size = 1000,
                     .integrate_output_layer = true};
    const McRun plain = RunMc(spec, threads);
    spec.sampling.integrate_first_layer_bias = true;
    const McRun bias = RunMc(spec, threads);
    std::vector<Sample> out;
    std::vector<double> ratio;
    for (const Tuple& t :
         {Tuple{0, 1}, Tuple{0, 0, 1, 1}, Tuple{0, 0, 0, 1, 1, 1}}) {
      const bool connected = t.size() > 2;  // G2 = G2_c here
      for (const McRun* run : {&plain, &bias}) {
        const CorrelatorEstimate& e = run->estimate;
        const int i = EntryOf(e, t);
        out.push_back(connected
                          ? Sample{Z(e.connected[i], e.stderr_connected[i],
                                     run->theory.exact_connected[i]),
                                   Flagged(e, i)}
                          : Sample{Z(e.mean[i], e.stderr_mean[i],
                                     run->theory.exact_full[i]),
                                   Flagged(e, i)});
      }
      const int i = EntryOf(plain.estimate, t);
      ratio.push_back(connected ? plain.estimate.stderr_connected[i] /
                                      bias.estimate.stderr_connected[i]
                                : plain.estimate.stderr_mean[i] /
                                      bias.estimate.stderr_mean[i]);
    }
    ratios->push_back(ratio);
    return out;
  };
  s.notes = [ratios]() {
    return RatioNotes("stderr(output layer only) / stderr(bias integrated)",
                      {"G2(0,1)", "G4_c(0,0,1,1)", "G6_c(0,0,0,1,1,1)"},
                      *ratios, 0);
  };
  return s;
}

}  // namespace

std::vector<Study> BasicStudies() {
  return {MomentsStudy(),    MomentsIntegratedStudy(), DeformedStudy(),
          WidthSweepStudy(), ReflectionStudy(),        NullConeStudy(),
          GaussBiasStudy()};
}

std::vector<Study> AllStudies() {
  std::vector<Study> all = BasicStudies();
  for (Study& s : AnalysisStudies()) all.push_back(std::move(s));
  return all;
}

}  // namespace nnft::coverage
