// The two server-streaming calls of the Nnft service, as reactors (internal
// to the service; see service.h for the contract).
#ifndef NNFT_SERVER_SERVICE_STREAMS_H_
#define NNFT_SERVER_SERVICE_STREAMS_H_

#include <string>

#include "grpcpp/grpcpp.h"
#include "nnft/v1/nnft.grpc.pb.h"
#include "server/job_manager.h"
#include "server/work_pool.h"

namespace nnft::server {

// WatchJob: subscribes to the job and writes conflated updates until the job
// ends; the reactor deletes itself when the call is done.
grpc::ServerWriteReactor<v1::JobUpdate>* NewWatchReactor(
    JobManager* jobs, const v1::WatchJobRequest& request, std::string owner);

// GetResult: folds the result on `pool`, then writes it in pieces
// (ResultPieces); the reactor deletes itself when the call is done.
grpc::ServerWriteReactor<v1::ResultPiece>* NewResultReactor(
    JobManager* jobs, WorkPool* pool, const v1::GetResultRequest& request,
    std::string owner);

// A stream refused before it starts (e.g. an unauthenticated caller):
// finishes at once with `status` and deletes itself when the call is done.
template <typename Message>
class FailedWriteReactor final : public grpc::ServerWriteReactor<Message> {
 public:
  explicit FailedWriteReactor(const grpc::Status& status) {
    this->Finish(status);
  }
  void OnDone() override { delete this; }
};

}  // namespace nnft::server

#endif  // NNFT_SERVER_SERVICE_STREAMS_H_
