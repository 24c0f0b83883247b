// nnft-healthcheck against a real gRPC server on a local port: gRPC's
// default health service, switched between SERVING and NOT_SERVING.
#include <sys/wait.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "deploy/healthcheck/health_check.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace nnft::deploy {
namespace {

// A server with gRPC's default health service and server reflection (as
// nnft-server has; gRPC wants at least one synchronous service beside the
// health service), on a free local port.
class HealthServer {
 public:
  HealthServer() {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    server_ = builder.BuildAndStart();
  }
  ~HealthServer() { Stop(); }

  void Stop() {
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }
  void SetServing(bool serving) {
    server_->GetHealthCheckService()->SetServingStatus(serving);
  }
  bool started() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// Exit status of nnft-healthcheck with `args`.
int RunBinary(const std::string& args) {
  const std::string command =
      absl::StrCat(NNFT_HEALTHCHECK_BIN, " ", args, " >/dev/null 2>&1");
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

TEST(HealthCheckTest, ReportsServingThenNotServing) {
  HealthServer server;
  ASSERT_TRUE(server.started());
  auto status = CheckHealth(Channel(server.address()), "", absl::Seconds(5));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, ServingStatus::kServing);

  server.SetServing(false);
  status = CheckHealth(Channel(server.address()), "", absl::Seconds(5));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, ServingStatus::kNotServing);
}

TEST(HealthCheckTest, UnknownServiceIsNotFound) {
  HealthServer server;
  ASSERT_TRUE(server.started());
  auto status = CheckHealth(Channel(server.address()), "no.such.Service",
                            absl::Seconds(5));
  EXPECT_EQ(status.status().code(), absl::StatusCode::kNotFound);
}

TEST(HealthCheckTest, StoppedServerIsUnavailableWithinTheDeadline) {
  HealthServer server;
  ASSERT_TRUE(server.started());
  const std::string address = server.address();
  server.Stop();
  const absl::Time start = absl::Now();
  auto status = CheckHealth(Channel(address), "", absl::Seconds(2));
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(status.status().code() == absl::StatusCode::kUnavailable ||
              status.status().code() == absl::StatusCode::kDeadlineExceeded)
      << status.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
}

TEST(HealthCheckTest, RejectsNonPositiveTimeout) {
  auto status = CheckHealth(Channel("127.0.0.1:1"), "", absl::ZeroDuration());
  EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HealthCheckBinaryTest, ExitsZeroOnlyWhenServing) {
  HealthServer server;
  ASSERT_TRUE(server.started());
  const std::string addr = "--addr=" + server.address();
  EXPECT_EQ(RunBinary(addr + " --timeout=5s"), 0);
  EXPECT_EQ(RunBinary(addr + " --service=no.such.Service"), 1);
  server.SetServing(false);
  EXPECT_EQ(RunBinary(addr + " --timeout=5s"), 1);
  server.SetServing(true);
  EXPECT_EQ(RunBinary(addr + " --timeout=5s"), 0);
  server.Stop();
  EXPECT_EQ(RunBinary(addr + " --timeout=2s"), 1);
}

TEST(HealthCheckBinaryTest, UsageErrorsExitOne) {
  EXPECT_EQ(RunBinary("--timeout=0s"), 1);
  EXPECT_EQ(RunBinary("stray-argument"), 1);
}

}  // namespace
}  // namespace nnft::deploy
