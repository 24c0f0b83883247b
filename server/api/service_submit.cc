// The submissions of the Nnft service: SubmitExperiment and SubmitBatch,
// which share the checks of one request (PrepareSubmit). See service.h.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/status_macros.h"
#include "server/api/convert.h"
#include "server/api/service.h"
#include "server/api/service_internal.h"
#include "server/ops/log.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

using internal::Done;
using internal::kMaxRequestIdLength;
using internal::Offload;

constexpr int kMaxPriority = 1000;

// What a submission gets once the server drains (retryable).
absl::Status ShuttingDown() {
  return absl::UnavailableError(
      "the server is shutting down and accepts no new jobs: retry later");
}

// InvalidArgument unless `id` is at most kMaxRequestIdLength printable ASCII
// characters.
absl::Status CheckRequestId(const std::string& id) {
  if (id.size() > kMaxRequestIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id has ", id.size(),
                     " characters: must have at most ", kMaxRequestIdLength));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat("request_id[", i, "] = byte ", static_cast<int>(c),
                       ": must be a printable ASCII character (0x20 to 0x7e)"));
    }
  }
  return absl::OkStatus();
}

// An entry's error message, named from the request's root: a message that
// names a field of the entry ("spec.points[2]...", "request_id ...",
// "priority = ...") gets "entries[i]." before it, any other "entries[i]: ".
std::string EntryMessage(int i, absl::string_view message) {
  for (absl::string_view field : {"spec", "request_id", "priority"}) {
    if (absl::StartsWith(message, field) &&
        (message.size() == field.size() || message[field.size()] == '.' ||
         message[field.size()] == ' ' || message[field.size()] == '[')) {
      return absl::StrCat("entries[", i, "].", message);
    }
  }
  return absl::StrCat("entries[", i, "]: ", message);
}

}  // namespace

absl::StatusOr<SubmitRequest> NnftService::PrepareSubmit(
    const v1::SubmitExperimentRequest& request,
    const std::string& owner) const {
  if (request.priority() < -kMaxPriority || request.priority() > kMaxPriority) {
    return absl::InvalidArgumentError(
        absl::StrCat("priority = ", request.priority(), ": must be in [",
                     -kMaxPriority, ", ", kMaxPriority, "]"));
  }
  NNFT_RETURN_IF_ERROR(CheckRequestId(request.request_id()));
  NNFT_RETURN_IF_ERROR(CheckSpecText(request.spec()));
  // Validated here, once: the job manager has the same limits
  // (spec_validated), and prints the JSON only for a job it creates.
  NNFT_ASSIGN_OR_RETURN(ExperimentSpec spec,
                        SpecFromProto(request.spec(), options_.limits));
  NNFT_ASSIGN_OR_RETURN(double target_stderr,
                        TargetStderrFromProto(request.spec()));
  return SubmitRequest{
      .spec = std::move(spec),
      .request_id = request.request_id(),
      .priority = request.priority(),
      .owner = owner,
      .target_stderr = target_stderr,
      .submitted_spec = std::make_shared<v1::ExperimentSpec>(request.spec()),
      .spec_validated = true};
}

absl::Status NnftService::Answer(absl::StatusOr<JobSnapshot> job,
                                 v1::Job* response, bool log) {
  if (!job.ok()) return job.status();
  if (log) {
    LogEvent("job_submitted", {{"name", job->name},
                               {"state", JobStateName(job->state)},
                               {"digest", job->digest.substr(0, 16)},
                               {"priority", job->priority},
                               {"submissions", job->submissions},
                               {"chunks", job->chunks_total}});
  }
  *response = JobToProto(*job);
  return absl::OkStatus();
}

absl::Status NnftService::Batch(const v1::SubmitBatchRequest& request,
                                const std::string& owner,
                                v1::SubmitBatchResponse* response) {
  if (draining_.load()) {
    return ShuttingDown();
  }
  const int n = request.entries_size();
  if (n > options_.max_batch_entries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entries has ", n, " entries: must have at most ",
        options_.max_batch_entries, " (max_batch_entries; split the batch)"));
  }
  NNFT_RETURN_IF_ERROR(CheckRequestId(request.request_id()));
  const absl::Time start = absl::Now();
  // Entries refused here keep their error; the others go to the job manager
  // together, in order.
  std::vector<absl::Status> errors(n);
  std::vector<SubmitRequest> submits;
  std::vector<int> submitted;  // submits[k] is entries[submitted[k]]
  submits.reserve(n);
  submitted.reserve(n);
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<SubmitRequest> submit =
        PrepareSubmit(request.entries(i), owner);
    if (!submit.ok()) {
      errors[i] = submit.status();
      continue;
    }
    if (submit->request_id.empty() && !request.request_id().empty()) {
      submit->request_id = absl::StrCat(request.request_id(), "/", i);
    }
    submits.push_back(*std::move(submit));
    submitted.push_back(i);
  }
  const absl::Time converted = absl::Now();
  std::vector<absl::StatusOr<JobSnapshot>> jobs =
      jobs_->SubmitMany(std::move(submits));
  const absl::Time queued = absl::Now();
  std::vector<const JobSnapshot*> by_entry(n, nullptr);
  for (size_t k = 0; k < jobs.size(); ++k) {
    if (jobs[k].ok()) {
      by_entry[submitted[k]] = &*jobs[k];
    } else {
      errors[submitted[k]] = jobs[k].status();
    }
  }
  response->mutable_results()->Reserve(n);
  int accepted = 0;
  for (int i = 0; i < n; ++i) {
    v1::SubmitBatchResult* result = response->add_results();
    if (by_entry[i] != nullptr) {
      *result->mutable_job() =
          JobToProtoWithoutSpec(*by_entry[i], request.entries(i).spec());
      ++accepted;
      continue;
    }
    const absl::Status& error = errors[i];
    result->mutable_error()->set_code(static_cast<int>(error.code()));
    result->mutable_error()->set_message(EntryMessage(i, error.message()));
  }
  response->set_accepted(accepted);
  response->set_refused(n - accepted);
  LogEvent("batch_submitted",
           {{"entries", n},
            {"accepted", accepted},
            {"refused", n - accepted},
            {"request_id", request.request_id()},
            {"convert_ms", absl::ToInt64Milliseconds(converted - start)},
            {"jobs_ms", absl::ToInt64Milliseconds(queued - converted)},
            {"answer_ms", absl::ToInt64Milliseconds(absl::Now() - queued)}});
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* NnftService::SubmitBatch(
    grpc::CallbackServerContext* context, const v1::SubmitBatchRequest* request,
    v1::SubmitBatchResponse* response) {
  absl::StatusOr<std::string> owner = Caller(context);
  if (!owner.ok()) return Done(context, owner.status());
  // Refused before any entry is looked at, and without taking a pool thread.
  if (request->entries_size() > options_.max_batch_entries) {
    return Done(context, Batch(*request, *owner, response));
  }
  return Offload(context, pool_.get(),
                 [this, request, response, owner = *std::move(owner)] {
                   return Batch(*request, owner, response);
                 });
}

grpc::ServerUnaryReactor* NnftService::SubmitExperiment(
    grpc::CallbackServerContext* context,
    const v1::SubmitExperimentRequest* request, v1::Job* response) {
  absl::StatusOr<std::string> owner = Caller(context);
  if (!owner.ok()) return Done(context, owner.status());
  if (draining_.load()) return Done(context, ShuttingDown());
  // Validated and digested here; answered here too when the job manager
  // needs no write (a repeat, a retry), else on the pool.
  absl::StatusOr<SubmitRequest> submit = PrepareSubmit(*request, *owner);
  if (!submit.ok()) return Done(context, submit.status());
  absl::StatusOr<PreparedSubmit> prepared = jobs_->Prepare(*std::move(submit));
  if (!prepared.ok()) return Done(context, prepared.status());
  if (std::optional<absl::StatusOr<JobSnapshot>> job =
          jobs_->AnswerFromMemory(*prepared)) {
    // Not logged one by one (tens of thousands a second): repeats and
    // retries are in the metrics, and the job manager logs each save of
    // the repeat counts.
    return Done(context, Answer(*std::move(job), response, /*log=*/false));
  }
  // Shared: the pool takes copyable tasks.
  auto pending = std::make_shared<PreparedSubmit>(*std::move(prepared));
  return Offload(context, pool_.get(), [this, pending, response] {
    return Answer(jobs_->Submit(std::move(*pending)), response, /*log=*/true);
  });
}

}  // namespace nnft::server
