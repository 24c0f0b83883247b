// Internals of the job manager shared by job_manager.cc (the API: submission,
// queries, subscriptions) and job_runner.cc (the executor). Not for use
// outside those two files.
#ifndef NNFT_SERVER_JOBS_JOB_MANAGER_INTERNAL_H_
#define NNFT_SERVER_JOBS_JOB_MANAGER_INTERNAL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/jobs/job_manager.h"
#include "server/ops/log.h"
#include "server/store/store.h"

namespace nnft::server {

// One width of a sweep job. width, spec, digest and num_chunks are fixed at
// creation (readable without the lock); the rest is guarded by Impl::mu.
struct SweepWidth {
  int width = 0;
  ExperimentSpec spec;  // SweepWidthSpec(job spec, width), num_networks set
  std::string digest;
  int64_t num_chunks = 0;
  int64_t chunks_done = 0;
  std::optional<CorrelatorEstimate> estimate;
  std::shared_ptr<const TheoryValues> theory;
};

// One job in memory. `record` mirrors the job row; the rest is derived.
// Every field is guarded by Impl::mu except `cancel`, which the executor
// polls between chunks.
struct Job {
  JobRecord record;
  ExperimentSpec spec;  // decoded from record.spec_bytes, num_networks set
  absl::Status error;
  int64_t chunks_total = 0;  // record.num_chunks, or L when stopped early
  int64_t chunks_done = 0;
  int64_t chunks_from_store = 0;
  std::optional<CorrelatorEstimate> estimate;
  std::shared_ptr<const TrainingFlow> training;  // training jobs
  // Symmetry and cluster checks of the folded prefix (specs with checks).
  std::shared_ptr<const CheckResults> checks;
  std::vector<SweepWidth> sweep;  // width sweeps only (InitSweep)
  int64_t version = 1;
  // When created or Touch last ran (RetireFinished retires the least
  // recently used).
  absl::Time last_used = absl::Now();
  // SubmitRequest::submitted_spec of the submission that created the job.
  std::shared_ptr<const v1::ExperimentSpec> submitted_spec;
  // In Impl::unsaved_repeats.
  bool repeats_unsaved = false;
  std::atomic<bool> cancel{false};
  // DataLoss for a row that failed its integrity check at Open (the record
  // is then not to be trusted); OK otherwise.
  absl::Status damaged;
};

struct JobManager::Impl {
  // Queue order: higher priority first, then lower sequence (FIFO).
  using QueueKey = std::tuple<int, int64_t, std::string>;  // -priority, seq

  struct Subscription {
    std::string name;
    std::function<void(const JobManager::SnapshotPtr&)> on_change;
    int64_t last_version = 0;
  };

  JobManagerOptions options;
  std::unique_ptr<ResultStore> store;

  mutable absl::Mutex mu;
  absl::CondVar changed;  // any job changed, a claim was released, or drain
  absl::CondVar work;     // a job was queued, or drain
  absl::flat_hash_map<std::string, std::shared_ptr<Job>> jobs
      ABSL_GUARDED_BY(mu);
  std::map<int64_t, std::shared_ptr<Job>> by_sequence ABSL_GUARDED_BY(mu);
  // Queued and running jobs by digest: the candidates a submission joins
  // (looked up without scanning every job ever kept). Entries leave in
  // Transition to a terminal state.
  std::multimap<std::string, std::shared_ptr<Job>> live ABSL_GUARDED_BY(mu);
  // SUCCEEDED jobs by digest: what an identical repeat is answered by.
  // Entries join when a job succeeds (or is loaded succeeded) and leave in
  // Delete.
  std::multimap<std::string, Job*> succeeded ABSL_GUARDED_BY(mu);
  // Jobs whose `submissions` grew by repeats since their row was last
  // written, and when such counts were last saved (SaveRepeats, by the
  // `repeat_saver` thread at most kRepeatSaveInterval after the last save,
  // and by Drain). repeats_pending: unsaved_repeats became non-empty, or
  // drain.
  std::vector<std::shared_ptr<Job>> unsaved_repeats ABSL_GUARDED_BY(mu);
  absl::Time repeats_saved ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  int64_t unsaved_repeat_count ABSL_GUARDED_BY(mu) = 0;  // for the log line
  absl::CondVar repeats_pending;
  static constexpr absl::Duration kRepeatSaveInterval = absl::Seconds(1);
  std::thread repeat_saver;  // touched by Open and Drain only
  // (owner, request_id) -> job name.
  absl::flat_hash_map<std::pair<std::string, std::string>, std::string>
      request_ids ABSL_GUARDED_BY(mu);
  std::set<QueueKey> queue ABSL_GUARDED_BY(mu);
  // Running jobs per owner (for max_running_jobs_per_owner).
  absl::flat_hash_map<std::string, int> running_by_owner ABSL_GUARDED_BY(mu);
  // (digest, chunk) being computed by some job right now.
  std::set<std::pair<std::string, int64_t>> claims ABSL_GUARDED_BY(mu);
  int64_t next_sequence ABSL_GUARDED_BY(mu) = 1;
  Counters counters ABSL_GUARDED_BY(mu);
  absl::BitGen bitgen ABSL_GUARDED_BY(mu);
  std::atomic<bool> draining{false};
  bool drained ABSL_GUARDED_BY(mu) = false;
  std::vector<std::thread> runners;  // touched by Open and Drain only

  // Lock order: sub_mu before mu; never call a callback holding mu.
  absl::Mutex sub_mu ABSL_ACQUIRED_BEFORE(mu);
  std::map<int64_t, Subscription> subs ABSL_GUARDED_BY(sub_mu);
  int64_t next_sub ABSL_GUARDED_BY(sub_mu) = 1;
  std::atomic<int64_t> subscriptions{0};  // subs.size(), readable unlocked

  // --- job_manager.cc ---
  JobSnapshot Snapshot(const Job& job) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // NotFound unless `name` exists and is visible to `owner`; DataLoss for a
  // damaged record unless `damaged_ok`.
  absl::StatusOr<std::shared_ptr<Job>> Find(absl::string_view name,
                                            absl::string_view owner,
                                            bool damaged_ok = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Bumps the version, persists the row (returning the store's status), and
  // wakes waiters. Call Notify with the returned snapshot after unlocking.
  absl::Status Touch(Job& job, bool persist) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Removes a finished job from every index (its row and chunks untouched):
  // what Delete and RetireFinished share.
  void Forget(const std::shared_ptr<Job>& job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // With options.max_finished_jobs > 0 and more finished jobs in memory
  // than that plus kRetireSlack: forgets the least recently used finished
  // jobs until max_finished_jobs are left and returns their names, whose
  // rows the caller deletes with DeleteRetired after unlocking (their chunks
  // stay: a resubmission is an exact hit). Queued, running and damaged jobs
  // are never retired.
  std::vector<std::string> RetireFinished() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Deletes the rows of retired jobs in one transaction and returns freed
  // memory to the system. Call without mu.
  void DeleteRetired(const std::vector<std::string>& names)
      ABSL_LOCKS_EXCLUDED(mu);
  static constexpr int kRetireSlack = 256;
  // Jobs retired between two malloc_trim calls (DeleteRetired).
  static constexpr int64_t kTrimEvery = 4096;
  std::atomic<int64_t> retired_since_trim{0};
  // Finished (terminal, undamaged) jobs in memory: counted at Open, kept by
  // Transition, SubmitMany and Forget, recounted by RetireFinished's scan.
  int64_t finished ABSL_GUARDED_BY(mu) = 0;
  // Delivers a snapshot to the job's subscribers (conflated by version).
  void Notify(const JobSnapshot& snapshot) ABSL_LOCKS_EXCLUDED(mu, sub_mu);
  // Moves `job` to a terminal or queued state, persists (unless `persist`
  // is false) and logs it.
  JobSnapshot Transition(Job& job, JobState state, absl::Status error,
                         bool persist = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  // --- job_submit.cc ---
  // The oldest queued or running job of r.owner identical to `r` (digest,
  // spec bytes, chunks, target_stderr); null if none.
  Job* FindLive(const JobRecord& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // The job r.request_id (of r.owner) created or joined; null if none or
  // r.request_id is empty. The caller compares the requests (SameRequest).
  Job* FindRetried(const JobRecord& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // The oldest SUCCEEDED job of r.owner identical to `r`; null if none.
  Job* FindSucceeded(const JobRecord& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Writes the rows of unsaved_repeats in one transaction (kept for the
  // next try on a store error).
  void SaveRepeats() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // The repeat_saver thread: saves repeat counts a kRepeatSaveInterval
  // after the last save, until drained.
  void RepeatSaverLoop() ABSL_LOCKS_EXCLUDED(mu);
  // Counts one repeat of the SUCCEEDED `job` (submissions, counters, the
  // version) and marks its row for the saver. Notify its snapshot after
  // unlocking if anyone subscribes.
  void CountRepeat(Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Steps 1b to 4 of SubmitMany (job_submit.cc's header) for jobs made by
  // PrepareJob: results[i] answers prepared[i] (a null one keeps its
  // error). `start`: when preparing began, for the batch log line.
  void SubmitPrepared(std::vector<std::shared_ptr<Job>>& prepared,
                      std::vector<absl::StatusOr<JobSnapshot>>& results,
                      absl::Time start) ABSL_LOCKS_EXCLUDED(mu);

  // --- job_runner.cc ---
  // A runner thread: takes queued jobs until drained.
  void RunnerLoop();
  // Computes (or gathers) the chunks of `job`, then finishes it.
  void RunJob(const std::shared_ptr<Job>& job);
  // The same for a width sweep: every width in turn, then one finish.
  void RunSweep(const std::shared_ptr<Job>& job);

  // --- job_sweep.cc ---
  // Computes each width's exact theory once, before the sweep runs.
  absl::Status PrepareSweepTheory(const std::shared_ptr<Job>& job);
  // The result of a SUCCEEDED sweep job, folded from every width's chunks.
  absl::Status FillSweepResult(const Job& job, JobResult& result);
};

// Fills job.sweep from job.spec (one entry per width, ascending; nothing for
// a single experiment). job.spec.sampling.num_networks must be set.
void InitSweep(Job& job);
// The snapshot's sweep entries (call with Impl::mu held).
std::vector<SweepWidthSnapshot> SweepSnapshot(const Job& job);

// One structured log line of the job manager (server/ops/log.h,
// component=jobs).
inline void JobsLog(absl::string_view event,
                    std::initializer_list<LogField> fields = {}) {
  LogComponentEvent("jobs", event, fields);
}

}  // namespace nnft::server

#endif  // NNFT_SERVER_JOBS_JOB_MANAGER_INTERNAL_H_
