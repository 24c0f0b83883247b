// nnft-bench: times the Monte-Carlo engine on one experiment and prints one
// JSON line (networks_per_second, wall_seconds, cpu_seconds, peak_rss_bytes,
// threads, precision, networks, workload; with --result also the full estimate:
// tuples, means, standard errors, connected parts, exact values, z-scores).
//
//   nnft-bench --workload=W1 [--threads=2] [--precision=float32|float64]
//              [--networks=N] [--width=N] [--integrate=true|false] [--result]
//   nnft-bench --spec=experiment.json [same overrides]
//
// W1, the standard workload: one hidden layer, erf, d = 1, N = 1000, points
// x = -1.5, -1.0, ..., 1.0 (P = 6), sw0 = sw1 = 1, sb0 = sb1 = 0, G2 and G4
// over all tuples, 10^5 networks in chunks of 1000. Only RunChunks is timed.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/estimate/compare.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/theory/theory.h"
#ifdef NNFT_BENCH_HAVE_SPEC_JSON
#include "server/spec/spec_proto.h"
#endif

namespace nnft {
namespace {

struct Flags {
  std::string workload = "W1";
  std::string spec_path;
  int threads = 2;
  std::string precision;  // empty: the spec's
  int64_t networks = 0;   // 0: the spec's
  int width = 0;          // 0: the spec's (W1 only)
  std::string integrate;  // empty: the spec's
  bool result = false;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const auto eq = a.find('=');
    const std::string key = a.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    bool ok = true;
    if (key == "--workload") {
      f.workload = value;
    } else if (key == "--spec") {
      f.spec_path = value;
      f.workload = value;
    } else if (key == "--threads") {
      ok = absl::SimpleAtoi(value, &f.threads) && f.threads >= 0;
    } else if (key == "--precision") {
      f.precision = value;
      ok = value == "float32" || value == "float64";
    } else if (key == "--networks") {
      ok = absl::SimpleAtoi(value, &f.networks) && f.networks > 0;
    } else if (key == "--width") {
      ok = absl::SimpleAtoi(value, &f.width) && f.width > 0;
    } else if (key == "--integrate") {
      f.integrate = value.empty() ? "true" : value;
      ok = f.integrate == "true" || f.integrate == "false";
    } else if (key == "--result") {
      f.result = true;
    } else {
      ok = false;
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad flag ", a,
          ": use --workload=W1 | --spec=FILE, --threads=N>=0, "
          "--precision=float32|float64, --networks=N>0, --width=N>0, "
          "--integrate=true|false, --result"));
    }
  }
  return f;
}

ExperimentSpec W1() {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 1,
                              .widths = {1000},
                              .activation = Activation::kErf,
                              .sw = {1.0, 1.0},
                              .sb = {0.0, 0.0}};
  spec.points.resize(6, 1);
  for (int p = 0; p < 6; ++p) spec.points(p, 0) = -1.5 + 0.5 * p;
  spec.observables.orders = {2, 4};
  spec.sampling.seed = 1;
  spec.sampling.num_networks = 100000;
  spec.sampling.chunk_size = 1000;
  return spec;
}

absl::StatusOr<ExperimentSpec> LoadSpec(const Flags& f) {
  ExperimentSpec spec;
  if (!f.spec_path.empty()) {
#ifdef NNFT_BENCH_HAVE_SPEC_JSON
    std::ifstream in(f.spec_path);
    if (!in) return absl::NotFoundError("cannot read " + f.spec_path);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = server::SpecFromJson(text.str());
    if (!parsed.ok()) return parsed.status();
    spec = *std::move(parsed);
#else
    return absl::UnimplementedError("built without nnft_spec: --spec");
#endif
  } else if (f.workload == "W1") {
    spec = W1();
  } else {
    return absl::InvalidArgumentError("--workload=" + f.workload +
                                      ": only W1 is built in");
  }
  if (f.width > 0) {
    auto* mlp = std::get_if<MlpSpec>(&spec.architecture);
    if (mlp == nullptr)
      return absl::InvalidArgumentError("--width needs an MLP");
    mlp->widths.back() = f.width;
  }
  if (!f.precision.empty()) {
    spec.sampling.precision =
        f.precision == "float32" ? Precision::kFloat32 : Precision::kFloat64;
  }
  if (f.networks > 0) spec.sampling.num_networks = f.networks;
  if (!f.integrate.empty()) {
    spec.sampling.integrate_output_layer = f.integrate == "true";
  }
  return spec;
}

std::string Num(double x) {
  if (!std::isfinite(x)) return "null";
  return absl::StrFormat("%.10g", x);
}

std::string NumList(const std::vector<double>& v) {
  return absl::StrCat(
      "[",
      absl::StrJoin(v, ",",
                    [](std::string* out, double x) { out->append(Num(x)); }),
      "]");
}

// The estimate, theory and z-scores as a JSON object.
std::string ResultJson(const ExperimentSpec& spec, const TupleSet& tuples,
                       const CorrelatorEstimate& e) {
  std::vector<std::string> ts;
  for (const Tuple& t : e.tuples) {
    ts.push_back(absl::StrCat("[", absl::StrJoin(t, ","), "]"));
  }
  std::string out = absl::StrCat(
      "{\"tuples\":[", absl::StrJoin(ts, ","), "],\"mean\":", NumList(e.mean),
      ",\"stderr\":", NumList(e.stderr_mean),
      ",\"connected\":", NumList(e.connected),
      ",\"stderr_connected\":", NumList(e.stderr_connected),
      ",\"chunks\":", e.chunks, ",\"bins\":", e.bins);
  auto theory = ComputeTheory(spec, tuples);
  if (theory.ok()) {
    const bool exact = theory->has_exact;
    const auto& full = exact ? theory->exact_full : theory->gp_full;
    const auto& conn = exact ? theory->exact_connected : theory->gp_connected;
    absl::StrAppend(&out, ",\"theory\":\"", exact ? "exact" : "gaussian",
                    "\",\"exact\":", NumList(full),
                    ",\"exact_connected\":", NumList(conn),
                    ",\"z\":", NumList(Compare(e.mean, e.stderr_mean, full).z),
                    ",\"z_connected\":",
                    NumList(Compare(e.connected, e.stderr_connected, conn).z));
  } else {
    absl::StrAppend(&out, ",\"theory_error\":\"", theory.status().message(),
                    "\"");
  }
  return out + "}";
}

int Main(int argc, char** argv) {
  auto flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr << flags.status() << "\n";
    return 2;
  }
  auto spec = LoadSpec(*flags);
  if (!spec.ok()) {
    std::cerr << spec.status() << "\n";
    return 2;
  }
  auto engine = Engine::Create(*spec);
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    return 2;
  }
  const int64_t chunks = NumChunks(spec->sampling);
  MomentAccumulator acc((*engine)->tuples(), spec->sampling.seed);
  std::map<int64_t, ChunkSums> pending;  // out-of-order chunks, few
  absl::Status fold = absl::OkStatus();
  struct rusage usage0;
  getrusage(RUSAGE_SELF, &usage0);
  const double cpu_start =
      usage0.ru_utime.tv_sec + usage0.ru_stime.tv_sec +
      1e-6 * (usage0.ru_utime.tv_usec + usage0.ru_stime.tv_usec);
  const auto start = std::chrono::steady_clock::now();
  absl::Status run =
      (*engine)->RunChunks(0, chunks, flags->threads, [&](ChunkSums c) {
        pending.emplace(c.chunk, std::move(c));
        while (!pending.empty() && pending.begin()->first == acc.chunks()) {
          fold.Update(acc.Add(pending.begin()->second));
          pending.erase(pending.begin());
        }
        return fold.ok();
      });
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!run.ok() || !fold.ok()) {
    std::cerr << run << " " << fold << "\n";
    return 1;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                     1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) -
                     cpu_start;
  const int64_t networks = chunks * spec->sampling.chunk_size;
  std::string line = absl::StrCat(
      "{\"networks_per_second\":", Num(networks / wall),
      ",\"wall_seconds\":", Num(wall),
      // CPU seconds of the process during the run: on a shared machine,
      // networks / cpu_seconds * threads is the rate with the cores to itself.
      ",\"cpu_seconds\":", Num(cpu),
      ",\"peak_rss_bytes\":", int64_t{usage.ru_maxrss} * 1024,
      ",\"threads\":", flags->threads, ",\"precision\":\"",
      spec->sampling.precision == Precision::kFloat32 ? "float32" : "float64",
      "\",\"integrate_output_layer\":",
      spec->sampling.integrate_output_layer ? "true" : "false",
      ",\"networks\":", networks, ",\"workload\":\"", flags->workload, "\"");
  if (flags->result) {
    const CorrelatorEstimate e = acc.Finish();
    absl::StrAppend(&line,
                    ",\"result\":", ResultJson(*spec, (*engine)->tuples(), e));
  }
  std::cout << line << "}" << std::endl;
  return 0;
}

}  // namespace
}  // namespace nnft

int main(int argc, char** argv) { return nnft::Main(argc, argv); }
