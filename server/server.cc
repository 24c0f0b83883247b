// Server start-up and graceful drain. See server.h.
#include "server/server.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/digest.h"
#include "server/log.h"

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
  if (max_message_bytes < (1 << 20) || max_message_bytes > (1 << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_message_bytes = ", max_message_bytes,
                     ": must be in [", 1 << 20, ", ", 1 << 30, "]"));
  }
  if (shutdown_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("shutdown_grace: must be >= 0");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<NnftServer>> NnftServer::Start(
    ServerOptions options) {
  NNFT_RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<NnftServer> s(new NnftServer);
  s->options_ = std::move(options);
  const ServerOptions& o = s->options_;
  NNFT_ASSIGN_OR_RETURN(
      s->jobs_, JobManager::Open({.data_dir = o.data_dir,
                                  .worker_threads = o.worker_threads,
                                  .max_queued_jobs = o.max_queued_jobs,
                                  .max_running_jobs = o.max_running_jobs,
                                  .limits = o.limits}));
  s->service_ = std::make_unique<NnftService>(
      s->jobs_.get(), ServiceOptions{.limits = o.limits,
                                     .max_queued_jobs = o.max_queued_jobs,
                                     .worker_threads = o.worker_threads,
                                     .data_dir = o.data_dir,
                                     .version = NNFT_VERSION});
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.listen, grpc::InsecureServerCredentials(),
                           &s->port_);
  builder.RegisterService(s->service_.get());
  builder.SetMaxReceiveMessageSize(o.max_message_bytes);
  builder.SetMaxSendMessageSize(o.max_message_bytes);
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("listen = '", o.listen, "': could not listen there"));
  }
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  const size_t colon = o.listen.rfind(':');
  s->address_ = absl::StrCat(o.listen.substr(0, colon), ":", s->port_);
  LogEvent("server_started", {{"address", s->address_},
                              {"data_dir", o.data_dir},
                              {"version", NNFT_VERSION},
                              {"engine", EngineFingerprint()},
                              {"worker_threads", o.worker_threads},
                              {"max_queued_jobs", o.max_queued_jobs}});
  return s;
}

NnftServer::~NnftServer() { Shutdown(); }

void NnftServer::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (server_ == nullptr) return;
    LogEvent("drain_started", {{"address", address_}});
    server_->GetHealthCheckService()->SetServingStatus(false);
    service_->BeginDrain();
    // Running jobs stop at their next chunk boundary and stay queued.
    jobs_->Drain();
    LogEvent("jobs_drained");
    const auto grace = absl::ToChronoMilliseconds(options_.shutdown_grace);
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
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
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto server = NnftServer::Start(options);
  if (!server.ok()) {
    LogEvent("start_failed", {{"error", server.status().ToString()}});
    return 1;
  }
  std::printf("listening address=%s\n", (*server)->address().c_str());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&stop, &signal);
  LogEvent("signal_received",
           {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Shutdown();
  server->reset();
  return 0;
}

}  // namespace nnft::server
