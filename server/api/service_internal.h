// Helpers shared by the unary calls of the Nnft service (service.cc and
// service_submit.cc). Not for use outside the service.
#ifndef NNFT_SERVER_API_SERVICE_INTERNAL_H_
#define NNFT_SERVER_API_SERVICE_INTERNAL_H_

#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "server/api/grpc_status.h"
#include "server/api/work_pool.h"

namespace nnft::server::internal {

// Longest request_id, in characters (SubmitExperiment, SubmitBatch).
inline constexpr size_t kMaxRequestIdLength = 128;

// Runs `work` on the pool and finishes the call with its status.
template <typename Work>
grpc::ServerUnaryReactor* Offload(grpc::CallbackServerContext* context,
                                  WorkPool* pool, Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool->Run([reactor, work = std::move(work)]() mutable {
    reactor->Finish(ToGrpcStatus(work()));
  });
  return reactor;
}

// Finishes the call with `status` at once, on the calling thread.
inline grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace nnft::server::internal

#endif  // NNFT_SERVER_API_SERVICE_INTERNAL_H_
