// The unary calls of the Nnft service. See service.h.
#include "server/api/service.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/analyses/symmetry.h"
#include "core/spec/tuples.h"
#include "core/status_macros.h"
#include "core/theory/kernel_answer.h"
#include "core/theory/ntk.h"
#include "core/theory/theory.h"
#include "server/api/convert.h"
#include "server/api/grpc_status.h"
#include "server/api/service_internal.h"
#include "server/api/service_streams.h"
#include "server/ops/log.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

constexpr int kMaxPageSize = 1000;
constexpr int kDefaultPageSize = 100;
// Jobs ListJobs examines per call when a states filter skips most of them.
constexpr int kMaxListScan = 10000;
// Bytes of jobs in one ListJobs response: well under gRPC's default 4 MiB
// receive limit of clients, whatever the specs hold. A job bigger than this
// alone is listed without its spec (GetJob returns it whole).
constexpr int64_t kListPageBytes = int64_t{1} << 20;
// Page tokens this server issues are under 100 bytes.
constexpr size_t kMaxPageTokenBytes = 1024;
constexpr absl::string_view kTokenPrefix = "lj1.";

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// 64-bit FNV-1a: a stable (cross-process) fingerprint of a ListJobs query.
uint64_t Fnv1a(absl::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// What a page token is bound to: the caller and the states filter (sorted,
// deduplicated), not the page size.
std::string QueryKey(const std::string& owner, std::vector<int> states) {
  std::sort(states.begin(), states.end());
  states.erase(std::unique(states.begin(), states.end()), states.end());
  return absl::StrCat(
      Fnv1a(absl::StrCat(owner, "\n", absl::StrJoin(states, ","))));
}

std::string WrapToken(const std::string& query, const std::string& inner) {
  return absl::StrCat(
      kTokenPrefix, absl::WebSafeBase64Escape(absl::StrCat(query, ":", inner)));
}

// The job manager's token inside `token`, if it was issued for `query`.
absl::StatusOr<std::string> UnwrapToken(const std::string& query,
                                        absl::string_view token) {
  std::string raw;
  if (!absl::StartsWith(token, kTokenPrefix) ||
      !absl::WebSafeBase64Unescape(token.substr(kTokenPrefix.size()), &raw) ||
      raw.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        "page_token: not a token returned by ListJobs");
  }
  const size_t colon = raw.find(':');
  if (raw.substr(0, colon) != query) {
    return absl::InvalidArgumentError(
        "page_token: was returned for another query (other states or another "
        "caller); repeat the query that returned it, or start without one");
  }
  return raw.substr(colon + 1);
}

}  // namespace

KernelAnswerSize EstimateKernelAnswer(const ExperimentSpec& spec,
                                      int64_t cross_points) {
  const double p = static_cast<double>(spec.points.rows());
  const double q = static_cast<double>(cross_points);
  KernelAnswerSize size;
  // Per tuple of order n: an IndexTuple (two tags, two lengths, n one-byte
  // indices at least) and four packed doubles of theory.
  auto add = [&size](double count, int n) {
    size.tuples += count;
    size.min_bytes += count * (4 + n + 4 * 8);
  };
  if (!spec.observables.tuples.empty()) {
    for (const std::vector<int>& t : spec.observables.tuples) {
      add(1, static_cast<int>(t.size()));
    }
  } else {
    for (int n : spec.observables.orders) {
      // C(P + n - 1, n): the multisets of size n of P points.
      double count = 1;
      for (int i = 1; i <= n; ++i) count = count * (p + n - i) / i;
      add(std::round(count), n);
    }
  }
  size.min_bytes += 8 * p * p;  // the kernel, packed
  size.min_bytes += 8 * p * q;  // the cross kernel
  if (spec.training) {
    const double m = p + q,
                 t = static_cast<double>(spec.training->times.size());
    size.min_bytes += 8 * t * (m + m * m + 2);  // times, mean, cov, loss
  }
  if (theory::NtkAbsentReason(spec.architecture).empty()) {
    size.ntk_bytes = 8 * p * (p + q);
  }
  return size;
}

absl::StatusOr<std::string> CallerOwner(
    const TokenAuthenticator* auth,
    const grpc::CallbackServerContext* context) {
  if (auth == nullptr) return std::string();
  absl::StatusOr<std::string> principal = auth->Authenticate(*context);
  if (!principal.ok()) {
    LogEvent("auth_failed", {{"peer", context->peer()},
                             {"reason", principal.status().message()}});
  }
  return principal;
}

absl::Status CheckJobName(absl::string_view field, absl::string_view name) {
  constexpr absl::string_view kPrefix = "jobs/";
  bool ok =
      absl::StartsWith(name, kPrefix) && name.size() == kPrefix.size() + 16;
  for (size_t i = kPrefix.size(); ok && i < name.size(); ++i) {
    ok = IsLowerHex(name[i]);
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " = '", absl::CHexEscape(name.substr(0, 80)),
                   "': must be jobs/{id}, id 16 lower-case hex digits"));
}

NnftService::NnftService(JobManager* jobs, ServiceOptions options)
    : jobs_(jobs),
      options_(std::move(options)),
      watch_updates_(
          std::make_unique<WatchUpdates>(options_.watch_bytes_per_second)),
      pool_(std::make_unique<WorkPool>(options_.pool_threads)) {}

NnftService::~NnftService() = default;

grpc::ServerUnaryReactor* NnftService::GetJob(
    grpc::CallbackServerContext* context, const v1::GetJobRequest* request,
    v1::Job* response) {
  absl::StatusOr<std::string> owner = Caller(context);
  if (!owner.ok()) return internal::Done(context, owner.status());
  if (absl::Status s = CheckJobName("name", request->name()); !s.ok()) {
    return internal::Done(context, s);
  }
  auto job = jobs_->Get(request->name(), *owner);
  if (job.ok()) *response = JobToProto(*job);
  return internal::Done(context, job.status());
}

absl::Status NnftService::List(const v1::ListJobsRequest& request,
                               const std::string& owner,
                               v1::ListJobsResponse* response) {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size = ", request.page_size(), ": must be in [0, ",
                     kMaxPageSize, "] (0: ", kDefaultPageSize, ")"));
  }
  std::vector<int> states(request.states().begin(), request.states().end());
  for (size_t i = 0; i < states.size(); ++i) {
    if (states[i] == v1::Job::STATE_UNSPECIFIED ||
        !v1::Job::State_IsValid(states[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "states[", i, "] = ", states[i], ": must be a job state (1 to 5)"));
    }
  }
  if (request.page_token().size() > kMaxPageTokenBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token has ", request.page_token().size(),
                     " bytes: must have at most ", kMaxPageTokenBytes,
                     " (a token returned by ListJobs)"));
  }
  const std::string query = QueryKey(owner, states);
  std::string inner;
  if (!request.page_token().empty()) {
    NNFT_ASSIGN_OR_RETURN(inner, UnwrapToken(query, request.page_token()));
  }
  const int want =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  int scanned = 0;
  int64_t bytes = 0;
  bool full = false;
  // A manager page is consumed up to the first job that does not fit the
  // byte budget; the token then resumes at that job, else after the page.
  while (!full && response->jobs_size() < want && scanned < kMaxListScan) {
    NNFT_ASSIGN_OR_RETURN(
        ListPage page, jobs_->List(want - response->jobs_size(), inner, owner));
    for (size_t i = 0; i < page.jobs.size(); ++i) {
      const JobSnapshot& job = page.jobs[i];
      const int state = StateToProto(job.state);
      if (!states.empty() &&
          std::find(states.begin(), states.end(), state) == states.end()) {
        ++scanned;
        continue;
      }
      v1::Job proto = JobToProto(job);
      int64_t size = static_cast<int64_t>(proto.ByteSizeLong()) + 8;
      if (response->jobs_size() > 0 && bytes + size > kListPageBytes) {
        inner = page.resume_tokens[i];
        full = true;
        break;
      }
      if (size > kListPageBytes) {
        proto.clear_spec();
        size = static_cast<int64_t>(proto.ByteSizeLong()) + 8;
      }
      ++scanned;
      bytes += size;
      *response->add_jobs() = std::move(proto);
    }
    if (!full) inner = page.next_page_token;
    if (inner.empty()) break;
  }
  if (!inner.empty()) response->set_next_page_token(WrapToken(query, inner));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* NnftService::ListJobs(
    grpc::CallbackServerContext* context, const v1::ListJobsRequest* request,
    v1::ListJobsResponse* response) {
  absl::StatusOr<std::string> owner = Caller(context);
  if (!owner.ok()) return internal::Done(context, owner.status());
  return internal::Done(context, List(*request, *owner, response));
}

grpc::ServerUnaryReactor* NnftService::CancelJob(
    grpc::CallbackServerContext* context, const v1::CancelJobRequest* request,
    v1::Job* response) {
  absl::StatusOr<std::string> owner = Caller(context);
  if (!owner.ok()) return internal::Done(context, owner.status());
  if (absl::Status s = CheckJobName("name", request->name()); !s.ok()) {
    return internal::Done(context, s);
  }
  auto job = jobs_->Cancel(request->name(), *owner);
  if (job.ok()) {
    LogEvent("job_cancel_requested",
             {{"name", job->name}, {"state", JobStateName(job->state)}});
    *response = JobToProto(*job);
  }
  return internal::Done(context, job.status());
}

grpc::ServerUnaryReactor* NnftService::DeleteJob(
    grpc::CallbackServerContext* context, const v1::DeleteJobRequest* request,
    google::protobuf::Empty* response) {
  absl::StatusOr<std::string> owner = Caller(context);
  if (!owner.ok()) return internal::Done(context, owner.status());
  if (absl::Status s = CheckJobName("name", request->name()); !s.ok()) {
    return internal::Done(context, s);
  }
  absl::Status status = jobs_->Delete(request->name(), *owner);
  if (status.ok()) LogEvent("job_deleted", {{"name", request->name()}});
  return internal::Done(context, status);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* NnftService::WatchJob(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  absl::StatusOr<std::string> owner = Caller(context);
  if (!owner.ok()) {
    return new FailedWriteReactor<grpc::ByteBuffer>(
        ToGrpcStatus(owner.status()));
  }
  return NewWatchReactor(jobs_, pool_.get(), watch_updates_.get(), *request,
                         *std::move(owner));
}

grpc::ServerWriteReactor<v1::ResultPiece>* NnftService::GetResult(
    grpc::CallbackServerContext* context, const v1::GetResultRequest* request) {
  absl::StatusOr<std::string> owner = Caller(context);
  if (!owner.ok()) {
    return new FailedWriteReactor<v1::ResultPiece>(
        ToGrpcStatus(owner.status()));
  }
  return NewResultReactor(jobs_, pool_.get(), *request, *std::move(owner));
}

absl::Status NnftService::Kernel(const v1::ComputeKernelRequest& request,
                                 v1::ComputeKernelResponse* response) {
  NNFT_RETURN_IF_ERROR(CheckSpecText(request.spec()));
  NNFT_ASSIGN_OR_RETURN(ExperimentSpec spec,
                        SpecFromProto(request.spec(), options_.limits));
  NNFT_ASSIGN_OR_RETURN(
      Eigen::MatrixXd cross,
      CrossPointsFromProto(request, InputDim(spec.architecture),
                           options_.limits));
  NNFT_RETURN_IF_ERROR(
      theory::ValidateKernelAnswer(spec, cross, options_.limits));
  const int64_t p = spec.points.rows();
  const int64_t limit = options_.max_kernel_response_bytes;
  // Sized from the spec's counts before the tuples are built or any theory
  // is computed: both cost seconds and hundreds of MiB for answers far over
  // the limit (tanh, P = 30, orders 2, 4, 6).
  const KernelAnswerSize size = EstimateKernelAnswer(spec, cross.rows());
  if (size.min_bytes > static_cast<double>(limit)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "spec: the ComputeKernel response would be at least ",
        static_cast<int64_t>(size.min_bytes), " bytes (", p, " points, ",
        cross.rows(), " cross points, ", static_cast<int64_t>(size.tuples),
        " tuples), over the limit of ", limit,
        " bytes; submit a job and read it with GetResult, which streams"));
  }
  theory::KernelAnswerOptions kernel_options{
      .threads = options_.worker_threads > 0
                     ? options_.worker_threads
                     : static_cast<int>(
                           std::max(1u, std::thread::hardware_concurrency()))};
  if (size.min_bytes + size.ntk_bytes > static_cast<double>(limit)) {
    kernel_options.omit_ntk = absl::StrCat(
        "left out: with the NTK the ComputeKernel response would be at least ",
        static_cast<int64_t>(size.min_bytes + size.ntk_bytes),
        " bytes, over the limit of ", limit, " bytes");
  }
  NNFT_ASSIGN_OR_RETURN(TupleSet tuples,
                        BuildSpecTuples(spec, options_.limits.max_tuples));
  const int64_t requested = static_cast<int64_t>(tuples.requested().size());
  NNFT_ASSIGN_OR_RETURN(
      TheoryValues theory,
      ComputeTheory(spec, tuples, {.threads = kernel_options.threads}));
  NNFT_ASSIGN_OR_RETURN(theory::KernelAnswer answer,
                        theory::ComputeKernelAnswer(spec, cross, kernel_options,
                                                    options_.limits));
  response->set_num_points(static_cast<int>(p));
  if (theory.kernel.rows() == p && theory.kernel.cols() == p) {
    response->mutable_kernel()->Reserve(static_cast<int>(p * p));
    for (int64_t i = 0; i < p; ++i) {
      for (int64_t j = 0; j < p; ++j) response->add_kernel(theory.kernel(i, j));
    }
  }
  for (int index : tuples.requested()) {
    const Tuple& t = tuples.tuples()[index];
    response->add_tuples()->mutable_index()->Add(t.begin(), t.end());
  }
  TheoryToProto(theory, 0, requested, response->mutable_theory());
  response->mutable_theory()->set_method(theory.method);
  response->set_method(answer.method.empty()
                           ? theory.method
                           : absl::StrCat(theory.method, "; ", answer.method));
  KernelAnswerToProto(answer, response);
  // The estimate is a lower bound (indices past 127 take two bytes): the
  // exact size is checked too, and the answer's memory released on refusal.
  const int64_t bytes = static_cast<int64_t>(response->ByteSizeLong());
  if (bytes > limit) {
    v1::ComputeKernelResponse().Swap(response);
    return absl::InvalidArgumentError(absl::StrCat(
        "spec: the ComputeKernel response would be ", bytes, " bytes (", p,
        " points, ", cross.rows(), " cross points, ", requested,
        " tuples), over the limit of ", limit,
        " bytes; submit a job and read it with GetResult, which streams"));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* NnftService::ComputeKernel(
    grpc::CallbackServerContext* context,
    const v1::ComputeKernelRequest* request,
    v1::ComputeKernelResponse* response) {
  if (absl::StatusOr<std::string> owner = Caller(context); !owner.ok()) {
    return internal::Done(context, owner.status());
  }
  return internal::Offload(context, pool_.get(), [this, request, response] {
    return Kernel(*request, response);
  });
}

grpc::ServerUnaryReactor* NnftService::GetServerInfo(
    grpc::CallbackServerContext* context,
    const v1::GetServerInfoRequest* request, v1::ServerInfo* response) {
  absl::StatusOr<std::string> owner = Caller(context);
  if (!owner.ok()) return internal::Done(context, owner.status());
  v1::SecurityInfo* security = response->mutable_security();
  security->set_tls(options_.tls);
  security->set_client_certificates(options_.tls_client_auth);
  security->set_tokens(options_.auth != nullptr);
  security->set_principal(*owner);
  response->set_version(options_.version);
  response->set_engine_fingerprint(EngineFingerprint());
  const Limits& l = options_.limits;
  v1::Limits* limits = response->mutable_limits();
  limits->set_max_input_dim(l.max_input_dim);
  limits->set_max_width(l.max_width);
  limits->set_max_depth(l.max_depth);
  limits->set_max_points(l.max_points);
  limits->set_max_tuples(l.max_tuples);
  limits->set_max_networks(l.max_networks);
  limits->set_max_chunk_size(l.max_chunk_size);
  limits->set_max_parameters(l.max_parameters);
  limits->set_max_queued_jobs(options_.max_queued_jobs);
  limits->set_max_label_bytes(kMaxLabelBytes);
  limits->set_max_request_id_bytes(
      static_cast<int>(internal::kMaxRequestIdLength));
  limits->set_max_batch_entries(options_.max_batch_entries);
  for (const char* a : {"mlp", "gauss_net", "cos_net", "null_cone", "ou_net",
                        "conv1d", "attention", "kan"}) {
    response->add_architectures(a);
  }
  for (int a = static_cast<int>(Activation::kIdentity);
       a <= static_cast<int>(Activation::kCos); ++a) {
    response->add_activations(
        std::string(ActivationName(static_cast<Activation>(a))));
  }
  const int threads =
      options_.worker_threads > 0
          ? options_.worker_threads
          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  response->set_worker_threads(threads);
  const Counters c = jobs_->counters();
  v1::Counters* counters = response->mutable_counters();
  counters->set_jobs_submitted(c.jobs_submitted);
  counters->set_jobs_deduplicated(c.jobs_deduplicated);
  counters->set_jobs_completed(c.jobs_completed);
  counters->set_chunks_computed(c.chunks_computed);
  counters->set_chunks_from_store(c.chunks_from_store);
  counters->set_networks_computed(c.networks_computed);
  counters->set_exact_hits(c.exact_hits);
  response->set_data_dir(options_.data_dir);
  return internal::Done(context, absl::OkStatus());
}

}  // namespace nnft::server
