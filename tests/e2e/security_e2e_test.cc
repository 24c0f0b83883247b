// End-to-end security: the real nnft-server with TLS (a throw-away CA made by
// tests/security/make_test_certs.sh with openssl), bearer tokens and a
// plaintext health port, driven by the C++ client and the `nnft` CLI. A
// served result over TLS equals the core's own answer bit for bit; plaintext
// clients, clients that trust another CA and (with --tls_client_ca) clients
// without a certificate are refused; token checks answer UNAUTHENTICATED and
// another principal's job is NOT_FOUND. (Python and Node over TLS: their own
// tests; ownership of every RPC in detail: server/api/auth_test.cc.)
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "deploy/healthcheck/health_check.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

constexpr char kAliceToken[] = "alice-5f0e1d2c3b4a69788796a5b4";
constexpr char kBobToken[] = "bob-0a1b2c3d4e5f60718293a4b5c6";

std::string Field(const std::string& out, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::StartsWith(line, key + ":")) {
      return std::string(
          absl::StripAsciiWhitespace(line.substr(key.size() + 1)));
    }
  }
  return "";
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class SecurityE2eTest : public ::testing::Test {
 protected:
  // One CA and key pairs for the whole suite (RSA key generation is slow).
  static void SetUpTestSuite() {
    pki_dir_ = new TempDir();
    const std::string command = absl::StrCat(
        "bash '", NNFT_SOURCE_DIR, "/tests/security/make_test_certs.sh' '",
        pki_dir_->path(), "'");
    pki_ok_ = std::system(command.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    delete pki_dir_;
    pki_dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(pki_ok_) << "tests/security/make_test_certs.sh failed";
    pki_ = pki_dir_->path();
    WriteFile(tmp_.path() + "/tokens",
              absl::StrCat("# principals of the test\n", kAliceToken,
                           " alice\n\n", kBobToken, " bob\n"));
    WriteFile(tmp_.path() + "/alice.token", absl::StrCat(kAliceToken, "\n"));
  }

  // A server with TLS, tokens and a health port (plus `extra` flags).
  void StartServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--tls_cert=" + Pki("server.pem"),
                                     "--tls_key=" + Pki("server.key"),
                                     "--token_file=" + tmp_.path() + "/tokens",
                                     "--health_listen=127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(
            {.data_dir = tmp_.path() + "/data", .extra_args = args});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    // The same host the certificate names.
    address_ = server_->address();
  }

  std::string Pki(const std::string& file) const { return pki_ + "/" + file; }

  std::unique_ptr<client::Client> NewClient(client::ClientOptions options) {
    options.timeout = absl::Seconds(20);
    absl::StatusOr<std::unique_ptr<client::Client>> c =
        client::Client::Create(address_, options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  // The "health address=HOST:PORT" line of the server's log.
  std::string HealthAddress() const {
    for (absl::string_view line : absl::StrSplit(server_->Log(), '\n')) {
      if (absl::StartsWith(line, "health address=")) {
        return std::string(line.substr(15));
      }
    }
    return "";
  }

  std::vector<std::string> Cli(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--server=" + address_, "--timeout=20s"});
    return args;
  }

  static inline TempDir* pki_dir_ = nullptr;
  static inline bool pki_ok_ = false;
  TempDir tmp_;
  std::string pki_;
  std::unique_ptr<ServerProcess> server_;
  std::string address_;
};

TEST_F(SecurityE2eTest, TlsServesTheCppClientAndTheCliAndRefusesPlaintext) {
  StartServer();
  const SmallSpec spec{
      .width = 32, .seed = 21, .chunk_size = 250, .num_chunks = 6};
  auto alice = NewClient({.token = kAliceToken, .tls_ca_file = Pki("ca.pem")});
  ASSERT_NE(alice, nullptr);
  absl::StatusOr<v1::Job> job = alice->Submit(spec.Proto());
  ASSERT_TRUE(job.ok()) << job.status();
  absl::StatusOr<v1::Job> done =
      alice->WaitForCompletion(job->name(), absl::Now() + absl::Seconds(60));
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->state(), v1::Job::SUCCEEDED);
  absl::StatusOr<client::JobResult> served = alice->FetchResult(job->name());
  ASSERT_TRUE(served.ok()) << served.status();
  absl::StatusOr<CorrelatorEstimate> core =
      CoreEstimate(spec.Core(), spec.num_chunks);
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_TRUE(BitDifferences(*served, *core).empty());
  absl::StatusOr<v1::ServerInfo> info = alice->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->security().tls());
  EXPECT_TRUE(info->security().tokens());
  EXPECT_EQ(info->security().principal(), "alice");

  // The CLI over TLS, the token from --token_file: submit --watch, result.
  std::string json;
  const SmallSpec cli_spec{
      .width = 16, .seed = 22, .chunk_size = 200, .num_chunks = 4};
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(cli_spec.Proto(), &json)
          .ok());
  WriteFile(tmp_.path() + "/spec.json", json);
  const std::string token_file = "--token_file=" + tmp_.path() + "/alice.token";
  CliRun submit = RunCli(Cli({"--tls_ca=" + Pki("ca.pem"), token_file, "submit",
                              tmp_.path() + "/spec.json", "--watch"}));
  ASSERT_EQ(submit.exit_code, 0) << submit.out << submit.err;
  const std::string name = Field(submit.out, "name");
  EXPECT_EQ(Field(submit.out, "state"), "SUCCEEDED") << submit.out;
  CliRun result = RunCli(Cli({"--tls_ca=" + Pki("ca.pem"), token_file, "result",
                              name, "--format=csv"}));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(absl::StartsWith(result.out, "tuple,")) << result.out;

  // Plaintext, and TLS that trusts another CA, never reach the service.
  auto plain = NewClient({.token = kAliceToken});
  EXPECT_EQ(plain->Get(job->name()).status().code(),
            absl::StatusCode::kUnavailable);
  auto wrong_ca =
      NewClient({.token = kAliceToken, .tls_ca_file = Pki("other_ca.pem")});
  EXPECT_EQ(wrong_ca->Get(job->name()).status().code(),
            absl::StatusCode::kUnavailable);
  CliRun plain_cli = RunCli(Cli({token_file, "get", job->name()}));
  EXPECT_EQ(plain_cli.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(plain_cli.err, "UNAVAILABLE")) << plain_cli.err;

  // Health needs no token: on the TLS port, and on the plaintext health port.
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadText(Pki("ca.pem"));
  auto tls_channel = grpc::CreateChannel(address_, grpc::SslCredentials(ssl));
  absl::StatusOr<deploy::ServingStatus> health =
      deploy::CheckHealth(tls_channel, "", absl::Seconds(10));
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, deploy::ServingStatus::kServing);
  const std::string health_address = HealthAddress();
  ASSERT_FALSE(health_address.empty()) << server_->Log();
  health = deploy::CheckHealth(
      grpc::CreateChannel(health_address, grpc::InsecureChannelCredentials()),
      "", absl::Seconds(10));
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, deploy::ServingStatus::kServing);
  // The health port serves nothing of the API.
  client::Client on_health_port(health_address, {.timeout = absl::Seconds(10)});
  EXPECT_EQ(on_health_port.Info().status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST_F(SecurityE2eTest, TokensAreCheckedAndJobsBelongToTheirPrincipal) {
  StartServer();
  const std::string ca = "--tls_ca=" + Pki("ca.pem");
  CliRun missing = RunCli(Cli({ca, "list"}));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(missing.err, "UNAUTHENTICATED")) << missing.err;
  EXPECT_TRUE(absl::StrContains(missing.err, "missing")) << missing.err;
  CliRun wrong =
      RunCli(Cli({ca, "--token=not-a-token-of-this-server-1234", "list"}));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(wrong.err, "UNAUTHENTICATED")) << wrong.err;
  EXPECT_FALSE(absl::StrContains(wrong.err, "not-a-token")) << wrong.err;
  EXPECT_FALSE(absl::StrContains(server_->Log(), "not-a-token"));

  auto alice = NewClient({.token = kAliceToken, .tls_ca_file = Pki("ca.pem")});
  const SmallSpec spec{
      .width = 16, .seed = 23, .chunk_size = 200, .num_chunks = 4};
  absl::StatusOr<v1::Job> job = alice->Submit(spec.Proto());
  ASSERT_TRUE(job.ok()) << job.status();
  // Bob, token from $NNFT_TOKEN: NOT_FOUND, and an empty list.
  ASSERT_EQ(setenv("NNFT_TOKEN", kBobToken, 1), 0);
  CliRun get = RunCli(Cli({ca, "get", job->name()}));
  CliRun list = RunCli(Cli({ca, "list", "--format=json"}));
  CliRun info = RunCli(Cli({ca, "info"}));
  unsetenv("NNFT_TOKEN");
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(get.err, "NOT_FOUND")) << get.err;
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_FALSE(absl::StrContains(list.out, job->name())) << list.out;
  EXPECT_TRUE(absl::StrContains(info.out, "principal=bob")) << info.out;
  CliRun own = RunCli(
      Cli({ca, "--token=" + std::string(kAliceToken), "get", job->name()}));
  EXPECT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(Field(own.out, "name"), job->name()) << own.out;
}

TEST_F(SecurityE2eTest, ClientCertificatesAreRequiredWithTlsClientCa) {
  StartServer({"--tls_client_ca=" + Pki("ca.pem")});
  auto without =
      NewClient({.token = kAliceToken, .tls_ca_file = Pki("ca.pem")});
  EXPECT_EQ(without->Info().status().code(), absl::StatusCode::kUnavailable);
  auto with = NewClient({.token = kAliceToken,
                         .tls_ca_file = Pki("ca.pem"),
                         .tls_cert_file = Pki("client.pem"),
                         .tls_key_file = Pki("client.key")});
  absl::StatusOr<v1::ServerInfo> info = with->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->security().client_certificates());
  CliRun cli = RunCli(
      Cli({"--tls_ca=" + Pki("ca.pem"), "--tls_cert=" + Pki("client.pem"),
           "--tls_key=" + Pki("client.key"),
           "--token=" + std::string(kAliceToken), "info"}));
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_TRUE(absl::StrContains(cli.out, "client_certificates=required"))
      << cli.out;
  CliRun no_cert = RunCli(Cli({"--tls_ca=" + Pki("ca.pem"),
                               "--token=" + std::string(kAliceToken), "info"}));
  EXPECT_EQ(no_cert.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(no_cert.err, "UNAVAILABLE")) << no_cert.err;
}

TEST_F(SecurityE2eTest, MalformedTokenFileStopsTheServerNamingTheLine) {
  WriteFile(tmp_.path() + "/bad_tokens",
            absl::StrCat("# ok\n", kAliceToken, " alice\nonlyonefield\n"));
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(
      {.data_dir = tmp_.path() + "/data2",
       .extra_args = {"--token_file=" + tmp_.path() + "/bad_tokens"}},
      absl::Seconds(20));
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::StrContains(server.status().message(), "exited before"))
      << server.status();
  EXPECT_TRUE(absl::StrContains(server.status().message(),
                                absl::StrCat(tmp_.path(), "/bad_tokens:3")))
      << server.status();
  EXPECT_FALSE(absl::StrContains(server.status().message(), kAliceToken));
}

}  // namespace
}  // namespace nnft::e2e
