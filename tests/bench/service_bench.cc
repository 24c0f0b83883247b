// nnft-service-bench: what the service costs on top of the core. Starts the
// real nnft-server (temporary data directory, --threads workers) or targets
// one given by --server, and prints one JSON line per figure:
//   get_job_latency        GetJob round trips, p50/p99, 1 and 32 clients
//   submit_cached_latency  SubmitExperiment answered wholly from the store
//                          (an exact hit), p50/p99, 1 and 32 clients;
//                          --client_api=callback drives the clients with
//                          gRPC's callback API instead of a blocking thread
//                          each (the line says which, and the load
//                          generator's CPU per call)
//   tiny_job_throughput    closed loop of 8 clients, each submitting a
//                          2-chunk job and waiting for it: jobs per second
//   w1_overhead            wall time of the standard workload W1 through the
//                          server (submit to SUCCEEDED, as a client sees it)
//                          against nnft::Engine + MomentAccumulator in
//                          process with the same thread count; fresh seeds,
//                          best of --repeats each
//   unread_watchers        chunks per second of one job (16 points, G2 and
//                          G4: 4012 entries, --watched_chunks chunks of 100
//                          networks, a few seconds alone) with no watcher and
//                          with --watchers WatchJob streams (max_entries
//                          4096, a channel each) opened and never read;
//                          --repeats pairs, alternating, fresh seeds; prints
//                          each pair, the median ratio and its spread, and
//                          (for a server it started) the ratio of the
//                          server's CPU seconds per chunk, which other load
//                          on the machine disturbs less than wall time
//   batch_scan             --batch_entries small specs in one SubmitBatch
//                          call against as many (other seeds) submitted by
//                          8 SubmitExperiment clients, each on a fresh
//                          server (unless --server): seconds until all are
//                          acknowledged and until all SUCCEEDED, server RSS
//                          before and after (batch_scan.h); not in the
//                          default --figures
// Concurrent clients are threads (but see --client_api); by default each has
// its own channel with a local subchannel pool, i.e. its own TCP connection
// (--shared_channel: one channel for all). Latency figures time successful
// calls only and count the failed ones. Every figure is bounded by
// --seconds.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "nnft/v1/nnft.grpc.pb.h"
#include "tests/bench/batch_scan.h"
#include "tests/e2e/server_process.h"

ABSL_FLAG(std::string, server, "",
          "address of a running server; empty: start build/bin/nnft-server");
ABSL_FLAG(int, threads, 2,
          "worker threads of the started server and of the bare engine run");
ABSL_FLAG(double, seconds, 3.0, "duration of each latency/throughput figure");
ABSL_FLAG(int, repeats, 3, "W1 runs on each side (best of)");
ABSL_FLAG(int, watchers, 300, "never-read WatchJob streams (unread_watchers)");
ABSL_FLAG(int, watched_chunks, 4000,
          "chunks of the watched job (unread_watchers): long enough that the "
          "streams' start, paid once per job, does not pass for throughput");
ABSL_FLAG(bool, shared_channel, false, "all client threads share one channel");
ABSL_FLAG(std::string, client_api, "sync",
          "submit_cached_latency's load generator: sync (a thread per client, "
          "blocking calls, as client::Client makes them) or callback (gRPC's "
          "callback API: one call in flight per client, no thread each)");
ABSL_FLAG(int, batch_entries, 10000, "specs in the batch_scan figure");
ABSL_FLAG(std::string, figures,
          "get_job_latency,submit_cached_latency,tiny_job_throughput,"
          "w1_overhead,unread_watchers",
          "comma-separated figures to measure");

namespace nnft::bench {
namespace {

namespace v1 = ::nnft::v1;
using client::Client;

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

// `clients` Client objects: one shared channel or one channel each.
std::vector<std::unique_ptr<Client>> MakeClients(const std::string& address,
                                                 int clients) {
  std::vector<std::unique_ptr<Client>> out;
  std::shared_ptr<grpc::Channel> shared = NewChannel(address);
  for (int i = 0; i < clients; ++i) {
    out.push_back(std::make_unique<Client>(
        absl::GetFlag(FLAGS_shared_channel) ? shared : NewChannel(address)));
  }
  return out;
}

const char* ChannelMode() {
  return absl::GetFlag(FLAGS_shared_channel) ? "shared" : "per_client";
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

// The standard workload W1: erf, d = 1, N = 1000, P = 6 points
// x = -1.5..1.0 step 0.5, sw = 1, sb = 0, G2 and G4 over all tuples,
// 10^5 networks in chunks of 1000.
v1::ExperimentSpec W1Proto(uint64_t seed) {
  v1::ExperimentSpec spec;
  v1::Mlp* mlp = spec.mutable_architecture()->mutable_mlp();
  mlp->set_input_dim(1);
  mlp->add_widths(1000);
  mlp->set_activation(v1::ACTIVATION_ERF);
  for (int l = 0; l < 2; ++l) {
    mlp->add_sw(1.0);
    mlp->add_sb(0.0);
  }
  for (int i = 0; i < 6; ++i) spec.add_points()->add_x(-1.5 + 0.5 * i);
  spec.mutable_observables()->add_orders(2);
  spec.mutable_observables()->add_orders(4);
  spec.mutable_sampling()->set_seed(seed);
  spec.mutable_sampling()->set_num_networks(100000);
  spec.mutable_sampling()->set_chunk_size(1000);
  spec.set_label("service-bench W1");
  return spec;
}

ExperimentSpec W1Core(uint64_t seed) {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 1,
                              .widths = {1000},
                              .activation = Activation::kErf,
                              .sw = {1.0, 1.0},
                              .sb = {0.0, 0.0}};
  spec.points.resize(6, 1);
  for (int i = 0; i < 6; ++i) spec.points(i, 0) = -1.5 + 0.5 * i;
  spec.observables.orders = {2, 4};
  spec.sampling.seed = seed;
  spec.sampling.num_networks = 100000;
  spec.sampling.chunk_size = 1000;
  return spec;
}

// CPU seconds (user + system) the process has used; negative when unknown
// (pid <= 0, or no /proc).
double CpuSeconds(pid_t pid) {
  if (pid <= 0) return -1;
  std::FILE* f = std::fopen(absl::StrCat("/proc/", pid, "/stat").c_str(), "r");
  if (f == nullptr) return -1;
  char buffer[1024] = {};
  const size_t n = std::fread(buffer, 1, sizeof(buffer) - 1, f);
  std::fclose(f);
  // Fields after the command (which may hold spaces) start past its ')'.
  const std::string stat(buffer, n);
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  const std::vector<std::string> fields =
      absl::StrSplit(stat.substr(close + 2), ' ');
  long long utime = 0, stime = 0;  // fields 14 and 15 of proc(5)
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// One latency line: successful calls only (a failed call is counted, not
// timed), with the load generator's own CPU per call since `cpu_before`
// (CpuSeconds of this process when the figure started).
void PrintLatency(const std::string& figure, int clients, const char* api,
                  const std::vector<std::vector<double>>& micros,
                  int64_t failures, double elapsed, double cpu_before) {
  const double cpu_after = CpuSeconds(getpid());
  const double client_cpu =
      cpu_before >= 0 && cpu_after >= 0 ? cpu_after - cpu_before : -1.0;
  std::vector<double> all;
  for (const auto& v : micros) all.insert(all.end(), v.begin(), v.end());
  const double calls = static_cast<double>(all.size() + failures);
  std::printf(
      "{\"figure\": \"%s\", \"clients\": %d, \"channels\": \"%s\", "
      "\"client_api\": \"%s\", \"calls\": %zu, \"failures\": %lld, "
      "\"calls_per_second\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, "
      "\"client_cpu_us_per_call\": %.1f, \"seconds\": %.2f}\n",
      figure.c_str(), clients, ChannelMode(), api, all.size(),
      static_cast<long long>(failures), all.size() / elapsed,
      Percentile(all, 0.50), Percentile(all, 0.99),
      calls > 0 && client_cpu >= 0 ? 1e6 * client_cpu / calls : -1.0, elapsed);
  std::fflush(stdout);
}

// Runs `call` in a loop on `clients` threads (blocking calls) for the
// figure's duration and prints the latency line. `call` returns false on
// failure.
void LatencyFigure(const std::string& figure, const std::string& address,
                   int clients,
                   const std::function<bool(const Client&)>& call) {
  const std::vector<std::unique_ptr<Client>> pool =
      MakeClients(address, clients);
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::vector<std::vector<double>> micros(clients);
  std::atomic<int64_t> failures{0};
  std::vector<std::thread> threads;
  const double cpu_before = CpuSeconds(getpid());
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      while (absl::Now() < end) {
        const absl::Time before = absl::Now();
        if (call(*pool[t])) {
          micros[t].push_back(absl::ToDoubleMicroseconds(absl::Now() - before));
        } else {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  PrintLatency(figure, clients, "sync", micros, failures.load(), elapsed,
               cpu_before);
}

// Starts one asynchronous call on `stub` with `context`; calls done(ok)
// once it completes (on a gRPC thread).
using StartCall =
    std::function<void(v1::Nnft::Stub* stub, grpc::ClientContext* context,
                       std::function<void(bool)> done)>;

// LatencyFigure with gRPC's callback API: each of `clients` callers (a
// channel each, unless --shared_channel) keeps one call in flight and starts
// the next from the completion of the last, so the load generator needs no
// thread per client and far less CPU per call.
void CallbackLatencyFigure(const std::string& figure,
                           const std::string& address, int clients,
                           const StartCall& start_call) {
  struct Caller {
    std::unique_ptr<v1::Nnft::Stub> stub;
    // Two contexts in turn: a call's context outlives its completion.
    std::unique_ptr<grpc::ClientContext> contexts[2];
    int turn = 0;
    absl::Time before;
    std::vector<double> micros;
    int64_t failures = 0;
  };
  std::vector<Caller> callers(clients);
  std::shared_ptr<grpc::Channel> shared = NewChannel(address);
  for (Caller& c : callers) {
    c.stub = v1::Nnft::NewStub(
        absl::GetFlag(FLAGS_shared_channel) ? shared : NewChannel(address));
  }
  std::mutex mu;
  std::condition_variable finished;
  int running = clients;
  const double cpu_before = CpuSeconds(getpid());
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::function<void(Caller&)> next = [&](Caller& c) {
    c.turn ^= 1;
    c.contexts[c.turn] = std::make_unique<grpc::ClientContext>();
    c.before = absl::Now();
    start_call(c.stub.get(), c.contexts[c.turn].get(), [&, &c](bool ok) {
      const absl::Time now = absl::Now();
      if (ok) {
        c.micros.push_back(absl::ToDoubleMicroseconds(now - c.before));
      } else {
        ++c.failures;
      }
      if (now < end) {
        next(c);
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (--running == 0) finished.notify_all();
    });
  };
  for (Caller& c : callers) next(c);
  {
    std::unique_lock<std::mutex> lock(mu);
    finished.wait(lock, [&] { return running == 0; });
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<std::vector<double>> micros;
  int64_t failures = 0;
  for (Caller& c : callers) {
    micros.push_back(std::move(c.micros));
    failures += c.failures;
  }
  PrintLatency(figure, clients, "callback", micros, failures, elapsed,
               cpu_before);
}

bool Succeeded(const Client& client, const absl::StatusOr<v1::Job>& job) {
  if (!job.ok()) return false;
  if (job->state() == v1::Job::SUCCEEDED) return true;
  absl::StatusOr<v1::Job> done =
      client.WaitForCompletion(job->name(), absl::Now() + absl::Seconds(120));
  return done.ok() && done->state() == v1::Job::SUCCEEDED;
}

void GetJobLatency(const std::string& address, const std::string& name) {
  for (int clients : {1, 32}) {
    LatencyFigure("get_job_latency", address, clients,
                  [&](const Client& c) { return c.Get(name).ok(); });
  }
}

void SubmitCachedLatency(const std::string& address, uint64_t seed) {
  Client warm(NewChannel(address));
  if (!Succeeded(warm, warm.Submit(TinyProto(seed)))) {
    std::fprintf(stderr, "service-bench: warm-up job failed\n");
    return;
  }
  for (int clients : {1, 32}) {
    if (absl::GetFlag(FLAGS_client_api) == "callback") {
      CallbackLatencyFigure(
          "submit_cached_latency", address, clients,
          [&](v1::Nnft::Stub* stub, grpc::ClientContext* context,
              std::function<void(bool)> done) {
            auto request = std::make_shared<v1::SubmitExperimentRequest>();
            *request->mutable_spec() = TinyProto(seed);
            auto job = std::make_shared<v1::Job>();
            stub->async()->SubmitExperiment(
                context, request.get(), job.get(),
                [request, job, done = std::move(done)](grpc::Status status) {
                  done(status.ok() && job->state() == v1::Job::SUCCEEDED);
                });
          });
      continue;
    }
    LatencyFigure("submit_cached_latency", address, clients,
                  [&](const Client& c) {
                    absl::StatusOr<v1::Job> job = c.Submit(TinyProto(seed));
                    return job.ok() && job->state() == v1::Job::SUCCEEDED;
                  });
  }
}

void TinyJobThroughput(const std::string& address, uint64_t seed_base) {
  constexpr int kClients = 8;
  const std::vector<std::unique_ptr<Client>> pool =
      MakeClients(address, kClients);
  std::atomic<uint64_t> next_seed{seed_base};
  std::atomic<int64_t> done{0}, failed{0};
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      while (absl::Now() < end) {
        const Client& c = *pool[t];
        if (Succeeded(c, c.Submit(TinyProto(next_seed++)))) {
          ++done;
        } else {
          ++failed;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf(
      "{\"figure\": \"tiny_job_throughput\", \"clients\": %d, \"channels\": "
      "\"%s\", \"jobs\": %lld, \"failures\": %lld, \"jobs_per_second\": "
      "%.1f, \"networks_per_job\": 200, \"seconds\": %.2f}\n",
      kClients, ChannelMode(), static_cast<long long>(done.load()),
      static_cast<long long>(failed.load()), done.load() / elapsed, elapsed);
  std::fflush(stdout);
}

// Seconds for W1 in process: Engine::RunChunks on `threads`, chunks folded
// in order as the server folds them. Negative on failure.
double EngineW1Seconds(uint64_t seed, int threads) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(W1Core(seed));
  if (!engine.ok()) return -1;
  std::map<int64_t, ChunkSums> pending;
  MomentAccumulator acc((*engine)->tuples(), seed, 64);
  int64_t next = 0;
  std::mutex mu;
  absl::Status run = (*engine)->RunChunks(0, 100, threads, [&](ChunkSums c) {
    std::lock_guard<std::mutex> lock(mu);
    pending.emplace(c.chunk, std::move(c));
    while (!pending.empty() && pending.begin()->first == next) {
      if (!acc.Add(pending.begin()->second).ok()) return false;
      pending.erase(pending.begin());
      ++next;
    }
    return true;
  });
  if (!run.ok()) return -1;
  const CorrelatorEstimate estimate = acc.Finish();
  if (estimate.networks != 100000) return -1;
  return absl::ToDoubleSeconds(absl::Now() - start);
}

double ServerW1Seconds(const Client& client, uint64_t seed) {
  const absl::Time start = absl::Now();
  if (!Succeeded(client, client.Submit(W1Proto(seed)))) return -1;
  return absl::ToDoubleSeconds(absl::Now() - start);
}

void W1Overhead(const std::string& address, int threads, uint64_t seed_base) {
  Client client(NewChannel(address));
  std::vector<double> served, bare;
  for (int r = 0; r < absl::GetFlag(FLAGS_repeats); ++r) {
    // Alternate, so drifting machine load hits both sides alike.
    served.push_back(ServerW1Seconds(client, seed_base + 2 * r));
    bare.push_back(EngineW1Seconds(seed_base + 2 * r + 1, threads));
  }
  const double s = *std::min_element(served.begin(), served.end());
  const double b = *std::min_element(bare.begin(), bare.end());
  std::printf(
      "{\"figure\": \"w1_overhead\", \"workload\": \"W1\", \"threads\": %d, "
      "\"networks\": 100000, \"repeats\": %zu, \"server_seconds\": %.4f, "
      "\"engine_seconds\": %.4f, \"overhead_fraction\": %.4f, "
      "\"server_seconds_median\": %.4f, \"engine_seconds_median\": %.4f}\n",
      threads, served.size(), s, b, (s > 0 && b > 0) ? s / b - 1 : -1,
      Percentile(served, 0.5), Percentile(bare, 0.5));
  std::fflush(stdout);
}

// The job of unread_watchers: `chunks` chunks of 100 width-64 erf networks at
// 16 points, G2 and G4 over all tuples (4012 entries, so each update that
// carries 4096 entries is a few hundred KB).
v1::ExperimentSpec WatchedProto(uint64_t seed, int chunks) {
  v1::ExperimentSpec spec;
  v1::Mlp* mlp = spec.mutable_architecture()->mutable_mlp();
  mlp->set_input_dim(1);
  mlp->add_widths(64);
  mlp->set_activation(v1::ACTIVATION_ERF);
  mlp->add_sw(1.5);
  mlp->add_sw(1.0);
  mlp->add_sb(0.5);
  mlp->add_sb(0.2);
  for (int p = 0; p < 16; ++p) spec.add_points()->add_x(0.001 * (p + 1));
  spec.mutable_observables()->add_orders(2);
  spec.mutable_observables()->add_orders(4);
  spec.mutable_sampling()->set_seed(seed);
  spec.mutable_sampling()->set_num_networks(int64_t{chunks} * 100);
  spec.mutable_sampling()->set_chunk_size(100);
  spec.set_label("service-bench watched");
  return spec;
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

struct WatchedRun {
  double chunks_per_second = -1;      // negative on failure
  double cpu_seconds_per_chunk = -1;  // of the server; negative if unknown
};

// One WatchedProto job (chunks per second from start to end as the server
// records them) while `watchers` WatchJob streams are open and never read.
// The job waits behind a blocker until every stream has its first update,
// so all of them watch the whole run.
WatchedRun RunWatched(const std::string& address, pid_t server_pid,
                      int watchers, uint64_t seed) {
  Client client(NewChannel(address));
  v1::ExperimentSpec blocking = TinyProto(seed);
  blocking.mutable_sampling()->set_num_networks(int64_t{100} << 20);
  absl::StatusOr<v1::Job> blocker = client.Submit(blocking);
  absl::StatusOr<v1::Job> job = client.Submit(
      WatchedProto(seed + 1, absl::GetFlag(FLAGS_watched_chunks)));
  if (!blocker.ok() || !job.ok()) return {};
  struct Unread {
    std::unique_ptr<v1::Nnft::Stub> stub;
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::JobUpdate>> reader;
  };
  std::vector<std::unique_ptr<Unread>> unread;
  std::shared_ptr<grpc::Channel> shared = NewChannel(address);
  for (int i = 0; i < watchers; ++i) {
    auto w = std::make_unique<Unread>();
    w->stub = v1::Nnft::NewStub(
        absl::GetFlag(FLAGS_shared_channel) ? shared : NewChannel(address));
    v1::WatchJobRequest request;
    request.set_name(job->name());
    request.set_max_entries(4096);
    w->reader = w->stub->WatchJob(&w->context, request);
    unread.push_back(std::move(w));
  }
  // The server sends its metadata with the first update: subscribed.
  for (auto& w : unread) w->reader->WaitForInitialMetadata();
  const double cpu_before = CpuSeconds(server_pid);
  const bool cancelled = client.Cancel(blocker->name()).ok();
  absl::StatusOr<v1::Job> now = client.Get(job->name());
  const absl::Time deadline = absl::Now() + absl::Seconds(600);
  while (cancelled && now.ok() && !client::IsTerminal(now->state()) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    now = client.Get(job->name());
  }
  const double cpu_after = CpuSeconds(server_pid);
  for (auto& w : unread) w->context.TryCancel();
  for (auto& w : unread) w->reader->Finish().IgnoreError();
  unread.clear();
  // Lets the closed streams' work end before the next run is measured.
  if (watchers > 0) absl::SleepFor(absl::Seconds(1));
  if (!cancelled || !now.ok() || now->state() != v1::Job::SUCCEEDED) return {};
  const double seconds = absl::ToDoubleSeconds(
      FromTimestamp(now->end_time()) - FromTimestamp(now->start_time()));
  const double chunks = static_cast<double>(now->progress().chunks_total());
  WatchedRun run{.chunks_per_second = chunks / seconds};
  if (cpu_before >= 0 && cpu_after >= 0) {
    run.cpu_seconds_per_chunk = (cpu_after - cpu_before) / chunks;
  }
  return run;
}

void UnreadWatchers(const std::string& address, pid_t server_pid,
                    uint64_t seed_base) {
  const int watchers = absl::GetFlag(FLAGS_watchers);
  std::vector<double> ratios, cpu_ratios;
  for (int r = 0; r < absl::GetFlag(FLAGS_repeats); ++r) {
    // Alternate, so drifting machine load hits both sides alike.
    const WatchedRun alone =
        RunWatched(address, server_pid, 0, seed_base + 4 * r);
    const WatchedRun watched =
        RunWatched(address, server_pid, watchers, seed_base + 4 * r + 2);
    if (alone.chunks_per_second <= 0 || watched.chunks_per_second <= 0) {
      std::fprintf(stderr, "service-bench: unread_watchers run %d failed\n", r);
      return;
    }
    ratios.push_back(watched.chunks_per_second / alone.chunks_per_second);
    // Throughput ratio as CPU time would set it on an otherwise idle machine.
    const double cpu_ratio =
        alone.cpu_seconds_per_chunk > 0 && watched.cpu_seconds_per_chunk > 0
            ? alone.cpu_seconds_per_chunk / watched.cpu_seconds_per_chunk
            : -1;
    if (cpu_ratio > 0) cpu_ratios.push_back(cpu_ratio);
    std::printf(
        "{\"figure\": \"unread_watchers_run\", \"watchers\": %d, "
        "\"chunks\": %d, "
        "\"channels\": \"%s\", \"chunks_per_second_alone\": %.1f, "
        "\"chunks_per_second_watched\": %.1f, \"ratio\": %.3f, "
        "\"server_cpu_ms_per_chunk_alone\": %.2f, "
        "\"server_cpu_ms_per_chunk_watched\": %.2f, \"cpu_ratio\": %.3f}\n",
        watchers, absl::GetFlag(FLAGS_watched_chunks), ChannelMode(),
        alone.chunks_per_second, watched.chunks_per_second, ratios.back(),
        1e3 * alone.cpu_seconds_per_chunk, 1e3 * watched.cpu_seconds_per_chunk,
        cpu_ratio);
    std::fflush(stdout);
  }
  const auto median_or = [](const std::vector<double>& v) {
    return v.empty() ? -1.0 : Percentile(v, 0.5);
  };
  std::printf(
      "{\"figure\": \"unread_watchers\", \"watchers\": %d, \"chunks\": %d, "
      "\"channels\": \"%s\", \"repeats\": %zu, \"ratio_median\": %.3f, "
      "\"ratio_min\": "
      "%.3f, \"ratio_max\": %.3f, \"cpu_ratio_median\": %.3f, "
      "\"cpu_ratio_min\": %.3f, \"cpu_ratio_max\": %.3f}\n",
      watchers, absl::GetFlag(FLAGS_watched_chunks), ChannelMode(),
      ratios.size(), Percentile(ratios, 0.5),
      *std::min_element(ratios.begin(), ratios.end()),
      *std::max_element(ratios.begin(), ratios.end()), median_or(cpu_ratios),
      cpu_ratios.empty()
          ? -1.0
          : *std::min_element(cpu_ratios.begin(), cpu_ratios.end()),
      cpu_ratios.empty()
          ? -1.0
          : *std::max_element(cpu_ratios.begin(), cpu_ratios.end()));
  std::fflush(stdout);
}

int Main() {
  const int threads = absl::GetFlag(FLAGS_threads);
  std::unique_ptr<e2e::TempDir> tmp;
  std::unique_ptr<e2e::ServerProcess> server;
  std::string address = absl::GetFlag(FLAGS_server);
  if (address.empty()) {
    tmp = std::make_unique<e2e::TempDir>();
    absl::StatusOr<std::unique_ptr<e2e::ServerProcess>> started =
        e2e::ServerProcess::Start({.data_dir = tmp->path() + "/data",
                                   .worker_threads = threads,
                                   .max_queued_jobs = 1000});
    if (!started.ok()) {
      std::fprintf(stderr, "service-bench: %s\n",
                   started.status().ToString().c_str());
      return 1;
    }
    server = *std::move(started);
    address = server->address();
  }
  // Fresh seeds, so a targeted server's store cannot answer the W1 runs.
  const uint64_t seed_base =
      static_cast<uint64_t>(absl::ToUnixMicros(absl::Now())) << 8;
  Client client(NewChannel(address));
  absl::StatusOr<v1::Job> probe = client.Submit(TinyProto(seed_base));
  if (!Succeeded(client, probe)) {
    std::fprintf(stderr, "service-bench: cannot run a job on %s: %s\n",
                 address.c_str(), probe.status().ToString().c_str());
    return 1;
  }
  for (absl::string_view figure :
       absl::StrSplit(absl::GetFlag(FLAGS_figures), ',', absl::SkipEmpty())) {
    if (figure == "get_job_latency") {
      GetJobLatency(address, probe->name());
    } else if (figure == "submit_cached_latency") {
      SubmitCachedLatency(address, seed_base + 1);
    } else if (figure == "tiny_job_throughput") {
      TinyJobThroughput(address, seed_base + (uint64_t{1} << 20));
    } else if (figure == "w1_overhead") {
      W1Overhead(address, threads, seed_base + (uint64_t{1} << 21));
    } else if (figure == "batch_scan") {
      if (!BatchScan({.entries = absl::GetFlag(FLAGS_batch_entries),
                      .threads = threads,
                      .server = absl::GetFlag(FLAGS_server),
                      .seed_base = seed_base + (uint64_t{1} << 23)})) {
        return 1;
      }
    } else if (figure == "unread_watchers") {
      UnreadWatchers(address, server != nullptr ? server->pid() : 0,
                     seed_base + (uint64_t{1} << 22));
    } else {
      std::fprintf(stderr, "service-bench: unknown figure '%s'\n",
                   std::string(figure).c_str());
      return 2;
    }
  }
  if (server != nullptr) (void)server->Stop(SIGTERM);
  return 0;
}

}  // namespace
}  // namespace nnft::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return nnft::bench::Main();
}
