#include "client/client.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/sync_stream.h"

namespace nnft::client {
namespace {

namespace v1 = ::nnft::v1;

// After UNAVAILABLE (server restarting) WaitForCompletion retries after this.
constexpr absl::Duration kRetryPause = absl::Milliseconds(200);

std::chrono::system_clock::time_point ToChrono(absl::Time t) {
  return absl::ToChronoTime(t);
}

// Each parallel array of an entry block must be full (n) or absent (0).
absl::Status CheckBlockShape(const v1::EntryBlock& block) {
  const int n = block.estimate().tuples_size();
  const std::pair<const char*, int> sizes[] = {
      {"estimate.mean", block.estimate().mean_size()},
      {"estimate.stderr", block.estimate().stderr_size()},
      {"estimate.connected", block.estimate().connected_size()},
      {"estimate.connected_stderr", block.estimate().connected_stderr_size()},
      {"theory.gp", block.theory().gp_size()},
      {"theory.gp_connected", block.theory().gp_connected_size()},
      {"theory.exact", block.theory().exact_size()},
      {"theory.exact_connected", block.theory().exact_connected_size()},
      {"z_exact", block.z_exact_size()},
      {"z_exact_connected", block.z_exact_connected_size()},
      {"z_gp", block.z_gp_size()},
  };
  for (const auto& [field, size] : sizes) {
    if (size != 0 && size != n) {
      return absl::DataLossError(
          absl::StrCat("result entry block at offset ", block.offset(), ": ",
                       field, " has ", size, " values for ", n, " tuples"));
    }
  }
  return absl::OkStatus();
}

// After merging, each array must cover every entry or none.
absl::Status CheckMergedShape(const v1::EntryBlock& merged) {
  v1::EntryBlock probe = merged;
  probe.set_offset(0);
  absl::Status status = CheckBlockShape(probe);
  if (!status.ok()) {
    return absl::DataLossError(absl::StrCat(
        "result entry blocks disagree on which arrays they carry (",
        status.message(), ")"));
  }
  return absl::OkStatus();
}

class ResultAssembler {
 public:
  absl::Status Add(const v1::ResultPiece& piece) {
    switch (piece.piece_case()) {
      case v1::ResultPiece::kHeader:
        if (has_header_) return absl::DataLossError("result has two headers");
        has_header_ = true;
        result_.header = piece.header();
        return absl::OkStatus();
      case v1::ResultPiece::kEntries:
        return AddEntries(piece.entries());
      case v1::ResultPiece::kKernel:
        return AddKernel(piece.kernel());
      case v1::ResultPiece::kTrainingTime:
        if (piece.training_time().index() !=
            static_cast<int>(result_.training.size())) {
          return absl::DataLossError("result training rows out of order");
        }
        result_.training.push_back(piece.training_time());
        return absl::OkStatus();
      case v1::ResultPiece::kEmpiricalNtk:
        result_.empirical_ntk = piece.empirical_ntk();
        return absl::OkStatus();
      case v1::ResultPiece::kSweepWidth:
        return AddSweepWidth(piece.sweep_width());
      case v1::ResultPiece::kSweepFits:
        return AddSweepFits(piece.sweep_fits());
      case v1::ResultPiece::PIECE_NOT_SET:
        return absl::DataLossError("result piece with no content");
    }
    return absl::DataLossError("result piece of an unknown kind");
  }

  absl::StatusOr<JobResult> Finish() && {
    if (!has_header_) return absl::DataLossError("result has no header");
    const int64_t entries = result_.entries.estimate().tuples_size();
    if (entries != result_.header.num_entries()) {
      return absl::DataLossError(absl::StrCat("result has ", entries,
                                              " entries; header says ",
                                              result_.header.num_entries()));
    }
    if (static_cast<int>(result_.training.size()) !=
        result_.header.training_times()) {
      return absl::DataLossError(absl::StrCat(
          "result has ", result_.training.size(),
          " training rows; header says ", result_.header.training_times()));
    }
    if (kernel_rows_ != 0 && kernel_rows_ != result_.header.num_points()) {
      return absl::DataLossError(
          absl::StrCat("result kernel has ", kernel_rows_,
                       " rows; header says ", result_.header.num_points()));
    }
    absl::Status shape = CheckMergedShape(result_.entries);
    if (!shape.ok()) return shape;
    shape = CheckSweep();
    if (!shape.ok()) return shape;
    return std::move(result_);
  }

 private:
  absl::Status AddEntries(const v1::EntryBlock& block) {
    const int64_t have = result_.entries.estimate().tuples_size();
    if (block.offset() != have) {
      return absl::DataLossError(absl::StrCat("result entry block at offset ",
                                              block.offset(),
                                              "; expected offset ", have));
    }
    absl::Status shape = CheckBlockShape(block);
    if (!shape.ok()) return shape;
    // Repeated fields append; scalars (networks, seed, method) agree.
    result_.entries.MergeFrom(block);
    result_.entries.set_offset(0);
    return absl::OkStatus();
  }

  absl::Status AddKernel(const v1::KernelBlock& block) {
    if (!has_header_) {
      return absl::DataLossError("result kernel block before the header");
    }
    const int64_t p = result_.header.num_points();
    if (block.row_offset() != kernel_rows_ || block.rows() < 0 ||
        static_cast<int64_t>(block.values_size()) != block.rows() * p) {
      return absl::DataLossError(
          absl::StrCat("result kernel block rows [", block.row_offset(), ", ",
                       block.row_offset() + block.rows(), ") with ",
                       block.values_size(), " values does not follow row ",
                       kernel_rows_, " of a ", p, " x ", p, " kernel"));
    }
    result_.kernel.insert(result_.kernel.end(), block.values().begin(),
                          block.values().end());
    kernel_rows_ += block.rows();
    return absl::OkStatus();
  }

  // A width's blocks arrive in order, widths in order: block w continues the
  // last width or starts the next one at offset 0.
  absl::Status AddSweepWidth(const v1::SweepWidthBlock& block) {
    std::vector<v1::SweepWidthBlock>& widths = result_.sweep_widths;
    const bool next =
        widths.empty() || block.width_index() != widths.back().width_index();
    const int64_t have =
        next ? 0 : widths.back().entries().estimate().tuples_size();
    if (block.width_index() !=
            static_cast<int>(widths.size()) - (next ? 0 : 1) ||
        block.entries().offset() != have) {
      return absl::DataLossError(absl::StrCat(
          "sweep block of width index ", block.width_index(), " at offset ",
          block.entries().offset(), " does not follow the previous block"));
    }
    absl::Status shape = CheckBlockShape(block.entries());
    if (!shape.ok()) return shape;
    if (next) {
      widths.push_back(block);
    } else {
      v1::SweepWidthBlock& w = widths.back();
      w.mutable_entries()->MergeFrom(block.entries());
      w.mutable_deviation()->MergeFrom(block.deviation());
      w.mutable_deviation_background()->MergeFrom(block.deviation_background());
    }
    widths.back().mutable_entries()->set_offset(0);
    return absl::OkStatus();
  }

  absl::Status AddSweepFits(const v1::SweepFitBlock& block) {
    if (block.offset() != static_cast<int64_t>(result_.sweep_fits.size())) {
      return absl::DataLossError(absl::StrCat("sweep fit block at offset ",
                                              block.offset(), "; expected ",
                                              result_.sweep_fits.size()));
    }
    result_.sweep_fits.insert(result_.sweep_fits.end(), block.fits().begin(),
                              block.fits().end());
    return absl::OkStatus();
  }

  absl::Status CheckSweep() const {
    const v1::WidthSweepSummary& s = result_.header.width_sweep();
    if (result_.sweep_widths.size() != static_cast<size_t>(s.widths_size()) ||
        result_.sweep_fits.size() != static_cast<size_t>(s.num_fits())) {
      return absl::DataLossError(absl::StrCat(
          "sweep result has ", result_.sweep_widths.size(), " widths and ",
          result_.sweep_fits.size(), " fits; header says ", s.widths_size(),
          " and ", s.num_fits()));
    }
    for (const v1::SweepWidthBlock& w : result_.sweep_widths) {
      const v1::EntryBlock& e = w.entries();
      if (e.estimate().tuples_size() != s.entries_per_width() ||
          w.deviation_size() != e.estimate().tuples_size()) {
        return absl::DataLossError(absl::StrCat(
            "sweep width ", w.width(), " has ", e.estimate().tuples_size(),
            " entries; header says ", s.entries_per_width()));
      }
      absl::Status shape = CheckMergedShape(e);
      if (!shape.ok()) return shape;
    }
    return absl::OkStatus();
  }

  JobResult result_;
  bool has_header_ = false;
  int64_t kernel_rows_ = 0;
};

absl::StatusOr<std::string> ReadPem(absl::string_view field,
                                    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("ClientOptions.", field, " = '",
                                            path, "': cannot be read"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& address, const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(address, *credentials, args);
}

std::shared_ptr<grpc::Channel> MakeChannelOrDie(const std::string& address,
                                                const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeChannel(address, options);
  if (!channel.ok()) {
    std::cerr << "nnft::client::Client: " << channel.status() << "\n";
    std::abort();
  }
  return *channel;
}

const ClientOptions& CheckedOptions(const ClientOptions& options) {
  absl::Status status = options.Validate();
  if (!status.ok()) {
    std::cerr << "nnft::client::Client: " << status << "\n";
    std::abort();
  }
  return options;
}

}  // namespace

absl::Status ClientOptions::Validate() const {
  if (!(timeout > absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        absl::StrCat("ClientOptions.timeout = ", absl::FormatDuration(timeout),
                     ": must be > 0"));
  }
  if (!(watch_timeout > absl::ZeroDuration())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ClientOptions.watch_timeout = ", absl::FormatDuration(watch_timeout),
        ": must be > 0"));
  }
  if (!(result_timeout > absl::ZeroDuration())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ClientOptions.result_timeout = ", absl::FormatDuration(result_timeout),
        ": must be > 0"));
  }
  if (max_receive_message_bytes < (1 << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ClientOptions.max_receive_message_bytes = ", max_receive_message_bytes,
        ": must be >= 1048576"));
  }
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(
          "ClientOptions.token: must be printable ASCII without spaces");
    }
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "ClientOptions.tls_cert_file and tls_key_file: give both or neither");
  }
  const bool use_tls = tls || !tls_ca_file.empty();
  if (!use_tls && (!tls_cert_file.empty() || !tls_server_name.empty())) {
    return absl::InvalidArgumentError(
        "ClientOptions.tls_cert_file / tls_server_name: need TLS (set "
        "tls_ca_file or tls)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientOptions& options) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  if (!options.tls && options.tls_ca_file.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPem("tls_ca_file", options.tls_ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPem("tls_cert_file", options.tls_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPem("tls_key_file", options.tls_key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

bool IsTerminal(v1::Job::State state) {
  return state == v1::Job::SUCCEEDED || state == v1::Job::FAILED ||
         state == v1::Job::CANCELLED;
}

Client::Client(std::string address, ClientOptions options)
    : Client(MakeChannelOrDie(address, CheckedOptions(options)), options) {}

absl::StatusOr<std::unique_ptr<Client>> Client::Create(std::string address,
                                                       ClientOptions options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeChannel(address, options);
  if (!channel.ok()) return channel.status();
  return std::make_unique<Client>(*std::move(channel), std::move(options));
}

Client::Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : options_(CheckedOptions(options)),
      channel_(std::move(channel)),
      stub_(v1::Nnft::NewStub(channel_)) {}

void Client::PrepareUnary(grpc::ClientContext* context) const {
  context->set_deadline(ToChrono(absl::Now() + options_.timeout));
  context->set_wait_for_ready(options_.wait_for_ready);
  AddToken(context);
}

void Client::AddToken(grpc::ClientContext* context) const {
  // Metadata rather than call credentials: gRPC refuses call credentials on
  // a plaintext channel, and a server behind a TLS-terminating proxy still
  // needs the token.
  if (!options_.token.empty()) {
    context->AddMetadata("authorization",
                         absl::StrCat("Bearer ", options_.token));
  }
}

void Client::PrepareStream(grpc::ClientContext* context,
                           absl::Duration timeout) const {
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(ToChrono(absl::Now() + timeout));
  }
  context->set_wait_for_ready(options_.wait_for_ready);
  AddToken(context);
}

absl::StatusOr<v1::Job> Client::Submit(const v1::ExperimentSpec& spec,
                                       absl::string_view request_id,
                                       int priority) const {
  v1::SubmitExperimentRequest request;
  *request.mutable_spec() = spec;
  request.set_request_id(std::string(request_id));
  request.set_priority(priority);
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::Job job;
  grpc::Status status = stub_->SubmitExperiment(&context, request, &job);
  if (!status.ok()) return FromGrpcStatus(status);
  return job;
}

absl::StatusOr<v1::SubmitBatchResponse> Client::SubmitBatch(
    const std::vector<v1::SubmitExperimentRequest>& entries,
    absl::string_view request_id) const {
  v1::SubmitBatchRequest request;
  request.mutable_entries()->Reserve(static_cast<int>(entries.size()));
  for (const v1::SubmitExperimentRequest& entry : entries) {
    *request.add_entries() = entry;
  }
  request.set_request_id(std::string(request_id));
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::SubmitBatchResponse response;
  grpc::Status status = stub_->SubmitBatch(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::Job> Client::Get(absl::string_view name) const {
  v1::GetJobRequest request;
  request.set_name(std::string(name));
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::Job job;
  grpc::Status status = stub_->GetJob(&context, request, &job);
  if (!status.ok()) return FromGrpcStatus(status);
  return job;
}

absl::StatusOr<v1::ListJobsResponse> Client::List(
    int page_size, absl::string_view page_token) const {
  v1::ListJobsRequest request;
  request.set_page_size(page_size);
  request.set_page_token(std::string(page_token));
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::ListJobsResponse response;
  grpc::Status status = stub_->ListJobs(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::Job> Client::Cancel(absl::string_view name) const {
  v1::CancelJobRequest request;
  request.set_name(std::string(name));
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::Job job;
  grpc::Status status = stub_->CancelJob(&context, request, &job);
  if (!status.ok()) return FromGrpcStatus(status);
  return job;
}

absl::Status Client::Delete(absl::string_view name) const {
  v1::DeleteJobRequest request;
  request.set_name(std::string(name));
  grpc::ClientContext context;
  PrepareUnary(&context);
  google::protobuf::Empty empty;
  return FromGrpcStatus(stub_->DeleteJob(&context, request, &empty));
}

absl::StatusOr<v1::Job> Client::Watch(
    absl::string_view name,
    const std::function<bool(const v1::JobUpdate&)>& on_update,
    int max_entries) const {
  return WatchUntil(name, on_update, max_entries,
                    absl::Now() + options_.watch_timeout);
}

absl::StatusOr<v1::Job> Client::WatchUntil(
    absl::string_view name,
    const std::function<bool(const v1::JobUpdate&)>& on_update, int max_entries,
    absl::Time deadline) const {
  v1::WatchJobRequest request;
  request.set_name(std::string(name));
  request.set_max_entries(max_entries);
  grpc::ClientContext context;
  if (deadline != absl::InfiniteFuture()) {
    context.set_deadline(ToChrono(deadline));
  }
  context.set_wait_for_ready(options_.wait_for_ready);
  AddToken(&context);
  std::unique_ptr<grpc::ClientReader<v1::JobUpdate>> reader =
      stub_->WatchJob(&context, request);
  v1::JobUpdate update;
  v1::Job last;
  bool any = false;
  bool stopped = false;
  while (reader->Read(&update)) {
    last = update.job();
    any = true;
    if (on_update && !on_update(update)) {
      stopped = true;
      context.TryCancel();
      break;
    }
    if (IsTerminal(last.state())) break;
  }
  if (stopped || (any && IsTerminal(last.state()))) {
    // The stream may still hold a trailing update; drain it so Finish
    // returns (a cancelled stream reports CANCELLED, which is ours).
    while (reader->Read(&update)) {
    }
    reader->Finish().IgnoreError();
    return last;
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  if (!any) return Get(name);
  return last;
}

absl::StatusOr<v1::Job> Client::WaitForCompletion(
    absl::string_view name, absl::Time deadline,
    const std::function<bool(const v1::JobUpdate&)>& on_update,
    int max_entries) const {
  bool stopped = false;
  auto forward = [&](const v1::JobUpdate& update) {
    if (on_update && !on_update(update)) {
      stopped = true;
      return false;
    }
    return true;
  };
  while (true) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("job ", name, " did not finish before the deadline"));
    }
    const absl::Time stream_deadline =
        std::min(deadline, absl::Now() + options_.watch_timeout);
    absl::StatusOr<v1::Job> job =
        WatchUntil(name, forward, max_entries, stream_deadline);
    if (job.ok()) {
      if (IsTerminal(job->state()) || stopped) return job;
      continue;  // the stream ended early (its deadline): watch again
    }
    const absl::StatusCode code = job.status().code();
    if (code != absl::StatusCode::kUnavailable &&
        code != absl::StatusCode::kDeadlineExceeded) {
      return job.status();
    }
    if (code == absl::StatusCode::kUnavailable) {
      absl::SleepFor(std::min(kRetryPause, deadline - absl::Now()));
    }
  }
}

absl::StatusOr<JobResult> Client::FetchResult(absl::string_view name) const {
  v1::GetResultRequest request;
  request.set_name(std::string(name));
  grpc::ClientContext context;
  PrepareStream(&context, options_.result_timeout);
  std::unique_ptr<grpc::ClientReader<v1::ResultPiece>> reader =
      stub_->GetResult(&context, request);
  ResultAssembler assembler;
  v1::ResultPiece piece;
  absl::Status assembly = absl::OkStatus();
  while (reader->Read(&piece)) {
    assembly = assembler.Add(piece);
    if (!assembly.ok()) {
      context.TryCancel();
      while (reader->Read(&piece)) {
      }
      reader->Finish().IgnoreError();
      return assembly;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  return std::move(assembler).Finish();
}

absl::StatusOr<v1::ComputeKernelResponse> Client::Kernel(
    const v1::ExperimentSpec& spec) const {
  v1::ComputeKernelRequest request;
  *request.mutable_spec() = spec;
  return Kernel(request);
}

absl::StatusOr<v1::ComputeKernelResponse> Client::Kernel(
    const v1::ComputeKernelRequest& request) const {
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::ComputeKernelResponse response;
  grpc::Status status = stub_->ComputeKernel(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::ServerInfo> Client::Info() const {
  v1::GetServerInfoRequest request;
  grpc::ClientContext context;
  PrepareUnary(&context);
  v1::ServerInfo info;
  grpc::Status status = stub_->GetServerInfo(&context, request, &info);
  if (!status.ok()) return FromGrpcStatus(status);
  return info;
}

}  // namespace nnft::client
