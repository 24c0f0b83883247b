#include "server/ops/metrics.h"

#include <exception>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/store/store.h"

namespace nnft::server {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

const prometheus::Histogram::BucketBoundaries& RpcBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1,
      0.25, 0.5,    1,    2.5,  5,      10,   30,   60,    300};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& JobBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400};
  return *b;
}

const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

}  // namespace

// The registry with every metric, and the scrape-time refresh.
struct ServerMetrics::State : prometheus::Collectable {
  State()
      : registry(std::make_shared<prometheus::Registry>()),
        jobs_family(BuildGauge()
                        .Name("nnft_jobs")
                        .Help("Jobs in memory by state")
                        .Register(*registry)),
        queue_depth(BuildGauge()
                        .Name("nnft_queue_depth")
                        .Help("Jobs waiting to run")
                        .Register(*registry)
                        .Add({})),
        queue_wait(BuildHistogram()
                       .Name("nnft_job_queue_wait_seconds")
                       .Help("Time from a job's creation to its start")
                       .Register(*registry)
                       .Add({}, JobBuckets())),
        run_time(BuildHistogram()
                     .Name("nnft_job_run_seconds")
                     .Help("Length of a job run, by the state it ended in")
                     .Register(*registry)),
        lookups(BuildCounter()
                    .Name("nnft_store_lookups_total")
                    .Help("Jobs by what the result store held: hit (every "
                          "chunk), partial, miss (none)")
                    .Register(*registry)),
        chunks_computed(Counter("nnft_chunks_computed_total",
                                "Chunks computed by this server")),
        networks_computed(Counter("nnft_networks_computed_total",
                                  "Networks in the chunks computed")),
        chunks_from_store(Counter("nnft_chunks_from_store_total",
                                  "Chunks a starting job found stored")),
        jobs_submitted(Counter("nnft_jobs_submitted_total",
                               "Accepted submissions (not retries)")),
        jobs_retired(Counter("nnft_jobs_retired_total",
                             "Finished jobs retired over max_finished_jobs "
                             "(rows gone, chunks kept)")),
        rpc_count(BuildCounter()
                      .Name("nnft_rpc_requests_total")
                      .Help("Finished RPCs by method and status code")
                      .Register(*registry)),
        rpc_duration(BuildHistogram()
                         .Name("nnft_rpc_duration_seconds")
                         .Help("RPC time from start to status, by method "
                               "and code (streams: the whole stream)")
                         .Register(*registry)) {}

  prometheus::Counter& Counter(const char* name, const char* help) {
    return BuildCounter().Name(name).Help(help).Register(*registry).Add({});
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    const_cast<State*>(this)->Refresh();
    return registry->Collect();
  }

  // Brings the job gauges and counters up to the JobManager's.
  void Refresh() {
    absl::MutexLock lock(&mu);
    if (jobs == nullptr) return;
    const JobGauges g = jobs->gauges();
    const Counters c = jobs->counters();
    const std::pair<const char*, int64_t> states[] = {
        {"QUEUED", g.queued},
        {"RUNNING", g.running},
        {"SUCCEEDED", g.succeeded},
        {"FAILED", g.failed},
        {"CANCELLED", g.cancelled}};
    for (const auto& [state, n] : states) {
      jobs_family.Add({{"state", state}}).Set(static_cast<double>(n));
    }
    queue_depth.Set(static_cast<double>(g.queued));
    Advance(chunks_computed, c.chunks_computed, seen.chunks_computed);
    Advance(networks_computed, c.networks_computed, seen.networks_computed);
    Advance(chunks_from_store, c.chunks_from_store, seen.chunks_from_store);
    Advance(jobs_submitted, c.jobs_submitted, seen.jobs_submitted);
    Advance(jobs_retired, c.jobs_retired, seen.jobs_retired);
    Advance(lookups.Add({{"result", "hit"}}), c.exact_hits, seen.exact_hits);
    Advance(lookups.Add({{"result", "partial"}}), c.store_partial_hits,
            seen.store_partial_hits);
    Advance(lookups.Add({{"result", "miss"}}), c.store_misses,
            seen.store_misses);
  }

  static void Advance(prometheus::Counter& counter, int64_t now,
                      int64_t& seen) {
    if (now > seen) counter.Increment(static_cast<double>(now - seen));
    seen = now;
  }

  void ObserveRpc(const char* method, grpc::StatusCode code, double seconds) {
    const std::map<std::string, std::string> labels = {
        {"method", method != nullptr ? method : ""}, {"code", CodeName(code)}};
    rpc_count.Add(labels).Increment();
    rpc_duration.Add(labels, RpcBuckets()).Observe(seconds);
  }

  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Gauge>& jobs_family;
  prometheus::Gauge& queue_depth;
  prometheus::Histogram& queue_wait;
  prometheus::Family<prometheus::Histogram>& run_time;
  prometheus::Family<prometheus::Counter>& lookups;
  prometheus::Counter& chunks_computed;
  prometheus::Counter& networks_computed;
  prometheus::Counter& chunks_from_store;
  prometheus::Counter& jobs_submitted;
  prometheus::Counter& jobs_retired;
  prometheus::Family<prometheus::Counter>& rpc_count;
  prometheus::Family<prometheus::Histogram>& rpc_duration;

  absl::Mutex mu;
  const JobManager* jobs ABSL_GUARDED_BY(mu) = nullptr;
  Counters seen ABSL_GUARDED_BY(mu);
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string address;
};

namespace {

// One per RPC: times it from creation to the status it sends.
class RpcInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcInterceptor(ServerMetrics::State* state, const char* method)
      : state_(state), method_(method), start_(absl::Now()) {}

  ~RpcInterceptor() override {
    // A call that ended without sending a status was cancelled.
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    state_->ObserveRpc(method_, code,
                       absl::ToDoubleSeconds(absl::Now() - start_));
  }

  ServerMetrics::State* state_;
  const char* method_;
  absl::Time start_;
  bool recorded_ = false;
};

class RpcInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcInterceptorFactory(std::shared_ptr<ServerMetrics::State> state)
      : state_(std::move(state)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcInterceptor(state_.get(), info->method());
  }

 private:
  std::shared_ptr<ServerMetrics::State> state_;
};

}  // namespace

ServerMetrics::ServerMetrics(std::shared_ptr<State> state)
    : state_(std::move(state)) {}

ServerMetrics::~ServerMetrics() {
  SetJobManager(nullptr);
  state_->exposer.reset();  // stops serving before the state can go
}

absl::StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Start(
    const std::string& listen) {
  auto state = std::make_shared<State>();
  try {
    state->exposer = std::make_unique<prometheus::Exposer>(listen, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "metrics_listen = '", listen, "': could not listen there: ", e.what()));
  }
  const std::vector<int> ports = state->exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(absl::StrCat("metrics_listen = '", listen,
                                               "': could not listen there"));
  }
  const size_t colon = listen.rfind(':');
  state->address = absl::StrCat(listen.substr(0, colon), ":", ports[0]);
  state->exposer->RegisterCollectable(state);
  return std::unique_ptr<ServerMetrics>(new ServerMetrics(std::move(state)));
}

const std::string& ServerMetrics::address() const { return state_->address; }

void ServerMetrics::SetJobManager(const JobManager* jobs) {
  absl::MutexLock lock(&state_->mu);
  state_->jobs = jobs;
}

JobObserver ServerMetrics::Observer() {
  std::weak_ptr<State> weak = state_;
  return {.started =
              [weak](absl::Duration wait) {
                if (auto s = weak.lock()) {
                  s->queue_wait.Observe(absl::ToDoubleSeconds(wait));
                }
              },
          .finished =
              [weak](JobState state, absl::Duration run) {
                if (auto s = weak.lock()) {
                  s->run_time
                      .Add({{"state", std::string(JobStateName(state))}},
                           JobBuckets())
                      .Observe(absl::ToDoubleSeconds(run));
                }
              }};
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
ServerMetrics::InterceptorFactory() {
  return std::make_unique<RpcInterceptorFactory>(state_);
}

}  // namespace nnft::server
