// WatchJob and GetResult reactors. Each decides under its mutex and starts
// gRPC operations after releasing it, so a reaction run inline by gRPC never
// finds the mutex held. Invariants: at most one write in flight; Finish is
// called once, only when no write is in flight and none can start.
#include "server/service_streams.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/convert.h"
#include "server/digest.h"
#include "server/grpc_status.h"
#include "server/log.h"
#include "server/service.h"

namespace nnft::server {
namespace {

constexpr int kMaxWatchEntries = 4096;
constexpr int kDefaultWatchEntries = 64;

// Publishing to a watcher happens on the job's thread (JobManager::Notify):
// OnSnapshot only stores the shared snapshot (latest wins) and, when no
// write is in flight, hands the write to the work pool. Conversions and
// writes run on the pool or on gRPC's threads, never on the job's, so a
// client that does not read costs the job nothing; each watcher holds at
// most one pending snapshot (shared with the other watchers) and one update
// in flight (shared through the WatchUpdates cache).
class WatchReactor final : public grpc::ServerWriteReactor<v1::JobUpdate> {
 public:
  WatchReactor(JobManager* jobs, WorkPool* pool, WatchUpdates* updates,
               const v1::WatchJobRequest& request, std::string owner)
      : jobs_(jobs), pool_(pool), updates_(updates), name_(request.name()) {
    absl::Status status = CheckJobName("name", request.name());
    if (status.ok() && (request.max_entries() < 0 ||
                        request.max_entries() > kMaxWatchEntries)) {
      status = absl::InvalidArgumentError(absl::StrCat(
          "max_entries = ", request.max_entries(), ": must be in [0, ",
          kMaxWatchEntries, "] (0: ", kDefaultWatchEntries, ")"));
    }
    max_entries_ = request.max_entries() == 0 ? kDefaultWatchEntries
                                              : request.max_entries();
    if (status.ok()) {
      // The first snapshot arrives before Subscribe returns; writes start only
      // once the subscription id is known, so OnDone can always unsubscribe.
      auto id = jobs_->Subscribe(
          name_, [this](const JobManager::SnapshotPtr& s) { OnSnapshot(s); },
          owner);
      status = id.status();
      if (id.ok()) {
        absl::MutexLock lock(&mu_);
        subscription_ = *id;
        started_ = true;
      }
    }
    if (!status.ok()) {
      FinishOnce(ToGrpcStatus(status));
      return;
    }
    LogEvent("watch_started", {{"name", name_}});
    Pump(/*from_task=*/false);
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) cancelled_ = true;
    }
    Pump(/*from_task=*/false);
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    Pump(/*from_task=*/false);
  }

  void OnDone() override {
    // Never cancels the job: the watcher only goes away.
    if (subscription_ >= 0) jobs_->Unsubscribe(subscription_);
    LogEvent("watch_ended", {{"name", name_}});
    delete this;
  }

 private:
  // On the job's thread: store, and hand off at most one pool task.
  void OnSnapshot(const JobManager::SnapshotPtr& snapshot) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      pending_ = snapshot;  // conflated: only the latest waits
      if (!started_ || writing_ || scheduled_) return;
      scheduled_ = true;  // no Finish (so no delete) until the task ran
    }
    pool_->Run([this] { Pump(/*from_task=*/true); });
  }

  // Starts the next write, or finishes, as the state allows. While a pool
  // task is scheduled only that task may act (it owns the reactor's life).
  void Pump(bool from_task) {
    enum { kNothing, kWrite, kFinishOk, kFinishCancelled } action = kNothing;
    JobManager::SnapshotPtr next;
    {
      absl::MutexLock lock(&mu_);
      if (from_task) scheduled_ = false;
      if (!started_ || finished_ || writing_ || scheduled_) return;
      if (cancelled_) {
        action = kFinishCancelled;
        finished_ = true;
      } else if (pending_ != nullptr) {
        next = std::move(pending_);
        pending_ = nullptr;
        sent_terminal_ = IsTerminal(next->state);
        writing_ = true;
        action = kWrite;
      } else if (sent_terminal_) {
        action = kFinishOk;
        finished_ = true;
      }
    }
    if (action == kWrite) {
      // Only the thread that set writing_ touches update_ until OnWriteDone.
      update_ = updates_->Get(next, max_entries_);
      StartWrite(update_.get());
    }
    if (action == kFinishOk) Finish(grpc::Status::OK);
    if (action == kFinishCancelled) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled"));
    }
  }

  void FinishOnce(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(status);
  }

  JobManager* const jobs_;
  WorkPool* const pool_;
  WatchUpdates* const updates_;
  const std::string name_;
  int max_entries_ = kDefaultWatchEntries;
  int64_t subscription_ = -1;  // set once, before any write starts

  absl::Mutex mu_;
  JobManager::SnapshotPtr pending_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool sent_terminal_ ABSL_GUARDED_BY(mu_) = false;
  // The update being written (shared with other watchers of the same
  // version); read by gRPC until OnWriteDone.
  std::shared_ptr<const v1::JobUpdate> update_;
};

class ResultReactor final : public grpc::ServerWriteReactor<v1::ResultPiece> {
 public:
  ResultReactor(JobManager* jobs, WorkPool* pool,
                const v1::GetResultRequest& request, std::string owner)
      : name_(request.name()) {
    if (absl::Status s = CheckJobName("name", name_); !s.ok()) {
      {
        absl::MutexLock lock(&mu_);
        finished_ = true;
      }
      Finish(ToGrpcStatus(s));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      preparing_ = true;
    }
    pool->Run([this, jobs, owner = std::move(owner)] {
      Prepared(jobs->Result(name_, owner));
    });
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) cancelled_ = true;
    }
    Pump();
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    Pump();
  }

  void OnDone() override { delete this; }

 private:
  void Prepared(absl::StatusOr<JobResult> result) {
    {
      absl::MutexLock lock(&mu_);
      preparing_ = false;
      if (!result.ok()) {
        error_ = result.status();
      } else {
        LogEvent("result_streaming",
                 {{"name", name_},
                  {"entries", result->estimate.tuples.size()},
                  {"chunks", result->estimate.chunks}});
        pieces_.emplace(std::make_shared<const JobResult>(*std::move(result)),
                        EngineFingerprint());
      }
    }
    Pump();
  }

  void Pump() {
    std::optional<grpc::Status> finish;
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      if (preparing_ || finished_ || writing_) return;
      if (cancelled_) {
        finish = grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled");
      } else if (!error_.ok()) {
        finish = ToGrpcStatus(error_);
      } else if (pieces_->Next(&piece_)) {
        write = writing_ = true;
      } else {
        finish = grpc::Status::OK;
      }
      if (finish.has_value()) finished_ = true;
    }
    if (write) StartWrite(&piece_);
    if (finish.has_value()) Finish(*finish);
  }

  const std::string name_;
  absl::Mutex mu_;
  bool preparing_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::optional<ResultPieces> pieces_ ABSL_GUARDED_BY(mu_);
  v1::ResultPiece piece_;
};

}  // namespace

std::shared_ptr<const v1::JobUpdate> WatchUpdates::Get(
    const JobManager::SnapshotPtr& snapshot, int max_entries) {
  const std::pair<std::string, int> key(snapshot->name, max_entries);
  {
    absl::MutexLock lock(&mu_);
    auto it = latest_.find(key);
    if (it != latest_.end() && it->second.first == snapshot->version) {
      return it->second.second;
    }
  }
  auto update = std::make_shared<const v1::JobUpdate>(
      JobUpdateToProto(*snapshot, max_entries));
  absl::MutexLock lock(&mu_);
  // Bounded: finished jobs' entries are dropped wholesale now and then.
  if (latest_.size() >= kMaxEntries) latest_.clear();
  auto& slot = latest_[key];
  if (slot.second == nullptr || slot.first < snapshot->version) {
    slot = {snapshot->version, update};
  }
  return update;
}

grpc::ServerWriteReactor<v1::JobUpdate>* NewWatchReactor(
    JobManager* jobs, WorkPool* pool, WatchUpdates* updates,
    const v1::WatchJobRequest& request, std::string owner) {
  return new WatchReactor(jobs, pool, updates, request, std::move(owner));
}

grpc::ServerWriteReactor<v1::ResultPiece>* NewResultReactor(
    JobManager* jobs, WorkPool* pool, const v1::GetResultRequest& request,
    std::string owner) {
  return new ResultReactor(jobs, pool, request, std::move(owner));
}

}  // namespace nnft::server
