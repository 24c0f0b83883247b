// Prometheus metrics of the server, served over HTTP at /metrics on their own
// port (prometheus-cpp's Exposer, civetweb). Scraped values:
//
//   nnft_jobs{state}                       gauge: jobs in memory by state
//   nnft_queue_depth                       gauge: jobs waiting to run
//   nnft_job_queue_wait_seconds            histogram: creation to start
//   nnft_job_run_seconds{state}            histogram: a run's length by how
//                                          it ended (QUEUED: drained)
//   nnft_store_lookups_total{result}       counter: jobs by what the store held
//                                          (hit: all chunks, at submission;
//                                          partial / miss: when a run starts)
//   nnft_chunks_computed_total             counter: chunks computed (rate():
//                                          chunks per second)
//   nnft_networks_computed_total           counter: networks in them
//   nnft_chunks_from_store_total           counter: chunks found stored
//   nnft_jobs_submitted_total              counter: accepted submissions
//   nnft_rpc_requests_total{method,code}   counter: finished RPCs
//   nnft_rpc_duration_seconds{method,code} histogram: call start to status
//                                          (streams: the whole stream)
//
// Job counters are read from the JobManager at each scrape; RPCs are timed by
// a gRPC server interceptor; queue waits and run times come through
// JobManagerOptions::observer.
//
// Thread safety: every method may be called from any thread.
#ifndef NNFT_SERVER_OPS_METRICS_H_
#define NNFT_SERVER_OPS_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/support/server_interceptor.h"
#include "server/jobs/job_manager.h"

namespace nnft::server {

class ServerMetrics {
 public:
  // Starts serving /metrics on `listen` (host:port; port 0 picks a free
  // one). Unavailable when it cannot bind.
  static absl::StatusOr<std::unique_ptr<ServerMetrics>> Start(
      const std::string& listen);
  ~ServerMetrics();

  // "host:port" actually bound.
  const std::string& address() const;

  // Job gauges and counters are read from `jobs` at each scrape from now on
  // (nullptr: stop reading). `jobs` must outlive the call with nullptr.
  void SetJobManager(const JobManager* jobs);

  // Feeds the queue-wait and run-time histograms.
  JobObserver Observer();

  // Times every RPC; register it with the ServerBuilder.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

  struct State;

 private:
  explicit ServerMetrics(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace nnft::server

#endif  // NNFT_SERVER_OPS_METRICS_H_
