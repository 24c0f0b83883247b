// Server start-up and graceful drain. See server.h.
#include "server/ops/server.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "nnft/v1/nnft.grpc.pb.h"
#include "server/ops/log.h"
#include "server/spec/digest.h"

#ifndef NNFT_VERSION
#define NNFT_VERSION "0.0.0"
#endif

namespace nnft::server {

absl::Status ServerOptions::Validate() const {
  if (listen.empty()) {
    return absl::InvalidArgumentError("listen: must be host:port, not empty");
  }
  if (data_dir.empty()) {
    return absl::InvalidArgumentError("data_dir: must not be empty");
  }
  if (worker_threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker_threads = ", worker_threads, ": must be >= 0 (0: all cores)"));
  }
  if (max_queued_jobs < 1 || max_running_jobs < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_queued_jobs = ", max_queued_jobs,
        ", max_running_jobs = ", max_running_jobs, ": both must be >= 1"));
  }
  if (max_finished_jobs < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_finished_jobs = ", max_finished_jobs,
                     ": must be >= 0 (0: keep every job)"));
  }
  if (max_batch_entries < 1 || max_batch_entries > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch_entries = ", max_batch_entries,
                     ": must be in [1, 1000000]"));
  }
  if (max_message_bytes < (1 << 20) || max_message_bytes > (1 << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_message_bytes = ", max_message_bytes,
                     ": must be in [", 1 << 20, ", ", 1 << 30, "]"));
  }
  if (shutdown_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("shutdown_grace: must be >= 0");
  }
  if (watch_bytes_per_second < (int64_t{1} << 16) ||
      watch_bytes_per_second > (int64_t{1} << 30)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "watch_bytes_per_second = ", watch_bytes_per_second, ": must be in [",
        int64_t{1} << 16, ", ", int64_t{1} << 30, "]"));
  }
  if (tls_cert.empty() != tls_key.empty()) {
    return absl::InvalidArgumentError(
        "tls_cert and tls_key: give both (TLS on) or neither (plaintext)");
  }
  if (!tls_client_ca.empty() && tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "tls_client_ca: needs tls_cert and tls_key (client certificates are "
        "checked during the TLS handshake)");
  }
  if (!health_listen.empty() && health_listen == listen &&
      !absl::EndsWith(listen, ":0")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "health_listen = '", health_listen, "': must differ from listen"));
  }
  return absl::OkStatus();
}

namespace {

// The launcher as the job manager's chunk executor; null when off.
absl::StatusOr<std::shared_ptr<const Launcher>> MakeLauncher(
    const ServerOptions& o) {
  if (o.mpi_launcher.empty()) return nullptr;
  NNFT_ASSIGN_OR_RETURN(std::unique_ptr<Launcher> launcher,
                        Launcher::Create({.command = o.mpi_launcher,
                                          .ranks = o.mpi_ranks,
                                          .threads = o.mpi_threads,
                                          .worker = o.mpi_worker,
                                          .spec_dir = o.data_dir + "/launch"}));
  return std::shared_ptr<const Launcher>(std::move(launcher));
}

ChunkExecutor ExecutorOf(std::shared_ptr<const Launcher> launcher) {
  if (launcher == nullptr) return nullptr;
  return [launcher](const ExperimentSpec& spec,
                    const std::vector<int64_t>& chunks, int64_t num_sums,
                    const std::function<bool(ChunkSums)>& on_chunk,
                    const std::function<bool()>& stop) {
    return launcher->Run(spec, chunks, num_sums, on_chunk, stop);
  };
}

// "host:port" of `listen` with the port actually bound.
std::string BoundAddress(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  return absl::StrCat(listen.substr(0, colon), ":", port);
}

}  // namespace

absl::Status NnftServer::StartHealthPort() {
  // A server of its own: the default health service (added to every
  // builder) and nothing of the API.
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.health_listen,
                           grpc::InsecureServerCredentials(), &health_port_);
  health_server_ = builder.BuildAndStart();
  if (health_server_ == nullptr || health_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("health_listen = '",
                                               options_.health_listen,
                                               "': could not listen there"));
  }
  health_server_->GetHealthCheckService()->SetServingStatus(true);
  health_address_ = BoundAddress(options_.health_listen, health_port_);
  return absl::OkStatus();
}

absl::Status NnftServer::ReloadTokens() {
  if (auth_ == nullptr) {
    return absl::FailedPreconditionError(
        "no token_file: the server runs without tokens");
  }
  absl::Status status = auth_->Reload();
  if (status.ok()) {
    LogEvent("tokens_reloaded",
             {{"token_file", auth_->path()},
              {"tokens", static_cast<int64_t>(auth_->size())}});
  } else {
    LogEvent("tokens_reload_failed", {{"error", status.ToString()}});
  }
  return status;
}

absl::StatusOr<std::unique_ptr<NnftServer>> NnftServer::Start(
    ServerOptions options) {
  NNFT_RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<NnftServer> s(new NnftServer);
  s->options_ = std::move(options);
  const ServerOptions& o = s->options_;
  if (!o.metrics_listen.empty()) {
    NNFT_ASSIGN_OR_RETURN(s->metrics_, ServerMetrics::Start(o.metrics_listen));
  }
  NNFT_ASSIGN_OR_RETURN(s->launcher_, MakeLauncher(o));
  if (!o.token_file.empty()) {
    NNFT_ASSIGN_OR_RETURN(s->auth_, TokenAuthenticator::FromFile(o.token_file));
  }
  NNFT_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      ServerCredentials(TlsFiles{
          .cert = o.tls_cert, .key = o.tls_key, .client_ca = o.tls_client_ca}));
  NNFT_ASSIGN_OR_RETURN(
      s->jobs_,
      JobManager::Open(
          {.data_dir = o.data_dir,
           .worker_threads = o.worker_threads,
           .max_queued_jobs = o.max_queued_jobs,
           .max_finished_jobs = o.max_finished_jobs,
           .max_running_jobs = o.max_running_jobs,
           .limits = o.limits,
           .max_store_bytes = o.max_store_bytes,
           .admission = o.admission,
           .max_queued_jobs_per_owner = o.max_queued_jobs_per_principal,
           .max_running_jobs_per_owner = o.max_running_jobs_per_principal,
           .chunk_executor = ExecutorOf(s->launcher_),
           .observer = s->metrics_ ? s->metrics_->Observer() : JobObserver{}}));
  if (s->metrics_) s->metrics_->SetJobManager(s->jobs_.get());
  s->service_ = std::make_unique<NnftService>(
      s->jobs_.get(),
      ServiceOptions{.limits = o.limits,
                     .max_queued_jobs = o.max_queued_jobs,
                     .max_batch_entries = o.max_batch_entries,
                     .worker_threads = o.worker_threads,
                     .data_dir = o.data_dir,
                     .version = NNFT_VERSION,
                     .watch_bytes_per_second = o.watch_bytes_per_second,
                     .auth = s->auth_.get(),
                     .tls = !o.tls_cert.empty(),
                     .tls_client_auth = !o.tls_client_ca.empty()});
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.listen, credentials, &s->port_);
  builder.RegisterService(s->service_.get());
  builder.SetMaxReceiveMessageSize(o.max_message_bytes);
  builder.SetMaxSendMessageSize(o.max_message_bytes);
  if (s->metrics_) {
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(s->metrics_->InterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "listen = '", o.listen, "': could not listen there",
        o.tls_cert.empty() ? "" : " (or tls_cert/tls_key are not valid PEM)"));
  }
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  // Per-service health ("nnft.v1.Nnft") beside the overall "" status; the
  // drain's SetServingStatus(false) turns both to NOT_SERVING.
  s->server_->GetHealthCheckService()->SetServingStatus(
      nnft::v1::Nnft::service_full_name(), true);
  s->address_ = BoundAddress(o.listen, s->port_);
  if (!o.health_listen.empty()) NNFT_RETURN_IF_ERROR(s->StartHealthPort());
  if (!o.dashboard_listen.empty()) {
    NNFT_ASSIGN_OR_RETURN(
        s->dashboard_,
        DashboardServer::Start(s->jobs_.get(), {.listen = o.dashboard_listen,
                                                .limits = o.limits,
                                                .auth = s->auth_.get()}));
  }
  LogEvent(
      "server_started",
      {{"address", s->address_},
       {"tls", o.tls_cert.empty() ? "off" : "on"},
       {"client_certificates", o.tls_client_ca.empty() ? "off" : "required"},
       {"tokens", s->auth_ == nullptr ? int64_t{0}
                                      : static_cast<int64_t>(s->auth_->size())},
       {"health_address", s->health_address_},
       {"data_dir", o.data_dir},
       {"version", NNFT_VERSION},
       {"engine", EngineFingerprint()},
       {"worker_threads", o.worker_threads},
       {"max_queued_jobs", o.max_queued_jobs},
       {"max_finished_jobs", o.max_finished_jobs},
       {"metrics", s->metrics_address()},
       {"dashboard", s->dashboard_address()},
       {"mpi_launcher", o.mpi_launcher}});
  return s;
}

NnftServer::~NnftServer() { Shutdown(); }

void NnftServer::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (server_ == nullptr) return;
    LogEvent("drain_started", {{"address", address_}});
    server_->GetHealthCheckService()->SetServingStatus(false);
    if (health_server_ != nullptr) {
      health_server_->GetHealthCheckService()->SetServingStatus(false);
    }
    service_->BeginDrain();
    // Running jobs stop at their next chunk boundary and stay queued.
    jobs_->Drain();
    LogEvent("jobs_drained");
    const auto grace = absl::ToChronoMilliseconds(options_.shutdown_grace);
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
    if (metrics_) metrics_->SetJobManager(nullptr);
    dashboard_.reset();
    if (health_server_ != nullptr) {
      health_server_->Shutdown(std::chrono::system_clock::now());
      health_server_->Wait();
    }
    LogEvent("server_stopped", {{"address", address_}});
  });
}

int RunServer(const ServerOptions& options) {
  // Block the stop signals in every thread (threads inherit the mask), and
  // take them synchronously below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto server = NnftServer::Start(options);
  if (!server.ok()) {
    LogEvent("start_failed", {{"error", server.status().ToString()}});
    return 1;
  }
  if (!(*server)->metrics_address().empty()) {
    std::printf("metrics address=%s\n", (*server)->metrics_address().c_str());
  }
  if (!(*server)->health_address().empty()) {
    std::printf("health address=%s\n", (*server)->health_address().c_str());
  }
  if (!(*server)->dashboard_address().empty()) {
    std::printf("dashboard address=%s\n",
                (*server)->dashboard_address().c_str());
  }
  std::printf("listening address=%s\n", (*server)->address().c_str());
  std::fflush(stdout);
  int signal = 0;
  while (sigwait(&stop, &signal) == 0 && signal == SIGHUP) {
    (void)(*server)->ReloadTokens();
  }
  LogEvent("signal_received",
           {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Shutdown();
  server->reset();
  return 0;
}

}  // namespace nnft::server
