// A client of the standard gRPC health-checking protocol (grpc.health.v1),
// for container and orchestrator health checks of nnft-server: Docker's
// HEALTHCHECK and compose run `nnft-healthcheck`, which calls CheckHealth.
// (Kubernetes probes use their native gRPC probe and need no binary; with
// TLS on the API port they probe the plaintext --health_listen port.)
//
// Thread safety: CheckHealth is thread-safe; the channel may be shared.
#ifndef NNFT_DEPLOY_HEALTHCHECK_HEALTH_CHECK_H_
#define NNFT_DEPLOY_HEALTHCHECK_HEALTH_CHECK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace nnft::deploy {

enum class ServingStatus {
  kUnknown,
  kServing,
  kNotServing,
  kServiceUnknown,
};

// "SERVING", "NOT_SERVING", ... as in the protocol.
const char* ServingStatusName(ServingStatus status);

// Calls grpc.health.v1.Health/Check for `service` ("" is the whole server)
// with the given deadline. Transport failures and RPC errors come back as the
// gRPC code mapped to absl (UNAVAILABLE for an unreachable server,
// DEADLINE_EXCEEDED for a slow one, NOT_FOUND for an unregistered service),
// with the server's message.
absl::StatusOr<ServingStatus> CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
    absl::Duration timeout);

}  // namespace nnft::deploy

#endif  // NNFT_DEPLOY_HEALTHCHECK_HEALTH_CHECK_H_
