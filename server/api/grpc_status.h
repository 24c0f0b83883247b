// The one mapping from absl::Status (what core and the job manager return) to
// grpc::Status (what the service answers). The canonical codes share their
// numbers, so the code passes through unchanged and the message is kept.
#ifndef NNFT_SERVER_API_GRPC_STATUS_H_
#define NNFT_SERVER_API_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace nnft::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace nnft::server

#endif  // NNFT_SERVER_API_GRPC_STATUS_H_
