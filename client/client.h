// The C++ client of the nnft service: a thin, thread-safe wrapper over the
// generated nnft.v1.Nnft stub. Every call carries a deadline, every failure
// comes back as an absl::Status with the gRPC code and message unchanged, and
// streamed results are reassembled into one struct. No physics here: the
// numbers are the server's.
//
// Thread safety: a Client may be shared by any number of threads; all calls
// go over one channel (gRPC multiplexes them).
#ifndef NNFT_CLIENT_CLIENT_H_
#define NNFT_CLIENT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "nnft/v1/nnft.grpc.pb.h"

namespace nnft::client {

struct ClientOptions {
  // Deadline of every unary call (Submit, Get, List, Cancel, Delete, Kernel,
  // Info). > 0.
  absl::Duration timeout = absl::Seconds(30);
  // Deadline of one WatchJob stream. WaitForCompletion re-opens the stream
  // when it ends before the job does, so this bounds one stream, not the wait.
  // > 0; absl::InfiniteDuration() for none.
  absl::Duration watch_timeout = absl::Hours(1);
  // Deadline of the GetResult stream. > 0.
  absl::Duration result_timeout = absl::Minutes(10);
  // Largest message accepted from the server, in bytes; >= 1 MiB. The server
  // streams results in pieces of about 256 KiB, so the gRPC default suffices.
  int max_receive_message_bytes = 4 << 20;
  // Wait for the channel to connect instead of failing at once while the
  // server is starting (still bounded by each call's deadline).
  bool wait_for_ready = false;

  // Security. Bearer token sent as "authorization: Bearer <token>" on every
  // call; "" for none. Printable ASCII without spaces.
  std::string token = "";
  // TLS: PEM roots that verify the server's certificate (a file); "" with
  // tls false: plaintext.
  std::string tls_ca_file = "";
  // TLS with the system's roots when tls_ca_file is "".
  bool tls = false;
  // Client certificate chain and key (PEM files; both or neither), for
  // servers that require client certificates. Need TLS.
  std::string tls_cert_file = "";
  std::string tls_key_file = "";
  // Name checked against the server certificate instead of the address's
  // host ("" : the host).
  std::string tls_server_name = "";

  absl::Status Validate() const;
};

// A succeeded job's full result, reassembled from the GetResult stream:
// `entries` holds every requested tuple in order (parallel arrays, offset 0),
// `kernel` the P x P NNGP kernel, row-major (empty when the server sent none).
// header.conformal() (null-cone fields) and header.reflection_positivity()
// (specs asking for it) carry the analyses built on the correlators.
//
// Width sweeps (header.has_width_sweep()): `entries` is empty; `sweep_widths`
// holds one block per width of header.width_sweep().widths (ascending), its
// entries reassembled (offset 0), and `sweep_fits` every power-law fit of
// G4_c and G6_c across the widths, in requested-tuple order.
//
// header.reweight() and entries.reweight() hold the phi^4 reweighting data
// (spec.insertion), header.effective_coupling() the effective couplings.
struct JobResult {
  nnft::v1::ResultHeader header;
  nnft::v1::EntryBlock entries;
  std::vector<double> kernel;
  // Training jobs: the flow, one row per recorded time (header.training_times
  // of them), and the empirical NTK at initialisation when requested. With
  // spec.training.loss_histogram each row also holds the loss distribution
  // (loss_histogram_edges/counts/underflow/overflow, loss_quantiles).
  std::vector<nnft::v1::TrainingTime> training;
  std::optional<nnft::v1::EmpiricalNtk> empirical_ntk;
  std::vector<nnft::v1::SweepWidthBlock> sweep_widths;
  std::vector<nnft::v1::PowerLawFit> sweep_fits;
};

// The channel credentials `options` ask for: TLS (reading the PEM files;
// NotFound naming one that cannot be read) or insecure.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientOptions& options);

// grpc::Status -> absl::Status with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// True for SUCCEEDED, FAILED and CANCELLED.
bool IsTerminal(nnft::v1::Job::State state);

class Client {
 public:
  // Creates a channel to `address` ("host:port"): TLS when options ask for
  // it, else plaintext. Connection is lazy: an unreachable server shows as
  // UNAVAILABLE on the first call. Aborts on invalid options (see
  // ClientOptions::Validate) or unreadable TLS files; Create reports them.
  explicit Client(std::string address, ClientOptions options = {});
  // As the constructor, but InvalidArgument for invalid options and NotFound
  // naming a TLS file that cannot be read.
  static absl::StatusOr<std::unique_ptr<Client>> Create(
      std::string address, ClientOptions options = {});
  // Uses an existing channel (in-process servers in tests).
  Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options = {});

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }

  // SubmitExperiment. request_id "" disables idempotency; priority in
  // [-1000, 1000]. Returns the job (possibly an existing one).
  absl::StatusOr<nnft::v1::Job> Submit(const nnft::v1::ExperimentSpec& spec,
                                       absl::string_view request_id = "",
                                       int priority = 0) const;
  // SubmitBatch: every request at once, each answered on its own
  // (response.results(i): the job, without its spec, or an error whose
  // message names "entries[i]..."). A non-OK status is an error of the whole
  // call: INVALID_ARGUMENT for more entries than the server's
  // limits.max_batch_entries, UNAVAILABLE while it drains, or the transport.
  // request_id "" disables idempotency; else a repeated call returns the
  // same jobs. 10,000 small entries answer in about 1.6 MB, under
  // max_receive_message_bytes' default.
  absl::StatusOr<nnft::v1::SubmitBatchResponse> SubmitBatch(
      const std::vector<nnft::v1::SubmitExperimentRequest>& entries,
      absl::string_view request_id = "") const;
  absl::StatusOr<nnft::v1::Job> Get(absl::string_view name) const;
  // One page; page_size in [0, 1000] (0: the server's default).
  absl::StatusOr<nnft::v1::ListJobsResponse> List(
      int page_size = 0, absl::string_view page_token = "") const;
  absl::StatusOr<nnft::v1::Job> Cancel(absl::string_view name) const;
  absl::Status Delete(absl::string_view name) const;

  // Streams the job's updates to `on_update` (on the calling thread) until
  // the job ends, the stream ends, or on_update returns false. Returns the
  // last Job seen (terminal when the job ended). max_entries in [0, 4096]
  // (0: the server's default of 64 estimate entries per update).
  absl::StatusOr<nnft::v1::Job> Watch(
      absl::string_view name,
      const std::function<bool(const nnft::v1::JobUpdate&)>& on_update,
      int max_entries = 0) const;

  // Watches until the job is terminal, re-opening the stream when it ends
  // early (server restart: UNAVAILABLE is retried until `deadline`), and
  // returns the terminal Job. DeadlineExceeded when `deadline` passes first.
  // on_update may be empty.
  absl::StatusOr<nnft::v1::Job> WaitForCompletion(
      absl::string_view name, absl::Time deadline = absl::InfiniteFuture(),
      const std::function<bool(const nnft::v1::JobUpdate&)>& on_update = {},
      int max_entries = 0) const;

  // GetResult, reassembled. DataLoss when the pieces do not fit together
  // (gaps, overlaps, parallel arrays of different lengths, a missing header).
  absl::StatusOr<JobResult> FetchResult(absl::string_view name) const;

  // ComputeKernel (the analytic side, synchronous).
  absl::StatusOr<nnft::v1::ComputeKernelResponse> Kernel(
      const nnft::v1::ExperimentSpec& spec) const;
  // The same with a whole request (cross points).
  absl::StatusOr<nnft::v1::ComputeKernelResponse> Kernel(
      const nnft::v1::ComputeKernelRequest& request) const;
  // GetServerInfo.
  absl::StatusOr<nnft::v1::ServerInfo> Info() const;

 private:
  absl::StatusOr<nnft::v1::Job> WatchUntil(
      absl::string_view name,
      const std::function<bool(const nnft::v1::JobUpdate&)>& on_update,
      int max_entries, absl::Time deadline) const;
  void PrepareUnary(grpc::ClientContext* context) const;
  void AddToken(grpc::ClientContext* context) const;
  void PrepareStream(grpc::ClientContext* context,
                     absl::Duration timeout) const;

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<nnft::v1::Nnft::Stub> stub_;
};

}  // namespace nnft::client

#endif  // NNFT_CLIENT_CLIENT_H_
