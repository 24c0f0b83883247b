// See batch_scan.h.
#include "tests/bench/batch_scan.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "tests/e2e/server_process.h"

namespace nnft::bench {
namespace {

namespace v1 = ::nnft::v1;
using client::Client;

constexpr int kClients = 8;

std::unique_ptr<Client> NewClient(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(64 << 20);
  return std::make_unique<Client>(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                args),
      client::ClientOptions{.timeout = absl::Seconds(120)});
}

int64_t JobsCompleted(const Client& client) {
  absl::StatusOr<v1::ServerInfo> info = client.Info();
  return info.ok() ? info->counters().jobs_completed() : -1;
}

struct Run {
  double accept_seconds = -1;  // until every spec was acknowledged
  double done_seconds = -1;    // until every job SUCCEEDED
  int64_t jobs = 0, failures = 0;
};

// Submits the specs (one batch, or kClients SubmitExperiment loops) and
// waits until the server has completed as many jobs as were acknowledged.
Run Submit(const std::string& address, bool batch, uint64_t seed0, int n) {
  std::unique_ptr<Client> watcher = NewClient(address);
  const int64_t completed0 = JobsCompleted(*watcher);
  Run run;
  const absl::Time start = absl::Now();
  if (batch) {
    std::vector<v1::SubmitExperimentRequest> entries(n);
    for (int i = 0; i < n; ++i) {
      *entries[i].mutable_spec() = TinyProto(seed0 + i, "service-bench scan");
    }
    absl::StatusOr<v1::SubmitBatchResponse> response =
        watcher->SubmitBatch(entries);
    if (!response.ok()) {
      std::fprintf(stderr, "service-bench: SubmitBatch: %s\n",
                   response.status().ToString().c_str());
      return run;
    }
    run.jobs = response->accepted();
    run.failures = response->refused();
  } else {
    std::vector<std::unique_ptr<Client>> clients;
    for (int t = 0; t < kClients; ++t) clients.push_back(NewClient(address));
    std::atomic<int> next{0};
    std::atomic<int64_t> ok{0}, failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kClients; ++t) {
      threads.emplace_back([&, t] {
        for (int i = next++; i < n; i = next++) {
          if (clients[t]
                  ->Submit(TinyProto(seed0 + i, "service-bench scan"))
                  .ok()) {
            ++ok;
          } else {
            ++failed;
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    run.jobs = ok.load();
    run.failures = failed.load();
  }
  run.accept_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const absl::Time deadline = absl::Now() + absl::Seconds(600);
  while (JobsCompleted(*watcher) - completed0 < run.jobs &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (JobsCompleted(*watcher) - completed0 >= run.jobs) {
    run.done_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  }
  return run;
}

double Mib(int64_t kib) { return kib < 0 ? -1.0 : kib / 1024.0; }

}  // namespace

bool BatchScan(const BatchScanOptions& options) {
  const int n = options.entries;
  for (bool batch : {true, false}) {
    std::unique_ptr<e2e::TempDir> tmp;
    std::unique_ptr<e2e::ServerProcess> server;
    std::string address = options.server;
    if (address.empty()) {
      // Room for the whole scan in the queue and in one batch.
      const int room = std::max(n, 10000);
      tmp = std::make_unique<e2e::TempDir>();
      absl::StatusOr<std::unique_ptr<e2e::ServerProcess>> started =
          e2e::ServerProcess::Start(
              {.data_dir = tmp->path() + "/data",
               .worker_threads = options.threads,
               .max_queued_jobs = room,
               .extra_args = {absl::StrCat("--max_batch_entries=", room)}});
      if (!started.ok()) {
        std::fprintf(stderr, "service-bench: %s\n",
                     started.status().ToString().c_str());
        return false;
      }
      server = *std::move(started);
      address = server->address();
    }
    const pid_t pid = server != nullptr ? server->pid() : 0;
    const int64_t rss_before = pid > 0 ? e2e::RssKib(pid) : -1;
    const uint64_t seed0 = options.seed_base + (batch ? 0 : n);
    const Run run = Submit(address, batch, seed0, n);
    const int64_t rss_after = pid > 0 ? e2e::RssKib(pid) : -1;
    std::printf(
        "{\"figure\": \"batch_scan\", \"mode\": \"%s\", \"entries\": %d, "
        "\"clients\": %d, \"jobs\": %lld, \"failures\": %lld, "
        "\"accept_seconds\": %.3f, \"all_succeeded_seconds\": %.3f, "
        "\"rss_before_mib\": %.1f, \"rss_after_mib\": %.1f, "
        "\"threads\": %d}\n",
        batch ? "batch" : "clients", n, batch ? 1 : kClients,
        static_cast<long long>(run.jobs), static_cast<long long>(run.failures),
        run.accept_seconds, run.done_seconds, Mib(rss_before), Mib(rss_after),
        options.threads);
    std::fflush(stdout);
    if (server != nullptr) (void)server->Stop(SIGTERM);
  }
  return true;
}

v1::ExperimentSpec TinyProto(uint64_t seed, const std::string& label) {
  v1::ExperimentSpec spec;
  v1::Mlp* mlp = spec.mutable_architecture()->mutable_mlp();
  mlp->set_input_dim(1);
  mlp->add_widths(8);
  mlp->set_activation(v1::ACTIVATION_ERF);
  spec.add_points()->add_x(0.0);
  spec.add_points()->add_x(1.0);
  spec.mutable_observables()->add_orders(2);
  spec.mutable_sampling()->set_seed(seed);
  spec.mutable_sampling()->set_num_networks(200);
  spec.mutable_sampling()->set_chunk_size(100);
  spec.set_label(label);
  return spec;
}

}  // namespace nnft::bench
