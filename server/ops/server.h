// The nnft server process: options, start-up (job manager, service, health
// checking, reflection, message limits), and graceful drain. server/ops/main.cc
// only parses flags into ServerOptions and calls RunServer; tests start an
// NnftServer directly on port 0.
#ifndef NNFT_SERVER_OPS_SERVER_H_
#define NNFT_SERVER_OPS_SERVER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/spec/spec.h"
#include "grpcpp/grpcpp.h"
#include "server/api/auth.h"
#include "server/api/service.h"
#include "server/jobs/job_manager.h"
#include "server/ops/dashboard.h"
#include "server/ops/launcher.h"
#include "server/ops/metrics.h"

namespace nnft::server {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see NnftServer::port).
  std::string listen = "127.0.0.1:50051";
  // Directory of the result store and job queue; created if missing.
  std::string data_dir = "./nnft-data";
  // OpenMP threads per running job; 0: all cores. >= 0.
  int worker_threads = 0;
  // Queued jobs before SubmitExperiment answers RESOURCE_EXHAUSTED; >= 1.
  // As many as one full SubmitBatch (max_batch_entries), so that a scan of
  // 10,000 new specs fits a default server's queue: a queued job holds its
  // spec in memory, a few KiB for a small one.
  int max_queued_jobs = 10000;
  // Most entries of one SubmitBatch call; in [1, 1000000].
  int max_batch_entries = 10000;
  // Jobs kept before the least recently used finished ones are retired
  // (JobManagerOptions::max_finished_jobs); 0: keep every job. >= 0.
  int max_finished_jobs = 20000;
  // Jobs computed at once; >= 1.
  int max_running_jobs = 1;
  // Limits on every spec.
  Limits limits;
  // Largest message received or sent, in bytes; in [1 MiB, 1 GiB]. Requests
  // over it are refused by gRPC with RESOURCE_EXHAUSTED. Streamed results
  // never come near it.
  int max_message_bytes = 64 << 20;
  // Cap on the result store's file in bytes (0: none). At the cap, writes
  // fail as on a full disk: submissions answer RESOURCE_EXHAUSTED, running
  // jobs fail with it, stored results stay intact. >= 0.
  int64_t max_store_bytes = 0;
  // Per-job cost limits (server/jobs/admission.h) and, when tokens are on,
  // per-principal queued and running jobs (0: no limit).
  AdmissionLimits admission;
  int max_queued_jobs_per_principal = 0;
  int max_running_jobs_per_principal = 0;
  // How long Shutdown lets calls in flight finish before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(5);
  // What all WatchJob streams together send per second, in bytes, on
  // average (server/api/service_streams.h, WatchUpdates); in [64 KiB, 1 GiB].
  int64_t watch_bytes_per_second = int64_t{8} << 20;

  // --- operations: metrics and the MPI launcher ---
  // host:port of the Prometheus /metrics endpoint (server/ops/metrics.h); port
  // 0 picks a free port; "" serves no metrics.
  std::string metrics_listen{};
  // Launcher command template (server/ops/launcher.h): when set, jobs compute
  // their missing chunks through it instead of in this process.
  std::string mpi_launcher{};
  int mpi_ranks = 2;         // {ranks}
  int mpi_threads = 1;       // {threads}: OpenMP threads per rank
  std::string mpi_worker{};  // {worker}; "": nnft-mpi-worker beside the server
  // Security (all PEM or text files; "" leaves the feature off).
  // TLS on the API port: the server certificate chain and its key (both or
  // neither).
  std::string tls_cert;
  std::string tls_key;
  // With TLS: require client certificates signed by these roots.
  std::string tls_client_ca;
  // Bearer tokens: lines "<token> <principal>" (server/api/auth.h). Every
  // nnft.v1.Nnft call must then carry one, and jobs belong to their
  // submitter's principal. Health checking and reflection stay open.
  std::string token_file;
  // host:port of a second, plaintext port serving only grpc.health.v1 (for
  // probes that cannot speak TLS, such as Kubernetes' gRPC probes); "": none.
  std::string health_listen;
  // host:port of the read-only job dashboard (server/ops/dashboard.h; an HTTP
  // page and JSON, under the same tokens as the API); port 0 picks a free
  // port; "": none.
  std::string dashboard_listen;

  absl::Status Validate() const;
};

// A running server. Thread-safe.
class NnftServer {
 public:
  // Opens the job manager (resuming unfinished jobs), builds the service and
  // starts listening. Health status SERVING once it returns.
  static absl::StatusOr<std::unique_ptr<NnftServer>> Start(
      ServerOptions options);

  NnftServer(const NnftServer&) = delete;
  NnftServer& operator=(const NnftServer&) = delete;
  // Shutdown().
  ~NnftServer();

  // The port actually bound, and "host:port" with it.
  int port() const { return port_; }
  const std::string& address() const { return address_; }
  // "host:port" of /metrics; "" when metrics are off.
  std::string metrics_address() const {
    return metrics_ ? metrics_->address() : std::string();
  }
  // The health-only port (0 without health_listen), and "host:port".
  int health_port() const { return health_port_; }
  const std::string& health_address() const { return health_address_; }
  // "host:port" of the dashboard; "" without dashboard_listen.
  std::string dashboard_address() const {
    return dashboard_ ? dashboard_->address() : std::string();
  }

  // Re-reads the token file (SIGHUP in RunServer). FailedPrecondition
  // without one; on a parse error the old tokens stay in force.
  absl::Status ReloadTokens();
  JobManager* jobs() { return jobs_.get(); }
  NnftService* service() { return service_.get(); }
  grpc::Server* grpc_server() { return server_.get(); }

  // Graceful drain: health NOT_SERVING, JobManager::Drain (running jobs stop
  // at a chunk boundary, stored, and stay queued for the next start), then
  // grpc::Server::Shutdown with a deadline of shutdown_grace. Idempotent.
  void Shutdown();

 private:
  NnftServer() = default;

  absl::Status StartHealthPort();

  ServerOptions options_;
  int port_ = 0;
  std::string address_;
  std::unique_ptr<ServerMetrics> metrics_;    // null when off
  std::shared_ptr<const Launcher> launcher_;  // null: in-process engine
  int health_port_ = 0;
  std::string health_address_;
  std::unique_ptr<TokenAuthenticator> auth_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<NnftService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;
  // Reads jobs_: declared after it, so it stops first.
  std::unique_ptr<DashboardServer> dashboard_;
  std::once_flag shutdown_once_;
};

// Runs a server until SIGTERM or SIGINT, then drains it; SIGHUP reloads the
// token file. Prints "metrics address=<host:port>" (when metrics are on),
// "health address=<host:port>" (with health_listen) and
// "dashboard address=<host:port>" (with dashboard_listen), then
// "listening address=<host:port>" on stdout once serving. Returns the process
// exit status: 0 after a clean drain, 1 if the server could not start.
int RunServer(const ServerOptions& options);

}  // namespace nnft::server

#endif  // NNFT_SERVER_OPS_SERVER_H_
