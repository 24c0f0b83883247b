// The two server-streaming calls of the Nnft service, as reactors (internal
// to the service; see service.h for the contract).
#ifndef NNFT_SERVER_API_SERVICE_STREAMS_H_
#define NNFT_SERVER_API_SERVICE_STREAMS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "nnft/v1/nnft.grpc.pb.h"
#include "server/api/work_pool.h"
#include "server/jobs/job_manager.h"

namespace nnft::server {

// What the WatchJob streams of one service share:
// - the latest update of each (job, max_entries), converted and serialised
//   once and written by every watcher of that pair (the serialised bytes are
//   reference-counted, never copied per watcher);
// - the pacing of the streams: all of them together send about
//   `bytes_per_second` on average. A client's transport accepts megabytes
//   per stream whether or not the application reads them, so flow control
//   alone lets a few hundred streams that are never read cost the server
//   (and the jobs sharing its cores) gigabytes of serialising and copying.
//   Each write reserves its bytes in one leaky bucket: writes start in
//   reservation order, spaced by their sizes at that rate (bursts of
//   kBurst of it at once), and a watcher whose turn is later waits and then
//   writes the latest snapshot (conflated), its last one included: with
//   many watchers of large updates even a job's end reaches them late;
// - one timer thread that resumes the waiting watchers.
// Thread-safe.
class WatchUpdates {
 public:
  // bytes_per_second > 0.
  explicit WatchUpdates(int64_t bytes_per_second);
  ~WatchUpdates();  // joins the timer thread; no alarm may be pending

  struct Update {
    int64_t version = 0;
    grpc::ByteBuffer bytes;  // the serialised v1::JobUpdate
    int64_t size = 0;        // bytes.Length()
  };
  // The update of `snapshot` (from the cache when its version is there).
  std::shared_ptr<const Update> Get(const JobManager::SnapshotPtr& snapshot,
                                    int max_entries);

  // Reserves `bytes` of the budget; returns when the write may start (in
  // the past: at once).
  absl::Time Reserve(int64_t bytes);

  // Runs `fn` on the timer thread at `when`, or at once after Expedite(id).
  // Returns the alarm's id.
  int64_t SetAlarm(absl::Time when, std::function<void()> fn);
  // Runs the alarm `id` now if it has not run yet.
  void Expedite(int64_t id);

 private:
  static constexpr size_t kMaxEntries = 1024;
  // The bucket's depth, as time at the full rate.
  static constexpr absl::Duration kBurst = absl::Milliseconds(100);
  void AlarmLoop();

  const int64_t bytes_per_second_;
  absl::Mutex pace_mu_;
  // When the bucket is empty again, given the writes reserved so far.
  absl::Time next_free_ ABSL_GUARDED_BY(pace_mu_) = absl::InfinitePast();

  absl::Mutex mu_;
  // (name, max_entries) -> the latest update converted.
  std::map<std::pair<std::string, int>, std::shared_ptr<const Update>> latest_
      ABSL_GUARDED_BY(mu_);

  absl::Mutex alarm_mu_;
  absl::CondVar alarm_cv_;
  // (when, id) -> callback, and id -> when, of the alarms not yet run.
  std::map<std::pair<absl::Time, int64_t>, std::function<void()>> alarms_
      ABSL_GUARDED_BY(alarm_mu_);
  std::map<int64_t, absl::Time> alarm_times_ ABSL_GUARDED_BY(alarm_mu_);
  int64_t next_alarm_ ABSL_GUARDED_BY(alarm_mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(alarm_mu_) = false;
  std::thread alarm_thread_;
};

// WatchJob: subscribes to the job and writes conflated, paced updates until
// the job ends; conversions and writes run on `pool`, gRPC's threads or the
// timer thread, never on the job's. The reactor deletes itself when the call
// is done.
// The request arrives serialised (the method is registered raw, so that the
// updates written can be shared bytes): InvalidArgument if it does not parse.
grpc::ServerWriteReactor<grpc::ByteBuffer>* NewWatchReactor(
    JobManager* jobs, WorkPool* pool, WatchUpdates* updates,
    const grpc::ByteBuffer& request, std::string owner);

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

#endif  // NNFT_SERVER_API_SERVICE_STREAMS_H_
