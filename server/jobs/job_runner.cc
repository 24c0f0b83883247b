// The executor side of the job manager: runner threads, the per-job run
// (missing chunks only, claims, prefix folding, early stop), and Result.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/analyses/experiment_result.h"
#include "core/estimate/estimate.h"
#include "core/estimate/tail_reach.h"
#include "core/sampling/engine.h"
#include "core/status_macros.h"
#include "core/theory/theory.h"
#include "server/jobs/admission.h"
#include "server/jobs/job_manager_internal.h"

namespace nnft::server {
namespace {

// Interim estimates are republished at most this often (Finish costs
// O(bins x tuples)); progress counts are published on every chunk.
constexpr absl::Duration kEstimateInterval = absl::Milliseconds(250);
// Watchers are notified at most this often while a job runs (and always on
// its end): each notification wakes gRPC threads that share the cores with
// the computation.
constexpr absl::Duration kProgressInterval = absl::Milliseconds(100);
// Wake-up period while waiting for chunks another job has claimed.
constexpr absl::Duration kClaimPoll = absl::Milliseconds(50);

// What one JobRun computes: the whole job, or one width of a sweep (whose
// earlier widths are complete and counted in the job's progress).
struct Segment {
  const ExperimentSpec* spec = nullptr;  // outlives the run
  std::string digest;
  int64_t num_chunks = 0;
  int width_index = -1;  // index into Job::sweep; -1 for a single experiment
  int64_t chunks_before = 0;      // chunks of the earlier widths
  int64_t from_store_before = 0;  // of them, found stored
};

struct RunOutcome {
  absl::Status status;
  bool complete = false;    // every chunk folded (or the target reached)
  int64_t chunks_used = 0;  // chunks the result uses
  int64_t from_store = 0;   // of them, not computed by this run
};

// One run of one job (or one width of a sweep), on a runner thread.
class JobRun {
 public:
  JobRun(JobManager::Impl& m, std::shared_ptr<Job> job, Segment segment)
      : m_(m),
        job_(std::move(job)),
        segment_(std::move(segment)),
        spec_(*segment_.spec),
        digest_(segment_.digest),
        num_chunks_(segment_.num_chunks),
        target_(job_->record.target_stderr) {}

  RunOutcome Run();

 private:
  struct Ready {
    std::optional<ChunkSums> sums;  // absent: read it back from the store
    bool computed = false;          // computed by this run
  };

  bool StopRequested() const { return m_.draining || job_->cancel; }
  bool Stopped() const { return StopRequested() || target_reached_.load(); }
  absl::Status Prepare();
  absl::Status RunWindow(int64_t lo, int64_t hi);
  absl::Status Compute(const std::vector<int64_t>& mine);
  bool OnChunk(ChunkSums chunk);
  void PersistLoop();
  absl::Status Fold();
  void Publish(bool force);
  // The folded prefix's estimate, with core's verdicts from theory too
  // (FlagUnreachedTails): what every snapshot and the stopping rule read.
  CorrelatorEstimate Estimate() const {
    CorrelatorEstimate estimate = acc_->Finish();
    FlagUnreachedTails(engine_->spec(), estimate);
    return estimate;
  }

  JobManager::Impl& m_;
  const std::shared_ptr<Job> job_;
  const Segment segment_;
  const ExperimentSpec& spec_;  // immutable after the job is created
  const std::string digest_;
  const int64_t num_chunks_;
  const double target_;

  std::unique_ptr<Engine> engine_;
  std::optional<MomentAccumulator> acc_;
  std::optional<RunningAnalysis> analysis_;  // once the engine exists
  int64_t next_ = 0;                         // next chunk to fold
  std::map<int64_t, Ready> ready_;  // stored chunks >= next_, not yet folded
  int64_t stop_at_ = -1;            // L once the target stderr is reached
  std::atomic<bool> target_reached_{false};  // stop_at_ >= 0, for any thread
  int64_t folded_computed_ = 0;              // folded chunks this run computed
  int64_t computed_ = 0, discovered_ = 0, initially_stored_ = 0;
  // Admission's work estimate of one chunk (server/jobs/admission.h), for the
  // choice of running a small window on the runner thread alone.
  double gflop_per_chunk_ = std::numeric_limits<double>::infinity();
  absl::Status chunk_error_;
  absl::Time last_estimate_ = absl::InfinitePast();
  absl::Time last_progress_ = absl::InfinitePast();
  // Finished chunks on their way from the engine's threads to the persister.
  absl::Mutex persist_mu_;
  absl::CondVar persist_cv_;
  std::deque<ChunkSums> persist_queue_ ABSL_GUARDED_BY(persist_mu_);
  bool persist_done_ ABSL_GUARDED_BY(persist_mu_) = false;
  std::atomic<bool> persist_failed_{false};
};

absl::Status JobRun::Prepare() {
  NNFT_ASSIGN_OR_RETURN(engine_, Engine::Create(spec_, m_.options.limits));
  acc_.emplace(engine_->tuples(), spec_.sampling.seed, m_.options.max_bins,
               spec_.insertion.has_value());
  analysis_.emplace(spec_, engine_->spec(), engine_->tuples());
  if (absl::StatusOr<JobCost> cost =
          EstimateCost(spec_, m_.options.worker_threads, m_.options.max_bins);
      cost.ok() && num_chunks_ > 0) {
    gflop_per_chunk_ = cost->gflop / static_cast<double>(num_chunks_);
  }
  NNFT_ASSIGN_OR_RETURN(initially_stored_,
                        m_.store->CountChunks(digest_, num_chunks_));
  absl::MutexLock lock(&m_.mu);
  m_.counters.chunks_from_store += initially_stored_;
  if (initially_stored_ == 0) {
    ++m_.counters.store_misses;
  } else if (initially_stored_ < num_chunks_) {
    ++m_.counters.store_partial_hits;
  }
  job_->chunks_done = segment_.chunks_before + initially_stored_;
  job_->chunks_from_store = segment_.from_store_before + initially_stored_;
  return absl::OkStatus();
}

RunOutcome JobRun::Run() {
  absl::Status status = Prepare();
  const int threads =
      m_.options.worker_threads > 0
          ? m_.options.worker_threads
          : static_cast<int>(std::thread::hardware_concurrency());
  // Chunks are claimed and run a window at a time. A window ends when its
  // slowest chunk does, so small windows idle threads at every boundary
  // (about half a chunk per thread each time); 256 keeps that under 1% of a
  // W1-sized job while bounding how far ahead of other jobs a run claims.
  // A launcher pays a process start (MPI_Init) per window: larger windows.
  const int64_t window = std::max<int64_t>(
      m_.options.chunk_executor ? 4096 : 256, 16 * int64_t{threads});
  for (int64_t lo = 0; status.ok() && lo < num_chunks_ && !Stopped();
       lo += window) {
    status = RunWindow(lo, std::min(num_chunks_, lo + window));
  }
  const bool complete = status.ok() && (stop_at_ >= 0 || next_ == num_chunks_);
  Publish(complete);  // final counts (and estimate)
  return {status, complete, next_, next_ - folded_computed_};
}

// Claims first, then reads the store: a job stores a chunk before releasing
// its claim, so a chunk claimed here is either stored by now (and seen by the
// read) or computed by nobody else.
absl::Status JobRun::RunWindow(int64_t lo, int64_t hi) {
  std::set<int64_t> waited;  // unstored chunks another job had claimed
  while (!Stopped()) {
    std::vector<int64_t> claimed;
    std::set<int64_t> others;
    {
      absl::MutexLock lock(&m_.mu);
      for (int64_t k = std::max(lo, next_); k < hi; ++k) {
        if (ready_.contains(k)) continue;
        if (m_.claims.emplace(digest_, k).second) {
          claimed.push_back(k);
        } else {
          others.insert(k);
        }
      }
    }
    absl::StatusOr<std::vector<int64_t>> stored =
        m_.store->StoredChunksInRange(digest_, lo, hi);
    std::vector<int64_t> mine;
    {
      absl::MutexLock lock(&m_.mu);
      for (int64_t k : claimed) {
        if (stored.ok() &&
            std::binary_search(stored->begin(), stored->end(), k)) {
          m_.claims.erase({digest_, k});
        } else {
          mine.push_back(k);
        }
      }
      if (!stored.ok()) {
        for (int64_t k : mine) m_.claims.erase({digest_, k});
        return stored.status();
      }
    }
    for (int64_t k : *stored) {
      if (k < next_ || ready_.contains(k)) continue;
      ready_[k] = Ready{};
      if (waited.contains(k)) ++discovered_;
    }
    waited = std::move(others);
    absl::Status status = Fold();
    if (status.ok()) Publish(false);
    if (status.ok() && !mine.empty()) status = Compute(mine);
    {
      absl::MutexLock lock(&m_.mu);
      for (int64_t k : mine) m_.claims.erase({digest_, k});
      if (!mine.empty()) m_.changed.SignalAll();
      if (status.ok() && mine.empty() && !waited.empty() && !Stopped()) {
        m_.changed.WaitWithTimeout(&m_.mu, kClaimPoll);
      }
    }
    NNFT_RETURN_IF_ERROR(status);
    if (static_cast<int64_t>(stored->size()) == hi - lo) break;
  }
  return absl::OkStatus();
}

// Engine threads hand each finished chunk to a persister thread, which
// stores, folds and publishes it, so the engine's serialised callback never
// waits on SQLite or on watchers. The persister is joined before returning:
// every computed chunk is stored before its claim is released.
//
// A window of little work (kInlineGflop by admission's estimate, about a
// millisecond of one core: a tiny job's) runs on the runner thread alone,
// chunk by chunk, each stored as it finishes: waking the OpenMP team and a
// persister thread costs more than the work, and on a busy machine each
// hand-off waits for a core (tiny jobs are bound by this serial latency,
// docs/benchmarks.md).
absl::Status JobRun::Compute(const std::vector<int64_t>& mine) {
  constexpr double kInlineGflop = 2e-3;
  if (!m_.options.chunk_executor &&
      gflop_per_chunk_ * static_cast<double>(mine.size()) <= kInlineGflop) {
    for (int64_t k : mine) {
      if (Stopped()) break;
      OnChunk(engine_->RunChunk(k));
      if (!chunk_error_.ok()) return chunk_error_;
    }
    return absl::OkStatus();
  }
  {
    absl::MutexLock lock(&persist_mu_);
    persist_done_ = false;
  }
  std::thread persister([this] { PersistLoop(); });
  const auto on_chunk = [this](ChunkSums chunk) {
    if (persist_failed_.load()) return false;
    {
      absl::MutexLock lock(&persist_mu_);
      persist_queue_.push_back(std::move(chunk));
    }
    persist_cv_.Signal();
    return !Stopped();
  };
  absl::Status run = absl::OkStatus();
  if (m_.options.chunk_executor && !mine.empty()) {
    absl::Status status = m_.options.chunk_executor(
        spec_, mine, static_cast<int64_t>(engine_->tuples().size()), on_chunk,
        [this] { return Stopped() || persist_failed_.load(); });
    if (!status.ok() && !(status.code() == absl::StatusCode::kCancelled &&
                          (Stopped() || persist_failed_))) {
      run = status;
    }
  }
  for (size_t i = 0; i < mine.size() && !m_.options.chunk_executor &&
                     !Stopped() && !persist_failed_;) {
    size_t j = i + 1;
    while (j < mine.size() && mine[j] == mine[j - 1] + 1) ++j;
    absl::Status status = engine_->RunChunks(
        mine[i], mine[j - 1] + 1, m_.options.worker_threads, on_chunk);
    if (!status.ok() && !(status.code() == absl::StatusCode::kCancelled &&
                          (Stopped() || persist_failed_))) {
      run = status;
      break;
    }
    i = j;
  }
  {
    absl::MutexLock lock(&persist_mu_);
    persist_done_ = true;
  }
  persist_cv_.Signal();
  persister.join();
  NNFT_RETURN_IF_ERROR(chunk_error_);
  return run;
}

// The persister: stores, folds and publishes chunks in arrival order until
// Compute is done and the queue is empty. After a store error it drains the
// queue without storing.
void JobRun::PersistLoop() {
  while (true) {
    ChunkSums chunk;
    {
      absl::MutexLock lock(&persist_mu_);
      while (persist_queue_.empty() && !persist_done_) {
        persist_cv_.Wait(&persist_mu_);
      }
      if (persist_queue_.empty()) return;
      chunk = std::move(persist_queue_.front());
      persist_queue_.pop_front();
    }
    if (persist_failed_.load()) continue;
    OnChunk(std::move(chunk));
    if (!chunk_error_.ok()) persist_failed_ = true;
  }
}

// Runs on the persister thread, one chunk at a time.
bool JobRun::OnChunk(ChunkSums chunk) {
  absl::Status status = m_.store->PutChunk(digest_, chunk);
  if (!status.ok()) {
    chunk_error_ = status;
    return false;
  }
  ++computed_;
  {
    absl::MutexLock lock(&m_.mu);
    ++m_.counters.chunks_computed;
    m_.counters.networks_computed += chunk.networks;
  }
  const int64_t k = chunk.chunk;
  Ready ready;
  ready.computed = true;
  if (k == next_) ready.sums = std::move(chunk);  // others: read back later
  ready_[k] = std::move(ready);
  status = Fold();
  if (!status.ok()) {
    chunk_error_ = status;
    return false;
  }
  Publish(false);
  return !Stopped();
}

absl::Status JobRun::Fold() {
  while (stop_at_ < 0) {
    auto it = ready_.find(next_);
    if (it == ready_.end()) break;
    std::optional<ChunkSums> sums = std::move(it->second.sums);
    const bool computed = it->second.computed;
    ready_.erase(it);
    if (!sums) {
      NNFT_ASSIGN_OR_RETURN(sums, m_.store->GetChunk(digest_, next_));
      if (!sums) {
        return absl::DataLossError(absl::StrCat(
            "chunk ", next_, " of ", digest_, " vanished from the store"));
      }
    }
    NNFT_RETURN_IF_ERROR(acc_->Add(*sums));
    folded_computed_ += computed ? 1 : 0;
    ++next_;
    if (target_ > 0 && StderrTargetReached(Estimate(), target_)) {
      stop_at_ = next_;
      target_reached_ = true;
      last_estimate_ = absl::InfinitePast();  // publish the final prefix
    }
  }
  return absl::OkStatus();
}

void JobRun::Publish(bool force) {
  std::optional<CorrelatorEstimate> estimate;
  const absl::Time now = absl::Now();
  if (acc_ && acc_->chunks() > 0 &&
      (force || now - last_estimate_ >= kEstimateInterval)) {
    estimate = Estimate();
    last_estimate_ = now;
  }
  RunningAnalyses analyses;
  if (estimate && analysis_) analyses = analysis_->Update(*estimate, *acc_);
  JobSnapshot snapshot;
  const bool notify = force || now - last_progress_ >= kProgressInterval;
  if (notify) last_progress_ = now;
  // Skip the copy when nobody listens or the last notification was recent.
  const bool watched = notify && m_.subscriptions > 0;
  {
    absl::MutexLock lock(&m_.mu);
    const int64_t done =
        std::min(num_chunks_, initially_stored_ + computed_ + discovered_);
    job_->chunks_done = segment_.chunks_before + done;
    job_->chunks_from_store =
        segment_.from_store_before + initially_stored_ + discovered_;
    if (segment_.width_index >= 0) {
      SweepWidth& width = job_->sweep[segment_.width_index];
      width.chunks_done = done;
      if (estimate) width.estimate = std::move(estimate);
    } else {
      if (analyses.training) job_->training = std::move(analyses.training);
      if (analyses.checks) job_->checks = std::move(analyses.checks);
      if (estimate) job_->estimate = std::move(estimate);
    }
    m_.Touch(*job_, /*persist=*/false).IgnoreError();
    if (watched) snapshot = m_.Snapshot(*job_);
  }
  if (watched) m_.Notify(snapshot);
}

// Moves the job to its final state after its run(s).
void FinishJob(JobManager::Impl& m, Job& job, const RunOutcome& outcome) {
  JobState state = JobState::kQueued;  // drained: resumed by the next Open
  absl::Status error;
  if (!outcome.status.ok()) {
    state = JobState::kFailed;
    error = outcome.status;
  } else if (outcome.complete) {
    state = JobState::kSucceeded;
  } else if (job.cancel) {
    state = JobState::kCancelled;
    error = absl::CancelledError("cancelled by the client");
  } else if (!m.draining) {
    state = JobState::kFailed;
    error = absl::InternalError(absl::StrCat("run ended after folding ",
                                             outcome.chunks_used, " of ",
                                             job.record.num_chunks, " chunks"));
  }
  JobSnapshot snapshot;
  std::vector<std::string> retired;
  {
    absl::MutexLock lock(&m.mu);
    if (state == JobState::kSucceeded) {
      job.chunks_total = outcome.chunks_used;
      job.chunks_from_store = outcome.from_store;
    }
    // Observed before the state changes, so that whoever sees the final
    // state also sees the run counted (the observer takes no JobManager lock).
    if (m.options.observer.finished) {
      m.options.observer.finished(state, absl::Now() - job.record.start_time);
    }
    snapshot = m.Transition(job, state, error);
    retired = m.RetireFinished();  // never this job: Transition touched it
  }
  m.DeleteRetired(retired);
  m.Notify(snapshot);
}

}  // namespace

void JobManager::Impl::RunJob(const std::shared_ptr<Job>& job) {
  if (!job->sweep.empty()) return RunSweep(job);
  const Segment whole{.spec = &job->spec,
                      .digest = job->record.digest,
                      .num_chunks = job->record.num_chunks};
  FinishJob(*this, *job, JobRun(*this, job, whole).Run());
}

// Widths run one after another, each on all worker threads; the first that
// does not complete (cancel, drain, error) ends the sweep.
void JobManager::Impl::RunSweep(const std::shared_ptr<Job>& job) {
  RunOutcome total{.status = PrepareSweepTheory(job), .complete = true};
  for (size_t w = 0;
       total.status.ok() && total.complete && w < job->sweep.size(); ++w) {
    const SweepWidth& width = job->sweep[w];
    const Segment segment{.spec = &width.spec,
                          .digest = width.digest,
                          .num_chunks = width.num_chunks,
                          .width_index = static_cast<int>(w),
                          .chunks_before = total.chunks_used,
                          .from_store_before = total.from_store};
    const RunOutcome one = JobRun(*this, job, segment).Run();
    total.status = one.status;
    total.complete = one.complete;
    total.chunks_used += one.chunks_used;
    total.from_store += one.from_store;
  }
  total.complete = total.complete && total.status.ok();
  FinishJob(*this, *job, total);
}

void JobManager::Impl::RunnerLoop() {
  while (true) {
    std::shared_ptr<Job> job;
    JobSnapshot snapshot;
    {
      absl::MutexLock lock(&mu);
      // The first queued job whose owner is under its running limit.
      auto next = queue.end();
      while (!draining) {
        next = std::find_if(queue.begin(), queue.end(), [&](const QueueKey& k) {
          const int cap = options.max_running_jobs_per_owner;
          if (cap <= 0) return true;
          auto it =
              running_by_owner.find(jobs.at(std::get<2>(k))->record.owner);
          return it == running_by_owner.end() || it->second < cap;
        });
        if (next != queue.end()) break;
        work.Wait(&mu);
      }
      if (draining) return;
      job = jobs.at(std::get<2>(*next));
      queue.erase(next);
      ++running_by_owner[job->record.owner];
      job->record.start_time = absl::Now();
      job->estimate.reset();
      job->checks.reset();
      // Not written: the row stays QUEUED until the job ends, which is
      // what a restart makes of a RUNNING row anyway (it resumes the job
      // from the stored chunks), and it spares every job one transaction.
      snapshot = Transition(*job, JobState::kRunning, absl::OkStatus(),
                            /*persist=*/false);
    }
    Notify(snapshot);
    if (options.observer.started) {
      options.observer.started(snapshot.start_time - snapshot.create_time);
    }
    RunJob(job);
    absl::MutexLock lock(&mu);
    if (--running_by_owner[job->record.owner] == 0) {
      running_by_owner.erase(job->record.owner);
    }
    work.SignalAll();  // an owner at its running limit may start another
  }
}

absl::StatusOr<JobResult> JobManager::Result(absl::string_view name,
                                             absl::string_view owner) {
  Impl& m = *impl_;
  JobResult result;
  std::shared_ptr<Job> job;
  {
    absl::MutexLock lock(&m.mu);
    NNFT_ASSIGN_OR_RETURN(job, m.Find(name, owner));
    if (job->record.state != JobState::kSucceeded) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", job->record.name, " is ", JobStateName(job->record.state),
          ": a result exists only once it has SUCCEEDED"));
    }
    result.job = m.Snapshot(*job);
  }
  if (!job->sweep.empty()) {
    NNFT_RETURN_IF_ERROR(m.FillSweepResult(*job, result));
    return result;
  }
  const std::string digest = result.job.digest;
  const ChunkSource chunks = [&](int64_t k) -> absl::StatusOr<ChunkSums> {
    NNFT_ASSIGN_OR_RETURN(std::optional<ChunkSums> chunk,
                          m.store->GetChunk(digest, k));
    if (!chunk) {
      return absl::DataLossError(absl::StrCat("chunk ", k, " of job ", name,
                                              " is missing from the store"));
    }
    return *std::move(chunk);
  };
  NNFT_ASSIGN_OR_RETURN(
      ExperimentResult analysed,
      AnalyseExperiment(job->spec, m.options.limits, m.options.max_bins,
                        result.job.chunks_total, chunks));
  static_cast<ExperimentResult&>(result) = std::move(analysed);
  {
    absl::MutexLock lock(&m.mu);
    if (!job->estimate) job->estimate = result.estimate;
    result.job.estimate = result.estimate;
  }
  return result;
}

}  // namespace nnft::server
