// The Nnft service over an in-process channel to a real NnftServer (job
// manager, store, engine, theory), each test with its own data directory.
#include "server/api/service.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "server/api/convert.h"
#include "server/ops/server.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

std::string FreshDataDir() {
  static std::atomic<int> counter{0};
  const std::string dir = absl::StrCat(
      testing::TempDir(), "/nnft_service_test_", getpid(), "_", counter++);
  std::filesystem::remove_all(dir);
  return dir;
}

struct Harness {
  std::unique_ptr<NnftServer> server;
  std::unique_ptr<v1::Nnft::Stub> stub;
};

Harness StartServer(ServerOptions options = {}) {
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
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  auto channel = (*server)->grpc_server()->InProcessChannel(args);
  Harness h;
  h.stub = v1::Nnft::NewStub(channel);
  h.server = *std::move(server);
  return h;
}

// A one-hidden-layer erf net at two points; `networks` in chunks of 100.
v1::ExperimentSpec TinySpec(uint64_t seed = 7, int64_t networks = 400) {
  auto spec = SpecProtoFromJson(absl::StrCat(
      R"({"architecture": {"mlp": {"inputDim": 1, "widths": [8],
          "activation": "ACTIVATION_ERF", "sw": [1.5, 1], "sb": [0.5, 0.2]}},
          "points": [{"x": [0.5]}, {"x": [-1]}],
          "observables": {"orders": [2]},
          "sampling": {"seed": ")",
      seed, R"(", "numNetworks": ")", networks, R"(", "chunkSize": 100}})"));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

v1::Job Submit(v1::Nnft::Stub* stub, const v1::ExperimentSpec& spec,
               grpc::Status* status) {
  v1::SubmitExperimentRequest request;
  *request.mutable_spec() = spec;
  v1::Job job;
  grpc::ClientContext context;
  *status = stub->SubmitExperiment(&context, request, &job);
  return job;
}

// Reads a WatchJob stream to its end.
std::vector<v1::JobUpdate> WatchAll(v1::Nnft::Stub* stub,
                                    const std::string& name,
                                    grpc::Status* status) {
  v1::WatchJobRequest request;
  request.set_name(name);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(60));
  auto reader = stub->WatchJob(&context, request);
  std::vector<v1::JobUpdate> updates;
  v1::JobUpdate update;
  while (reader->Read(&update)) updates.push_back(update);
  *status = reader->Finish();
  return updates;
}

std::vector<v1::ResultPiece> ReadResult(v1::Nnft::Stub* stub,
                                        const std::string& name,
                                        grpc::Status* status) {
  v1::GetResultRequest request;
  request.set_name(name);
  grpc::ClientContext context;
  auto reader = stub->GetResult(&context, request);
  std::vector<v1::ResultPiece> pieces;
  v1::ResultPiece piece;
  while (reader->Read(&piece)) pieces.push_back(piece);
  *status = reader->Finish();
  return pieces;
}

JobSnapshot WaitForEnd(JobManager* jobs, const std::string& name) {
  int64_t version = -1;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (true) {
    auto job = jobs->WaitForChange(name, version, deadline);
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok() || IsTerminal(job->state) || absl::Now() > deadline) {
      return job.ok() ? *job : JobSnapshot{};
    }
    version = job->version;
  }
}

TEST(ServiceTest, SubmitWatchToSucceededAndResultPiecesReassemble) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  grpc::Status status;
  const v1::Job job = Submit(h.stub.get(), TinySpec(), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(job.progress().chunks_total(), 4);
  EXPECT_EQ(job.progress().networks_total(), 400);
  EXPECT_EQ(job.digest().size(), 64u);
  EXPECT_EQ(job.spec().architecture().mlp().widths(0), 8);

  const auto updates = WatchAll(h.stub.get(), job.name(), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.back().job().state(), v1::Job::SUCCEEDED);
  for (size_t i = 1; i < updates.size(); ++i) {
    EXPECT_GE(updates[i].job().progress().chunks_done(),
              updates[i - 1].job().progress().chunks_done());
  }
  EXPECT_EQ(updates.back().job().progress().chunks_done(), 4);

  const auto pieces = ReadResult(h.stub.get(), job.name(), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(pieces.size(), 2u);
  ASSERT_TRUE(pieces[0].has_header());
  const v1::ResultHeader& header = pieces[0].header();
  auto expected = h.server->jobs()->Result(job.name());
  ASSERT_TRUE(expected.ok()) << expected.status();
  const CorrelatorEstimate& e = expected->estimate;
  ASSERT_EQ(header.num_entries(), static_cast<int64_t>(e.tuples.size()));
  EXPECT_EQ(header.num_entries(), 3);  // (0,0), (0,1), (1,1)
  EXPECT_EQ(header.networks(), 400);
  EXPECT_EQ(header.engine_fingerprint(), EngineFingerprint());

  // Reassemble the entry and kernel blocks.
  std::vector<double> mean, stderr_mean, connected, exact;
  std::vector<std::vector<int>> tuples;
  std::vector<double> kernel;
  for (size_t i = 1; i < pieces.size(); ++i) {
    if (pieces[i].has_entries()) {
      const v1::EntryBlock& b = pieces[i].entries();
      EXPECT_EQ(b.offset(), static_cast<int64_t>(mean.size()));
      mean.insert(mean.end(), b.estimate().mean().begin(),
                  b.estimate().mean().end());
      stderr_mean.insert(stderr_mean.end(), b.estimate().stderr().begin(),
                         b.estimate().stderr().end());
      connected.insert(connected.end(), b.estimate().connected().begin(),
                       b.estimate().connected().end());
      exact.insert(exact.end(), b.theory().exact().begin(),
                   b.theory().exact().end());
      for (const auto& t : b.estimate().tuples()) {
        tuples.emplace_back(t.index().begin(), t.index().end());
      }
    } else {
      ASSERT_TRUE(pieces[i].has_kernel());
      EXPECT_EQ(pieces[i].kernel().row_offset() * header.num_points(),
                static_cast<int>(kernel.size()));
      kernel.insert(kernel.end(), pieces[i].kernel().values().begin(),
                    pieces[i].kernel().values().end());
    }
  }
  EXPECT_EQ(tuples, e.tuples);
  EXPECT_EQ(mean, e.mean);  // bit-identical doubles
  EXPECT_EQ(stderr_mean, e.stderr_mean);
  EXPECT_EQ(connected, e.connected);
  EXPECT_EQ(exact, expected->theory.exact_full);
  const Eigen::MatrixXd& k = expected->theory.kernel;
  ASSERT_EQ(kernel.size(), static_cast<size_t>(k.size()));
  for (int i = 0; i < k.rows(); ++i) {
    for (int j = 0; j < k.cols(); ++j)
      EXPECT_EQ(kernel[i * k.cols() + j], k(i, j));
  }
  // G2 of a one-hidden-layer net is exact at every width: the Monte Carlo
  // must agree within 5 standard errors (seeded; fails with prob ~1e-6).
  ASSERT_TRUE(header.has_exact());
  for (size_t i = 0; i < mean.size(); ++i) {
    ASSERT_TRUE(std::isfinite(exact[i]));
    EXPECT_LT(std::abs(mean[i] - exact[i]), 5 * stderr_mean[i]) << i;
  }
}

TEST(ServiceTest, LargeResultStreamsInPiecesUnderTheLimit) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  // P = 40 points, every 4-tuple: C(43, 4) = 123410 entries. Two chunks of
  // one Gauss-net each keep the engine's share small.
  std::string points;
  for (int i = 0; i < 40; ++i) {
    absl::StrAppend(&points, i ? "," : "", R"({"x": [)", 0.05 * i, "]}");
  }
  auto spec = SpecProtoFromJson(absl::StrCat(
      R"({"architecture": {"gaussNet": {"inputDim": 1, "width": 1}},
          "points": [)",
      points, R"(], "observables": {"orders": [4]},
          "sampling": {"numNetworks": "2", "chunkSize": 1}})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  grpc::Status status;
  const v1::Job job = Submit(h.stub.get(), *spec, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(WaitForEnd(h.server->jobs(), job.name()).state,
            JobState::kSucceeded);

  const auto pieces = ReadResult(h.stub.get(), job.name(), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(pieces[0].has_header());
  EXPECT_EQ(pieces[0].header().num_entries(), 123410);
  int64_t entries = 0, rows = 0;
  for (const v1::ResultPiece& piece : pieces) {
    EXPECT_LE(static_cast<int64_t>(piece.ByteSizeLong()), kMaxPieceBytes);
    if (piece.has_entries()) {
      EXPECT_EQ(piece.entries().offset(), entries);
      entries += piece.entries().estimate().mean_size();
      EXPECT_EQ(piece.entries().estimate().tuples_size(),
                piece.entries().estimate().mean_size());
    }
    if (piece.has_kernel()) rows += piece.kernel().rows();
  }
  EXPECT_EQ(entries, 123410);
  EXPECT_GT(pieces.size(), 10u);
  EXPECT_TRUE(rows == 0 || rows == 40) << rows;
}

struct BadSubmit {
  std::string name;
  std::string json;  // the spec
  int priority;
  std::string request_id;
  grpc::StatusCode code;
  std::string message;  // substring of the error
};

std::vector<BadSubmit> BadSubmits() {
  const std::string mlp =
      R"({"architecture": {"mlp": {"inputDim": 1, "widths": [4],
          "activation": "ACTIVATION_ERF"}}, "points": [{"x": [1]}]})";
  std::string many_points;
  for (int i = 0; i < 4097; ++i) {
    absl::StrAppend(&many_points, i ? "," : "", R"({"x": [1]})");
  }
  std::string hundred_points;
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&hundred_points, i ? "," : "", R"({"x": [)", i, "]}");
  }
  const auto arch = [](absl::string_view mlp_fields, absl::string_view rest) {
    return absl::StrCat(R"({"architecture": {"mlp": {"inputDim": 1, )",
                        mlp_fields, "}}, ", rest, "}");
  };
  constexpr char kOk[] = R"("widths": [4], "activation": "ACTIVATION_ERF")";
  const auto inv = grpc::StatusCode::INVALID_ARGUMENT;
  return {
      {"NoArchitecture", R"({"points": [{"x": [1]}]})", 0, "", inv,
       "spec.architecture: no architecture set"},
      {"WidthZero",
       arch(R"("widths": [0], "activation": "ACTIVATION_ERF")",
            R"("points": [{"x": [1]}])"),
       0, "", inv,
       "spec.architecture.mlp.widths[0] = 0: must be in [1, 1000000]"},
      {"NegativeSb",
       arch(absl::StrCat(kOk, R"(, "sb": [-1, 0])"),
            R"("points": [{"x": [1]}])"),
       0, "", inv, "spec.architecture.mlp.sb[0] = -1"},
      {"DimensionMismatch", arch(kOk, R"("points": [{"x": [1, 2]}])"), 0, "",
       inv, "spec.points[0].x has 2 coordinates"},
      {"OrderSeven",
       arch(kOk, R"("points": [{"x": [1]}], "observables": {"orders": [7]})"),
       0, "", inv, "spec.observables.orders[0] = 7: must be in [1, 6]"},
      {"TooManyTuples",
       arch(kOk, absl::StrCat(R"("points": [)", hundred_points,
                              R"(], "observables": {"orders": [6]})")),
       0, "", inv, "max_tuples"},
      {"TooManyPoints",
       arch(kOk, absl::StrCat(R"("points": [)", many_points, "]")), 0, "", inv,
       "spec.points: 4097 points: must be in [1, 4096]"},
      {"PriorityOutOfRange", mlp, 1001, "", inv,
       "priority = 1001: must be in [-1000, 1000]"},
      {"RequestIdTooLong", mlp, 0, std::string(129, 'r'), inv,
       "request_id has 129 characters"},
      {"RequestIdNotPrintable", mlp, 0, "a\nb", inv, "request_id[1]"},
  };
}

TEST(ServiceTest, BadInputGetsTheRightStatusAndLeavesARunningJobAlone) {
  ServerOptions options;
  options.max_message_bytes = 1 << 20;
  Harness h = StartServer(options);
  ASSERT_NE(h.stub, nullptr);
  grpc::Status status;
  const v1::Job running = Submit(h.stub.get(), TinySpec(11, 20000), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();

  for (const BadSubmit& bad : BadSubmits()) {
    SCOPED_TRACE(bad.name);
    auto spec = SpecProtoFromJson(bad.json);
    ASSERT_TRUE(spec.ok()) << spec.status();
    v1::SubmitExperimentRequest request;
    *request.mutable_spec() = *spec;
    request.set_priority(bad.priority);
    request.set_request_id(bad.request_id);
    v1::Job job;
    grpc::ClientContext context;
    status = h.stub->SubmitExperiment(&context, request, &job);
    EXPECT_EQ(status.error_code(), bad.code) << status.error_message();
    EXPECT_NE(status.error_message().find(bad.message), std::string::npos)
        << status.error_message();
  }

  {  // A spec over the message limit is refused by gRPC itself.
    v1::ExperimentSpec spec = TinySpec();
    auto* x = spec.add_points()->mutable_x();
    for (int i = 0; i < 200000; ++i) x->Add(1.0);
    Submit(h.stub.get(), spec, &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << status.error_message();
  }
  {  // Names: malformed and unknown.
    v1::GetJobRequest request;
    v1::Job job;
    request.set_name("job/12");
    grpc::ClientContext c1;
    status = h.stub->GetJob(&c1, request, &job);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("name = 'job/12'"), std::string::npos)
        << status.error_message();
    request.set_name("jobs/0123456789abcdef");
    grpc::ClientContext c2;
    status = h.stub->GetJob(&c2, request, &job);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
        << status.error_message();
    v1::CancelJobRequest cancel;
    cancel.set_name("jobs/XYZ");
    grpc::ClientContext c3;
    status = h.stub->CancelJob(&c3, cancel, &job);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    WatchAll(h.stub.get(), "nope", &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    WatchAll(h.stub.get(), "jobs/0123456789abcdef", &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    ReadResult(h.stub.get(), "jobs/0123456789abcdef", &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {  // Page tokens belong to their query.
    const v1::Job second = Submit(h.stub.get(), TinySpec(12), &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    v1::ListJobsRequest request;
    request.set_page_size(1);
    v1::ListJobsResponse page;
    grpc::ClientContext c1;
    ASSERT_TRUE(h.stub->ListJobs(&c1, request, &page).ok());
    ASSERT_FALSE(page.next_page_token().empty());
    request.set_page_token(page.next_page_token());
    request.add_states(v1::Job::QUEUED);
    grpc::ClientContext c2;
    status = h.stub->ListJobs(&c2, request, &page);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("another query"), std::string::npos)
        << status.error_message();
    request.set_page_token("garbage");
    grpc::ClientContext c3;
    status = h.stub->ListJobs(&c3, request, &page);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    request.clear_page_token();
    request.set_page_size(1001);
    grpc::ClientContext c4;
    status = h.stub->ListJobs(&c4, request, &page);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("page_size = 1001"),
              std::string::npos);
  }
  // None of it disturbed the running job.
  EXPECT_EQ(WaitForEnd(h.server->jobs(), running.name()).state,
            JobState::kSucceeded);
}

TEST(ServiceTest, ListJobsPagesWithoutGapsAndFiltersByState) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  std::vector<std::string> names;
  grpc::Status status;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    names.push_back(Submit(h.stub.get(), TinySpec(seed), &status).name());
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  for (const std::string& name : names) {
    ASSERT_EQ(WaitForEnd(h.server->jobs(), name).state, JobState::kSucceeded);
  }
  v1::ListJobsRequest request;
  request.set_page_size(2);
  request.add_states(v1::Job::SUCCEEDED);
  std::vector<std::string> listed;
  for (int page_count = 0; page_count < 10; ++page_count) {
    v1::ListJobsResponse page;
    grpc::ClientContext context;
    ASSERT_TRUE(h.stub->ListJobs(&context, request, &page).ok());
    EXPECT_LE(page.jobs_size(), 2);
    for (const v1::Job& job : page.jobs()) listed.push_back(job.name());
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(listed, names);  // oldest first, each once

  request.clear_page_token();
  request.clear_states();
  request.add_states(v1::Job::FAILED);
  v1::ListJobsResponse none;
  grpc::ClientContext context;
  ASSERT_TRUE(h.stub->ListJobs(&context, request, &none).ok());
  EXPECT_EQ(none.jobs_size(), 0);
  EXPECT_TRUE(none.next_page_token().empty());
}

TEST(ServiceTest, DroppingAWatchDoesNotCancelTheJob) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  grpc::Status status;
  const v1::Job job = Submit(h.stub.get(), TinySpec(3, 20000), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  {
    v1::WatchJobRequest request;
    request.set_name(job.name());
    grpc::ClientContext context;
    auto reader = h.stub->WatchJob(&context, request);
    v1::JobUpdate update;
    ASSERT_TRUE(reader->Read(&update));
    EXPECT_EQ(update.job().name(), job.name());
    context.TryCancel();
    while (reader->Read(&update)) {
    }
    reader->Finish();
  }
  EXPECT_EQ(WaitForEnd(h.server->jobs(), job.name()).state,
            JobState::kSucceeded);
}

TEST(ServiceTest, CancelAndDeleteFollowTheJobLifeCycle) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  grpc::Status status;
  const v1::Job job = Submit(h.stub.get(), TinySpec(5, 2000000), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::DeleteJobRequest del;
  del.set_name(job.name());
  google::protobuf::Empty empty;
  grpc::ClientContext c0;
  status = h.stub->DeleteJob(&c0, del, &empty);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  v1::CancelJobRequest cancel;
  cancel.set_name(job.name());
  v1::Job cancelled;
  grpc::ClientContext c1;
  ASSERT_TRUE(h.stub->CancelJob(&c1, cancel, &cancelled).ok());
  EXPECT_EQ(WaitForEnd(h.server->jobs(), job.name()).state,
            JobState::kCancelled);
  ReadResult(h.stub.get(), job.name(), &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  grpc::ClientContext c2;
  EXPECT_TRUE(h.stub->DeleteJob(&c2, del, &empty).ok());
  v1::GetJobRequest get;
  get.set_name(job.name());
  grpc::ClientContext c3;
  status = h.stub->GetJob(&c3, get, &cancelled);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(ServiceTest, ComputeKernelAnswersSmallSpecsAndRefusesHugeOnes) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  v1::ComputeKernelRequest request;
  *request.mutable_spec() = TinySpec();
  v1::ComputeKernelResponse response;
  grpc::ClientContext c1;
  grpc::Status status = h.stub->ComputeKernel(&c1, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.num_points(), 2);
  EXPECT_EQ(response.kernel_size(), 4);
  EXPECT_EQ(response.tuples_size(), 3);
  EXPECT_EQ(response.theory().gp_size(), 3);
  // K is symmetric, and G2_GP of the tuple (i, j) is K(i, j).
  EXPECT_EQ(response.kernel(1), response.kernel(2));
  EXPECT_DOUBLE_EQ(response.theory().gp(1), response.kernel(1));

  // 400 points: the kernel alone is 1.28 MB.
  for (int i = 0; i < 398; ++i) {
    request.mutable_spec()->add_points()->add_x(0.01 * i);
  }
  grpc::ClientContext c2;
  status = h.stub->ComputeKernel(&c2, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("over the limit"), std::string::npos)
      << status.error_message();
}

TEST(ServiceTest, ServerInfoReportsFingerprintLimitsAndCounters) {
  ServerOptions options;
  options.limits.max_width = 5000;
  options.max_queued_jobs = 17;
  Harness h = StartServer(options);
  ASSERT_NE(h.stub, nullptr);
  v1::ServerInfo info;
  grpc::ClientContext context;
  ASSERT_TRUE(
      h.stub->GetServerInfo(&context, v1::GetServerInfoRequest(), &info).ok());
  EXPECT_EQ(info.engine_fingerprint(), EngineFingerprint());
  EXPECT_FALSE(info.version().empty());
  EXPECT_EQ(info.limits().max_width(), 5000);
  EXPECT_EQ(info.limits().max_queued_jobs(), 17);
  // mlp, gauss_net, cos_net, null_cone, ou_net, conv1d, attention, kan.
  EXPECT_EQ(info.architectures_size(), 8);
  EXPECT_EQ(info.activations_size(), 9);
  EXPECT_EQ(info.worker_threads(), 1);
  EXPECT_EQ(info.counters().jobs_submitted(), 0);
  EXPECT_FALSE(info.data_dir().empty());
}

TEST(ServiceTest, SubmitIsIdempotentByRequestId) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  v1::SubmitExperimentRequest request;
  *request.mutable_spec() = TinySpec();
  request.set_request_id("run-1");
  v1::Job first, second;
  grpc::ClientContext c1, c2;
  ASSERT_TRUE(h.stub->SubmitExperiment(&c1, request, &first).ok());
  ASSERT_TRUE(h.stub->SubmitExperiment(&c2, request, &second).ok());
  EXPECT_EQ(first.name(), second.name());
  EXPECT_EQ(second.request_id(), "run-1");
  *request.mutable_spec() = TinySpec(99);
  grpc::ClientContext c3;
  EXPECT_EQ(h.stub->SubmitExperiment(&c3, request, &second).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

// grpc.health.v1.Health/Check for the whole server, by a generic call: the
// empty request is zero bytes; SERVING is the response bytes 08 01.
std::string HealthCheckBytes(grpc::Server* server) {
  grpc::GenericStub stub(server->InProcessChannel(grpc::ChannelArguments()));
  grpc::ByteBuffer request(nullptr, 0), response;
  grpc::ClientContext context;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", {}, &request,
                 &response, [&](grpc::Status s) {
                   status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return "";
  std::string bytes;
  for (const auto& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

TEST(ServerTest, ServesHealthAndDrainLeavesTheRunningJobForTheNextStart) {
  ServerOptions options;
  options.data_dir = FreshDataDir();
  std::string name;
  {
    Harness h = StartServer(options);
    ASSERT_NE(h.stub, nullptr);
    EXPECT_EQ(HealthCheckBytes(h.server->grpc_server()), "\x08\x01");
    auto spec = SpecProtoFromJson(
        R"({"architecture": {"mlp": {"inputDim": 1, "widths": [2000],
            "activation": "ACTIVATION_TANH"}},
            "points": [{"x": [0.5]}, {"x": [-1]}],
            "observables": {"orders": [2]},
            "sampling": {"seed": "5", "numNetworks": "40000",
                         "chunkSize": 100}})");
    ASSERT_TRUE(spec.ok()) << spec.status();
    grpc::Status status;
    name = Submit(h.stub.get(), *spec, &status).name();
    ASSERT_TRUE(status.ok()) << status.error_message();
    // Wait for the first stored chunk, then drain mid-job.
    int64_t version = -1;
    while (true) {
      auto job = h.server->jobs()->WaitForChange(
          name, version, absl::Now() + absl::Seconds(30));
      ASSERT_TRUE(job.ok()) << job.status();
      if (job->chunks_done > 0 || IsTerminal(job->state)) break;
      version = job->version;
    }
    h.server->Shutdown();
    auto job = h.server->jobs()->Get(name);
    ASSERT_TRUE(job.ok()) << job.status();
    EXPECT_EQ(job->state, JobState::kQueued)
        << "drained mid-run with " << job->chunks_done << " chunks";
  }
  Harness h = StartServer(options);
  ASSERT_NE(h.stub, nullptr);
  EXPECT_EQ(WaitForEnd(h.server->jobs(), name).state, JobState::kSucceeded);
}

TEST(ServiceTest, SubmitWhileDrainingIsUnavailableAndReadsStillWork) {
  Harness h = StartServer();
  ASSERT_NE(h.stub, nullptr);
  h.server->service()->BeginDrain();
  grpc::Status status;
  Submit(h.stub.get(), TinySpec(), &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  v1::ServerInfo info;
  grpc::ClientContext context;
  EXPECT_TRUE(
      h.stub->GetServerInfo(&context, v1::GetServerInfoRequest(), &info).ok());
}

TEST(JobNameTest, AcceptsOnlyJobsSlashSixteenHexDigits) {
  EXPECT_TRUE(CheckJobName("name", "jobs/0123456789abcdef").ok());
  for (const char* bad : {"", "jobs/", "jobs/0123456789ABCDEF",
                          "jobs/0123456789abcde", "jobs/0123456789abcdef0",
                          "job/0123456789abcdef", "jobs/0123456789abcdeg"}) {
    EXPECT_EQ(CheckJobName("name", bad).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace nnft::server
