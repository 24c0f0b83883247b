// The persistent job manager: validates and deduplicates submissions,
// persists every job before Submit returns, runs jobs on background executor
// threads in priority order, computes only the chunks the result store lacks,
// streams progress to watchers, and resumes unfinished jobs on restart
// (DESIGN.md section 3, "Queue", "Chunks", "Streaming"). No gRPC here; the
// service in server/ adapts it.
//
// Semantics:
// - Submit validates the spec against options.limits (InvalidArgument naming
//   the field), digests it, and persists the job row before returning.
// - Idempotency: a request_id already used by the same owner returns the job
//   that request created or joined (not counted again) when the spec, the
//   number of chunks and target_stderr match, and AlreadyExists otherwise.
//   The key is forgotten when that job is deleted. (A key that joined another
//   job is kept in memory only: after a restart its retry is deduplicated or
//   answered as a new submission.)
// - Deduplication: a submission by the same owner identical to a queued or
//   running job (same digest, spec bytes, number of chunks, target_stderr)
//   returns that job; its `submissions` grows by one and
//   Counters::jobs_deduplicated too. Other owners get their own job, which
//   shares the stored chunks.
// - Exact hit: when every chunk [0, K) is already stored (and target_stderr
//   is 0), the submission is answered at once without computing
//   (Counters::exact_hits): by the oldest SUCCEEDED job of the same owner
//   identical to it (same digest, spec bytes, number of chunks), whose
//   `submissions` grows by one (a repeat: no row is written), else by a new
//   job, SUCCEEDED at once. A repeat's count is saved with the job's row by
//   a background thread at most a second after the previous save (or at
//   Drain): a SIGKILL can lose the counts of the last second's repeats,
//   never a job.
// - Queue full (queued jobs >= max_queued_jobs): ResourceExhausted naming the
//   limit. Unknown names, and jobs of another owner: NotFound with the same
//   message, so names do not leak. A caller with owner "" (a server without
//   authentication) sees every job; a named owner sees only its own (not
//   the jobs submitted anonymously before authentication was turned on).
// - Executor: max_running_jobs runner threads take the highest priority
//   queued job (FIFO within a priority). A job computes its missing chunks
//   with Engine::RunChunks on worker_threads OpenMP threads, storing each as
//   it finishes; a (digest, chunk) is never computed by two jobs at once (a
//   job waits for chunks another job has claimed, then reads them). The
//   current estimate is folded from the contiguous prefix of finished chunks.
// - target_stderr > 0: the job stops at the first prefix of L >= 2 chunks
//   whose largest standard error over the requested full correlators is below
//   it; it SUCCEEDS with chunks_total = L and its result uses chunks [0, L).
//   The stopping point is a function of the chunk sums alone (prefixes are
//   checked in order), so it is reproducible.
// - Cancel: a queued job is CANCELLED at once; a running one at its next
//   chunk boundary (the returned snapshot may still say RUNNING; watch it).
// - Drain/destructor: running jobs stop at the next chunk boundary and stay
//   QUEUED in the store; the next Open resumes them. Results are the same bits
//   as an uninterrupted run.
//
// - Width sweeps (spec.width_sweep non-empty): one job runs the widths in
//   ascending order, each width as an ordinary experiment under its own
//   digest (SpecDigest(SweepWidthSpec(spec, N)): width N, seed derived from
//   the sweep's seed and N), so its chunks are shared with
//   single-width jobs both ways and claims keep them from being computed
//   twice. Progress counts the chunks of every width (chunks_total = widths x
//   chunks per width); the snapshot carries each width's current estimate
//   and exact theory; cancel, drain and resume act on the one job. Result
//   adds per-width results and the fits (JobResult::sweep). target_stderr
//   must be 0.
//
// Thread safety: all methods may be called concurrently from any thread.
#ifndef NNFT_SERVER_JOBS_JOB_MANAGER_H_
#define NNFT_SERVER_JOBS_JOB_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/analyses/experiment_result.h"  // the result and its parts' types
#include "core/sampling/engine.h"             // ChunkSums
#include "core/spec/spec.h"                   // ExperimentSpec, Limits
#include "nnft/v1/spec.pb.h"                  // the spec as a client sent it
#include "server/jobs/admission.h"
#include "server/store/store.h"

namespace nnft::server {

struct SubmitRequest {
  ExperimentSpec spec{};
  // The spec as the client sent it (protobuf JSON), kept for display only.
  std::string spec_json{};
  // Idempotency key, scoped to the owner; "" disables idempotency.
  std::string request_id{};
  // Higher runs first; any int.
  int priority = 0;
  // Authenticated caller; "" when the server has no authentication.
  std::string owner{};
  // Early stop: >= 0; 0 runs all chunks (see the header comment).
  double target_stderr = 0;
  // The spec as the client sent it, when the caller has it (the service).
  // With spec_json empty, spec_json is printed from it only for a job the
  // submission creates: a submission answered by an existing job prints no
  // JSON. Kept with the job (JobSnapshot::submitted_spec), so a reader
  // needs no JSON parse.
  std::shared_ptr<const v1::ExperimentSpec> submitted_spec{};
  // True when `spec` was built by SpecFromProto under the manager's own
  // limits (JobManagerOptions::limits), which validated it: Submit then does
  // not validate it again. False: Submit validates it.
  bool spec_validated = false;
};

// One width of a running or finished sweep, as a watcher sees it.
struct SweepWidthSnapshot {
  int width = 0;
  std::string digest;  // where this width's chunks are stored
  int64_t chunks_total = 0, chunks_done = 0;
  std::optional<CorrelatorEstimate> estimate;  // once its first chunk folds
  // Exact theory at this width; null until the sweep has started running.
  std::shared_ptr<const TheoryValues> theory;
};

struct JobSnapshot {
  std::string name;  // "jobs/<16 hex>"
  std::string request_id, owner, digest, spec_json;
  JobState state = JobState::kQueued;
  int priority = 0;
  // chunks_total: chunks the job will use (the requested K, or L once stopped
  // by target_stderr). chunks_done: of them, stored so far (computed or found).
  // chunks_from_store: found already stored when the job (last) started.
  int64_t chunks_total = 0, chunks_done = 0, chunks_from_store = 0;
  int64_t networks_done = 0;  // chunks_done * chunk_size
  int64_t submissions = 1;
  absl::Time create_time = absl::InfinitePast();
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  absl::Status error;  // OK unless FAILED
  // The estimate from the contiguous prefix of finished chunks, when it has
  // been folded in this process (absent for jobs finished before a restart
  // until Result is called).
  std::optional<CorrelatorEstimate> estimate;
  // Training jobs: the flow from the same chunks, with theory (immutable).
  std::shared_ptr<const TrainingFlow> training;
  // Specs with symmetry or cluster checks: the checks of the same prefix.
  std::shared_ptr<const CheckResults> checks;
  // Width sweeps only: one entry per width, ascending (estimate above is
  // then unset).
  std::vector<SweepWidthSnapshot> sweep;
  int64_t version = 0;  // increases on every change of this job
  // The spec as submitted (spec_json parsed), when this process has it: jobs
  // submitted with SubmitRequest::submitted_spec; null for jobs loaded from
  // the store (parse spec_json).
  std::shared_ptr<const v1::ExperimentSpec> submitted_spec;
};

// A finished job's result: the job and what core made of its chunks
// (core/analyses/experiment_result.h).
struct JobResult : ExperimentResult {
  JobSnapshot job;
};

struct ListPage {
  std::vector<JobSnapshot> jobs;  // oldest first
  // resume_tokens[i]: the page token whose page starts at jobs[i] (for a
  // caller that stops part way through this page).
  std::vector<std::string> resume_tokens;
  std::string next_page_token;  // "" on the last page
};

// Totals since Open (not persisted).
struct Counters {
  int64_t jobs_submitted = 0;     // accepted Submit calls that were not retries
  int64_t jobs_deduplicated = 0;  // of them, joined to a queued/running job
  int64_t jobs_completed = 0;     // jobs that reached SUCCEEDED
  int64_t chunks_computed = 0;    // chunks computed by the engine
  int64_t chunks_from_store = 0;  // chunks a starting job found stored
  int64_t networks_computed = 0;  // networks in chunks_computed
  int64_t exact_hits = 0;         // jobs answered wholly from the store
  // Runs that started with some but not all of their chunks stored (partial
  // hits), and with none (misses).
  int64_t store_partial_hits = 0;
  int64_t store_misses = 0;
  int64_t jobs_retired = 0;  // finished jobs retired (max_finished_jobs)
};

// Jobs in memory by state, now.
struct JobGauges {
  int64_t queued = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0;
};

// Computes `chunks` (increasing) of `spec` outside this process's engine
// (server/ops/launcher.h), calling on_chunk once per chunk (serialised, any
// order; returning false stops the run) and polling stop(). Returns
// Cancelled when stopped. Must be thread-safe.
using ChunkExecutor = std::function<absl::Status(
    const ExperimentSpec& spec, const std::vector<int64_t>& chunks,
    int64_t num_sums, const std::function<bool(ChunkSums)>& on_chunk,
    const std::function<bool()>& stop)>;

// Observers of job runs (metrics). Called on runner threads without locks
// held; must be cheap and must not call into the JobManager.
struct JobObserver {
  // A job left the queue after `queue_wait` (since its creation).
  std::function<void(absl::Duration queue_wait)> started{};
  // A run ended in `state` (QUEUED when drained) after `run_time`.
  std::function<void(JobState state, absl::Duration run_time)> finished{};
};

struct JobManagerOptions {
  // Directory of the result store (created if missing). Required.
  std::string data_dir{};
  // OpenMP threads per running job; 0: all cores. >= 0.
  int worker_threads = 0;
  // Queued (not yet running) jobs allowed; >= 1.
  int max_queued_jobs = 10000;
  // Finished jobs kept in memory and in the job table: beyond it (plus a
  // slack of 256, so retirements come in batches) the least recently used
  // finished jobs are retired: GetJob and ListJobs no longer know them (nor
  // their request_id), their chunks stay stored, so the same spec
  // resubmitted is an exact hit with the same bits. Bounds the server's
  // memory (about 5 KiB per small job) and the table. 0: keep every job.
  // >= 0.
  int max_finished_jobs = 20000;
  // Jobs running at once (runner threads); >= 1.
  int max_running_jobs = 1;
  // Limits every submitted spec is validated against.
  Limits limits{};
  // Bins of the estimators (MomentAccumulator max_bins); even, >= 2.
  int max_bins = 64;
  // Cap on the store file in bytes (ResultStore::Open); 0: none. >= 0.
  int64_t max_store_bytes = 0;
  // Per-job cost limits checked before a job is queued
  // (server/jobs/admission.h).
  AdmissionLimits admission{};
  // Per owner (principal) when > 0: jobs queued at once (more answer
  // RESOURCE_EXHAUSTED), and jobs running at once (others wait in the queue
  // while other owners' jobs run). 0: no per-owner limit.
  int max_queued_jobs_per_owner = 0;
  int max_running_jobs_per_owner = 0;
  // Unset: chunks are computed by the in-process engine (the default).
  ChunkExecutor chunk_executor{};
  JobObserver observer{};

  absl::Status Validate() const;
};

struct Job;  // job_manager_internal.h

// A submission validated, costed and digested by JobManager::Prepare (the
// first step of Submit, which needs no lock): what AnswerFromMemory and
// Submit take. Move-only.
class PreparedSubmit {
 public:
  PreparedSubmit(PreparedSubmit&&) = default;
  PreparedSubmit& operator=(PreparedSubmit&&) = default;
  PreparedSubmit(const PreparedSubmit&) = delete;
  PreparedSubmit& operator=(const PreparedSubmit&) = delete;
  ~PreparedSubmit();

 private:
  friend class JobManager;
  explicit PreparedSubmit(std::shared_ptr<Job> job);
  std::shared_ptr<Job> job_;
};

class JobManager {
 public:
  // Validates the options, opens the store, loads every job row, and resumes
  // the jobs that were queued or running at the last stop.
  static absl::StatusOr<std::unique_ptr<JobManager>> Open(
      JobManagerOptions options);

  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;
  // Drain().
  ~JobManager();

  // See the header comment. FailedPrecondition once draining.
  // SubmitMany of this one request.
  absl::StatusOr<JobSnapshot> Submit(SubmitRequest request);

  // Submit in two steps, for a caller that must not wait on the store (a
  // gRPC thread): Prepare validates, costs and digests the request without
  // the lock (Submit's errors for a bad spec or an inadmissible cost);
  // AnswerFromMemory then answers it exactly as Submit would when that
  // writes no row now:
  // - a retry of a request_id (its job, or AlreadyExists for another spec);
  // - a repeat of an identical SUCCEEDED job (its count is saved by a
  //   background thread, see the header comment);
  // - FailedPrecondition once draining.
  // `prepared` must come from Prepare and not have been moved from.
  // It takes only the manager's lock (as Get does) and returns nullopt,
  // leaving `prepared` unchanged, for everything else (a join, a new job):
  // Submit(std::move(prepared)) answers that, and may write.
  absl::StatusOr<PreparedSubmit> Prepare(SubmitRequest request) const;
  std::optional<absl::StatusOr<JobSnapshot>> AnswerFromMemory(
      const PreparedSubmit& prepared);
  absl::StatusOr<JobSnapshot> Submit(PreparedSubmit prepared);

  // Submits every request (SubmitBatch): results[i] answers requests[i]
  // exactly as Submit would have (validation, admission, idempotency,
  // deduplication, exact hits, queue limits, each on its own), and a refused
  // request does not refuse the others. A request identical to an earlier
  // one of the batch (same owner, digest, spec bytes, chunks and
  // target_stderr) joins that request's job, even an exact hit. Requests
  // are validated and looked up in the store before the lock is taken; then,
  // under one hold of the lock, every new job row and every joined job's
  // row is written in one store transaction (ResultStore::PutJobs) before
  // any job becomes visible: on a store error no job of the batch exists
  // and every request that needed a write answers that error. Queue limits
  // count the jobs the batch queued before each request.
  std::vector<absl::StatusOr<JobSnapshot>> SubmitMany(
      std::vector<SubmitRequest> requests);

  absl::StatusOr<JobSnapshot> Get(absl::string_view name,
                                  absl::string_view owner = "");

  // Jobs visible to `owner` (all when owner is "", else exactly its own),
  // oldest first.
  // page_size in [1, 1000] (0: 100); page_token from the previous page.
  // InvalidArgument for a bad size or token.
  absl::StatusOr<ListPage> List(int page_size, absl::string_view page_token,
                                absl::string_view owner = "");

  // Cancels a queued or running job; a finished job is returned unchanged.
  absl::StatusOr<JobSnapshot> Cancel(absl::string_view name,
                                     absl::string_view owner = "");

  // Forgets a finished job (its chunks stay stored). FailedPrecondition for a
  // queued or running job (cancel it first).
  absl::Status Delete(absl::string_view name, absl::string_view owner = "");

  // Calls on_change(snapshot) once with the current snapshot, on the calling
  // thread before returning, then on every change, on executor threads.
  // Calls for one subscription are serialised and carry increasing versions;
  // snapshots are conflated (a callback sees the latest, never a backlog).
  // One snapshot is shared by every subscriber of a change (it is copied
  // once, not per subscriber). on_change runs on the job's thread: it must
  // only store the pointer or hand it off, never block, convert or write,
  // and must not call back into the JobManager.
  // Returns a subscription id for Unsubscribe.
  using SnapshotPtr = std::shared_ptr<const JobSnapshot>;
  absl::StatusOr<int64_t> Subscribe(
      absl::string_view name, std::function<void(const SnapshotPtr&)> on_change,
      absl::string_view owner = "");
  // After it returns, that on_change is never called again. Unknown ids are
  // ignored.
  void Unsubscribe(int64_t id);

  // Blocks until the job's version exceeds after_version, the job is finished
  // (no change will come), or `deadline`; returns the snapshot then (compare
  // its version to tell a change from a timeout).
  absl::StatusOr<JobSnapshot> WaitForChange(absl::string_view name,
                                            int64_t after_version,
                                            absl::Time deadline,
                                            absl::string_view owner = "");

  // The full result of a SUCCEEDED job, folded from the store in chunk order
  // (memory independent of the number of chunks). FailedPrecondition for a
  // job not SUCCEEDED; DataLoss if a stored chunk is corrupt.
  absl::StatusOr<JobResult> Result(absl::string_view name,
                                   absl::string_view owner = "");

  Counters counters() const;
  JobGauges gauges() const;

  // Stops taking jobs (Submit answers FailedPrecondition), lets running jobs
  // stop at the next chunk boundary (their chunks are stored; they stay
  // QUEUED for the next Open) and joins the runner threads. Idempotent.
  void Drain();

  struct Impl;

 private:
  explicit JobManager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nnft::server

#endif  // NNFT_SERVER_JOBS_JOB_MANAGER_H_
