// The two server-streaming calls of the Nnft service, as reactors (internal
// to the service; see service.h for the contract).
#ifndef NNFT_SERVER_SERVICE_STREAMS_H_
#define NNFT_SERVER_SERVICE_STREAMS_H_

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "nnft/v1/nnft.grpc.pb.h"
#include "server/job_manager.h"
#include "server/work_pool.h"

namespace nnft::server {

// The latest WatchJob update of each (job, max_entries), converted once and
// shared by every watcher that writes it. Thread-safe.
class WatchUpdates {
 public:
  // The update of `snapshot` (from the cache when its version is there).
  std::shared_ptr<const v1::JobUpdate> Get(
      const JobManager::SnapshotPtr& snapshot, int max_entries);

 private:
  static constexpr size_t kMaxEntries = 1024;
  absl::Mutex mu_;
  // (name, max_entries) -> (version, update).
  std::map<std::pair<std::string, int>,
           std::pair<int64_t, std::shared_ptr<const v1::JobUpdate>>>
      latest_ ABSL_GUARDED_BY(mu_);
};

// WatchJob: subscribes to the job and writes conflated updates until the job
// ends; conversions and writes run on `pool` or gRPC's threads, never on the
// job's. The reactor deletes itself when the call is done.
grpc::ServerWriteReactor<v1::JobUpdate>* NewWatchReactor(
    JobManager* jobs, WorkPool* pool, WatchUpdates* updates,
    const v1::WatchJobRequest& request, std::string owner);

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
