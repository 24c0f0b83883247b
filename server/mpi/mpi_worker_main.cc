// nnft-mpi-worker: computes one experiment across the ranks of an MPI job
// (mpirun or srun) and writes the merged estimate as JSON.
//
//   mpirun -np 4 nnft-mpi-worker --spec spec.json [--networks N]
//       [--out result.json] [--threads T] [--block B]
//   mpirun -np 4 nnft-mpi-worker --spec spec.json --stream
//       [--chunks 0:40,52:60] [--expect_digest HEX]
//
// --stream (how the server's launcher runs it, server/ops/launcher.h): rank 0
// writes each chunk as a CRC-checked record on stdout as soon as it has it
// (server/mpi/chunk_stream.h), for the chunks listed in --chunks (half-open
// ranges; default all), and merges nothing. --expect_digest makes every rank
// refuse to start unless the spec digest it computes (engine fingerprint
// included, server/spec/digest.h) is that one, so a worker of another build
// never stores chunks under the server's digest.
//
// Rank 0 reads the spec file (protobuf JSON, as the CLI writes it) and
// broadcasts it, so only rank 0 needs the file. The result has the same bits
// for any number of ranks, threads and block size (server/mpi/chunk_merge.h).
// Exit status 0 on success, 1 on any error (mpirun reports the failing rank).
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"
#include "core/status_macros.h"
#include "server/mpi/mpi_worker.h"
#include "server/ops/flag_help.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

ABSL_FLAG(std::string, spec, "", "experiment spec file (protobuf JSON)");
ABSL_FLAG(int64_t, networks, 0,
          "networks to sample, overriding sampling.num_networks; 0 keeps "
          "the spec's");
ABSL_FLAG(std::string, out, "", "result JSON file; empty writes to stdout");
ABSL_FLAG(int, threads, 1,
          "OpenMP threads per rank; 0 uses OpenMP's default (OMP_NUM_THREADS)");
ABSL_FLAG(int64_t, block, 0,
          "consecutive chunks per block of the block-cyclic deal; 0: one per "
          "thread");
ABSL_FLAG(bool, progress, true, "progress lines on stderr from rank 0");
ABSL_FLAG(bool, stream, false,
          "rank 0 writes chunk records on stdout instead of the result JSON");
ABSL_FLAG(std::string, chunks, "",
          "with --stream: chunks to compute, as half-open ranges "
          "'a:b,c:d' or single indices; empty: all");
ABSL_FLAG(std::string, expect_digest, "",
          "refuse to run unless the spec digest (with the engine "
          "fingerprint) is this lower-case hex SHA-256");

// Sanitizer builds (tests/sanitize.sh): Open MPI 4.1 leaves allocations of
// its own at MPI_Finalize and dlcloses the components that made them, so
// LeakSanitizer can neither attribute them (the frames are "unknown module")
// nor suppress them by library. Leak checking is off in this binary only;
// ASan and UBSan still check every access, and the engine code it runs is
// leak-checked in the other test binaries.
#ifdef NNFT_ASAN
extern "C" int __lsan_is_turned_off() { return 1; }
#endif

namespace {

// Rank 0 reads the file; every rank gets its text. NotFound when rank 0
// cannot read it (reported on every rank, so all exit alike).
absl::StatusOr<std::string> BroadcastSpecText(const std::string& path,
                                              int rank) {
  std::string text;
  long long size = -1;
  if (rank == 0) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream contents;
      contents << in.rdbuf();
      text = contents.str();
      size = static_cast<long long>(text.size());
    }
  }
  MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  if (size < 0) {
    return absl::NotFoundError("--spec " + path + ": cannot read the file");
  }
  text.resize(size);
  MPI_Bcast(text.data(), static_cast<int>(size), MPI_CHAR, 0, MPI_COMM_WORLD);
  return text;
}

absl::StatusOr<nnft::ExperimentSpec> LoadSpec(int rank) {
  const std::string path = absl::GetFlag(FLAGS_spec);
  if (path.empty()) {
    return absl::InvalidArgumentError("--spec: a spec file is required");
  }
  NNFT_ASSIGN_OR_RETURN(std::string text, BroadcastSpecText(path, rank));
  NNFT_ASSIGN_OR_RETURN(nnft::ExperimentSpec spec,
                        nnft::server::SpecFromJson(text));
  const int64_t networks = absl::GetFlag(FLAGS_networks);
  if (networks < 0) {
    return absl::InvalidArgumentError("--networks " + std::to_string(networks) +
                                      ": must be >= 0 (0: the spec's)");
  }
  if (networks > 0) {
    spec.sampling.num_networks = networks;
    NNFT_RETURN_IF_ERROR(nnft::Validate(spec));
  }
  return spec;
}

// "0:40,52,60:64" -> 0..39, 52, 60..63 (increasing order is checked later).
absl::StatusOr<std::vector<int64_t>> ParseChunks(const std::string& text) {
  std::vector<int64_t> chunks;
  if (text.empty()) return chunks;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::vector<absl::string_view> ends = absl::StrSplit(part, ':');
    int64_t first = 0, last = 0;
    const bool ok =
        ends.size() == 1
            ? absl::SimpleAtoi(ends[0], &first) && (last = first + 1, true)
            : ends.size() == 2 && absl::SimpleAtoi(ends[0], &first) &&
                  absl::SimpleAtoi(ends[1], &last);
    if (!ok || first < 0 || last <= first ||
        last - first > (int64_t{1} << 30)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--chunks: '", part, "' is not k or a:b with 0 <= a < b"));
    }
    for (int64_t k = first; k < last; ++k) chunks.push_back(k);
  }
  return chunks;
}

absl::Status CheckDigest(const nnft::ExperimentSpec& spec) {
  const std::string expected = absl::GetFlag(FLAGS_expect_digest);
  if (expected.empty()) return absl::OkStatus();
  const std::string actual = nnft::server::SpecDigest(spec);
  if (actual != expected) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--expect_digest ", expected, ": this worker computes ", actual,
        " for the spec (engine ", nnft::server::EngineFingerprint(),
        "); run the worker of the server's build"));
  }
  return absl::OkStatus();
}

absl::Status WriteResult(const std::string& json) {
  const std::string path = absl::GetFlag(FLAGS_out);
  if (path.empty()) {
    std::fwrite(json.data(), 1, json.size(), stdout);
    std::fflush(stdout);
    return absl::OkStatus();
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json;
  out.close();
  if (!out) {
    return absl::PermissionDeniedError("--out " + path +
                                       ": cannot write the file");
  }
  return absl::OkStatus();
}

// Errors every rank meets alike (flags, spec): all ranks return normally.
// Errors mid-run leave other ranks blocked: abort the job.
int Fail(int rank, const absl::Status& status, bool abort) {
  if (rank == 0 || abort) {
    std::fprintf(stderr, "nnft-mpi-worker (rank %d): %s\n", rank,
                 status.ToString().c_str());
  }
  if (abort) MPI_Abort(MPI_COMM_WORLD, 1);
  MPI_Finalize();
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const auto start = std::chrono::steady_clock::now();
  absl::SetProgramUsageMessage(
      "computes an nnft experiment over MPI ranks; rank 0 writes the JSON.\n"
      "usage: mpirun -np R nnft-mpi-worker --spec=spec.json [--networks=N] "
      "[--out=result.json] [--threads=T] [--block=B]\n"
      "       mpirun -np R nnft-mpi-worker --spec=spec.json --stream "
      "[--chunks=a:b,c] [--expect_digest=HEX]\n"
      "Exit status 0 on success, 1 on any error.");
  // Before MPI_Init: --help needs no MPI runtime (nor mpirun).
  if (nnft::server::HandleHelp(argc, argv, "nnft-mpi-worker")) return 0;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return Fail(rank,
                absl::InvalidArgumentError(std::string("unexpected argument ") +
                                           rest[1]),
                false);
  }
  absl::StatusOr<nnft::ExperimentSpec> spec = LoadSpec(rank);
  if (!spec.ok()) return Fail(rank, spec.status(), false);
  absl::Status digest = CheckDigest(*spec);
  if (!digest.ok()) return Fail(rank, digest, false);
  auto engine = nnft::Engine::Create(*spec);
  if (!engine.ok()) return Fail(rank, engine.status(), false);
  const bool stream = absl::GetFlag(FLAGS_stream);
  absl::StatusOr<std::vector<int64_t>> chunks =
      ParseChunks(absl::GetFlag(FLAGS_chunks));
  if (!chunks.ok()) return Fail(rank, chunks.status(), false);
  if (stream && !absl::GetFlag(FLAGS_out).empty()) {
    return Fail(rank,
                absl::InvalidArgumentError(
                    "--out: the stream goes to stdout; leave --out empty"),
                false);
  }

  nnft::mpi::WorkerOptions options{
      .threads = absl::GetFlag(FLAGS_threads),
      .block = absl::GetFlag(FLAGS_block),
      .progress = absl::GetFlag(FLAGS_progress),
      .startup_seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count(),
      .chunks = *std::move(chunks),
      .stream_fd = stream ? 1 : -1};
  absl::StatusOr<std::string> json =
      nnft::mpi::RunMpiWorker(MPI_COMM_WORLD, **engine, options);
  if (!json.ok()) {
    // Bad options are met alike by every rank; anything else may not be.
    const bool alike =
        json.status().code() == absl::StatusCode::kInvalidArgument ||
        json.status().code() == absl::StatusCode::kFailedPrecondition;
    return Fail(rank, json.status(), !alike);
  }
  if (rank == 0 && !stream) {
    absl::Status written = WriteResult(*json);
    if (!written.ok()) return Fail(rank, written, true);
  }
  MPI_Finalize();
  return 0;
}
