// The nnft.v1.Nnft gRPC service over a JobManager (callback API).
//
// Reactors never block a gRPC thread on physics or on the result store:
// SubmitBatch (which validates and digests the specs and persists the jobs),
// the SubmitExperiment calls that write a job row (a new job, a join),
// ComputeKernel (the theory) and the preparation of GetResult (folding the
// stored chunks) run on the service's own small work pool; GetJob, ListJobs,
// CancelJob, DeleteJob and GetServerInfo answer inline from the job
// manager's memory, and so does a SubmitExperiment the job manager answers
// without a write (a repeat of a SUCCEEDED job, a retry, a refusal: its spec
// is validated and digested inline, which costs about what gRPC's parsing
// of it did). WatchJob subscribes to the job manager and
// writes conflated snapshots: while a write is in flight only the latest
// snapshot is kept, and the job's thread only stores it (conversion and writes
// run on the work pool or gRPC's threads). Dropping a watch unsubscribes and
// never cancels the job.
//
// Every error is mapped once, by ToGrpcStatus; messages name the request
// field ("spec.architecture.mlp.widths[0] = 0: must be in [1, 1000000]").
//
// Thread safety: the service may serve any number of calls at once. It must
// outlive the grpc::Server it is registered with (destroy the server, or
// wait for its Shutdown, first); the JobManager must outlive the service.
#ifndef NNFT_SERVER_API_SERVICE_H_
#define NNFT_SERVER_API_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/spec/spec.h"
#include "grpcpp/grpcpp.h"
#include "nnft/v1/nnft.grpc.pb.h"
#include "server/api/auth.h"
#include "server/api/service_streams.h"
#include "server/api/work_pool.h"
#include "server/jobs/job_manager.h"

namespace nnft::server {

struct ServiceOptions {
  // Limits every spec is validated against (also reported by GetServerInfo).
  // Must equal the job manager's (JobManagerOptions::limits; server.cc
  // passes one value to both): a submitted spec is validated here, once,
  // and the manager trusts it (SubmitRequest::spec_validated).
  Limits limits;
  // Reported by GetServerInfo: the job manager's settings and the server's.
  int max_queued_jobs = 10000;
  // Most entries of one SubmitBatch call; more answer INVALID_ARGUMENT
  // before any is looked at. >= 1.
  int max_batch_entries = 10000;
  int worker_threads = 0;  // OpenMP threads per job; 0: all cores
  std::string data_dir;
  std::string version = "0.0.0";
  // Threads of the work pool (submissions, kernels, result preparation); >= 1.
  int pool_threads = 4;
  // What all WatchJob streams together send per second, in bytes, about
  // (WatchUpdates); > 0.
  int64_t watch_bytes_per_second = int64_t{8} << 20;
  // Largest ComputeKernel response, in bytes (the API promises 1 MiB).
  int64_t max_kernel_response_bytes = int64_t{1} << 20;
  // Bearer-token check of every call; nullptr: none (every caller is the
  // anonymous owner ""). Not owned; must outlive the service.
  const TokenAuthenticator* auth = nullptr;
  // Reported by GetServerInfo: whether the server listens with TLS, and
  // whether it requires client certificates.
  bool tls = false;
  bool tls_client_auth = false;
};

// The caller's identity for job ownership: "" without authentication, else
// the principal of the call's bearer token (Unauthenticated when it has
// none or an unknown one). The one place the owner is derived from a call.
absl::StatusOr<std::string> CallerOwner(
    const TokenAuthenticator* auth, const grpc::CallbackServerContext* context);

// InvalidArgument unless `name` is "jobs/" followed by 16 lower-case hex
// digits (the job manager's names). `field` names the request field.
absl::Status CheckJobName(absl::string_view field, absl::string_view name);

// A lower bound on the size of ComputeKernel's answer for a valid `spec` and
// `cross_points` (Q) cross points, from its counts alone (no tuple is
// built): the P x P kernel, per requested tuple its indices and four
// doubles of theory, the P x Q cross kernel and, with training, the
// prediction (T (M + M^2 + 1) doubles, M = P + Q); apart, the NTK (P x P
// and P x Q doubles) when the architecture has one. Doubles, so that counts
// past 2^63 do not wrap.
struct KernelAnswerSize {
  double tuples = 0;     // requested tuples
  double min_bytes = 0;  // serialised bytes without the NTK, at least
  double ntk_bytes = 0;  // bytes the NTK and cross NTK add
};
KernelAnswerSize EstimateKernelAnswer(const ExperimentSpec& spec,
                                      int64_t cross_points = 0);

// The callback service with WatchJob registered raw (serialised messages),
// so that every watcher of an update writes the same serialised bytes
// (WatchUpdates). Spelled out rather than layered on CallbackService, whose
// typed WatchJob the raw one would hide.
using NnftCallbackBase = v1::Nnft::WithCallbackMethod_SubmitExperiment<
    v1::Nnft::WithCallbackMethod_SubmitBatch<
        v1::Nnft::WithCallbackMethod_GetJob<
            v1::Nnft::WithCallbackMethod_ListJobs<
                v1::Nnft::WithCallbackMethod_CancelJob<
                    v1::Nnft::WithCallbackMethod_DeleteJob<
                        v1::Nnft::WithRawCallbackMethod_WatchJob<
                            v1::Nnft::WithCallbackMethod_GetResult<
                                v1::Nnft::WithCallbackMethod_ComputeKernel<
                                    v1::Nnft::WithCallbackMethod_GetServerInfo<
                                        v1::Nnft::Service>>>>>>>>>>;

class NnftService final : public NnftCallbackBase {
 public:
  // `jobs` is not owned and must outlive the service.
  NnftService(JobManager* jobs, ServiceOptions options);
  // Waits for the work pool's tasks to finish.
  ~NnftService() override;

  // From now on SubmitExperiment answers UNAVAILABLE (retryable: the server
  // is going away); everything else keeps working. Call before
  // JobManager::Drain.
  void BeginDrain() { draining_.store(true); }

  grpc::ServerUnaryReactor* SubmitExperiment(
      grpc::CallbackServerContext* context,
      const v1::SubmitExperimentRequest* request, v1::Job* response) override;
  grpc::ServerUnaryReactor* SubmitBatch(
      grpc::CallbackServerContext* context,
      const v1::SubmitBatchRequest* request,
      v1::SubmitBatchResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request,
                                   v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::CancelJobRequest* request,
                                      v1::Job* response) override;
  grpc::ServerUnaryReactor* DeleteJob(
      grpc::CallbackServerContext* context, const v1::DeleteJobRequest* request,
      google::protobuf::Empty* response) override;
  using NnftCallbackBase::WatchJob;  // the synchronous form stays disabled
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchJob(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;
  grpc::ServerWriteReactor<v1::ResultPiece>* GetResult(
      grpc::CallbackServerContext* context,
      const v1::GetResultRequest* request) override;
  grpc::ServerUnaryReactor* ComputeKernel(
      grpc::CallbackServerContext* context,
      const v1::ComputeKernelRequest* request,
      v1::ComputeKernelResponse* response) override;
  grpc::ServerUnaryReactor* GetServerInfo(
      grpc::CallbackServerContext* context,
      const v1::GetServerInfoRequest* request,
      v1::ServerInfo* response) override;

 private:
  // The checks of one SubmitExperimentRequest the job manager does not make
  // (priority, request_id, free text, the spec's conversion with its limits)
  // and the job manager's request: shared by SubmitExperiment and each entry
  // of SubmitBatch.
  absl::StatusOr<SubmitRequest> PrepareSubmit(
      const v1::SubmitExperimentRequest& request,
      const std::string& owner) const;
  // SubmitExperiment's answer from the job manager's: converts the job and,
  // when `log`, logs the submission (job_submitted).
  absl::Status Answer(absl::StatusOr<JobSnapshot> job, v1::Job* response,
                      bool log);
  absl::Status Batch(const v1::SubmitBatchRequest& request,
                     const std::string& owner,
                     v1::SubmitBatchResponse* response);
  absl::Status List(const v1::ListJobsRequest& request,
                    const std::string& owner, v1::ListJobsResponse* response);
  absl::Status Kernel(const v1::ComputeKernelRequest& request,
                      v1::ComputeKernelResponse* response);
  absl::StatusOr<std::string> Caller(
      const grpc::CallbackServerContext* context) const {
    return CallerOwner(options_.auth, context);
  }

  std::atomic<bool> draining_{false};
  JobManager* const jobs_;
  const ServiceOptions options_;
  // Before pool_: the pool's last tasks (watch writes) still use it.
  std::unique_ptr<WatchUpdates> watch_updates_;
  std::unique_ptr<WorkPool> pool_;
};

}  // namespace nnft::server

#endif  // NNFT_SERVER_API_SERVICE_H_
