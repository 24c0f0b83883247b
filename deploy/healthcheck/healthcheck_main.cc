// nnft-healthcheck: exits 0 when the gRPC server at --addr reports SERVING
// for --service (grpc.health.v1 Health/Check), 1 otherwise (Docker's
// HEALTHCHECK convention: 0 healthy, 1 unhealthy; 2 is reserved, so usage
// errors exit 1 too). One line on stdout or stderr says what was seen.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "deploy/healthcheck/health_check.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/ops/flag_help.h"

ABSL_FLAG(std::string, addr, "127.0.0.1:50051",
          "host:port of the gRPC server to check");
ABSL_FLAG(std::string, service, "",
          "service name to check; empty checks the whole server");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(3),
          "deadline of the Check call, e.g. 3s or 500ms; > 0");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM roots verifying the server's certificate: TLS on (for a "
          "server started with --tls_cert)");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate (servers with --tls_client_ca)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");

namespace {

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream out;
  out << in.rdbuf();
  *text = out.str();
  return true;
}

// Plaintext without --tls_ca; else TLS with its roots (and the client
// certificate when given). nullptr after printing an error.
std::shared_ptr<grpc::ChannelCredentials> Credentials() {
  const std::string ca = absl::GetFlag(FLAGS_tls_ca);
  if (ca.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  const std::pair<std::string, std::string*> files[] = {
      {ca, &ssl.pem_root_certs},
      {absl::GetFlag(FLAGS_tls_cert), &ssl.pem_cert_chain},
      {absl::GetFlag(FLAGS_tls_key), &ssl.pem_private_key}};
  for (const auto& [path, pem] : files) {
    if (!path.empty() && !ReadFile(path, pem)) {
      std::fprintf(stderr, "nnft-healthcheck: cannot read '%s'\n",
                   path.c_str());
      return nullptr;
    }
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "checks grpc.health.v1 on a server; exit 0 when SERVING, 1 otherwise.\n"
      "usage: nnft-healthcheck [--addr=host:port] [--service=NAME] "
      "[--timeout=3s] [--tls_ca=ca.pem [--tls_cert=c.pem --tls_key=c.key]]");
  if (nnft::server::HandleHelp(argc, argv, "nnft-healthcheck")) return 0;
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "nnft-healthcheck: unexpected argument '%s'\n",
                 rest[1]);
    return 1;
  }
  const std::string addr = absl::GetFlag(FLAGS_addr);
  std::shared_ptr<grpc::ChannelCredentials> credentials = Credentials();
  if (credentials == nullptr) return 1;
  auto channel = grpc::CreateChannel(addr, credentials);
  absl::StatusOr<nnft::deploy::ServingStatus> status =
      nnft::deploy::CheckHealth(channel, absl::GetFlag(FLAGS_service),
                                absl::GetFlag(FLAGS_timeout));
  if (!status.ok()) {
    std::fprintf(stderr, "nnft-healthcheck: %s: %s\n", addr.c_str(),
                 status.status().ToString().c_str());
    return 1;
  }
  const bool serving = *status == nnft::deploy::ServingStatus::kServing;
  std::fprintf(serving ? stdout : stderr, "nnft-healthcheck: %s: %s\n",
               addr.c_str(), nnft::deploy::ServingStatusName(*status));
  return serving ? 0 : 1;
}
