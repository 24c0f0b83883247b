// Submission of jobs: JobManager::Submit, SubmitMany, and the two-step
// Prepare + AnswerFromMemory (job_manager.h).
//
// A batch is answered in three steps so that the lock is held only for the
// bookkeeping: each request is validated and digested without the lock; a
// short hold of the lock picks out the requests an existing job will likely
// answer, and only the others are looked up in the store and get their
// row's JSON, again without the lock; under the lock every request is
// planned (a retry of its request_id, a join of an identical job, a repeat
// of an identical SUCCEEDED job, or a new job) without touching the
// manager's state, the planned rows are written in one store transaction,
// and only then are the new jobs published. A store error thus leaves
// neither rows nor jobs behind. A repeat writes no row (its count is saved
// within a second by the repeat_saver thread: Impl::RepeatSaverLoop), so
// AnswerFromMemory answers a repeat, or a retry, under the lock alone.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "server/jobs/admission.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_manager_internal.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

bool SameRequest(const JobRecord& job, const JobRecord& want) {
  return job.digest == want.digest && job.spec_bytes == want.spec_bytes &&
         job.num_chunks == want.num_chunks &&
         job.target_stderr == want.target_stderr;
}

// Validates `request` (unless the service did: spec_validated) and builds
// its job (record without name or sequence); needs no lock.
absl::StatusOr<std::shared_ptr<Job>> PrepareJob(
    const JobManagerOptions& options, SubmitRequest request) {
  if (!request.spec_validated) {
    NNFT_RETURN_IF_ERROR(nnft::Validate(request.spec, options.limits));
  }
  NNFT_ASSIGN_OR_RETURN(
      const JobCost cost,
      EstimateCost(request.spec, options.worker_threads, options.max_bins));
  NNFT_RETURN_IF_ERROR(CheckCost(cost, options.admission));
  if (!(request.target_stderr >= 0) || !std::isfinite(request.target_stderr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("target_stderr = ", request.target_stderr,
                     ": must be finite and >= 0 (0: run every chunk)"));
  }
  if (!request.spec.width_sweep.empty() && request.target_stderr > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target_stderr = ", request.target_stderr,
        " with width_sweep: early stopping is not supported for width "
        "sweeps (must be 0)"));
  }
  auto job = std::make_shared<Job>();
  JobRecord& r = job->record;
  r.request_id = std::move(request.request_id);
  r.owner = std::move(request.owner);
  SpecKeys keys = SpecDigestAndRequestBytes(request.spec);
  r.digest = std::move(keys.digest);
  r.spec_bytes = std::move(keys.request_bytes);
  r.spec_json = std::move(request.spec_json);
  job->submitted_spec = std::move(request.submitted_spec);
  r.num_networks = request.spec.sampling.num_networks;
  r.num_chunks = NumChunks(request.spec.sampling) *
                 std::max<int64_t>(1, request.spec.width_sweep.size());
  r.priority = request.priority;
  r.target_stderr = request.target_stderr;
  r.create_time = absl::Now();
  job->spec = std::move(request.spec);
  job->chunks_total = r.num_chunks;
  InitSweep(*job);
  return job;
}

// How one request of a batch is answered.
enum class Answer {
  kError,     // by `errors[i]`
  kExisting,  // by a job that existed before the batch (a retry, a repeat)
  kBatch,     // by a job the batch creates or joins: needs the write
};

// What the job_created log line says of a new job.
struct CreatedLog {
  std::string name;
  JobState state;
  std::string digest;  // the first 16 hex digits
  int64_t chunks, stored;
  int priority;
  std::string owner, request_id;
};

// Whether an identical SUCCEEDED job answers a submission of `job`: one
// that ran every chunk (no early stop), not a sweep (whose chunks lie under
// its widths' digests). Such a job's chunks [0, K) are all stored, since
// chunks are removed only by ResultStore::Check at Open (whose jobs are then
// left out of Impl::succeeded).
bool Repeatable(const Job& job) {
  return job.record.target_stderr == 0 && job.sweep.empty();
}

// Prints the job's spec_json from the submitted proto when the caller left
// it to the manager.
void FillSpecJson(Job& job) {
  if (job.record.spec_json.empty() && job.submitted_spec != nullptr) {
    job.record.spec_json = SpecProtoToJson(*job.submitted_spec);
  }
}

absl::Status DrainingError() {
  return absl::FailedPreconditionError(
      "the job manager is shutting down: not accepting jobs");
}

absl::Status RequestIdUsed(const std::string& request_id,
                           const std::string& job) {
  return absl::AlreadyExistsError(
      absl::StrCat("request_id '", request_id, "' was used for job ", job,
                   " with a different spec: use a new request_id"));
}

}  // namespace

PreparedSubmit::PreparedSubmit(std::shared_ptr<Job> job)
    : job_(std::move(job)) {}
PreparedSubmit::~PreparedSubmit() = default;

Job* JobManager::Impl::FindLive(const JobRecord& r) {
  Job* found = nullptr;
  auto [lo, hi] = live.equal_range(r.digest);
  for (auto it = lo; it != hi; ++it) {
    const JobRecord& candidate = it->second->record;
    if (IsTerminal(candidate.state) || candidate.owner != r.owner ||
        !SameRequest(candidate, r)) {
      continue;
    }
    if (found == nullptr || candidate.sequence < found->record.sequence) {
      found = it->second.get();
    }
  }
  return found;
}

Job* JobManager::Impl::FindSucceeded(const JobRecord& r) {
  Job* found = nullptr;
  auto [lo, hi] = succeeded.equal_range(r.digest);
  for (auto it = lo; it != hi; ++it) {
    const JobRecord& candidate = it->second->record;
    if (candidate.state != JobState::kSucceeded || candidate.owner != r.owner ||
        !SameRequest(candidate, r)) {
      continue;
    }
    if (found == nullptr || candidate.sequence < found->record.sequence) {
      found = it->second;
    }
  }
  return found;
}

Job* JobManager::Impl::FindRetried(const JobRecord& r) {
  if (r.request_id.empty()) return nullptr;
  auto it = request_ids.find({r.owner, r.request_id});
  if (it == request_ids.end()) return nullptr;
  auto job = jobs.find(it->second);
  return job == jobs.end() ? nullptr : job->second.get();
}

void JobManager::Impl::SaveRepeats() {
  if (unsaved_repeats.empty()) return;
  std::vector<const JobRecord*> rows;
  rows.reserve(unsaved_repeats.size());
  for (const std::shared_ptr<Job>& job : unsaved_repeats) {
    auto it = jobs.find(job->record.name);
    if (it != jobs.end() && it->second == job) rows.push_back(&job->record);
  }
  repeats_saved = absl::Now();
  if (const absl::Status s = store->PutJobs(rows); !s.ok()) {
    // Kept for the next try; the jobs themselves are stored.
    JobsLog("store_error", {{"jobs", absl::StrCat(rows.size())},
                            {"what", "repeat counts"},
                            {"error", s.ToString()}});
    return;
  }
  JobsLog("repeats_saved", {{"jobs", static_cast<int64_t>(rows.size())},
                            {"repeats", unsaved_repeat_count}});
  unsaved_repeat_count = 0;
  for (const std::shared_ptr<Job>& job : unsaved_repeats) {
    job->repeats_unsaved = false;
  }
  unsaved_repeats.clear();
}

void JobManager::Impl::RepeatSaverLoop() {
  absl::MutexLock lock(&mu);
  while (!drained) {
    if (unsaved_repeats.empty()) {
      repeats_pending.Wait(&mu);
      continue;
    }
    const absl::Time due = repeats_saved + kRepeatSaveInterval;
    if (absl::Now() < due) {
      repeats_pending.WaitWithDeadline(&mu, due);
      continue;
    }
    SaveRepeats();
  }
}

void JobManager::Impl::CountRepeat(Job& job) {
  ++job.record.submissions;
  Touch(job, /*persist=*/false).IgnoreError();
  ++counters.jobs_submitted;
  ++counters.exact_hits;
  ++unsaved_repeat_count;
  if (!job.repeats_unsaved) {
    job.repeats_unsaved = true;
    if (unsaved_repeats.empty()) repeats_pending.Signal();
    unsaved_repeats.push_back(jobs.at(job.record.name));
  }
  // Drain saved the counts and stopped the saver: save this one now.
  if (drained) SaveRepeats();
}

absl::StatusOr<JobSnapshot> JobManager::Submit(SubmitRequest request) {
  std::vector<SubmitRequest> one;
  one.push_back(std::move(request));
  return std::move(SubmitMany(std::move(one))[0]);
}

absl::StatusOr<PreparedSubmit> JobManager::Prepare(
    SubmitRequest request) const {
  NNFT_ASSIGN_OR_RETURN(std::shared_ptr<Job> job,
                        PrepareJob(impl_->options, std::move(request)));
  return PreparedSubmit(std::move(job));
}

std::optional<absl::StatusOr<JobSnapshot>> JobManager::AnswerFromMemory(
    const PreparedSubmit& prepared) {
  Impl& m = *impl_;
  if (m.draining) return absl::StatusOr<JobSnapshot>(DrainingError());
  const Job& job = *prepared.job_;
  const JobRecord& r = job.record;
  absl::StatusOr<JobSnapshot> answer;
  bool notify = false;
  {
    absl::MutexLock lock(&m.mu);
    if (m.drained) return absl::StatusOr<JobSnapshot>(DrainingError());
    // The same order as the plan in SubmitPrepared: a retry, then a join
    // (not here), then a repeat.
    if (const Job* old = m.FindRetried(r); old != nullptr) {
      if (!SameRequest(old->record, r)) {
        return absl::StatusOr<JobSnapshot>(
            RequestIdUsed(r.request_id, old->record.name));
      }
      return absl::StatusOr<JobSnapshot>(m.Snapshot(*old));
    }
    if (!Repeatable(job) || m.FindLive(r) != nullptr) return std::nullopt;
    Job* done = m.FindSucceeded(r);
    if (done == nullptr) return std::nullopt;
    m.CountRepeat(*done);
    if (!r.request_id.empty()) {
      m.request_ids[{r.owner, r.request_id}] = done->record.name;
    }
    answer = m.Snapshot(*done);
    notify = m.subscriptions.load() > 0;
  }
  if (notify) m.Notify(*answer);
  return answer;
}

absl::StatusOr<JobSnapshot> JobManager::Submit(PreparedSubmit prepared) {
  if (impl_->draining) return DrainingError();
  std::vector<std::shared_ptr<Job>> one;
  one.push_back(std::move(prepared.job_));
  std::vector<absl::StatusOr<JobSnapshot>> results(
      1, absl::InternalError("not answered"));
  impl_->SubmitPrepared(one, results, absl::Now());
  return std::move(results[0]);
}

std::vector<absl::StatusOr<JobSnapshot>> JobManager::SubmitMany(
    std::vector<SubmitRequest> requests) {
  Impl& m = *impl_;
  const size_t n = requests.size();
  std::vector<absl::StatusOr<JobSnapshot>> results(
      n, absl::InternalError("not answered"));
  if (m.draining) {
    for (auto& result : results) result = DrainingError();
    return results;
  }
  const absl::Time start = absl::Now();
  // 1. Without the lock: validation and digests.
  std::vector<std::shared_ptr<Job>> prepared(n);
  for (size_t i = 0; i < n; ++i) {
    absl::StatusOr<std::shared_ptr<Job>> job =
        PrepareJob(m.options, std::move(requests[i]));
    if (!job.ok()) {
      results[i] = job.status();
      continue;
    }
    prepared[i] = *std::move(job);
  }
  requests.clear();
  m.SubmitPrepared(prepared, results, start);
  return results;
}

void JobManager::Impl::SubmitPrepared(
    std::vector<std::shared_ptr<Job>>& prepared,
    std::vector<absl::StatusOr<JobSnapshot>>& results, absl::Time start) {
  Impl& m = *this;
  const size_t n = prepared.size();
  absl::Time locked, written;
  // 1b. Under a short hold of the lock, which requests an existing job
  // answers (a retry, a join, a repeat). A guess: the plan below decides.
  std::vector<bool> answered(n, false);
  {
    absl::MutexLock lock(&m.mu);
    for (size_t i = 0; i < n; ++i) {
      if (prepared[i] == nullptr) continue;
      const JobRecord& r = prepared[i]->record;
      answered[i] = m.FindRetried(r) != nullptr || m.FindLive(r) != nullptr ||
                    (Repeatable(*prepared[i]) && m.FindSucceeded(r) != nullptr);
    }
  }
  // 1c. Without the lock, for the others: the stored chunk counts (a chunk
  // stored after its count only means the job finds it on start) and the
  // JSON of the row. -1: not counted (the plan counts it if it must).
  std::vector<int64_t> stored(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (prepared[i] == nullptr || answered[i]) continue;
    const JobRecord& r = prepared[i]->record;
    absl::StatusOr<int64_t> count =
        m.store->CountChunks(r.digest, r.num_chunks);
    if (!count.ok()) {
      results[i] = count.status();
      prepared[i] = nullptr;
      continue;
    }
    stored[i] = *count;
    FillSpecJson(*prepared[i]);
  }

  std::vector<Answer> answers(n, Answer::kError);
  std::vector<Job*> by(n, nullptr);  // the answering job
  std::vector<std::shared_ptr<Job>> created;
  std::vector<std::pair<Job*, int64_t>> joined;  // existing job, joins
  std::vector<Job*> repeated;  // a SUCCEEDED job, once per repeat
  std::vector<JobSnapshot> snapshots_to_notify;
  std::vector<JobSnapshot> repeat_snapshots;  // logged by the service only
  std::vector<CreatedLog> created_logs;
  int64_t batch_joins = 0;
  std::vector<std::string> retired;
  {
    absl::MutexLock lock(&m.mu);
    locked = absl::Now();
    // 2. Plan, leaving the manager's state as it is.
    absl::flat_hash_map<std::pair<std::string, std::string>, Job*> batch_ids;
    std::multimap<std::string, Job*> batch_live;  // created, by digest
    absl::flat_hash_map<Job*, size_t> joined_index;
    absl::flat_hash_set<std::string> batch_names;
    int64_t queued = static_cast<int64_t>(m.queue.size());
    absl::flat_hash_map<std::string, int64_t> queued_by_owner;
    if (m.options.max_queued_jobs_per_owner > 0) {
      for (const Impl::QueueKey& key : m.queue) {
        ++queued_by_owner[m.jobs.at(std::get<2>(key))->record.owner];
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (prepared[i] == nullptr) continue;
      std::shared_ptr<Job>& job = prepared[i];
      JobRecord& r = job->record;
      const auto key = std::make_pair(r.owner, r.request_id);
      // Idempotent retry: the job this request_id created or joined, in
      // this batch or before it.
      if (!r.request_id.empty()) {
        if (auto it = batch_ids.find(key); it != batch_ids.end()) {
          if (!SameRequest(it->second->record, r)) {
            results[i] = RequestIdUsed(r.request_id, it->second->record.name);
          } else {
            answers[i] = Answer::kBatch;
            by[i] = it->second;
          }
          continue;
        }
        if (Job* old = m.FindRetried(r); old != nullptr) {
          if (!SameRequest(old->record, r)) {
            results[i] = RequestIdUsed(r.request_id, old->record.name);
          } else {
            answers[i] = Answer::kExisting;
            by[i] = old;
          }
          continue;
        }
      }
      // Join an identical queued or running job of the same owner (the
      // oldest), else repeat an identical SUCCEEDED one (an exact hit: its
      // chunks are stored), else join an identical job this batch creates.
      Job* other = m.FindLive(r);
      if (other == nullptr && Repeatable(*job)) {
        if (Job* done = m.FindSucceeded(r); done != nullptr) {
          repeated.push_back(done);
          answers[i] = Answer::kExisting;
          by[i] = done;
          if (!r.request_id.empty()) batch_ids[key] = done;
          continue;
        }
      }
      if (other != nullptr) {
        auto [it, fresh] = joined_index.try_emplace(other, joined.size());
        if (fresh) joined.emplace_back(other, 0);
        ++joined[it->second].second;
      } else {
        auto [blo, bhi] = batch_live.equal_range(r.digest);
        for (auto it = blo; it != bhi && other == nullptr; ++it) {
          if (it->second->record.owner == r.owner &&
              SameRequest(it->second->record, r)) {
            other = it->second;
          }
        }
        if (other != nullptr) {
          ++other->record.submissions;
          ++batch_joins;
        }
      }
      if (other == nullptr) {
        // A new job: SUCCEEDED at once on an exact hit (every chunk
        // already stored; an early-stopping job still has to fold them to
        // find where it stops, so it is queued), else queued.
        if (stored[i] < 0) {  // 1b guessed wrong: count now (rare)
          absl::StatusOr<int64_t> count =
              m.store->CountChunks(r.digest, r.num_chunks);
          if (!count.ok()) {
            results[i] = count.status();
            continue;
          }
          stored[i] = *count;
        }
        const bool exact_hit =
            stored[i] == r.num_chunks && r.target_stderr == 0;
        if (!exact_hit && queued >= m.options.max_queued_jobs) {
          results[i] = absl::ResourceExhaustedError(absl::StrCat(
              "queue full: ", queued, " jobs queued, max_queued_jobs = ",
              m.options.max_queued_jobs, "; retry later"));
          continue;
        }
        if (!exact_hit && m.options.max_queued_jobs_per_owner > 0) {
          const int64_t mine = queued_by_owner[r.owner];
          if (mine >= m.options.max_queued_jobs_per_owner) {
            results[i] = absl::ResourceExhaustedError(absl::StrCat(
                "principal '", r.owner, "' has ", mine,
                " jobs queued, max_queued_jobs_per_principal = ",
                m.options.max_queued_jobs_per_owner, "; retry later"));
            continue;
          }
        }
        do {
          r.name =
              absl::StrFormat("jobs/%016x", absl::Uniform<uint64_t>(m.bitgen));
        } while (m.jobs.contains(r.name) || !batch_names.insert(r.name).second);
        r.sequence = m.next_sequence++;
        if (exact_hit) {
          r.state = JobState::kSucceeded;
          r.start_time = r.end_time = r.create_time;
          job->chunks_done = job->chunks_from_store = stored[i];
          r.chunks_done = r.chunks_from_store = stored[i];
        } else {
          ++queued;
          if (m.options.max_queued_jobs_per_owner > 0) {
            ++queued_by_owner[r.owner];
          }
        }
        other = job.get();
        FillSpecJson(*job);  // when 1b guessed an existing job would answer
        batch_live.emplace(r.digest, other);
        created.push_back(job);
      }
      answers[i] = Answer::kBatch;
      by[i] = other;
      if (!r.request_id.empty()) batch_ids[key] = other;
    }

    // 3. One transaction for every row the batch writes.
    std::vector<JobRecord> joined_rows;
    joined_rows.reserve(joined.size());
    std::vector<const JobRecord*> rows;
    rows.reserve(created.size() + joined.size());
    for (const auto& job : created) rows.push_back(&job->record);
    for (const auto& [job, joins] : joined) {
      joined_rows.push_back(job->record);
      joined_rows.back().submissions += joins;
      rows.push_back(&joined_rows.back());
    }
    const absl::Time planned = absl::Now();
    const absl::Status persisted = m.store->PutJobs(rows);
    written = absl::Now();
    if (n > 1) {
      JobsLog("batch_persisted",
              {{"requests", n},
               {"rows", rows.size()},
               {"prepare_ms", absl::ToDoubleMilliseconds(locked - start)},
               {"plan_ms", absl::ToDoubleMilliseconds(planned - locked)},
               {"store_ms", absl::ToDoubleMilliseconds(written - planned)}});
    }
    if (!persisted.ok()) {
      JobsLog("store_error", {{"jobs", absl::StrCat(rows.size())},
                              {"error", persisted.ToString()}});
    }

    // 4. Publish (or answer the store's error).
    if (persisted.ok()) {
      for (const auto& job : created) {
        const JobRecord& r = job->record;
        ++m.counters.jobs_submitted;
        if (r.state == JobState::kSucceeded) {
          ++m.finished;
          ++m.counters.exact_hits;
          ++m.counters.jobs_completed;
          m.counters.chunks_from_store += r.chunks_from_store;
          if (Repeatable(*job)) m.succeeded.emplace(r.digest, job.get());
        } else {
          m.queue.emplace(-r.priority, r.sequence, r.name);
          m.live.emplace(r.digest, job);
        }
        m.by_sequence[r.sequence] = job;
        m.jobs[r.name] = job;
      }
      for (const auto& [job, joins] : joined) {
        job->record.submissions += joins;
        m.Touch(*job, /*persist=*/false).IgnoreError();
        m.counters.jobs_submitted += joins;
        m.counters.jobs_deduplicated += joins;
        snapshots_to_notify.push_back(m.Snapshot(*job));
      }
      m.counters.jobs_submitted += batch_joins;
      m.counters.jobs_deduplicated += batch_joins;
      for (const auto& [key, job] : batch_ids) {
        m.request_ids[key] = job->record.name;
      }
      if (m.queue.size() > 0 && !created.empty()) m.work.SignalAll();
    }
    // Repeats write no row now: counted in memory, saved within a second
    // (RepeatSaverLoop), whatever became of the batch's write.
    for (Job* job : repeated) {
      m.CountRepeat(*job);
      if (m.subscriptions.load() > 0) {
        repeat_snapshots.push_back(m.Snapshot(*job));
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (answers[i] == Answer::kError) continue;
      if (answers[i] == Answer::kBatch && !persisted.ok()) {
        results[i] = persisted;
        continue;
      }
      results[i] = m.Snapshot(*by[i]);
    }
    // After the answers (by[] may name finished jobs); `created` keeps this
    // batch's jobs alive for the logs below.
    retired = m.RetireFinished();
    if (persisted.ok()) {
      created_logs.reserve(created.size());
      for (const auto& job : created) {
        const JobRecord& r = job->record;
        created_logs.push_back({r.name, r.state, r.digest.substr(0, 16),
                                r.num_chunks, r.chunks_from_store, r.priority,
                                r.owner, r.request_id});
      }
    }
  }
  m.DeleteRetired(retired);
  // Logged after the lock, from what the jobs were when created (a runner
  // may be changing them now).
  for (const CreatedLog& c : created_logs) {
    JobsLog("job_created", {{"job", c.name},
                            {"state", std::string(JobStateName(c.state))},
                            {"digest", c.digest},
                            {"chunks", c.chunks},
                            {"stored", c.stored},
                            {"priority", c.priority},
                            {"owner", c.owner},
                            {"request_id", c.request_id}});
  }
  for (const JobSnapshot& snapshot : snapshots_to_notify) {
    JobsLog("job_joined",
            {{"job", snapshot.name},
             {"submissions", absl::StrCat(snapshot.submissions)}});
    m.Notify(snapshot);
  }
  for (const JobSnapshot& snapshot : repeat_snapshots) m.Notify(snapshot);
}

}  // namespace nnft::server
