// nnft-load: a bounded load test of the real server on loopback. Starts
// build/bin/nnft-server (temporary data directory, a small queue so that
// admission control is exercised) or targets --server, then runs --clients
// concurrent clients, each on its own connection, for --seconds. Each client
// loops over a weighted mix of calls:
//   get      GetJob of a finished job                         (35%)
//   foreign  GetJob of another principal's finished job        (5%)
//   submit   SubmitExperiment answered from the store         (25%)
//   list     ListJobs, one page of 50                         (15%)
//   watch    WatchJob of a finished job, to its end           (15%)
//   compute  SubmitExperiment of a new small job (fresh seed)  (5%)
// With --principals=K (K > 0) the started server checks bearer tokens
// (--token_file with K principals) and bounds each principal's queue
// (--max_queued_jobs_per_principal); client i calls as principal i mod K,
// and every principal has its own finished job, so the load runs through
// the authenticated paths. `foreign` must then answer NOT_FOUND (a job of
// another principal is invisible); without tokens it reads the same job as
// `get`.
// Prints one JSON line per method (count, p50/p99 latency in ms, errors by
// code), one with totals (requests per second, server RSS before and after),
// and exits 1 when any call failed with a code other than the intended
// RESOURCE_EXHAUSTED of a full queue (or NOT_FOUND of `foreign` with
// tokens), or when `foreign` ever saw another principal's job.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "tests/e2e/server_process.h"

ABSL_FLAG(std::string, server, "",
          "address of a running server; empty: start build/bin/nnft-server");
ABSL_FLAG(int, clients, 200, "concurrent clients, one connection each");
ABSL_FLAG(double, seconds, 10.0, "duration of the load");
ABSL_FLAG(int, max_queued_jobs, 8,
          "queue bound of the started server (RESOURCE_EXHAUSTED beyond)");
ABSL_FLAG(int, principals, 0,
          "0: no tokens; K > 0: the started server checks bearer tokens of "
          "K principals and clients spread over them");
ABSL_FLAG(int, max_queued_jobs_per_principal, 2,
          "with --principals: each principal's queue bound");

namespace nnft::bench {
namespace {

namespace v1 = ::nnft::v1;

enum Method { kGet, kForeign, kSubmit, kList, kWatch, kCompute, kMethods };
constexpr const char* kNames[kMethods] = {"get",  "foreign", "submit",
                                          "list", "watch",   "compute"};

struct Tally {
  std::vector<double> ms;
  std::map<std::string, int64_t> errors;  // code name -> count
};

// A 2-chunk job of a width-8 erf net at two points; `seed` makes it new.
v1::ExperimentSpec SmallJob(uint64_t seed) {
  v1::ExperimentSpec spec;
  v1::Mlp* mlp = spec.mutable_architecture()->mutable_mlp();
  mlp->set_input_dim(1);
  mlp->add_widths(8);
  mlp->set_activation(v1::ACTIVATION_ERF);
  spec.add_points()->add_x(0.5);
  spec.add_points()->add_x(1.0);
  spec.mutable_observables()->add_orders(2);
  spec.mutable_sampling()->set_seed(seed);
  spec.mutable_sampling()->set_num_networks(200);
  spec.mutable_sampling()->set_chunk_size(100);
  return spec;
}

std::unique_ptr<client::Client> NewClient(const std::string& address,
                                          const std::string& token) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return std::make_unique<client::Client>(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                args),
      client::ClientOptions{.token = token});
}

// A principal of the load: its bearer token and its finished job.
struct Principal {
  std::string token;
  std::string done_job;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

absl::Status Call(Method method, const client::Client& client,
                  const std::string& done_job, const std::string& foreign_job,
                  bool tokens, uint64_t seed) {
  switch (method) {
    case kGet:
      return client.Get(done_job).status();
    case kForeign: {
      const absl::Status s = client.Get(foreign_job).status();
      // With tokens another principal's job must look absent.
      if (tokens && s.ok()) {
        return absl::InternalError("another principal's job was visible");
      }
      return s;
    }
    case kSubmit:
      return client.Submit(SmallJob(1)).status();
    case kList:
      return client.List(50).status();
    case kWatch:
      return client.Watch(done_job, [](const v1::JobUpdate&) { return true; })
          .status();
    case kCompute:
      return client.Submit(SmallJob(seed)).status();
    default:
      return absl::InternalError("no such method");
  }
}

// One client's loop, as principals[id % K]; its tallies are merged by the
// caller.
void RunClient(int id, const std::string& address,
               const std::vector<Principal>& principals, bool tokens,
               absl::Time end, std::vector<Tally>* tallies) {
  const int k = static_cast<int>(principals.size());
  const Principal& me = principals[id % k];
  const Principal& other = principals[(id + 1) % k];
  std::unique_ptr<client::Client> client = NewClient(address, me.token);
  std::mt19937_64 rng(1000 + id);
  std::discrete_distribution<int> pick({35, 5, 25, 15, 15, 5});
  uint64_t next_seed = 1000000 * static_cast<uint64_t>(id + 1);
  while (absl::Now() < end) {
    const Method m = static_cast<Method>(pick(rng));
    const absl::Time start = absl::Now();
    const absl::Status s =
        Call(m, *client, me.done_job, other.done_job, tokens, next_seed++);
    Tally& t = (*tallies)[m];
    t.ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    if (!s.ok()) ++t.errors[absl::StatusCodeToString(s.code())];
  }
}

int Run() {
  std::unique_ptr<e2e::TempDir> tmp;
  std::unique_ptr<e2e::ServerProcess> process;
  std::string address = absl::GetFlag(FLAGS_server);
  const int num_principals = absl::GetFlag(FLAGS_principals);
  const bool tokens = num_principals > 0;
  if (num_principals == 1 || num_principals < 0) {
    std::fprintf(stderr, "nnft-load: --principals must be 0 or at least 2\n");
    return 2;
  }
  if (tokens && !address.empty()) {
    std::fprintf(stderr, "nnft-load: --principals needs the started server\n");
    return 2;
  }
  // Principals "load-<i>" with tokens of 32 characters (or one principal
  // without a token).
  std::vector<Principal> principals(std::max(num_principals, 1));
  if (address.empty()) {
    tmp = std::make_unique<e2e::TempDir>();
    std::vector<std::string> extra;
    if (tokens) {
      const std::string token_file = tmp->path() + "/tokens";
      std::ofstream out(token_file);
      for (int i = 0; i < num_principals; ++i) {
        principals[i].token =
            absl::StrCat("load-token-", 1000000 + i, "-0123456789abcdef");
        out << principals[i].token << " load-" << i << "\n";
      }
      out.close();
      extra = {
          "--token_file", token_file, "--max_queued_jobs_per_principal",
          absl::StrCat(absl::GetFlag(FLAGS_max_queued_jobs_per_principal))};
    }
    absl::StatusOr<std::unique_ptr<e2e::ServerProcess>> started =
        e2e::ServerProcess::Start(
            {.data_dir = tmp->path() + "/data",
             .max_queued_jobs = absl::GetFlag(FLAGS_max_queued_jobs),
             .extra_args = extra});
    if (!started.ok()) {
      std::fprintf(stderr, "nnft-load: %s\n",
                   std::string(started.status().message()).c_str());
      return 2;
    }
    process = *std::move(started);
    address = process->address();
  }
  // Each principal's finished job (the reads' target; the first is also
  // the stored result of SmallJob(1) that cached submits hit).
  for (Principal& p : principals) {
    std::unique_ptr<client::Client> setup = NewClient(address, p.token);
    absl::StatusOr<v1::Job> job = setup->Submit(SmallJob(1));
    if (job.ok()) job = setup->WaitForCompletion(job->name());
    if (!job.ok() || job->state() != v1::Job::SUCCEEDED) {
      std::fprintf(stderr, "nnft-load: setup job failed: %s\n",
                   job.ok() ? "not SUCCEEDED"
                            : std::string(job.status().message()).c_str());
      return 2;
    }
    p.done_job = job->name();
  }
  const int pid = process ? process->pid() : -1;
  const int64_t rss_before = pid > 0 ? e2e::RssKib(pid) : -1;

  const int clients = absl::GetFlag(FLAGS_clients);
  const absl::Time end =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::vector<std::vector<Tally>> per_client(clients,
                                             std::vector<Tally>(kMethods));
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back(RunClient, i, address, std::cref(principals), tokens,
                         end, &per_client[i]);
  }
  for (std::thread& t : threads) t.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  const int64_t rss_after = pid > 0 ? e2e::RssKib(pid) : -1;

  int64_t total = 0;
  int64_t unexpected = 0;
  for (int m = 0; m < kMethods; ++m) {
    Tally all;
    for (const auto& c : per_client) {
      all.ms.insert(all.ms.end(), c[m].ms.begin(), c[m].ms.end());
      for (const auto& [code, n] : c[m].errors) all.errors[code] += n;
    }
    total += all.ms.size();
    std::vector<std::string> errs;
    for (const auto& [code, n] : all.errors) {
      errs.push_back(absl::StrCat("\"", code, "\":", n));
      const bool intended = code == "RESOURCE_EXHAUSTED" ||
                            (tokens && m == kForeign && code == "NOT_FOUND");
      if (!intended) unexpected += n;
    }
    std::printf(
        "{\"method\":\"%s\",\"calls\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
        "\"errors\":{%s}}\n",
        kNames[m], all.ms.size(), Percentile(all.ms, 0.5),
        Percentile(all.ms, 0.99), absl::StrJoin(errs, ",").c_str());
  }
  std::printf(
      "{\"load\":\"total\",\"clients\":%d,\"principals\":%d,"
      "\"seconds\":%.1f,\"calls\":%lld,"
      "\"calls_per_second\":%.0f,\"unexpected_errors\":%lld,"
      "\"server_rss_kib_before\":%lld,\"server_rss_kib_after\":%lld}\n",
      clients, num_principals, elapsed, static_cast<long long>(total),
      total / elapsed, static_cast<long long>(unexpected),
      static_cast<long long>(rss_before), static_cast<long long>(rss_after));
  return unexpected == 0 ? 0 : 1;
}

}  // namespace
}  // namespace nnft::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return nnft::bench::Run();
}
