// The `nnft` CLI's view of a training job (learning dynamics): the flow table
// t | loss | mu_t(x_p) | Sigma_t(x_p, x_p), each Monte-Carlo value +- its
// standard error beside the infinite-width theory, for the final result and
// live while a job runs (all times sharpen together as chunks finish).
#ifndef NNFT_CLIENT_CLI_TRAINING_FORMAT_H_
#define NNFT_CLIENT_CLI_TRAINING_FORMAT_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/client.h"
#include "nnft/v1/nnft.pb.h"

namespace nnft::client::cli {

// Aligned table of the rows, for the first `max_points` points.
std::string TrainingFlowTable(
    const google::protobuf::RepeatedPtrField<nnft::v1::TrainingTime>& rows,
    int max_points);

// Result of a training job: header lines, the flow table and the empirical
// NTK (mean +- error, spread, theory) when present.
std::string TrainingResultTable(const JobResult& result);

// One CSV line per (t, p, q): t,p,q,mu,mu_stderr,mu_theory (on p == q, else
// empty),sigma,sigma_stderr,sigma_theory,loss_mean,loss_stderr,loss_std.
std::string TrainingResultCsv(const JobResult& result);

// Live flow table for `nnft watch` / `submit --watch`: on a terminal the
// table is redrawn in place; elsewhere printed at most every `interval`.
class TrainingLivePrinter {
 public:
  TrainingLivePrinter(std::FILE* out, bool terminal,
                      absl::Duration interval = absl::Seconds(2))
      : out_(out), terminal_(terminal), interval_(interval) {}
  void Update(const nnft::v1::JobUpdate& update);
  // Prints the last table seen (non-terminal) so logs end with it.
  void Finish();

 private:
  std::FILE* out_;
  bool terminal_;
  absl::Duration interval_;
  int lines_drawn_ = 0;
  absl::Time last_print_ = absl::InfinitePast();
  std::string last_table_;
  bool last_printed_ = true;
};

}  // namespace nnft::client::cli

#endif  // NNFT_CLIENT_CLI_TRAINING_FORMAT_H_
