// Bearer tokens: the token file's format and errors, the check of a call's
// metadata, and job ownership through a real NnftServer with a token file
// (in-process channel; TLS is tested end to end in tests/e2e).
#include "server/api/auth.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/ops/server.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

constexpr char kAliceToken[] = "alice-0123456789abcdef";
constexpr char kBobToken[] = "bob-0123456789abcdef01";

TEST(TokenFileTest, ReadsTokensSkippingCommentsAndBlankLines) {
  auto entries = ParseTokenFile(
      "tokens.txt", absl::StrCat("# who may call\n\n  ", kAliceToken,
                                 "   alice\n\t", kBobToken, "\tbob@lab \n"));
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].principal, "alice");
  EXPECT_EQ((*entries)[1].principal, "bob@lab");
}

TEST(TokenFileTest, MalformedLinesNameFileAndLineAndNeverTheToken) {
  const std::string secret = "s3cret-token-value-xyz";
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {absl::StrCat("# c\n", secret, "\n"), "tokens.txt:2: has 1 fields"},
      {absl::StrCat(secret, " a b\n"), "tokens.txt:1: has 3 fields"},
      {"short alice\n", "tokens.txt:1: the token has 5 characters"},
      {absl::StrCat(secret, " al/ice\n"), "tokens.txt:1: principal 'al/ice'"},
      {absl::StrCat(secret, " a\n", secret, " b\n"),
       "tokens.txt:2: repeats the token of line 1"},
      {"# nothing\n\n", "tokens.txt: holds no token"},
  };
  for (const Case& c : cases) {
    auto entries = ParseTokenFile("tokens.txt", c.text);
    ASSERT_FALSE(entries.ok()) << c.text;
    EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(entries.status().message(), c.expected))
        << entries.status();
    EXPECT_FALSE(absl::StrContains(entries.status().message(), secret))
        << entries.status();
  }
}

TEST(TokenAuthenticatorTest, AcceptsKnownBearerTokensOnly) {
  auto entries = ParseTokenFile(
      "t", absl::StrCat(kAliceToken, " alice\n", kBobToken, " bob\n"));
  ASSERT_TRUE(entries.ok()) << entries.status();
  TokenAuthenticator auth(*std::move(entries));
  EXPECT_EQ(*auth.Authenticate(absl::StrCat("Bearer ", kAliceToken)), "alice");
  EXPECT_EQ(*auth.Authenticate(absl::StrCat("bearer ", kBobToken)), "bob");
  const std::string wrong = "Bearer alice-0123456789abcdeX";
  for (const std::string& value : {std::string(), std::string(kAliceToken),
                                   wrong, absl::StrCat("Basic ", kAliceToken),
                                   absl::StrCat("Bearer ", kAliceToken, "x")}) {
    auto principal = auth.Authenticate(value);
    ASSERT_FALSE(principal.ok()) << value;
    EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_FALSE(absl::StrContains(principal.status().message(), "0123456789"))
        << principal.status();
  }
  EXPECT_TRUE(absl::StrContains(auth.Authenticate("").status().message(),
                                "missing credentials"));
  EXPECT_TRUE(absl::StrContains(auth.Authenticate(wrong).status().message(),
                                "invalid bearer token"));
}

std::string FreshDir() {
  static std::atomic<int> counter{0};
  const std::string dir = absl::StrCat(testing::TempDir(), "/nnft_auth_test_",
                                       getpid(), "_", counter++);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(TokenAuthenticatorTest, ReloadSwapsTheTableAndKeepsItOnError) {
  const std::string path = FreshDir() + "/tokens";
  WriteText(path, absl::StrCat(kAliceToken, " alice\n"));
  auto auth = TokenAuthenticator::FromFile(path);
  ASSERT_TRUE(auth.ok()) << auth.status();
  WriteText(path, absl::StrCat(kBobToken, " bob\n"));
  ASSERT_TRUE((*auth)->Reload().ok());
  EXPECT_FALSE(
      (*auth)->Authenticate(absl::StrCat("Bearer ", kAliceToken)).ok());
  EXPECT_EQ(*(*auth)->Authenticate(absl::StrCat("Bearer ", kBobToken)), "bob");
  WriteText(path, "broken\n");
  EXPECT_EQ((*auth)->Reload().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*(*auth)->Authenticate(absl::StrCat("Bearer ", kBobToken)), "bob");
}

TEST(ServerOptionsTest, RejectsHalfTlsAndUnreadableTokenFiles) {
  ServerOptions options{.listen = "127.0.0.1:0", .data_dir = FreshDir()};
  options.tls_cert = "/nonexistent/cert.pem";
  EXPECT_EQ(options.Validate().code(), absl::StatusCode::kInvalidArgument);
  options.tls_cert = "";
  options.tls_client_ca = "/nonexistent/ca.pem";
  EXPECT_EQ(options.Validate().code(), absl::StatusCode::kInvalidArgument);
  options.tls_client_ca = "";
  options.token_file = "/nonexistent/tokens";
  auto server = NnftServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::StrContains(server.status().message(),
                                "token_file '/nonexistent/tokens'"))
      << server.status();
}

// A server with alice's and bob's tokens; stubs over its in-process channel.
class OwnershipTest : public testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = FreshDir();
    WriteText(dir + "/tokens", absl::StrCat("# test principals\n", kAliceToken,
                                            " alice\n", kBobToken, " bob\n"));
    auto server = NnftServer::Start({.listen = "127.0.0.1:0",
                                     .data_dir = dir + "/data",
                                     .worker_threads = 1,
                                     .max_running_jobs = 2,
                                     .shutdown_grace = absl::Seconds(1),
                                     .token_file = dir + "/tokens"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::Nnft::NewStub(server_->grpc_server()->InProcessChannel({}));
  }

  // A context carrying `token` ("" : none).
  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) {
      context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    return context;
  }

  grpc::Status Submit(const std::string& token, int64_t networks, v1::Job* job,
                      const std::string& request_id = "") {
    auto spec = SpecProtoFromJson(absl::StrCat(
        R"({"architecture": {"mlp": {"inputDim": 1, "widths": [8],
            "activation": "ACTIVATION_ERF"}},
            "points": [{"x": [0.5]}, {"x": [-1]}],
            "observables": {"orders": [2]},
            "sampling": {"seed": "3", "numNetworks": ")",
        networks, R"(", "chunkSize": 100}})"));
    EXPECT_TRUE(spec.ok()) << spec.status();
    v1::SubmitExperimentRequest request;
    *request.mutable_spec() = *spec;
    request.set_request_id(request_id);
    return stub_->SubmitExperiment(As(token).get(), request, job);
  }

  v1::Job WaitDone(const std::string& token, const std::string& name) {
    v1::WatchJobRequest request;
    request.set_name(name);
    auto context = As(token);
    auto reader = stub_->WatchJob(context.get(), request);
    v1::JobUpdate update;
    v1::Job last;
    while (reader->Read(&update)) last = update.job();
    EXPECT_TRUE(reader->Finish().ok());
    return last;
  }

  std::unique_ptr<NnftServer> server_;
  std::unique_ptr<v1::Nnft::Stub> stub_;
};

TEST_F(OwnershipTest, MissingOrWrongTokensAreUnauthenticated) {
  v1::Job job;
  grpc::Status missing = Submit("", 200, &job);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(missing.error_message(), "missing"));
  grpc::Status wrong = Submit("not-a-known-token-at-all", 200, &job);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(absl::StrContains(wrong.error_message(), "not-a-known"));
  v1::ServerInfo info;
  EXPECT_EQ(stub_->GetServerInfo(As("").get(), {}, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::ListJobsResponse list;
  EXPECT_EQ(stub_->ListJobs(As("").get(), {}, &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Streams are refused before they start.
  v1::WatchJobRequest watch;
  watch.set_name("jobs/0123456789abcdef");
  auto context = As("");
  auto reader = stub_->WatchJob(context.get(), watch);
  v1::JobUpdate update;
  EXPECT_FALSE(reader->Read(&update));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(stub_->GetServerInfo(As(kBobToken).get(), {}, &info).ok());
  EXPECT_TRUE(info.security().tokens());
  EXPECT_FALSE(info.security().tls());
  EXPECT_EQ(info.security().principal(), "bob");
}

TEST_F(OwnershipTest, AnotherPrincipalsJobIsNotFoundLikeAMissingOne) {
  v1::Job job;
  ASSERT_TRUE(Submit(kAliceToken, 200, &job, "req-1").ok());
  ASSERT_EQ(WaitDone(kAliceToken, job.name()).state(), v1::Job::SUCCEEDED);
  const std::string missing = "jobs/0123456789abcdef";
  for (const std::string& name : {job.name(), missing}) {
    v1::GetJobRequest get;
    get.set_name(name);
    v1::Job out;
    grpc::Status s = stub_->GetJob(As(kBobToken).get(), get, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), absl::StrCat("job '", name, "' not found"));
    v1::CancelJobRequest cancel;
    cancel.set_name(name);
    EXPECT_EQ(stub_->CancelJob(As(kBobToken).get(), cancel, &out).error_code(),
              grpc::StatusCode::NOT_FOUND);
    v1::DeleteJobRequest del;
    del.set_name(name);
    google::protobuf::Empty empty;
    EXPECT_EQ(stub_->DeleteJob(As(kBobToken).get(), del, &empty).error_code(),
              grpc::StatusCode::NOT_FOUND);
    v1::WatchJobRequest watch;
    watch.set_name(name);
    auto wctx = As(kBobToken);
    auto watcher = stub_->WatchJob(wctx.get(), watch);
    v1::JobUpdate update;
    EXPECT_FALSE(watcher->Read(&update));
    EXPECT_EQ(watcher->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
    v1::GetResultRequest result;
    result.set_name(name);
    auto rctx = As(kBobToken);
    auto reader = stub_->GetResult(rctx.get(), result);
    v1::ResultPiece piece;
    EXPECT_FALSE(reader->Read(&piece));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  v1::ListJobsResponse list;
  ASSERT_TRUE(stub_->ListJobs(As(kBobToken).get(), {}, &list).ok());
  EXPECT_EQ(list.jobs_size(), 0);
  ASSERT_TRUE(stub_->ListJobs(As(kAliceToken).get(), {}, &list).ok());
  ASSERT_EQ(list.jobs_size(), 1);
  EXPECT_EQ(list.jobs(0).name(), job.name());
  // Bob's identical submission, even with Alice's request_id, is his own job
  // (answered from the shared chunks), and Alice still owns hers.
  v1::Job bobs;
  ASSERT_TRUE(Submit(kBobToken, 200, &bobs, "req-1").ok());
  EXPECT_NE(bobs.name(), job.name());
  EXPECT_EQ(bobs.state(), v1::Job::SUCCEEDED);
  v1::GetJobRequest get;
  get.set_name(job.name());
  v1::Job out;
  EXPECT_TRUE(stub_->GetJob(As(kAliceToken).get(), get, &out).ok());
}

TEST_F(OwnershipTest, ConcurrentIdenticalJobsComputeEachChunkOnce) {
  // Both principals submit the same 200-chunk spec at once, with two runner
  // threads: two jobs, one computation of each chunk (the second job waits
  // for chunks the first has claimed, then reads them), identical results.
  v1::Job a, b;
  std::thread alice([&] { EXPECT_TRUE(Submit(kAliceToken, 20000, &a).ok()); });
  std::thread bob([&] { EXPECT_TRUE(Submit(kBobToken, 20000, &b).ok()); });
  alice.join();
  bob.join();
  ASSERT_NE(a.name(), b.name());
  EXPECT_EQ(WaitDone(kAliceToken, a.name()).state(), v1::Job::SUCCEEDED);
  EXPECT_EQ(WaitDone(kBobToken, b.name()).state(), v1::Job::SUCCEEDED);
  const Counters c = server_->jobs()->counters();
  EXPECT_EQ(c.chunks_computed, 200);
  EXPECT_EQ(c.jobs_deduplicated, 0);
  auto ra = server_->jobs()->Result(a.name(), "alice");
  auto rb = server_->jobs()->Result(b.name(), "bob");
  ASSERT_TRUE(ra.ok() && rb.ok());
  ASSERT_EQ(ra->estimate.mean.size(), rb->estimate.mean.size());
  for (size_t i = 0; i < ra->estimate.mean.size(); ++i) {
    EXPECT_EQ(ra->estimate.mean[i], rb->estimate.mean[i]) << i;
    EXPECT_EQ(ra->estimate.stderr_mean[i], rb->estimate.stderr_mean[i]) << i;
  }
}

}  // namespace
}  // namespace nnft::server
