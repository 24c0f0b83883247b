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

class WatchReactor final : public grpc::ServerWriteReactor<v1::JobUpdate> {
 public:
  WatchReactor(JobManager* jobs, const v1::WatchJobRequest& request,
               std::string owner)
      : jobs_(jobs), name_(request.name()) {
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
          name_, [this](const JobSnapshot& s) { OnSnapshot(s); }, owner);
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
    Pump();
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

  void OnDone() override {
    // Never cancels the job: the watcher only goes away.
    if (subscription_ >= 0) jobs_->Unsubscribe(subscription_);
    LogEvent("watch_ended", {{"name", name_}});
    delete this;
  }

 private:
  void OnSnapshot(const JobSnapshot& snapshot) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      pending_ = snapshot;  // conflated: only the latest waits
    }
    Pump();
  }

  // Starts the next write, or finishes, as the state allows.
  void Pump() {
    enum { kNothing, kWrite, kFinishOk, kFinishCancelled } action = kNothing;
    {
      absl::MutexLock lock(&mu_);
      if (!started_ || finished_ || writing_) return;
      if (cancelled_) {
        action = kFinishCancelled;
        finished_ = true;
      } else if (pending_.has_value()) {
        update_ = JobUpdateToProto(*pending_, max_entries_);
        sent_terminal_ = IsTerminal(pending_->state);
        pending_.reset();
        writing_ = true;
        action = kWrite;
      } else if (sent_terminal_) {
        action = kFinishOk;
        finished_ = true;
      }
    }
    if (action == kWrite) StartWrite(&update_);
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
  const std::string name_;
  int max_entries_ = kDefaultWatchEntries;
  int64_t subscription_ = -1;  // set once, before any write starts

  absl::Mutex mu_;
  std::optional<JobSnapshot> pending_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool sent_terminal_ ABSL_GUARDED_BY(mu_) = false;
  // Written only by the thread that set writing_, read by gRPC until
  // OnWriteDone.
  v1::JobUpdate update_;
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

grpc::ServerWriteReactor<v1::JobUpdate>* NewWatchReactor(
    JobManager* jobs, const v1::WatchJobRequest& request, std::string owner) {
  return new WatchReactor(jobs, request, std::move(owner));
}

grpc::ServerWriteReactor<v1::ResultPiece>* NewResultReactor(
    JobManager* jobs, WorkPool* pool, const v1::GetResultRequest& request,
    std::string owner) {
  return new ResultReactor(jobs, pool, request, std::move(owner));
}

}  // namespace nnft::server
