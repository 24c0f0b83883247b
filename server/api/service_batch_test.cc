// SubmitBatch over an in-process channel to a real NnftServer: good and bad
// entries answered one by one with the field named, duplicates sharing a
// job, a repeated request_id returning the same jobs, the entry limit, and
// tokens and per-principal quotas applied to each entry.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/api/service.h"
#include "server/ops/server.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

constexpr char kAliceToken[] = "alice-0123456789abcdef";

std::string FreshDataDir() {
  static std::atomic<int> counter{0};
  const std::string dir =
      absl::StrCat(testing::TempDir(), "/nnft_service_batch_test_", getpid(),
                   "_", counter++);
  std::filesystem::remove_all(dir);
  return dir;
}

struct Harness {
  std::unique_ptr<NnftServer> server;
  std::unique_ptr<v1::Nnft::Stub> stub;
};

Harness StartServer(ServerOptions options) {
  options.listen = "127.0.0.1:0";
  options.data_dir = FreshDataDir();
  options.worker_threads = 1;
  options.shutdown_grace = absl::Seconds(1);
  auto server = NnftServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return {};
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto channel = (*server)->grpc_server()->InProcessChannel(args);
  return Harness{.server = *std::move(server),
                 .stub = v1::Nnft::NewStub(channel)};
}

// A one-hidden-layer erf net at two points; `networks` in chunks of 100.
v1::ExperimentSpec TinySpec(uint64_t seed, int width = 8,
                            int64_t networks = 400) {
  auto spec = SpecProtoFromJson(absl::StrCat(
      R"({"architecture": {"mlp": {"inputDim": 1, "widths": [)", width,
      R"(], "activation": "ACTIVATION_ERF"}},
          "points": [{"x": [0.5]}, {"x": [-1]}],
          "observables": {"orders": [2]},
          "sampling": {"seed": ")",
      seed, R"(", "numNetworks": ")", networks, R"(", "chunkSize": 100}})"));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

grpc::Status Batch(v1::Nnft::Stub* stub, const v1::SubmitBatchRequest& request,
                   v1::SubmitBatchResponse* response,
                   const std::string& token = "") {
  grpc::ClientContext context;
  if (!token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  return stub->SubmitBatch(&context, request, response);
}

TEST(SubmitBatchTest, AnswersEachEntryNamingTheFieldAndSharesDuplicates) {
  Harness h = StartServer({});
  v1::SubmitBatchRequest request;
  *request.add_entries()->mutable_spec() = TinySpec(1);
  *request.add_entries()->mutable_spec() = TinySpec(2);
  *request.add_entries()->mutable_spec() = TinySpec(1);  // same as [0]
  *request.add_entries()->mutable_spec() = TinySpec(3, /*width=*/0);
  v1::SubmitExperimentRequest* priority = request.add_entries();
  *priority->mutable_spec() = TinySpec(4);
  priority->set_priority(5000);
  v1::SubmitBatchResponse response;
  grpc::Status status = Batch(h.stub.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 5);
  EXPECT_EQ(response.accepted(), 3);
  EXPECT_EQ(response.refused(), 2);
  for (int i : {0, 1, 2}) {
    ASSERT_TRUE(response.results(i).has_job()) << i;
    EXPECT_FALSE(response.results(i).job().has_spec()) << "spec echoed";
    EXPECT_EQ(response.results(i).job().progress().networks_total(), 400);
  }
  EXPECT_EQ(response.results(2).job().name(), response.results(0).job().name());
  EXPECT_NE(response.results(1).job().name(), response.results(0).job().name());
  EXPECT_EQ(response.results(2).job().submissions(), 2);
  const v1::SubmitBatchError& width = response.results(3).error();
  EXPECT_EQ(width.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(width.message(),
                               "entries[3].spec.architecture.mlp.widths[0]"))
      << width.message();
  const v1::SubmitBatchError& prio = response.results(4).error();
  EXPECT_EQ(prio.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(prio.message(), "entries[4].priority = 5000"))
      << prio.message();
  // The jobs run and their results are what a single submission gives.
  const std::string name = response.results(1).job().name();
  v1::GetJobRequest get;
  get.set_name(name);
  v1::Job job;
  for (int i = 0; i < 600 && job.state() != v1::Job::SUCCEEDED; ++i) {
    grpc::ClientContext context;
    ASSERT_TRUE(h.stub->GetJob(&context, get, &job).ok());
    if (job.state() != v1::Job::SUCCEEDED)
      absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(job.state(), v1::Job::SUCCEEDED);
  EXPECT_TRUE(job.has_spec());  // GetJob returns the spec
  // Resubmitted once stored: an exact hit, answered by the same job
  // (a repeat), SUCCEEDED in the answer.
  v1::SubmitBatchRequest again;
  *again.add_entries()->mutable_spec() = TinySpec(2);
  v1::SubmitBatchResponse hit;
  ASSERT_TRUE(Batch(h.stub.get(), again, &hit).ok());
  EXPECT_EQ(hit.results(0).job().state(), v1::Job::SUCCEEDED);
  EXPECT_EQ(hit.results(0).job().name(), name);
  EXPECT_EQ(hit.results(0).job().submissions(), 2);
  EXPECT_EQ(hit.results(0).job().progress().chunks_done(), 4);
}

TEST(SubmitBatchTest, ARepeatedRequestIdReturnsTheSameJobs) {
  Harness h = StartServer({});
  v1::SubmitBatchRequest request;
  request.set_request_id("scan-1");
  for (int i = 0; i < 20; ++i) {
    *request.add_entries()->mutable_spec() = TinySpec(100 + i);
  }
  v1::SubmitBatchResponse first, second;
  ASSERT_TRUE(Batch(h.stub.get(), request, &first).ok());
  ASSERT_TRUE(Batch(h.stub.get(), request, &second).ok());
  ASSERT_EQ(first.accepted(), 20);
  ASSERT_EQ(second.accepted(), 20);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(second.results(i).job().name(), first.results(i).job().name());
    EXPECT_EQ(first.results(i).job().request_id(), absl::StrCat("scan-1/", i));
    EXPECT_EQ(second.results(i).job().submissions(), 1);
  }
  // The same request_id with other specs is refused entry by entry.
  v1::SubmitBatchRequest other = request;
  *other.mutable_entries(0)->mutable_spec() = TinySpec(999);
  v1::SubmitBatchResponse clash;
  ASSERT_TRUE(Batch(h.stub.get(), other, &clash).ok());
  EXPECT_EQ(clash.results(0).error().code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_TRUE(absl::StartsWith(clash.results(0).error().message(),
                               "entries[0].request_id 'scan-1/0'"))
      << clash.results(0).error().message();
  EXPECT_EQ(clash.accepted(), 19);
}

TEST(SubmitBatchTest, MoreEntriesThanTheLimitAreRefusedWhole) {
  Harness h = StartServer({.max_batch_entries = 3});
  v1::GetServerInfoRequest info_request;
  v1::ServerInfo info;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(h.stub->GetServerInfo(&context, info_request, &info).ok());
  }
  EXPECT_EQ(info.limits().max_batch_entries(), 3);
  EXPECT_EQ(info.limits().max_queued_jobs(), 10000);
  v1::SubmitBatchRequest request;
  for (int i = 0; i < 4; ++i) {
    *request.add_entries()->mutable_spec() = TinySpec(200 + i);
  }
  v1::SubmitBatchResponse response;
  grpc::Status status = Batch(h.stub.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "entries has 4"))
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "at most 3"))
      << status.error_message();
  EXPECT_EQ(h.server->jobs()->counters().jobs_submitted, 0);
  // A bad request_id refuses the whole call too.
  request.mutable_entries()->RemoveLast();
  request.set_request_id(std::string(200, 'x'));
  status = Batch(h.stub.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "request_id has 200"))
      << status.error_message();
}

TEST(SubmitBatchTest, TokensAndPerPrincipalQuotasApplyToEachEntry) {
  const std::string dir = FreshDataDir();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokens") << kAliceToken << " alice\n";
  Harness h = StartServer({.max_queued_jobs_per_principal = 2,
                           .max_running_jobs_per_principal = 1,
                           .token_file = dir + "/tokens"});
  v1::SubmitBatchRequest request;
  // A long first job keeps alice's one running slot; three more queue.
  *request.add_entries()->mutable_spec() = TinySpec(300, 64, int64_t{1} << 30);
  for (int i = 0; i < 3; ++i) {
    *request.add_entries()->mutable_spec() = TinySpec(301 + i);
  }
  v1::SubmitBatchResponse response;
  EXPECT_EQ(Batch(h.stub.get(), request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(Batch(h.stub.get(), request, &response, kAliceToken).ok());
  // All four are queued when planned (nothing runs yet): two fit.
  EXPECT_EQ(response.accepted(), 2);
  EXPECT_EQ(response.results(2).error().code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(response.results(2).error().message(),
                                "entries[2]: principal 'alice' has 2 jobs"))
      << response.results(2).error().message();
  v1::CancelJobRequest cancel;
  cancel.set_name(response.results(0).job().name());
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kAliceToken));
  v1::Job cancelled;
  EXPECT_TRUE(h.stub->CancelJob(&context, cancel, &cancelled).ok());
}

}  // namespace
}  // namespace nnft::server
