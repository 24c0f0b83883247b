// Bearer-token authentication of nnft.v1.Nnft calls, and the server's TLS
// credentials.
//
// A token file maps secrets to principals, one per line:
//
//   # comment
//   <token> <principal>
//
// Tokens are 16 to 512 printable ASCII characters without spaces (e.g.
// `openssl rand -hex 32`); principals 1 to 128 characters of [A-Za-z0-9._@:-].
// Blank lines and lines starting with '#' are skipped. A malformed line, a
// repeated token or a file with no token is an error naming the file and the
// line; tokens never appear in messages or logs.
//
// Callers send the metadata `authorization: Bearer <token>`. The table keeps
// only SHA-256 hashes of the tokens; a presented token is hashed and compared
// with every entry in constant time (no early exit, CRYPTO_memcmp), so
// neither the timing nor the length of a mismatch reveals a token.
//
// Thread safety: Authenticate and Reload may run concurrently; a reload swaps
// the whole table at once, and a failed reload keeps the old one.
#ifndef NNFT_SERVER_API_AUTH_H_
#define NNFT_SERVER_API_AUTH_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"

namespace nnft::server {

struct TokenEntry {
  std::array<unsigned char, 32> token_sha256;
  std::string principal;
};

// Parses the text of a token file; `path` only names it in errors.
// InvalidArgument for a malformed line ("<path>:<line>: ..."), a repeated
// token or no token at all.
absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(absl::string_view path,
                                                       absl::string_view text);

class TokenAuthenticator {
 public:
  // Reads and parses `path` (NotFound if it cannot be read).
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> FromFile(
      std::string path);
  // A table given directly (tests).
  explicit TokenAuthenticator(std::vector<TokenEntry> entries);

  // Re-reads the file given to FromFile; on error the old table stays.
  absl::Status Reload();

  // The principal of an `authorization` metadata value ("Bearer <token>").
  // Unauthenticated when it is missing (empty), not a Bearer value, or not a
  // known token; the message never contains the value.
  absl::StatusOr<std::string> Authenticate(
      absl::string_view authorization) const;

  // The principal of a call, from its `authorization` metadata.
  absl::StatusOr<std::string> Authenticate(
      const grpc::ServerContextBase& context) const;

  size_t size() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<TokenEntry>> entries_ ABSL_GUARDED_BY(mu_);
};

// TLS options of the server: PEM files.
struct TlsFiles {
  std::string cert;       // server certificate chain
  std::string key;        // its private key
  std::string client_ca;  // "" : no client certificates; else required and
                          // verified against these roots
};

// Secure credentials from the files (NotFound naming an unreadable file), or
// insecure ones when cert and key are both empty.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const TlsFiles& files);

// The whole content of a file; NotFound naming `what` and the path.
absl::StatusOr<std::string> ReadWholeFile(absl::string_view what,
                                          const std::string& path);

}  // namespace nnft::server

#endif  // NNFT_SERVER_API_AUTH_H_
