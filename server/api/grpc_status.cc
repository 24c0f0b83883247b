#include "server/api/grpc_status.h"

#include <string>

namespace nnft::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  // absl and gRPC both number the canonical codes 0..16; anything outside
  // (never produced by nnft) is reported as UNKNOWN rather than passed on.
  const grpc::StatusCode grpc_code = code >= 1 && code <= 16
                                         ? static_cast<grpc::StatusCode>(code)
                                         : grpc::StatusCode::UNKNOWN;
  return grpc::Status(grpc_code, std::string(status.message()));
}

}  // namespace nnft::server
