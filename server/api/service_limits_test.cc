// Regression tests of the service's bounds (issue 18): free-text fields,
// ListJobs pages by bytes, ComputeKernel sized before it computes, damaged
// job records. An in-process channel to a real NnftServer per test.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/api/convert.h"
#include "server/api/service.h"
#include "server/ops/server.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

std::string FreshDataDir() {
  static std::atomic<int> counter{0};
  const std::string dir =
      absl::StrCat(testing::TempDir(), "/nnft_service_limits_test_", getpid(),
                   "_", counter++);
  std::filesystem::remove_all(dir);
  return dir;
}

struct Harness {
  std::unique_ptr<NnftServer> server;
  std::unique_ptr<v1::Nnft::Stub> stub;
};

// `client_max_receive`: the client's receive limit (gRPC's default 4 MiB
// unless set).
Harness StartServer(ServerOptions options = {},
                    int client_max_receive = 4 << 20) {
  options.listen = "127.0.0.1:0";
  if (options.data_dir == ServerOptions().data_dir) {
    options.data_dir = FreshDataDir();
  }
  options.worker_threads = 1;
  options.shutdown_grace = absl::Seconds(1);
  auto server = NnftServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return {};
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(client_max_receive);
  args.SetMaxSendMessageSize(-1);
  auto channel = (*server)->grpc_server()->InProcessChannel(args);
  Harness h;
  h.stub = v1::Nnft::NewStub(channel);
  h.server = *std::move(server);
  return h;
}

// A one-hidden-layer erf net at `points` points of dimension `dim`, the one
// tuple (0, 1) of order 2; `networks` in chunks of 100.
v1::ExperimentSpec TinySpec(uint64_t seed, int points = 2, int dim = 1,
                            int64_t networks = 200) {
  auto spec = SpecProtoFromJson(absl::StrCat(
      R"({"architecture": {"mlp": {"inputDim": )", dim,
      R"(, "widths": [8],
          "activation": "ACTIVATION_ERF", "sw": [1.5, 1], "sb": [0.5, 0.2]}},
          "observables": {"orders": [2], "tuples": [{"index": [0, 1]}]},
          "sampling": {"seed": ")",
      seed, R"(", "numNetworks": ")", networks, R"(", "chunkSize": 100}})"));
  EXPECT_TRUE(spec.ok()) << spec.status();
  for (int p = 0; p < points; ++p) {
    v1::Point* point = spec->add_points();
    for (int k = 0; k < dim; ++k) point->add_x(0.001 * (p + 1) * (k + 1));
  }
  return *spec;
}

grpc::Status Submit(v1::Nnft::Stub* stub, const v1::ExperimentSpec& spec,
                    v1::Job* job) {
  v1::SubmitExperimentRequest request;
  *request.mutable_spec() = spec;
  grpc::ClientContext context;
  return stub->SubmitExperiment(&context, request, job);
}

TEST(ServiceLimitsTest, OverLongLabelsAreRefusedNamingTheFieldAndTheLimit) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  const std::string too_long(kMaxLabelBytes + 1, 'x');
  struct Case {
    const char* field;
    v1::ExperimentSpec spec;
  };
  std::vector<Case> cases;
  {
    v1::ExperimentSpec spec = TinySpec(1);
    spec.set_label(too_long);
    cases.push_back({"spec.label", spec});
  }
  {
    v1::ExperimentSpec spec = TinySpec(1);
    spec.add_symmetry_checks()->set_phi_sign_flip(true);
    v1::SymmetryCheck* check = spec.add_symmetry_checks();
    check->set_phi_sign_flip(true);
    check->set_label(too_long);
    cases.push_back({"spec.symmetry_checks[1].label", spec});
  }
  {
    v1::ExperimentSpec spec = TinySpec(1);
    spec.add_cluster_checks()->set_label(too_long);
    cases.push_back({"spec.cluster_checks[0].label", spec});
  }
  const std::string limit = absl::StrCat("at most ", kMaxLabelBytes, " bytes");
  for (const Case& c : cases) {
    v1::Job job;
    grpc::Status status = Submit(h.stub.get(), c.spec, &job);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.field;
    EXPECT_NE(status.error_message().find(absl::StrCat(c.field, " has ")),
              std::string::npos)
        << status.error_message();
    EXPECT_NE(status.error_message().find(limit), std::string::npos)
        << status.error_message();

    v1::ComputeKernelRequest request;
    *request.mutable_spec() = c.spec;
    v1::ComputeKernelResponse response;
    grpc::ClientContext context;
    status = h.stub->ComputeKernel(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find(c.field), std::string::npos)
        << status.error_message();
  }
  // At the limit: accepted, and listed back whole.
  v1::ExperimentSpec spec = TinySpec(2);
  spec.set_label(std::string(kMaxLabelBytes, 'y'));
  v1::Job job;
  grpc::Status status = Submit(h.stub.get(), spec, &job);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(job.spec().label(), spec.label());

  v1::GetServerInfoRequest info_request;
  v1::ServerInfo info;
  grpc::ClientContext context;
  ASSERT_TRUE(h.stub->GetServerInfo(&context, info_request, &info).ok());
  EXPECT_EQ(info.limits().max_label_bytes(), kMaxLabelBytes);
  EXPECT_EQ(info.limits().max_request_id_bytes(), 128);
}

TEST(ServiceLimitsTest, OverLongPageTokenIsRefusedBeforeDecoding) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  v1::ListJobsRequest request;
  request.set_page_token(std::string(4096, 'A'));
  v1::ListJobsResponse response;
  grpc::ClientContext context;
  grpc::Status status = h.stub->ListJobs(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("page_token has 4096 bytes"),
            std::string::npos)
      << status.error_message();
}

// A job stored with a 10 MiB label (before labels were bounded) made every
// ListJobs answer RESOURCE_EXHAUSTED at a client's 4 MiB limit.
TEST(ServiceLimitsTest, ListJobsSurvivesAStoredJobWithAHugeLabel) {
  Harness h = StartServer({}, /*client_max_receive=*/4 << 20);
  ASSERT_NE(h.stub, nullptr);
  v1::ExperimentSpec huge = TinySpec(3);
  huge.set_label(std::string(10 << 20, 'z'));
  auto core_spec = SpecFromProto(huge, Limits{});
  ASSERT_TRUE(core_spec.ok()) << core_spec.status();
  // Straight into the job manager, as a row written by an older server.
  auto stored = h.server->jobs()->Submit(SubmitRequest{
      .spec = *std::move(core_spec), .spec_json = SpecProtoToJson(huge)});
  ASSERT_TRUE(stored.ok()) << stored.status();
  v1::Job small;
  ASSERT_TRUE(Submit(h.stub.get(), TinySpec(4), &small).ok());

  v1::ListJobsRequest request;
  v1::ListJobsResponse response;
  grpc::ClientContext context;
  grpc::Status status = h.stub->ListJobs(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.jobs_size(), 2);
  EXPECT_EQ(response.jobs(0).spec().label(), std::string(kMaxLabelBytes, 'z'));
  EXPECT_EQ(response.jobs(1).name(), small.name());

  v1::GetJobRequest get;
  get.set_name(stored->name);
  v1::Job job;
  grpc::ClientContext get_context;
  status = h.stub->GetJob(&get_context, get, &job);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(job.spec().label().size(), kMaxLabelBytes);
}

// Specs of ~512 KiB each (4096 points of dimension 16): 100 of them in one
// page would be 50 MiB. Pages stop at 1 MiB and list every job once.
TEST(ServiceLimitsTest, ListJobsPagesByBytesAsWellAsByCount) {
  Harness h = StartServer({}, /*client_max_receive=*/4 << 20);
  ASSERT_NE(h.stub, nullptr);
  std::vector<std::string> names;
  for (int i = 0; i < 6; ++i) {
    v1::Job job;
    grpc::Status status =
        Submit(h.stub.get(), TinySpec(10 + i, 4096, 16), &job);
    ASSERT_TRUE(status.ok()) << status.error_message();
    names.push_back(job.name());
  }
  std::vector<std::string> listed;
  std::string token;
  int pages = 0;
  do {
    v1::ListJobsRequest request;
    request.set_page_size(100);
    request.set_page_token(token);
    v1::ListJobsResponse response;
    grpc::ClientContext context;
    grpc::Status status = h.stub->ListJobs(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_LE(response.ByteSizeLong(), size_t{1} << 20);
    EXPECT_GE(response.jobs_size(), 1);
    for (const v1::Job& job : response.jobs()) {
      EXPECT_EQ(job.spec().points_size(), 4096);
      listed.push_back(job.name());
    }
    token = response.next_page_token();
  } while (!token.empty() && ++pages < 20);
  EXPECT_GT(pages, 1);
  EXPECT_EQ(listed, names);
}

// The pre-computation size is a lower bound of the real answer (so no
// answer under the limit is refused by it), and close to it.
TEST(ServiceLimitsTest, KernelAnswerEstimateBoundsTheRealSizeFromBelow) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  for (
      const char* observables :
      {R"({"orders": [2, 4]})", R"({"orders": [1, 3]})",
       R"({"orders": [2], "tuples": [{"index": [0, 1]}, {"index": [2, 2]}]})"}) {
    v1::ExperimentSpec spec = TinySpec(1, 12, 2);
    auto obs = SpecProtoFromJson(
        absl::StrCat(R"({"observables": )", observables, "}"));
    ASSERT_TRUE(obs.ok()) << obs.status();
    *spec.mutable_observables() = obs->observables();
    auto core_spec = SpecFromProto(spec, Limits{});
    ASSERT_TRUE(core_spec.ok()) << core_spec.status();
    const KernelAnswerSize estimate = EstimateKernelAnswer(*core_spec);

    v1::ComputeKernelRequest request;
    *request.mutable_spec() = spec;
    v1::ComputeKernelResponse response;
    grpc::ClientContext context;
    grpc::Status status = h.stub->ComputeKernel(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const double bytes = static_cast<double>(response.ByteSizeLong());
    EXPECT_EQ(estimate.tuples, response.tuples_size()) << observables;
    // The NTK beside the kernel is part of the answer (ntk_bytes).
    const double with_ntk =
        estimate.min_bytes +
        (response.ntk_size() > 0 ? estimate.ntk_bytes : 0.0);
    EXPECT_LE(with_ntk, bytes) << observables;
    // The rest: tags, lengths, the method strings.
    EXPECT_GE(with_ntk, 0.8 * bytes - 1024) << observables;
  }
}

// tanh at 30 points, orders 2, 4 and 6: 1.66 million tuples, an answer of
// about 100 MB. The refusal used to come after seconds of theory (and the
// tuple closure); it must come from the spec's counts alone.
TEST(ServiceLimitsTest, ComputeKernelRefusesAnOversizedAnswerBeforeComputing) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  auto spec = SpecProtoFromJson(
      R"({"architecture": {"mlp": {"inputDim": 2, "widths": [64],
          "activation": "ACTIVATION_TANH", "sw": [1.5, 1], "sb": [0.5, 0.2]}},
          "observables": {"orders": [2, 4, 6]},
          "sampling": {"seed": "1", "numNetworks": "200", "chunkSize": 100}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  for (int p = 0; p < 30; ++p) {
    v1::Point* point = spec->add_points();
    point->add_x(0.1 * p);
    point->add_x(-0.05 * p);
  }
  v1::ComputeKernelRequest request;
  *request.mutable_spec() = *spec;
  v1::ComputeKernelResponse response;
  grpc::ClientContext context;
  const absl::Time start = absl::Now();
  grpc::Status status = h.stub->ComputeKernel(&context, request, &response);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // 465 + 40920 + 1623160 requested tuples.
  EXPECT_NE(status.error_message().find("1664545 tuples"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("over the limit of 1048576 bytes"),
            std::string::npos)
      << status.error_message();
  std::cout << "ComputeKernel refusal took " << absl::FormatDuration(took)
            << "\n";
}

// Flips bit 0 of the middle byte of the job row's spec_bytes, through SQLite
// as a damaged disk would leave it.
void FlipSpecByte(const std::string& db_path, const std::string& name) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT spec_bytes FROM jobs WHERE name = ?",
                               -1, &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(st, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  std::string spec(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                   sqlite3_column_bytes(st, 0));
  sqlite3_finalize(st);
  spec[spec.size() / 2] ^= 1;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "UPDATE jobs SET spec_bytes = ? WHERE name = ?",
                         -1, &st, nullptr),
      SQLITE_OK);
  sqlite3_bind_blob(st, 1, spec.data(), static_cast<int>(spec.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, name.c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// A flipped byte of a stored job's spec used to change the seed shown in
// GetResult's header while the numbers stayed those of the old seed.
TEST(ServiceLimitsTest, DamagedJobRecordAnswersDataLossAndIsNeverServed) {
  ServerOptions options;
  options.data_dir = FreshDataDir();
  std::string damaged, intact;
  {
    Harness h = StartServer(options);
    ASSERT_NE(h.stub, nullptr);
    v1::Job job;
    ASSERT_TRUE(Submit(h.stub.get(), TinySpec(21), &job).ok());
    damaged = job.name();
    ASSERT_TRUE(Submit(h.stub.get(), TinySpec(22), &job).ok());
    intact = job.name();
    for (const std::string& name : {damaged, intact}) {
      auto end = h.server->jobs()->WaitForChange(
          name, 1 << 30, absl::Now() + absl::Seconds(60));
      while (end.ok() && !IsTerminal(end->state)) {
        end = h.server->jobs()->WaitForChange(name, end->version,
                                              absl::Now() + absl::Seconds(60));
      }
      ASSERT_TRUE(end.ok()) << end.status();
      ASSERT_EQ(end->state, JobState::kSucceeded);
    }
    h.server->Shutdown();
  }
  FlipSpecByte(options.data_dir + "/nnft.db", damaged);
  Harness h = StartServer(options);
  ASSERT_NE(h.stub, nullptr);

  v1::GetJobRequest get;
  get.set_name(damaged);
  v1::Job job;
  grpc::ClientContext c1;
  grpc::Status status = h.stub->GetJob(&c1, get, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_NE(status.error_message().find("stored record is damaged"),
            std::string::npos)
      << status.error_message();

  v1::GetResultRequest result;
  result.set_name(damaged);
  grpc::ClientContext c2;
  auto reader = h.stub->GetResult(&c2, result);
  v1::ResultPiece piece;
  int pieces = 0;
  while (reader->Read(&piece)) ++pieces;
  status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(pieces, 0);

  v1::WatchJobRequest watch;
  watch.set_name(damaged);
  grpc::ClientContext c3;
  auto watcher = h.stub->WatchJob(&c3, watch);
  v1::JobUpdate update;
  EXPECT_FALSE(watcher->Read(&update));
  EXPECT_EQ(watcher->Finish().error_code(), grpc::StatusCode::DATA_LOSS);

  // Listed as FAILED with DATA_LOSS and no spec; the intact job as it was.
  v1::ListJobsRequest list;
  v1::ListJobsResponse listed;
  grpc::ClientContext c4;
  ASSERT_TRUE(h.stub->ListJobs(&c4, list, &listed).ok());
  ASSERT_EQ(listed.jobs_size(), 2);
  EXPECT_EQ(listed.jobs(0).name(), damaged);
  EXPECT_EQ(listed.jobs(0).state(), v1::Job::FAILED);
  EXPECT_EQ(listed.jobs(0).error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_FALSE(listed.jobs(0).has_spec());
  EXPECT_EQ(listed.jobs(1).name(), intact);
  EXPECT_EQ(listed.jobs(1).state(), v1::Job::SUCCEEDED);
  EXPECT_EQ(listed.jobs(1).spec().sampling().seed(), 22u);

  // The damaged record can be deleted.
  v1::DeleteJobRequest del;
  del.set_name(damaged);
  google::protobuf::Empty empty;
  grpc::ClientContext c5;
  status = h.stub->DeleteJob(&c5, del, &empty);
  EXPECT_TRUE(status.ok()) << status.error_message();
  grpc::ClientContext c6;
  EXPECT_EQ(h.stub->GetJob(&c6, get, &job).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// How long the measured job may take: about 1 s alone in a Release build;
// AddressSanitizer runs the Monte Carlo about 20 times slower.
#ifdef NNFT_ASAN
constexpr absl::Duration kJobDeadline = absl::Seconds(600);
#else
constexpr absl::Duration kJobDeadline = absl::Seconds(30);
#endif

// Chunks per second of one job (P = 16 points, orders 2 and 4: 4012 tuples,
// 300 chunks) while `watchers` WatchJob streams (max_entries 4096) over TCP
// are open and never read. Fails the test when the job does not finish
// within kJobDeadline.
double ChunksPerSecondWithUnreadWatchers(int watchers) {
  Harness h = StartServer();
  if (h.stub == nullptr) return 0;
  auto channel = grpc::CreateChannel(h.server->address(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Nnft::NewStub(channel);
  // The measured job waits behind a blocker while its watchers open.
  v1::Job blocker;
  EXPECT_TRUE(
      Submit(stub.get(), TinySpec(30, 2, 1, int64_t{100} << 20), &blocker)
          .ok());
  v1::ExperimentSpec spec = TinySpec(31, 16, 2, 300 * 100);
  spec.mutable_architecture()->mutable_mlp()->set_widths(0, 64);
  spec.mutable_observables()->clear_tuples();
  spec.mutable_observables()->add_orders(4);
  v1::Job job;
  grpc::Status status = Submit(stub.get(), spec, &job);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (!status.ok()) return 0;
  struct Unread {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::JobUpdate>> reader;
  };
  std::vector<std::unique_ptr<Unread>> unread;
  for (int i = 0; i < watchers; ++i) {
    auto w = std::make_unique<Unread>();
    v1::WatchJobRequest request;
    request.set_name(job.name());
    request.set_max_entries(4096);
    w->reader = stub->WatchJob(&w->context, request);
    unread.push_back(std::move(w));
  }
  v1::CancelJobRequest cancel;
  cancel.set_name(blocker.name());
  grpc::ClientContext cancel_context;
  EXPECT_TRUE(stub->CancelJob(&cancel_context, cancel, &blocker).ok());
  const absl::Time deadline = absl::Now() + kJobDeadline;
  auto end = h.server->jobs()->WaitForChange(job.name(), 0, deadline);
  while (end.ok() && !IsTerminal(end->state) && absl::Now() < deadline) {
    end = h.server->jobs()->WaitForChange(job.name(), end->version, deadline);
  }
  EXPECT_TRUE(end.ok() && end->state == JobState::kSucceeded)
      << watchers << " unread watchers: the job did not finish in "
      << kJobDeadline;
  for (auto& w : unread) w->context.TryCancel();
  for (auto& w : unread) w->reader->Finish().IgnoreError();
  if (!end.ok() || end->state != JobState::kSucceeded) return 0;
  return static_cast<double>(end->chunks_total) /
         absl::ToDoubleSeconds(end->end_time - end->start_time);
}

// 300 WatchJob streams opened and never read used to slow a job from 110
// chunks/s to 1-3 (each snapshot was copied, converted and written to every
// watcher on the job's own thread). Publishing never waits on a client.
TEST(ServiceLimitsTest, UnreadWatchersDoNotThrottleTheJob) {
  const double alone = ChunksPerSecondWithUnreadWatchers(0);
  const double watched = ChunksPerSecondWithUnreadWatchers(300);
  std::cout << "chunks/s: " << alone << " without watchers, " << watched
            << " with 300 unread watchers\n";
  EXPECT_GT(watched, 0);
}

// Watchers that never read a stream of large updates (4012 entries, all
// sent): a client's transport takes megabytes per stream unread, so the
// server used to send each such watcher most updates of the job (some 4 MB
// apiece here). Now all streams together are sent no more than the watch
// budget allows over the time they are open (plus, per watcher, at most one
// update charged after it was sent), each stream still ends with the job's
// final state (latest wins, in order), and the job finishes.
TEST(ServiceLimitsTest, UnreadWatchersGetConflatedUpdatesWithinTheBudget) {
  constexpr int64_t kBudget = int64_t{2} << 20;  // bytes per second
  constexpr int kWatchers = 20;
  ServerOptions options;
  options.watch_bytes_per_second = kBudget;
  Harness h = StartServer(options);
  ASSERT_NE(h.stub, nullptr);
  auto channel = grpc::CreateChannel(h.server->address(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Nnft::NewStub(channel);
  v1::Job blocker;
  ASSERT_TRUE(
      Submit(stub.get(), TinySpec(40, 2, 1, int64_t{100} << 20), &blocker)
          .ok());
  v1::ExperimentSpec spec = TinySpec(41, 16, 2, 100 * 100);
  spec.mutable_architecture()->mutable_mlp()->set_widths(0, 64);
  spec.mutable_observables()->clear_tuples();
  spec.mutable_observables()->add_orders(4);
  v1::Job job;
  ASSERT_TRUE(Submit(stub.get(), spec, &job).ok());

  const absl::Time opened = absl::Now();
  const absl::Time deadline = opened + kJobDeadline + absl::Seconds(120);
  struct Unread {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::JobUpdate>> reader;
  };
  std::vector<std::unique_ptr<Unread>> unread;
  for (int i = 0; i < kWatchers; ++i) {
    auto w = std::make_unique<Unread>();
    w->context.set_deadline(absl::ToChronoTime(deadline));
    v1::WatchJobRequest request;
    request.set_name(job.name());
    request.set_max_entries(4096);
    w->reader = stub->WatchJob(&w->context, request);
    w->reader->WaitForInitialMetadata();
    unread.push_back(std::move(w));
  }
  v1::CancelJobRequest cancel;
  cancel.set_name(blocker.name());
  grpc::ClientContext cancel_context;
  ASSERT_TRUE(stub->CancelJob(&cancel_context, cancel, &blocker).ok());
  auto end = h.server->jobs()->WaitForChange(job.name(), 0, deadline);
  while (end.ok() && !IsTerminal(end->state) && absl::Now() < deadline) {
    end = h.server->jobs()->WaitForChange(job.name(), end->version, deadline);
  }
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(end->state, JobState::kSucceeded);

  // Only now are the streams read, to their ends.
  int64_t bytes = 0, updates = 0, largest = 0;
  for (auto& w : unread) {
    v1::JobUpdate update;
    int64_t last_done = -1;
    v1::Job::State last_state = v1::Job::STATE_UNSPECIFIED;
    while (w->reader->Read(&update)) {
      const int64_t size = static_cast<int64_t>(update.ByteSizeLong());
      bytes += size;
      largest = std::max(largest, size);
      ++updates;
      EXPECT_GE(update.job().progress().chunks_done(), last_done);
      last_done = update.job().progress().chunks_done();
      last_state = update.job().state();
    }
    const grpc::Status status = w->reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(last_state, v1::Job::SUCCEEDED);
    EXPECT_EQ(last_done, 100);
  }
  const double open_seconds = absl::ToDoubleSeconds(absl::Now() - opened);
  const double allowed = static_cast<double>(kBudget) * (open_seconds + 0.1) +
                         static_cast<double>(kWatchers * largest);
  std::cout << kWatchers << " unread watchers: " << updates << " updates, "
            << bytes << " bytes in " << open_seconds << " s (at most "
            << allowed << " allowed)\n";
  EXPECT_LE(static_cast<double>(bytes), allowed);
}

}  // namespace
}  // namespace nnft::server
