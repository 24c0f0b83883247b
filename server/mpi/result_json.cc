#include "server/mpi/result_json.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/mpi/chunk_merge.h"

namespace nnft::mpi {
namespace {

// %.17g round-trips every finite double; JSON has no NaN or infinity.
std::string Number(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.17g", value);
}

std::string Numbers(const std::vector<double>& values) {
  return absl::StrCat(
      "[",
      absl::StrJoin(values, ", ",
                    [](std::string* out, double v) { out->append(Number(v)); }),
      "]");
}

std::string Tuples(const std::vector<Tuple>& tuples) {
  return absl::StrCat(
      "[",
      absl::StrJoin(tuples, ", ",
                    [](std::string* out, const Tuple& t) {
                      absl::StrAppend(out, "[", absl::StrJoin(t, ", "), "]");
                    }),
      "]");
}

std::string Timing(const RunTimings& t) {
  return absl::StrCat(
      "{\"wall_s\": ", Number(t.wall), ", \"startup_s\": ", Number(t.startup),
      ", \"compute_s\": ", Number(t.compute),
      ", \"receive_s\": ", Number(t.receive), ", \"wait_s\": ", Number(t.wait),
      ", \"fold_s\": ", Number(t.fold),
      ", \"merge_s\": ", Number(t.receive + t.fold),
      ", \"rank_compute_s\": ", Numbers(t.rank_compute),
      ", \"rank_compute_cpu_s\": ", Numbers(t.rank_compute_cpu), "}");
}

}  // namespace

std::string ResultToJson(const CorrelatorEstimate& estimate,
                         const RunInfo& info) {
  std::string json = "{\n";
  absl::StrAppend(&json, "  \"tuples\": ", Tuples(estimate.tuples), ",\n");
  absl::StrAppend(&json, "  \"mean\": ", Numbers(estimate.mean), ",\n");
  absl::StrAppend(&json, "  \"stderr\": ", Numbers(estimate.stderr_mean),
                  ",\n");
  absl::StrAppend(&json, "  \"connected\": ", Numbers(estimate.connected),
                  ",\n");
  absl::StrAppend(&json, "  \"connected_stderr\": ",
                  Numbers(estimate.stderr_connected), ",\n");
  absl::StrAppend(&json, "  \"networks\": ", estimate.networks, ",\n");
  absl::StrAppend(&json, "  \"chunks\": ", estimate.chunks, ",\n");
  absl::StrAppend(&json, "  \"bins\": ", estimate.bins, ",\n");
  absl::StrAppend(&json, "  \"seed\": \"", estimate.seed, "\",\n");
  absl::StrAppend(&json, "  \"chunk_size\": ", info.chunk_size, ",\n");
  absl::StrAppend(&json, "  \"ranks\": ", info.ranks, ",\n");
  absl::StrAppend(&json, "  \"threads\": ", info.threads, ",\n");
  absl::StrAppend(&json, "  \"block\": ", info.block, ",\n");
  absl::StrAppend(&json, "  \"chunk_hash\": \"", info.chunk_hash, "\",\n");
  absl::StrAppend(&json, "  \"estimate_hash\": \"", EstimateHash(estimate),
                  "\",\n");
  absl::StrAppend(&json, "  \"timing\": ", Timing(info.timings), "\n");
  json += "}\n";
  return json;
}

}  // namespace nnft::mpi
