// nnft-server: flags -> ServerOptions -> RunServer (server/ops/server.h).
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "server/ops/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to listen on (port 0: any free port)");
ABSL_FLAG(std::string, data_dir, "./nnft-data",
          "directory of the result store and job queue");
ABSL_FLAG(int, worker_threads, 0, "OpenMP threads per job (0: all cores)");
ABSL_FLAG(int, max_queued_jobs, 10000,
          "queued jobs before submissions answer RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_finished_jobs, 20000,
          "jobs kept before the least recently used finished ones are "
          "retired (their chunks stay stored; 0: keep every job)");
ABSL_FLAG(int, max_batch_entries, 10000,
          "most entries of one SubmitBatch call (1 to 1000000); more answer "
          "INVALID_ARGUMENT");
ABSL_FLAG(int, max_running_jobs, 1, "jobs computed at once");
ABSL_FLAG(int, max_width, nnft::Limits{}.max_width, "largest hidden width");
ABSL_FLAG(int, max_points, nnft::Limits{}.max_points, "most points per spec");
ABSL_FLAG(int64_t, max_tuples, nnft::Limits{}.max_tuples,
          "most index tuples (with sub-multisets) per spec");
ABSL_FLAG(int64_t, max_networks, nnft::Limits{}.max_networks,
          "most networks per job");
ABSL_FLAG(int, max_message_bytes, 64 << 20,
          "largest gRPC message received or sent, in bytes");
ABSL_FLAG(int64_t, max_store_mb, 0,
          "cap on the result store file in MiB (0: none); at the cap writes "
          "fail as on a full disk");
ABSL_FLAG(int64_t, max_job_memory_mb, 8192,
          "per-job limit on estimated memory in MiB (0: none)");
ABSL_FLAG(int64_t, max_job_store_mb, 4096,
          "per-job limit on estimated stored sums in MiB (0: none)");
ABSL_FLAG(double, max_job_gflop, 1e7,
          "per-job limit on estimated work in GFLOP (0: none)");
ABSL_FLAG(int, max_queued_jobs_per_principal, 0,
          "jobs one principal may have queued (0: no limit)");
ABSL_FLAG(int, max_running_jobs_per_principal, 0,
          "jobs of one principal running at once (0: no limit)");
ABSL_FLAG(int, shutdown_grace_s, 5,
          "seconds calls in flight get to finish on SIGTERM/SIGINT");
ABSL_FLAG(int64_t, watch_kb_per_second, 8192,
          "what all WatchJob streams together send per second, in KiB, on "
          "average (64 to 1048576); a watcher whose turn is later gets the "
          "latest update then");
// Operations: metrics and the MPI launcher.
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port of the Prometheus /metrics endpoint (port 0: any free "
          "port); empty: no metrics");
ABSL_FLAG(std::string, mpi_launcher, "",
          "compute jobs through this command (run by /bin/sh) instead of in "
          "process; placeholders {ranks} {threads} {worker} {args}, e.g. "
          "'mpirun -np {ranks} {worker} {args}'; empty: in process");
ABSL_FLAG(int, mpi_ranks, 2, "{ranks} of --mpi_launcher");
ABSL_FLAG(int, mpi_threads, 1,
          "{threads} of --mpi_launcher: OpenMP threads per rank");
ABSL_FLAG(std::string, mpi_worker, "",
          "{worker} of --mpi_launcher; empty: nnft-mpi-worker beside "
          "nnft-server");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM server certificate chain: TLS on the API port (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM roots: require client certificates signed by them (with TLS)");
ABSL_FLAG(std::string, token_file, "",
          "bearer tokens, lines '<token> <principal>' ('#' comments); every "
          "API call then needs 'authorization: Bearer <token>'; SIGHUP "
          "reloads it");
ABSL_FLAG(std::string, health_listen, "",
          "host:port of a plaintext port serving only grpc.health.v1 "
          "(for probes that cannot speak TLS)");
ABSL_FLAG(std::string, dashboard_listen, "",
          "host:port of the read-only job dashboard, an HTTP page with "
          "progress and plots (port 0: any free port; same tokens as the "
          "API); empty: none");

namespace {

// Abseil's --help lists only flags defined in a file named after the program
// (nnft-server.cc, nnft-server_main.cc, ...), so with the flags in
// server/ops/main.cc it printed "No flags matched". Every flag of this binary's
// own sources is listed instead; Abseil's own flags stay under --helpfull.
bool IsOwnFlagFile(absl::string_view file) {
  return !absl::StrContains(file, "absl/");
}

// `--help`, `-help` or `-h` before any `--`.
bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-help" || arg == "-h") return true;
  }
  return false;
}

// Usage and this binary's own flags on stdout. Abseil's --help handling would
// print much the same but exit 1; help that was asked for is a success.
void PrintHelp() {
  std::vector<const absl::CommandLineFlag*> own;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsOwnFlagFile(flag->Filename())) own.push_back(flag);
  }
  std::sort(own.begin(), own.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::printf("nnft-server: %s\n\nflags:\n",
              std::string(absl::ProgramUsageMessage()).c_str());
  for (const absl::CommandLineFlag* flag : own) {
    std::printf("  --%s  %s (default: %s)\n", std::string(flag->Name()).c_str(),
                flag->Help().c_str(), flag->DefaultValue().c_str());
  }
  std::printf("\n--helpfull lists Abseil's own flags too.\n");
}

// OpenMP threads that wait passively (sleep) between parallel regions
// instead of spinning. libgomp spins by default after each region; the
// server runs one region per job, so between many small jobs the idle team
// spun on the cores that the runner, the store and gRPC needed (81% of the
// server's samples in a batch of 10,000 tiny jobs; passive waiting finished
// it 3.5-4 times sooner; docs/benchmarks.md). libgomp reads the variable
// once, when it is loaded, before main: when it is unset the server sets it
// and executes itself again, so the policy holds however the server is
// started (tests, containers, by hand). An explicit OMP_WAIT_POLICY (e.g.
// "active") is kept; if the exec fails the server runs on with the default.
void WaitPassivelyBetweenRegions(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/0) != 0) return;
  execv("/proc/self/exe", argv);
}

}  // namespace

int main(int argc, char** argv) {
  WaitPassivelyBetweenRegions(argv);
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = IsOwnFlagFile;
  usage.contains_helpshort_flags = IsOwnFlagFile;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "neural-network field theory correlators over gRPC.\n"
      "usage: nnft-server [--listen=HOST:PORT] [--data_dir=DIR] [flags]\n"
      "Drains gracefully on SIGTERM/SIGINT; SIGHUP reloads --token_file.\n"
      "Serves nnft.v1.Nnft, grpc.health.v1 (overall and per service) and\n"
      "server reflection (grpc.reflection.v1alpha).");
  if (WantsHelp(argc, argv)) {
    PrintHelp();
    return 0;
  }
  absl::ParseCommandLine(argc, argv);
  nnft::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  options.max_queued_jobs = absl::GetFlag(FLAGS_max_queued_jobs);
  options.max_batch_entries = absl::GetFlag(FLAGS_max_batch_entries);
  options.max_finished_jobs = absl::GetFlag(FLAGS_max_finished_jobs);
  options.max_running_jobs = absl::GetFlag(FLAGS_max_running_jobs);
  options.limits.max_width = absl::GetFlag(FLAGS_max_width);
  options.limits.max_points = absl::GetFlag(FLAGS_max_points);
  options.limits.max_tuples = absl::GetFlag(FLAGS_max_tuples);
  options.limits.max_networks = absl::GetFlag(FLAGS_max_networks);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.max_store_bytes = absl::GetFlag(FLAGS_max_store_mb) << 20;
  options.admission.max_job_memory_bytes =
      absl::GetFlag(FLAGS_max_job_memory_mb) << 20;
  options.admission.max_job_store_bytes = absl::GetFlag(FLAGS_max_job_store_mb)
                                          << 20;
  options.admission.max_job_gflop = absl::GetFlag(FLAGS_max_job_gflop);
  options.max_queued_jobs_per_principal =
      absl::GetFlag(FLAGS_max_queued_jobs_per_principal);
  options.max_running_jobs_per_principal =
      absl::GetFlag(FLAGS_max_running_jobs_per_principal);
  options.shutdown_grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_s));
  options.watch_bytes_per_second = absl::GetFlag(FLAGS_watch_kb_per_second)
                                   << 10;
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.mpi_launcher = absl::GetFlag(FLAGS_mpi_launcher);
  options.mpi_ranks = absl::GetFlag(FLAGS_mpi_ranks);
  options.mpi_threads = absl::GetFlag(FLAGS_mpi_threads);
  options.mpi_worker = absl::GetFlag(FLAGS_mpi_worker);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  options.token_file = absl::GetFlag(FLAGS_token_file);
  options.health_listen = absl::GetFlag(FLAGS_health_listen);
  options.dashboard_listen = absl::GetFlag(FLAGS_dashboard_listen);
  return nnft::server::RunServer(options);
}
