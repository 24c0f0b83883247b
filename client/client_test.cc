// Client against an in-process fake Nnft service: status codes and messages
// pass through unchanged, deadlines apply, watch streams end at a terminal
// state, and result pieces are reassembled (or rejected when they do not fit).
#include "client/client.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace nnft::client {
namespace {

namespace v1 = ::nnft::v1;

v1::EntryBlock Block(int offset, int n) {
  v1::EntryBlock block;
  block.set_offset(offset);
  for (int i = offset; i < offset + n; ++i) {
    block.mutable_estimate()->add_tuples()->add_index(i);
    block.mutable_estimate()->add_mean(0.5 * i);
    block.mutable_estimate()->add_stderr(0.01 * i);
    block.mutable_estimate()->add_connected(0.25 * i);
    block.mutable_estimate()->add_connected_stderr(0.02 * i);
    block.mutable_theory()->add_gp(0.5 * i + 0.001);
    block.add_z_gp(-0.1 * i);
  }
  block.mutable_estimate()->set_networks(4000);
  block.mutable_estimate()->set_seed(7);
  return block;
}

class FakeNnft final : public v1::Nnft::Service {
 public:
  // Set by tests before calls.
  bool result_gap = false;
  std::atomic<int> info_calls{0};

  grpc::Status SubmitExperiment(grpc::ServerContext*,
                                const v1::SubmitExperimentRequest* request,
                                v1::Job* job) override {
    if (!request->spec().architecture().has_mlp()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "architecture: must be set (mlp, gauss_net or "
                          "cos_net)");
    }
    job->set_name("jobs/0001");
    job->set_state(v1::Job::QUEUED);
    job->set_request_id(request->request_id());
    job->set_priority(request->priority());
    return grpc::Status::OK;
  }

  // Entry i: a job named after i, or (without an mlp) an error naming it;
  // more than 3 entries refuse the call.
  grpc::Status SubmitBatch(grpc::ServerContext*,
                           const v1::SubmitBatchRequest* request,
                           v1::SubmitBatchResponse* response) override {
    if (request->entries_size() > 3) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "entries has 4 entries: must have at most 3");
    }
    for (int i = 0; i < request->entries_size(); ++i) {
      v1::SubmitBatchResult* result = response->add_results();
      if (request->entries(i).spec().architecture().has_mlp()) {
        result->mutable_job()->set_name(absl::StrCat("jobs/000", i));
        result->mutable_job()->set_request_id(
            absl::StrCat(request->request_id(), "/", i));
      } else {
        result->mutable_error()->set_code(grpc::StatusCode::INVALID_ARGUMENT);
        result->mutable_error()->set_message(
            absl::StrCat("entries[", i, "].spec.architecture: must be set"));
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status GetJob(grpc::ServerContext*, const v1::GetJobRequest* request,
                      v1::Job* job) override {
    if (request->name() != "jobs/0001") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "job " + request->name() + " not found");
    }
    job->set_name(request->name());
    job->set_state(v1::Job::RUNNING);
    return grpc::Status::OK;
  }

  grpc::Status ListJobs(grpc::ServerContext*,
                        const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override {
    if (request->page_token() == "bogus") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "page_token: not from this query");
    }
    response->add_jobs()->set_name("jobs/0001");
    if (request->page_token().empty()) response->set_next_page_token("p2");
    return grpc::Status::OK;
  }

  grpc::Status WatchJob(grpc::ServerContext*,
                        const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::JobUpdate>* writer) override {
    for (int done = 0; done <= 4; ++done) {
      v1::JobUpdate update;
      update.mutable_job()->set_name(request->name());
      update.mutable_job()->set_state(done == 4 ? v1::Job::SUCCEEDED
                                                : v1::Job::RUNNING);
      update.mutable_job()->mutable_progress()->set_chunks_done(done);
      update.mutable_job()->mutable_progress()->set_chunks_total(4);
      if (!writer->Write(update)) break;
    }
    return grpc::Status::OK;
  }

  grpc::Status GetResult(grpc::ServerContext*,
                         const v1::GetResultRequest* request,
                         grpc::ServerWriter<v1::ResultPiece>* writer) override {
    v1::ResultPiece header;
    header.mutable_header()->set_num_entries(5);
    header.mutable_header()->set_num_points(2);
    header.mutable_header()->mutable_job()->set_name(request->name());
    writer->Write(header);
    v1::ResultPiece first;
    *first.mutable_entries() = Block(0, 2);
    writer->Write(first);
    v1::ResultPiece second;
    *second.mutable_entries() = Block(result_gap ? 3 : 2, 3);
    writer->Write(second);
    for (int row = 0; row < 2; ++row) {
      v1::ResultPiece kernel;
      kernel.mutable_kernel()->set_row_offset(row);
      kernel.mutable_kernel()->set_rows(1);
      kernel.mutable_kernel()->add_values(1.0 + row);
      kernel.mutable_kernel()->add_values(0.5);
      writer->Write(kernel);
    }
    return grpc::Status::OK;
  }

  grpc::Status GetServerInfo(grpc::ServerContext*,
                             const v1::GetServerInfoRequest*,
                             v1::ServerInfo* info) override {
    ++info_calls;
    absl::SleepFor(absl::Milliseconds(300));
    info->set_version("fake");
    return grpc::Status::OK;
  }
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  Client MakeClient(ClientOptions options = {}) {
    return Client(server_->InProcessChannel(grpc::ChannelArguments()), options);
  }

  FakeNnft service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(ClientTest, SubmitPassesRequestIdAndPriority) {
  Client client = MakeClient();
  v1::ExperimentSpec spec;
  spec.mutable_architecture()->mutable_mlp()->set_input_dim(1);
  absl::StatusOr<v1::Job> job = client.Submit(spec, "req-1", -7);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->name(), "jobs/0001");
  EXPECT_EQ(job->request_id(), "req-1");
  EXPECT_EQ(job->priority(), -7);
}

TEST_F(ClientTest, SubmitBatchSendsEveryEntryAndReturnsEachResult) {
  Client client = MakeClient();
  std::vector<v1::SubmitExperimentRequest> entries(3);
  entries[0].mutable_spec()->mutable_architecture()->mutable_mlp();
  entries[2].mutable_spec()->mutable_architecture()->mutable_mlp();
  absl::StatusOr<v1::SubmitBatchResponse> batch =
      client.SubmitBatch(entries, "scan");
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->results_size(), 3);
  EXPECT_EQ(batch->results(0).job().name(), "jobs/0000");
  EXPECT_EQ(batch->results(0).job().request_id(), "scan/0");
  EXPECT_EQ(batch->results(1).error().message(),
            "entries[1].spec.architecture: must be set");
  EXPECT_EQ(batch->results(2).job().name(), "jobs/0002");
  entries.resize(4);
  absl::StatusOr<v1::SubmitBatchResponse> too_many =
      client.SubmitBatch(entries);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(too_many.status().message(),
            "entries has 4 entries: must have at most 3");
}

TEST_F(ClientTest, ServerErrorKeepsCodeAndMessage) {
  Client client = MakeClient();
  absl::StatusOr<v1::Job> job = client.Submit(v1::ExperimentSpec());
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(job.status().message(),
            "architecture: must be set (mlp, gauss_net or cos_net)");
  absl::StatusOr<v1::Job> missing = client.Get("jobs/nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "job jobs/nope not found");
}

TEST_F(ClientTest, UnaryCallHonoursTimeout) {
  Client client = MakeClient({.timeout = absl::Milliseconds(50)});
  absl::StatusOr<v1::ServerInfo> info = client.Info();
  EXPECT_EQ(info.status().code(), absl::StatusCode::kDeadlineExceeded);
  Client patient = MakeClient({.timeout = absl::Seconds(5)});
  info = patient.Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->version(), "fake");
}

TEST_F(ClientTest, ListFollowsPageTokens) {
  Client client = MakeClient();
  absl::StatusOr<v1::ListJobsResponse> first = client.List(1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->next_page_token(), "p2");
  absl::StatusOr<v1::ListJobsResponse> second =
      client.List(1, first->next_page_token());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->next_page_token().empty());
  EXPECT_EQ(client.List(1, "bogus").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, WatchDeliversEveryUpdateAndReturnsTerminalJob) {
  Client client = MakeClient();
  std::vector<int64_t> seen;
  absl::StatusOr<v1::Job> job =
      client.Watch("jobs/0001", [&](const v1::JobUpdate& update) {
        seen.push_back(update.job().progress().chunks_done());
        return true;
      });
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state(), v1::Job::SUCCEEDED);
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST_F(ClientTest, WatchStopsWhenCallbackReturnsFalse) {
  Client client = MakeClient();
  int calls = 0;
  absl::StatusOr<v1::Job> job =
      client.Watch("jobs/0001", [&](const v1::JobUpdate& update) {
        ++calls;
        return update.job().progress().chunks_done() < 1;
      });
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(job->state(), v1::Job::RUNNING);
  EXPECT_EQ(job->progress().chunks_done(), 1);
}

TEST_F(ClientTest, WaitForCompletionReturnsTerminalJob) {
  Client client = MakeClient();
  absl::StatusOr<v1::Job> job =
      client.WaitForCompletion("jobs/0001", absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_TRUE(IsTerminal(job->state()));
}

TEST_F(ClientTest, FetchResultReassemblesPieces) {
  Client client = MakeClient();
  absl::StatusOr<JobResult> result = client.FetchResult("jobs/0001");
  ASSERT_TRUE(result.ok()) << result.status();
  const v1::Estimate& est = result->entries.estimate();
  ASSERT_EQ(est.tuples_size(), 5);
  ASSERT_EQ(est.mean_size(), 5);
  ASSERT_EQ(result->entries.theory().gp_size(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(est.tuples(i).index(0), i);
    EXPECT_EQ(est.mean(i), 0.5 * i);
    EXPECT_EQ(result->entries.z_gp(i), -0.1 * i);
  }
  EXPECT_EQ(result->entries.offset(), 0);
  EXPECT_EQ(est.networks(), 4000);
  EXPECT_EQ(result->kernel, (std::vector<double>{1.0, 0.5, 2.0, 0.5}));
  EXPECT_EQ(result->header.job().name(), "jobs/0001");
}

TEST_F(ClientTest, FetchResultRejectsGapBetweenBlocks) {
  service_.result_gap = true;
  Client client = MakeClient();
  absl::StatusOr<JobResult> result = client.FetchResult("jobs/0001");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find("offset 3"), std::string::npos)
      << result.status();
}

TEST_F(ClientTest, ConcurrentCallsShareOneClient) {
  Client client = MakeClient();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (client.Get("jobs/0001").ok()) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 160);
}

TEST(ClientOptionsTest, ValidateNamesTheField) {
  absl::Status status =
      ClientOptions{.timeout = absl::ZeroDuration()}.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("timeout"), std::string::npos);
  EXPECT_TRUE(ClientOptions{}.Validate().ok());
}

TEST(ClientConnectionTest, UnreachableServerIsUnavailable) {
  // Port 1 on localhost: nothing listens there.
  Client client("127.0.0.1:1", {.timeout = absl::Seconds(5)});
  EXPECT_EQ(client.Get("jobs/x").status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace nnft::client
