// WatchJob and GetResult reactors. Each decides under its mutex and starts
// gRPC operations after releasing it, so a reaction run inline by gRPC never
// finds the mutex held. Invariants: at most one write in flight; Finish is
// called once, only when no write is in flight and none can start.
#include "server/api/service_streams.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/api/convert.h"
#include "server/api/grpc_status.h"
#include "server/api/service.h"
#include "server/ops/log.h"
#include "server/spec/digest.h"

namespace nnft::server {
namespace {

constexpr int kMaxWatchEntries = 4096;
constexpr int kDefaultWatchEntries = 64;

// Publishing to a watcher happens on the job's thread (JobManager::Notify):
// OnSnapshot only stores the shared snapshot (latest wins) and, when the
// watcher is idle, hands the write to the work pool. Conversions and writes
// run on the pool, on gRPC's threads or on the timer thread, never on the
// job's, so a client that does not read costs the job nothing; each watcher
// holds at most one pending snapshot (shared with the other watchers) and
// one update in flight (the shared serialised bytes of WatchUpdates).
// A watcher whose turn in WatchUpdates' budget is later waits for it
// (`waiting_`, with an alarm set), then writes the latest snapshot; a
// cancellation cuts the wait short.
class WatchReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  WatchReactor(JobManager* jobs, WorkPool* pool, WatchUpdates* updates,
               const grpc::ByteBuffer& raw_request, std::string owner)
      : jobs_(jobs), pool_(pool), updates_(updates) {
    v1::WatchJobRequest request;
    grpc::ByteBuffer copy(raw_request);  // Deserialize consumes its input
    absl::Status status =
        grpc::SerializationTraits<v1::WatchJobRequest>::Deserialize(&copy,
                                                                    &request)
                .ok()
            ? absl::OkStatus()
            : absl::InvalidArgumentError(
                  "request: not a serialised nnft.v1.WatchJobRequest");
    name_ = request.name();
    if (status.ok()) status = CheckJobName("name", request.name());
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
    Pump(From::kCallback);
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) cancelled_ = true;
    }
    Pump(From::kCallback);
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    Pump(From::kCallback);
  }

  void OnDone() override {
    // Never cancels the job: the watcher only goes away.
    if (subscription_ >= 0) jobs_->Unsubscribe(subscription_);
    LogEvent("watch_ended", {{"name", name_},
                             {"updates", updates_written_},
                             {"bytes", bytes_written_}});
    delete this;
  }

 private:
  // Who runs Pump: a gRPC reaction (or the constructor), the pool task
  // OnSnapshot scheduled, or the alarm of a wait.
  enum class From { kCallback, kTask, kAlarm };

  // On the job's thread: store, and hand off at most one pool task.
  void OnSnapshot(const JobManager::SnapshotPtr& snapshot) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      pending_ = snapshot;  // conflated: only the latest waits
      if (!started_ || writing_ || scheduled_ || waiting_) return;
      scheduled_ = true;  // no Finish (so no delete) until the task ran
    }
    pool_->Run([this] { Pump(From::kTask); });
  }

  // Starts the next write, waits for its turn, or finishes, as the state
  // allows. While a pool task is scheduled or an alarm is set, only that
  // task or alarm may act (it owns the reactor's life); while writing_ (a
  // write being prepared or in flight) only its thread.
  void Pump(From from) {
    enum { kNothing, kWrite, kExpedite, kFinishOk, kFinishCancelled };
    int action = kNothing;
    JobManager::SnapshotPtr next;
    int64_t reserved = -1;
    int64_t alarm = 0;
    {
      absl::MutexLock lock(&mu_);
      if (from == From::kTask) scheduled_ = false;
      if (from == From::kAlarm) waiting_ = false;
      if (!started_ || finished_ || writing_ || scheduled_) return;
      if (waiting_) {
        if (!cancelled_) return;
        action = kExpedite;  // the alarm then finishes the call
        alarm = alarm_;
      } else if (cancelled_) {
        action = kFinishCancelled;
        finished_ = true;
      } else if (pending_ != nullptr) {
        next = std::move(pending_);
        pending_ = nullptr;
        reserved = reserved_;
        reserved_ = -1;
        writing_ = true;
        action = kWrite;
      } else if (sent_terminal_) {
        action = kFinishOk;
        finished_ = true;
      }
    }
    switch (action) {
      case kWrite:
        Write(std::move(next), reserved);
        break;
      case kExpedite:
        updates_->Expedite(alarm);
        break;
      case kFinishOk:
        Finish(grpc::Status::OK);
        break;
      case kFinishCancelled:
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled"));
        break;
    }
  }

  // With writing_ set: writes `next` when `reserved` >= 0 bytes were
  // reserved for it (a larger update reserves the rest, to be paid by later
  // writers) or the budget has room now; else reserves its bytes and waits
  // for the turn, keeping the latest snapshot.
  void Write(JobManager::SnapshotPtr next, int64_t reserved) {
    update_ = updates_->Get(next, max_entries_);
    const bool terminal = IsTerminal(next->state);
    absl::Time start = absl::InfinitePast();
    if (reserved < 0) {
      start = updates_->Reserve(update_->size);
    } else if (update_->size > reserved) {
      updates_->Reserve(update_->size - reserved);
    }
    if (start > absl::Now()) {
      int64_t expedite = 0;
      {
        absl::MutexLock lock(&mu_);
        writing_ = false;
        if (pending_ == nullptr) pending_ = std::move(next);  // else newer
        reserved_ = update_->size;
        waiting_ = true;
        // Under mu_ (the lock order is mu_, then the alarms' lock), so
        // alarm_ always names the wait that waiting_ stands for.
        alarm_ = updates_->SetAlarm(start, [this] { Pump(From::kAlarm); });
        // Cancelled while this write was prepared.
        if (cancelled_) expedite = alarm_;
      }
      if (expedite != 0) updates_->Expedite(expedite);
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      sent_terminal_ = terminal;
    }
    ++updates_written_;
    bytes_written_ += update_->size;
    StartWrite(&update_->bytes);
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
  std::string name_;  // set by the constructor
  int max_entries_ = kDefaultWatchEntries;
  int64_t subscription_ = -1;  // set once, before any write starts

  absl::Mutex mu_;
  JobManager::SnapshotPtr pending_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool sent_terminal_ ABSL_GUARDED_BY(mu_) = false;
  // Bytes reserved for the next write (its turn comes with the alarm); -1:
  // none.
  int64_t reserved_ ABSL_GUARDED_BY(mu_) = -1;
  // The alarm of the current wait (while waiting_).
  int64_t alarm_ ABSL_GUARDED_BY(mu_) = 0;
  // The update being written (shared with other watchers of the same
  // version); read by gRPC until OnWriteDone.
  std::shared_ptr<const WatchUpdates::Update> update_;
  int64_t updates_written_ = 0, bytes_written_ = 0;  // as update_
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

WatchUpdates::WatchUpdates(int64_t bytes_per_second)
    : bytes_per_second_(bytes_per_second),
      alarm_thread_([this] { AlarmLoop(); }) {}

WatchUpdates::~WatchUpdates() {
  {
    absl::MutexLock lock(&alarm_mu_);
    stopping_ = true;
    alarm_cv_.Signal();
  }
  alarm_thread_.join();
}

std::shared_ptr<const WatchUpdates::Update> WatchUpdates::Get(
    const JobManager::SnapshotPtr& snapshot, int max_entries) {
  const std::pair<std::string, int> key(snapshot->name, max_entries);
  {
    absl::MutexLock lock(&mu_);
    auto it = latest_.find(key);
    if (it != latest_.end() && it->second->version == snapshot->version) {
      return it->second;
    }
  }
  auto update = std::make_shared<Update>();
  update->version = snapshot->version;
  bool own_buffer = false;
  const grpc::Status serialised =
      grpc::SerializationTraits<v1::JobUpdate>::Serialize(
          JobUpdateToProto(*snapshot, max_entries), &update->bytes,
          &own_buffer);
  if (!serialised.ok()) {
    // Only a message over 2 GiB fails; every update is far smaller.
    LogEvent("watch_serialise_failed",
             {{"name", snapshot->name}, {"error", serialised.error_message()}});
  }
  update->size = static_cast<int64_t>(update->bytes.Length());
  absl::MutexLock lock(&mu_);
  // Bounded: finished jobs' entries are dropped wholesale now and then.
  if (latest_.size() >= kMaxEntries) latest_.clear();
  std::shared_ptr<const Update>& slot = latest_[key];
  if (slot == nullptr || slot->version < update->version) slot = update;
  return update;
}

absl::Time WatchUpdates::Reserve(int64_t bytes) {
  absl::MutexLock lock(&pace_mu_);
  next_free_ = std::max(next_free_, absl::Now() - kBurst);
  const absl::Time start = next_free_;
  next_free_ += absl::Seconds(static_cast<double>(bytes) /
                              static_cast<double>(bytes_per_second_));
  return start;
}

int64_t WatchUpdates::SetAlarm(absl::Time when, std::function<void()> fn) {
  absl::MutexLock lock(&alarm_mu_);
  const int64_t id = next_alarm_++;
  alarms_.emplace(std::make_pair(when, id), std::move(fn));
  alarm_times_.emplace(id, when);
  alarm_cv_.Signal();
  return id;
}

void WatchUpdates::Expedite(int64_t id) {
  absl::MutexLock lock(&alarm_mu_);
  auto it = alarm_times_.find(id);
  if (it == alarm_times_.end()) return;  // it has run
  auto node = alarms_.extract(std::make_pair(it->second, id));
  it->second = absl::InfinitePast();
  node.key() = std::make_pair(absl::InfinitePast(), id);
  alarms_.insert(std::move(node));
  alarm_cv_.Signal();
}

void WatchUpdates::AlarmLoop() {
  absl::MutexLock lock(&alarm_mu_);
  while (true) {
    if (alarms_.empty()) {
      if (stopping_) return;
      alarm_cv_.Wait(&alarm_mu_);
      continue;
    }
    auto first = alarms_.begin();
    if (first->first.first > absl::Now() && !stopping_) {
      alarm_cv_.WaitWithDeadline(&alarm_mu_, first->first.first);
      continue;
    }
    std::function<void()> fn = std::move(first->second);
    alarm_times_.erase(first->first.second);
    alarms_.erase(first);
    alarm_mu_.Unlock();
    fn();
    alarm_mu_.Lock();
  }
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* NewWatchReactor(
    JobManager* jobs, WorkPool* pool, WatchUpdates* updates,
    const grpc::ByteBuffer& request, std::string owner) {
  return new WatchReactor(jobs, pool, updates, request, std::move(owner));
}

grpc::ServerWriteReactor<v1::ResultPiece>* NewResultReactor(
    JobManager* jobs, WorkPool* pool, const v1::GetResultRequest& request,
    std::string owner) {
  return new ResultReactor(jobs, pool, request, std::move(owner));
}

}  // namespace nnft::server
