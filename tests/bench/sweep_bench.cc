// nnft-sweep-bench: the cost of a width sweep of 8 widths as one experiment
// against the same 8 widths submitted as 8 separate experiments, through a
// real nnft-server (started here with 2 worker threads and a fresh store).
// Each repeat uses fresh seeds, so nothing is answered from the store, and
// alternates which variant runs first. Prints one JSON line per repeat and
// a summary line (medians). One warm-up job runs first. A measurement, not
// in CTest.
//
//   build/bin/nnft-sweep-bench [--repeats=3] [--threads=2] [--networks=100000]
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "tests/e2e/server_process.h"

ABSL_FLAG(int, repeats, 3, "repeats of the pair of runs");
ABSL_FLAG(int, threads, 2, "server worker threads");
ABSL_FLAG(int64_t, networks, 100000, "networks per width");

namespace nnft::bench {
namespace {

namespace v1 = ::nnft::v1;

constexpr int kWidths[] = {8, 16, 32, 64, 128, 256, 512, 1024};

// An erf net at 4 points, G2 and G4 over every tuple.
v1::ExperimentSpec Base(uint64_t seed, int width) {
  v1::ExperimentSpec spec;
  v1::Mlp* mlp = spec.mutable_architecture()->mutable_mlp();
  mlp->set_input_dim(1);
  mlp->add_widths(width);
  mlp->set_activation(v1::ACTIVATION_ERF);
  for (double x : {-1.0, -0.25, 0.5, 1.25}) spec.add_points()->add_x(x);
  spec.mutable_observables()->add_orders(2);
  spec.mutable_observables()->add_orders(4);
  spec.mutable_sampling()->set_seed(seed);
  spec.mutable_sampling()->set_num_networks(absl::GetFlag(FLAGS_networks));
  spec.mutable_sampling()->set_chunk_size(1000);
  return spec;
}

bool WaitAll(const client::Client& c, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    absl::StatusOr<v1::Job> job = c.WaitForCompletion(name);
    if (!job.ok() || job->state() != v1::Job::SUCCEEDED) {
      std::fprintf(stderr, "sweep-bench: job %s did not succeed: %s\n",
                   name.c_str(),
                   job.ok() ? job->error_message().c_str()
                            : job.status().ToString().c_str());
      return false;
    }
  }
  return true;
}

// Seconds from submission to the last job's success (-1 on failure).
double RunSweep(const client::Client& c, uint64_t seed) {
  v1::ExperimentSpec spec = Base(seed, 1);
  for (int n : kWidths) spec.mutable_width_sweep()->add_widths(n);
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::Job> job = c.Submit(spec);
  if (!job.ok() || !WaitAll(c, {job->name()})) return -1;
  return absl::ToDoubleSeconds(absl::Now() - start);
}

double RunSeparate(const client::Client& c, uint64_t seed) {
  const absl::Time start = absl::Now();
  std::vector<std::string> names;
  for (int n : kWidths) {
    absl::StatusOr<v1::Job> job = c.Submit(Base(seed, n));
    if (!job.ok()) return -1;
    names.push_back(job->name());
  }
  if (!WaitAll(c, names)) return -1;
  return absl::ToDoubleSeconds(absl::Now() - start);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

int Main() {
  e2e::TempDir tmp;
  absl::StatusOr<std::unique_ptr<e2e::ServerProcess>> server =
      e2e::ServerProcess::Start(
          {.data_dir = tmp.path() + "/data",
           .worker_threads = absl::GetFlag(FLAGS_threads)});
  if (!server.ok()) {
    std::fprintf(stderr, "sweep-bench: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<client::Client> c = (*server)->NewClient();
  const uint64_t seed = static_cast<uint64_t>(absl::ToUnixMicros(absl::Now()));
  // Warm-up (store created, pages touched, threads started): not reported.
  {
    absl::StatusOr<v1::Job> warm = c->Submit(Base(seed - 1, 256));
    if (!warm.ok() || !WaitAll(*c, {warm->name()})) return 1;
  }
  std::vector<double> sweeps, separates, ratios;
  for (int r = 0; r < absl::GetFlag(FLAGS_repeats); ++r) {
    double sweep = 0, separate = 0;
    if (r % 2 == 0) {
      sweep = RunSweep(*c, seed + 2 * r);
      separate = RunSeparate(*c, seed + 2 * r + 1);
    } else {
      separate = RunSeparate(*c, seed + 2 * r + 1);
      sweep = RunSweep(*c, seed + 2 * r);
    }
    if (sweep < 0 || separate < 0) return 1;
    sweeps.push_back(sweep);
    separates.push_back(separate);
    ratios.push_back(sweep / separate);
    std::printf(
        "{\"figure\": \"sweep_vs_separate\", \"repeat\": %d, \"widths\": 8, "
        "\"networks_per_width\": %lld, \"sweep_seconds\": %.3f, "
        "\"separate_seconds\": %.3f, \"ratio\": %.4f}\n",
        r, static_cast<long long>(absl::GetFlag(FLAGS_networks)), sweep,
        separate, sweep / separate);
    std::fflush(stdout);
  }
  std::printf(
      "{\"figure\": \"sweep_vs_separate_median\", \"sweep_seconds\": %.3f, "
      "\"separate_seconds\": %.3f, \"ratio\": %.4f}\n",
      Median(sweeps), Median(separates), Median(ratios));
  (void)(*server)->Stop(SIGTERM);
  return 0;
}

}  // namespace
}  // namespace nnft::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return nnft::bench::Main();
}
