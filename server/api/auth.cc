// Token table and TLS credentials. See auth.h.
#include "server/api/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "grpcpp/security/server_credentials.h"

namespace nnft::server {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr size_t kMaxTokenLength = 512;
constexpr size_t kMaxPrincipalLength = 128;
constexpr absl::string_view kBearer = "Bearer ";

std::array<unsigned char, 32> Sha256(absl::string_view s) {
  std::array<unsigned char, 32> out;
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(),
         out.data());
  return out;
}

bool IsTokenChar(char c) { return c > 0x20 && c < 0x7f; }

bool IsPrincipalChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == '@' || c == ':' || c == '-';
}

// Checks one "<token> <principal>" line (already split).
absl::Status CheckFields(absl::string_view where, absl::string_view token,
                         absl::string_view principal) {
  if (token.size() < kMinTokenLength || token.size() > kMaxTokenLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": the token has ", token.size(),
                     " characters: must have ", kMinTokenLength, " to ",
                     kMaxTokenLength, " (e.g. `openssl rand -hex 32`)"));
  }
  for (char c : token) {
    if (!IsTokenChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": the token must be printable ASCII without spaces"));
    }
  }
  if (principal.size() > kMaxPrincipalLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": the principal has ", principal.size(),
                     " characters: must have at most ", kMaxPrincipalLength));
  }
  for (char c : principal) {
    if (!IsPrincipalChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": principal '", principal,
                       "': must use only letters, digits and . _ @ : -"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadWholeFile(absl::string_view what,
                                          const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(what, " '", path, "': cannot be read"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(absl::string_view path,
                                                       absl::string_view text) {
  std::vector<TokenEntry> entries;
  absl::flat_hash_map<std::string, int> line_of;  // token hash -> line
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = absl::StrCat(path, ":", line_number);
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": has ", fields.size(),
          " fields: must be '<token> <principal>' (or a # comment)"));
    }
    NNFT_RETURN_IF_ERROR(CheckFields(where, fields[0], fields[1]));
    TokenEntry entry{.token_sha256 = Sha256(fields[0]),
                     .principal = std::string(fields[1])};
    const std::string key(entry.token_sha256.begin(), entry.token_sha256.end());
    auto [it, inserted] = line_of.emplace(key, line_number);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": repeats the token of line ", it->second,
                       ": each token must name one principal"));
    }
    entries.push_back(std::move(entry));
  }
  if (entries.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": holds no token: expected lines '<token> <principal>'"));
  }
  return entries;
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>>
TokenAuthenticator::FromFile(std::string path) {
  auto auth = std::make_unique<TokenAuthenticator>(std::vector<TokenEntry>{});
  auth->path_ = std::move(path);
  NNFT_RETURN_IF_ERROR(auth->Reload());
  return auth;
}

TokenAuthenticator::TokenAuthenticator(std::vector<TokenEntry> entries)
    : entries_(
          std::make_shared<const std::vector<TokenEntry>>(std::move(entries))) {
}

absl::Status TokenAuthenticator::Reload() {
  NNFT_ASSIGN_OR_RETURN(std::string text, ReadWholeFile("token_file", path_));
  NNFT_ASSIGN_OR_RETURN(std::vector<TokenEntry> entries,
                        ParseTokenFile(path_, text));
  auto table =
      std::make_shared<const std::vector<TokenEntry>>(std::move(entries));
  absl::MutexLock lock(&mu_);
  entries_ = std::move(table);
  return absl::OkStatus();
}

size_t TokenAuthenticator::size() const {
  absl::MutexLock lock(&mu_);
  return entries_->size();
}

absl::StatusOr<std::string> TokenAuthenticator::Authenticate(
    absl::string_view authorization) const {
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing credentials: send the metadata 'authorization: Bearer "
        "<token>'");
  }
  if (!absl::StartsWithIgnoreCase(authorization, kBearer)) {
    return absl::UnauthenticatedError(
        "the 'authorization' metadata must be 'Bearer <token>'");
  }
  const std::array<unsigned char, 32> presented =
      Sha256(absl::StripAsciiWhitespace(authorization.substr(kBearer.size())));
  std::shared_ptr<const std::vector<TokenEntry>> table;
  {
    absl::MutexLock lock(&mu_);
    table = entries_;
  }
  // Every entry is compared, whatever matched before.
  const TokenEntry* match = nullptr;
  for (const TokenEntry& e : *table) {
    const bool equal = CRYPTO_memcmp(e.token_sha256.data(), presented.data(),
                                     presented.size()) == 0;
    if (equal) match = &e;
  }
  if (match == nullptr) {
    return absl::UnauthenticatedError(
        "invalid bearer token: not in the server's token file");
  }
  return match->principal;
}

absl::StatusOr<std::string> TokenAuthenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return Authenticate(absl::string_view());
  return Authenticate(absl::string_view(it->second.data(), it->second.size()));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const TlsFiles& files) {
  if (files.cert.empty() && files.key.empty()) {
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  NNFT_ASSIGN_OR_RETURN(pair.cert_chain, ReadWholeFile("tls_cert", files.cert));
  NNFT_ASSIGN_OR_RETURN(pair.private_key, ReadWholeFile("tls_key", files.key));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!files.client_ca.empty()) {
    NNFT_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                          ReadWholeFile("tls_client_ca", files.client_ca));
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace nnft::server
