#include "server/jobs/job_manager.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/estimate/estimate.h"
#include "core/spec/tuples.h"
#include "core/status_macros.h"
#include "server/jobs/job_manager_internal.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

// No bound beyond the types' own: what a stored row was validated against
// when it was submitted is not known, and it must not matter.
Limits StoredSpecLimits() {
  constexpr int kInt = std::numeric_limits<int>::max();
  constexpr int64_t kInt64 = std::numeric_limits<int64_t>::max();
  return Limits{.max_input_dim = kInt,
                .max_width = kInt,
                .max_depth = kInt,
                .max_points = kInt,
                .max_tuples = kInt64,
                .max_networks = kInt64,
                .max_chunk_size = kInt,
                .max_parameters = kInt64,
                .max_training_times = kInt,
                .max_training_steps = kInt64};
}

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

}  // namespace

absl::Status JobManagerOptions::Validate() const {
  if (data_dir.empty()) {
    return absl::InvalidArgumentError(
        "data_dir is empty: must name a directory");
  }
  if (worker_threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker_threads = ", worker_threads, ": must be >= 0 (0: all cores)"));
  }
  if (max_queued_jobs < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_queued_jobs = ", max_queued_jobs, ": must be >= 1"));
  }
  if (max_finished_jobs < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_finished_jobs = ", max_finished_jobs,
                     ": must be >= 0 (0: keep every job)"));
  }
  NNFT_RETURN_IF_ERROR(admission.Validate());
  if (max_queued_jobs_per_owner < 0 || max_running_jobs_per_owner < 0) {
    return absl::InvalidArgumentError(
        "max_queued_jobs_per_principal and max_running_jobs_per_principal "
        "must be >= 0 (0: no limit)");
  }
  if (max_running_jobs < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_running_jobs = ", max_running_jobs, ": must be >= 1"));
  }
  if (max_bins < 2 || max_bins % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_bins = ", max_bins, ": must be even and >= 2"));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- Impl

JobSnapshot JobManager::Impl::Snapshot(const Job& job) const {
  const JobRecord& r = job.record;
  JobSnapshot s;
  s.name = r.name;
  s.request_id = r.request_id;
  s.owner = r.owner;
  s.digest = r.digest;
  s.spec_json = r.spec_json;
  s.state = r.state;
  s.priority = r.priority;
  s.chunks_total = job.chunks_total;
  s.chunks_done = job.chunks_done;
  s.chunks_from_store = job.chunks_from_store;
  s.networks_done = job.chunks_done * job.spec.sampling.chunk_size;
  s.submissions = r.submissions;
  s.create_time = r.create_time;
  s.start_time = r.start_time;
  s.end_time = r.end_time;
  s.error = job.error;
  s.estimate = job.estimate;
  s.training = job.training;
  s.checks = job.checks;
  s.sweep = SweepSnapshot(job);
  s.version = job.version;
  s.submitted_spec = job.submitted_spec;
  return s;
}

absl::StatusOr<std::shared_ptr<Job>> JobManager::Impl::Find(
    absl::string_view name, absl::string_view owner, bool damaged_ok) {
  auto it = jobs.find(name);
  if (it == jobs.end() ||
      (!owner.empty() && it->second->record.owner != owner)) {
    return absl::NotFoundError(absl::StrCat("job '", name, "' not found"));
  }
  if (!damaged_ok && !it->second->damaged.ok()) return it->second->damaged;
  return it->second;
}

absl::Status JobManager::Impl::Touch(Job& job, bool persist) {
  ++job.version;
  job.last_used = absl::Now();
  job.record.chunks_done = job.chunks_done;
  job.record.chunks_from_store = job.chunks_from_store;
  changed.SignalAll();
  return persist ? store->PutJob(job.record) : absl::OkStatus();
}

JobSnapshot JobManager::Impl::Transition(Job& job, JobState state,
                                         absl::Status error, bool persist) {
  JobRecord& r = job.record;
  r.state = state;
  job.error = error;
  r.error_code = static_cast<int>(error.code());
  r.error_message = std::string(error.message());
  if (IsTerminal(state)) {
    ++finished;
    auto [lo, hi] = live.equal_range(r.digest);
    for (auto it = lo; it != hi; ++it) {
      if (it->second.get() == &job) {
        live.erase(it);
        break;
      }
    }
    r.end_time = absl::Now();
    if (state == JobState::kSucceeded) {
      // The result uses chunks [0, chunks_total): record what it used.
      job.chunks_done = job.chunks_total;
      ++counters.jobs_completed;
      // Every chunk was computed or found (see Repeatable in job_submit.cc).
      if (r.target_stderr == 0 && job.sweep.empty()) {
        succeeded.emplace(r.digest, &job);
      }
    }
  }
  absl::Status persisted = Touch(job, persist);
  JobsLog("job_state",
          {{"job", r.name},
           {"state", std::string(JobStateName(state))},
           {"digest", r.digest.substr(0, 16)},
           {"chunks_done", absl::StrCat(job.chunks_done)},
           {"chunks_total", absl::StrCat(job.chunks_total)},
           {"chunks_from_store", absl::StrCat(job.chunks_from_store)},
           {"error", error.ok() ? "" : error.ToString()}});
  if (!persisted.ok()) {
    JobsLog("store_error", {{"job", r.name}, {"error", persisted.ToString()}});
  }
  return Snapshot(job);
}

void JobManager::Impl::Notify(const JobSnapshot& snapshot) {
  absl::MutexLock lock(&sub_mu);
  JobManager::SnapshotPtr shared;  // one copy for every subscriber
  for (auto& [id, sub] : subs) {
    if (sub.name != snapshot.name || snapshot.version <= sub.last_version) {
      continue;
    }
    if (shared == nullptr)
      shared = std::make_shared<const JobSnapshot>(snapshot);
    sub.last_version = snapshot.version;
    sub.on_change(shared);
  }
}

// ---------------------------------------------------------------- JobManager

JobManager::JobManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

JobManager::~JobManager() { Drain(); }

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Open(
    JobManagerOptions options) {
  NNFT_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  NNFT_ASSIGN_OR_RETURN(
      impl->store,
      ResultStore::Open(options.data_dir, options.max_store_bytes));
  NNFT_ASSIGN_OR_RETURN(ResultStore::CheckReport check, impl->store->Check());
  for (const auto& [digest, k] : check.removed) {
    JobsLog("store_chunk_corrupt",
            {{"digest", digest},
             {"chunk", k},
             {"action", "removed; recomputed if needed"}});
  }
  absl::flat_hash_set<std::string> damaged_digests;
  for (const auto& [digest, k] : check.removed) damaged_digests.insert(digest);
  JobsLog("store_checked", {{"chunks", check.chunks_checked},
                            {"corrupt_removed", check.removed.size()}});
  NNFT_ASSIGN_OR_RETURN(std::vector<JobRecord> rows, impl->store->LoadJobs());
  impl->options = std::move(options);
  int resumed = 0;
  {
    absl::MutexLock lock(&impl->mu);
    for (JobRecord& row : rows) {
      auto job = std::make_shared<Job>();
      job->record = std::move(row);
      JobRecord& r = job->record;
      impl->next_sequence = std::max(impl->next_sequence, r.sequence + 1);
      if (!r.integrity.ok()) {
        // Never served, resumed or rewritten: reads of it answer DataLoss,
        // listings show it FAILED without its spec, Delete removes it.
        JobsLog("job_record_damaged",
                {{"job", r.name}, {"reason", r.integrity.message()}});
        job->damaged = absl::DataLossError(absl::StrCat(
            "job ", r.name, ": its stored record is damaged (",
            r.integrity.message(), "); delete it and submit the spec again"));
        job->error = job->damaged;
        r.state = JobState::kFailed;
        r.digest.clear();
        r.spec_json.clear();
        impl->by_sequence[r.sequence] = job;
        impl->jobs[r.name] = std::move(job);
        continue;
      }
      job->chunks_total =
          r.state == JobState::kSucceeded ? r.chunks_done : r.num_chunks;
      job->chunks_done = r.chunks_done;
      job->chunks_from_store = r.chunks_from_store;
      if (r.error_code != 0) {
        job->error = absl::Status(static_cast<absl::StatusCode>(r.error_code),
                                  r.error_message);
      }
      // Rows were validated when submitted: they are rebuilt under no limits
      // (a server restarted with tighter limits still serves its old jobs).
      // Rows of the binary codec of schema 2 and earlier are rebuilt from
      // their JSON, which the row's checksum covers too.
      absl::StatusOr<ExperimentSpec> spec =
          IsLegacySpecBytes(r.spec_bytes)
              ? SpecFromJson(r.spec_json, StoredSpecLimits())
              : DecodeSpecBytes(r.spec_bytes, StoredSpecLimits());
      if (spec.ok()) {
        job->spec = *std::move(spec);
        job->spec.sampling.num_networks = r.num_networks;
        InitSweep(*job);
        // An unfinished job resumes under this engine's digest: chunks of an
        // older engine (another fingerprint) are never mixed in.
        if (!IsTerminal(r.state)) r.digest = SpecDigest(job->spec);
      } else if (!IsTerminal(r.state)) {
        impl->Transition(*job, JobState::kFailed, spec.status());
      }
      if (!IsTerminal(r.state)) {
        r.state = JobState::kQueued;
        impl->queue.emplace(-r.priority, r.sequence, r.name);
        impl->live.emplace(r.digest, job);
        ++resumed;
      } else if (r.state == JobState::kSucceeded && spec.ok() &&
                 r.target_stderr == 0 && job->sweep.empty() &&
                 !damaged_digests.contains(r.digest)) {
        // Repeats answer it only while its chunks are all stored.
        impl->succeeded.emplace(r.digest, job.get());
      }
      if (!r.request_id.empty()) {
        impl->request_ids[{r.owner, r.request_id}] = r.name;
      }
      impl->by_sequence[r.sequence] = job;
      impl->jobs[r.name] = std::move(job);
    }
  }
  std::vector<std::string> retired;
  {
    absl::MutexLock lock(&impl->mu);
    impl->finished = std::count_if(
        impl->jobs.begin(), impl->jobs.end(), [](const auto& entry) {
          return IsTerminal(entry.second->record.state) &&
                 entry.second->damaged.ok();
        });
    retired = impl->RetireFinished();  // a table over max_finished_jobs
  }
  impl->DeleteRetired(retired);
  JobsLog("open", {{"data_dir", impl->options.data_dir},
                   {"jobs", absl::StrCat(rows.size())},
                   {"resumed", absl::StrCat(resumed)},
                   {"engine", EngineFingerprint()}});
  Impl* raw = impl.get();
  std::unique_ptr<JobManager> manager(new JobManager(std::move(impl)));
  for (int i = 0; i < raw->options.max_running_jobs; ++i) {
    raw->runners.emplace_back([raw] { raw->RunnerLoop(); });
  }
  raw->repeat_saver = std::thread([raw] { raw->RepeatSaverLoop(); });
  return manager;
}

absl::StatusOr<JobSnapshot> JobManager::Get(absl::string_view name,
                                            absl::string_view owner) {
  absl::MutexLock lock(&impl_->mu);
  NNFT_ASSIGN_OR_RETURN(std::shared_ptr<Job> job, impl_->Find(name, owner));
  return impl_->Snapshot(*job);
}

absl::StatusOr<ListPage> JobManager::List(int page_size,
                                          absl::string_view page_token,
                                          absl::string_view owner) {
  if (page_size < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size = ", page_size, ": must be >= 0 (0: ", kDefaultPageSize,
        "; at most ", kMaxPageSize, ")"));
  }
  if (page_size == 0) page_size = kDefaultPageSize;
  page_size = std::min(page_size, kMaxPageSize);
  // The token is the sequence number of the next job to list.
  int64_t start = 0;
  if (!page_token.empty() &&
      (!absl::SimpleAtoi(page_token, &start) || start < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token '", page_token, "' is not a token returned by ListJobs"));
  }
  ListPage page;
  absl::MutexLock lock(&impl_->mu);
  for (auto it = impl_->by_sequence.lower_bound(start);
       it != impl_->by_sequence.end(); ++it) {
    const Job& job = *it->second;
    if (!owner.empty() && job.record.owner != owner) {
      continue;
    }
    if (static_cast<int>(page.jobs.size()) == page_size) {
      page.next_page_token = absl::StrCat(it->first);
      break;
    }
    page.jobs.push_back(impl_->Snapshot(job));
    page.resume_tokens.push_back(absl::StrCat(it->first));
  }
  return page;
}

absl::StatusOr<JobSnapshot> JobManager::Cancel(absl::string_view name,
                                               absl::string_view owner) {
  Impl& m = *impl_;
  JobSnapshot snapshot;
  {
    absl::MutexLock lock(&m.mu);
    NNFT_ASSIGN_OR_RETURN(std::shared_ptr<Job> job, m.Find(name, owner));
    JobRecord& r = job->record;
    if (r.state == JobState::kQueued) {
      m.queue.erase({-r.priority, r.sequence, r.name});
      snapshot = m.Transition(*job, JobState::kCancelled,
                              absl::CancelledError("cancelled by the client"));
    } else {
      if (r.state == JobState::kRunning && !job->cancel.exchange(true)) {
        JobsLog("job_cancel_requested", {{"job", r.name}});
        m.changed.SignalAll();  // wakes a job waiting for others' chunks
      }
      return m.Snapshot(*job);
    }
  }
  m.Notify(snapshot);
  return snapshot;
}

absl::Status JobManager::Delete(absl::string_view name,
                                absl::string_view owner) {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.mu);
  NNFT_ASSIGN_OR_RETURN(std::shared_ptr<Job> job,
                        m.Find(name, owner, /*damaged_ok=*/true));
  const JobRecord& r = job->record;
  if (!IsTerminal(r.state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", r.name, " is ", JobStateName(r.state),
                     ": cancel it before deleting it"));
  }
  NNFT_RETURN_IF_ERROR(m.store->DeleteJob(r.name));
  JobsLog("job_deleted", {{"job", r.name}});
  m.Forget(job);
  m.changed.SignalAll();
  return absl::OkStatus();
}

void JobManager::Impl::Forget(const std::shared_ptr<Job>& job) {
  const JobRecord& r = job->record;
  if (!r.request_id.empty() && job->damaged.ok()) {
    auto it = request_ids.find({r.owner, r.request_id});
    if (it != request_ids.end() && it->second == r.name) request_ids.erase(it);
  }
  by_sequence.erase(r.sequence);
  if (IsTerminal(r.state) && job->damaged.ok()) --finished;
  auto [lo, hi] = succeeded.equal_range(r.digest);
  for (auto it = lo; it != hi; ++it) {
    if (it->second == job.get()) {
      succeeded.erase(it);
      break;
    }
  }
  jobs.erase(r.name);  // `job` keeps the Job alive for the caller
}

std::vector<std::string> JobManager::Impl::RetireFinished() {
  const int64_t keep = options.max_finished_jobs;
  if (keep <= 0 || finished <= keep + kRetireSlack) return {};
  // Least recently used first (Touch: finished, repeated, progressed; a new
  // job counts as used when created), then oldest.
  std::vector<Job*> candidates;
  for (const auto& [sequence, job] : by_sequence) {
    // A damaged record stays, to be reported as DataLoss.
    if (IsTerminal(job->record.state) && job->damaged.ok()) {
      candidates.push_back(job.get());
    }
  }
  finished = static_cast<int64_t>(candidates.size());  // the exact count
  if (finished <= keep + kRetireSlack) return {};
  const size_t excess = static_cast<size_t>(finished - keep);
  std::nth_element(candidates.begin(), candidates.begin() + excess,
                   candidates.end(), [](const Job* a, const Job* b) {
                     return std::make_pair(a->last_used, a->record.sequence) <
                            std::make_pair(b->last_used, b->record.sequence);
                   });
  std::vector<std::string> names;
  names.reserve(excess);
  for (size_t i = 0; i < excess; ++i) {
    names.push_back(candidates[i]->record.name);
    const std::shared_ptr<Job> job = jobs.at(names.back());  // held through
    Forget(job);  // the job is freed when `job` goes
  }
  counters.jobs_retired += static_cast<int64_t>(excess);
  return names;
}

void JobManager::Impl::DeleteRetired(const std::vector<std::string>& names) {
  if (names.empty()) return;
  const absl::Time start = absl::Now();
  // A failure (or a crash before this) leaves rows that the next Open loads
  // and retires again.
  if (const absl::Status s = store->DeleteJobs(names); !s.ok()) {
    JobsLog("store_error", {{"jobs", absl::StrCat(names.size())},
                            {"what", "deleting retired jobs"},
                            {"error", s.ToString()}});
  }
  const absl::Time deleted = absl::Now();
  // Hands the freed pages back to the system once kTrimEvery jobs were
  // retired: without it glibc keeps them in its per-thread arenas,
  // fragmented, and RSS creeps up although the jobs kept stay as many;
  // trimming at every batch measured slower for tiny jobs
  // (docs/operations.md).
  const int64_t n = static_cast<int64_t>(names.size());
  const bool trim = retired_since_trim.fetch_add(n) + n >= kTrimEvery;
  if (trim) {
    retired_since_trim = 0;
    malloc_trim(0);
  }
  JobsLog("jobs_retired",
          {{"jobs", absl::StrCat(names.size())},
           {"delete_ms", absl::ToDoubleMilliseconds(deleted - start)},
           {"trim_ms",
            trim ? absl::ToDoubleMilliseconds(absl::Now() - deleted) : 0.0}});
}

absl::StatusOr<int64_t> JobManager::Subscribe(
    absl::string_view name, std::function<void(const SnapshotPtr&)> on_change,
    absl::string_view owner) {
  Impl& m = *impl_;
  absl::MutexLock sub_lock(&m.sub_mu);
  SnapshotPtr snapshot;
  {
    absl::MutexLock lock(&m.mu);
    NNFT_ASSIGN_OR_RETURN(std::shared_ptr<Job> job, m.Find(name, owner));
    snapshot = std::make_shared<const JobSnapshot>(m.Snapshot(*job));
  }
  const int64_t id = m.next_sub++;
  Impl::Subscription& sub = m.subs[id];
  sub.name = snapshot->name;
  sub.on_change = std::move(on_change);
  sub.last_version = snapshot->version;
  ++m.subscriptions;
  sub.on_change(snapshot);
  return id;
}

void JobManager::Unsubscribe(int64_t id) {
  absl::MutexLock lock(&impl_->sub_mu);
  impl_->subscriptions -= static_cast<int64_t>(impl_->subs.erase(id));
}

absl::StatusOr<JobSnapshot> JobManager::WaitForChange(absl::string_view name,
                                                      int64_t after_version,
                                                      absl::Time deadline,
                                                      absl::string_view owner) {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.mu);
  while (true) {
    NNFT_ASSIGN_OR_RETURN(std::shared_ptr<Job> job, m.Find(name, owner));
    if (job->version > after_version || IsTerminal(job->record.state) ||
        absl::Now() >= deadline) {
      return m.Snapshot(*job);
    }
    m.changed.WaitWithDeadline(&m.mu, deadline);
  }
}

JobGauges JobManager::gauges() const {
  JobGauges g;
  absl::MutexLock lock(&impl_->mu);
  for (const auto& [name, job] : impl_->jobs) {
    switch (job->record.state) {
      case JobState::kQueued:
        ++g.queued;
        break;
      case JobState::kRunning:
        ++g.running;
        break;
      case JobState::kSucceeded:
        ++g.succeeded;
        break;
      case JobState::kFailed:
        ++g.failed;
        break;
      case JobState::kCancelled:
        ++g.cancelled;
        break;
    }
  }
  return g;
}

Counters JobManager::counters() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->counters;
}

void JobManager::Drain() {
  Impl& m = *impl_;
  {
    absl::MutexLock lock(&m.mu);
    if (m.drained) return;
    m.SaveRepeats();
    m.drained = true;
    m.draining = true;
    m.work.SignalAll();
    m.changed.SignalAll();
    m.repeats_pending.SignalAll();
  }
  for (std::thread& t : m.runners) t.join();
  m.runners.clear();
  if (m.repeat_saver.joinable()) m.repeat_saver.join();
  JobsLog("drained", {{"data_dir", m.options.data_dir}});
}

}  // namespace nnft::server
