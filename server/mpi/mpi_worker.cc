#include "server/mpi/mpi_worker.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <list>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/estimate/tail_reach.h"
#include "core/status_macros.h"
#include "server/mpi/chunk_merge.h"
#include "server/mpi/chunk_stream.h"
#include "server/mpi/result_json.h"

namespace nnft::mpi {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

absl::Status CheckMpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return absl::OkStatus();
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return absl::InternalError(
      absl::StrCat(call, " failed: ", std::string(text, length)));
}

// Chunks [first, last) on `threads` threads, returned in index order.
absl::StatusOr<std::vector<ChunkSums>> ComputeBlock(const Engine& engine,
                                                    int64_t first, int64_t last,
                                                    int threads) {
  std::vector<ChunkSums> chunks;
  chunks.reserve(last - first);
  NNFT_RETURN_IF_ERROR(
      engine.RunChunks(first, last, threads, [&chunks](ChunkSums chunk) {
        chunks.push_back(std::move(chunk));
        return true;
      }));
  std::sort(
      chunks.begin(), chunks.end(),
      [](const ChunkSums& a, const ChunkSums& b) { return a.chunk < b.chunk; });
  if (static_cast<int64_t>(chunks.size()) != last - first) {
    return absl::InternalError(absl::StrCat("engine returned ", chunks.size(),
                                            " chunks for [", first, ", ", last,
                                            ")"));
  }
  return chunks;
}

// CPU seconds of this process (all its threads) so far.
double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Wall and CPU seconds a rank spends computing its chunks.
struct ComputeTime {
  double wall = 0;
  double cpu = 0;
};

// ComputeBlock, adding its wall and CPU time to *time.
absl::StatusOr<std::vector<ChunkSums>> TimedComputeBlock(const Engine& engine,
                                                         int64_t first,
                                                         int64_t last,
                                                         int threads,
                                                         ComputeTime* time) {
  const Clock::time_point wall_start = Clock::now();
  const double cpu_start = ProcessCpuSeconds();
  auto chunks = ComputeBlock(engine, first, last, threads);
  time->wall += SecondsSince(wall_start);
  time->cpu += ProcessCpuSeconds() - cpu_start;
  return chunks;
}

// Gathers every rank's {wall, cpu} compute time on rank 0 (collective).
absl::Status GatherComputeTimes(MPI_Comm comm, const ComputeTime& mine,
                                int rank, int ranks, RunTimings* timings) {
  const double sendbuf[2] = {mine.wall, mine.cpu};
  std::vector<double> all(rank == 0 ? 2 * ranks : 0);
  NNFT_RETURN_IF_ERROR(CheckMpi(
      MPI_Gather(sendbuf, 2, MPI_DOUBLE, all.data(), 2, MPI_DOUBLE, 0, comm),
      "MPI_Gather"));
  if (timings == nullptr) return absl::OkStatus();
  for (int r = 0; r < ranks; ++r) {
    timings->rank_compute.push_back(all[2 * r]);
    timings->rank_compute_cpu.push_back(all[2 * r + 1]);
  }
  return absl::OkStatus();
}

// Non-blocking sends from ranks r > 0; each buffer lives until its send
// completes, so a rank never waits for rank 0 between its blocks.
class Sender {
 public:
  explicit Sender(MPI_Comm comm) : comm_(comm) {}

  absl::Status Send(const ChunkSums& chunk) {
    in_flight_.push_back({MPI_REQUEST_NULL, PackChunk(chunk)});
    Pending& p = in_flight_.back();
    NNFT_RETURN_IF_ERROR(
        CheckMpi(MPI_Isend(p.message.data(), static_cast<int>(p.message.size()),
                           MPI_DOUBLE, 0, static_cast<int>(chunk.chunk), comm_,
                           &p.request),
                 "MPI_Isend"));
    return Reap(/*wait=*/false);
  }

  // Frees the buffers of completed sends; with `wait`, waits for all.
  absl::Status Reap(bool wait) {
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      int done = 0;
      NNFT_RETURN_IF_ERROR(
          wait ? CheckMpi(MPI_Wait(&it->request, MPI_STATUS_IGNORE), "MPI_Wait")
               : CheckMpi(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE),
                          "MPI_Test"));
      it = (wait || done) ? in_flight_.erase(it) : std::next(it);
    }
    return absl::OkStatus();
  }

 private:
  struct Pending {
    MPI_Request request;
    std::vector<double> message;
  };
  MPI_Comm comm_;
  std::list<Pending> in_flight_;  // list: buffers never move
};

// Chunks are dealt by their position in the list to compute (all chunks of
// the spec, or options.chunks in stream mode).
struct Plan {
  int rank = 0;
  int ranks = 1;
  int threads = 1;
  int64_t block = 1;
  int64_t num_chunks = 0;       // of the spec
  std::vector<int64_t> chunks;  // empty: 0..num_chunks-1
  bool stream = false;

  int64_t count() const {
    return chunks.empty() ? num_chunks : static_cast<int64_t>(chunks.size());
  }
  int64_t ChunkAt(int64_t position) const {
    return chunks.empty() ? position : chunks[position];
  }
  // -1 when chunk k is not to be computed.
  int64_t PositionOf(int64_t k) const {
    if (chunks.empty()) return k >= 0 && k < num_chunks ? k : -1;
    auto it = std::lower_bound(chunks.begin(), chunks.end(), k);
    return it != chunks.end() && *it == k ? it - chunks.begin() : -1;
  }
};

// Chunks at positions [first, last) of the plan, in index order: the
// contiguous runs go to the engine one at a time.
absl::StatusOr<std::vector<ChunkSums>> ComputePositions(const Engine& engine,
                                                        const Plan& plan,
                                                        int64_t first,
                                                        int64_t last,
                                                        ComputeTime* time) {
  std::vector<ChunkSums> chunks;
  for (int64_t i = first; i < last;) {
    int64_t j = i + 1;
    while (j < last && plan.ChunkAt(j) == plan.ChunkAt(j - 1) + 1) ++j;
    NNFT_ASSIGN_OR_RETURN(
        std::vector<ChunkSums> run,
        TimedComputeBlock(engine, plan.ChunkAt(i), plan.ChunkAt(j - 1) + 1,
                          plan.threads, time));
    for (ChunkSums& c : run) chunks.push_back(std::move(c));
    i = j;
  }
  return chunks;
}

// Writes all of `bytes` to `fd`.
absl::Status WriteAll(int fd, const std::string& bytes) {
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::InternalError(
          absl::StrCat("writing the chunk stream: ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Rank 0's merge state: the ordered fold, timings and progress lines.
class Root {
 public:
  Root(MPI_Comm comm, const Engine& engine, const Plan& plan,
       const WorkerOptions& options)
      : comm_(comm),
        engine_(engine),
        plan_(plan),
        options_(options),
        stream_fd_(options.stream_fd) {
    if (!plan.stream) {
      merger_.emplace(engine.tuples(), engine.spec().sampling.seed,
                      plan.num_chunks);
    }
  }

  absl::StatusOr<std::string> Run(Clock::time_point start);

 private:
  // Takes one message from any rank; with `block`, waits for one. Sets
  // *received to whether one was taken.
  absl::Status Receive(bool block, bool* received);
  absl::Status Offer(ChunkSums chunk);
  absl::Status Emit(ChunkSums chunk);
  int64_t done() const { return merger_ ? merger_->folded() : sent_; }
  bool complete() const { return done() == plan_.count(); }
  absl::StatusOr<std::string> Result();

  MPI_Comm comm_;
  const Engine& engine_;
  Plan plan_;
  WorkerOptions options_;
  std::optional<OrderedMerger> merger_;  // merge mode
  int stream_fd_;                        // stream mode
  int64_t sent_ = 0, sent_networks_ = 0;
  RunTimings timings_;
  ComputeTime compute_;  // rank 0's own chunks
  Clock::time_point start_;
  Clock::time_point last_progress_;
  int64_t printed_folded_ = 0;  // folded count of the last progress line
};

absl::Status Root::Emit(ChunkSums chunk) {
  if (!merger_) {
    NNFT_RETURN_IF_ERROR(WriteAll(stream_fd_, EncodeChunkRecord(chunk)));
    ++sent_;
    sent_networks_ += chunk.networks;
    return absl::OkStatus();
  }
  const int64_t k = chunk.chunk;
  absl::Status status = merger_->Offer(std::move(chunk));
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("merging chunk ", k, ": ", status.message()));
  }
  return absl::OkStatus();
}

absl::Status Root::Offer(ChunkSums chunk) {
  NNFT_RETURN_IF_ERROR(Emit(std::move(chunk)));
  const bool first = printed_folded_ == 0 && done() > 0;
  if (options_.progress && done() > printed_folded_ &&
      (first || complete() ||
       SecondsSince(last_progress_) >= options_.progress_seconds)) {
    std::fprintf(stderr,
                 "nnft-mpi-worker: %lld/%lld chunks %s (%lld networks), "
                 "%.1f s\n",
                 static_cast<long long>(done()),
                 static_cast<long long>(plan_.count()),
                 merger_ ? "folded" : "sent",
                 static_cast<long long>(merger_ ? merger_->networks_folded()
                                                : sent_networks_),
                 SecondsSince(start_) + options_.startup_seconds);
    last_progress_ = Clock::now();
    printed_folded_ = done();
  }
  return absl::OkStatus();
}

absl::Status Root::Receive(bool block, bool* received) {
  MPI_Status probe;
  int flag = 1;
  const Clock::time_point probe_start = Clock::now();
  if (block) {
    NNFT_RETURN_IF_ERROR(CheckMpi(
        MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &probe), "MPI_Probe"));
    timings_.wait += SecondsSince(probe_start);
  } else {
    NNFT_RETURN_IF_ERROR(
        CheckMpi(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &probe),
                 "MPI_Iprobe"));
    timings_.receive += SecondsSince(probe_start);
  }
  *received = flag != 0;
  if (!flag) return absl::OkStatus();
  int count = 0;
  NNFT_RETURN_IF_ERROR(
      CheckMpi(MPI_Get_count(&probe, MPI_DOUBLE, &count), "MPI_Get_count"));
  std::vector<double> message(std::max(count, 0));
  const Clock::time_point receive_start = Clock::now();
  NNFT_RETURN_IF_ERROR(
      CheckMpi(MPI_Recv(message.data(), count, MPI_DOUBLE, probe.MPI_SOURCE,
                        probe.MPI_TAG, comm_, MPI_STATUS_IGNORE),
               "MPI_Recv"));
  timings_.receive += SecondsSince(receive_start);
  absl::StatusOr<ChunkSums> chunk =
      UnpackChunk(message, engine_.tuples().size());
  if (!chunk.ok()) {
    return absl::InternalError(absl::StrCat("message from rank ",
                                            probe.MPI_SOURCE, ": ",
                                            chunk.status().message()));
  }
  const int64_t position = plan_.PositionOf(chunk->chunk);
  if (chunk->chunk != probe.MPI_TAG || position < 0 ||
      OwnerOfChunk(position, plan_.ranks, plan_.block) != probe.MPI_SOURCE) {
    return absl::InternalError(absl::StrCat(
        "rank ", probe.MPI_SOURCE, " sent chunk ", chunk->chunk, " with tag ",
        probe.MPI_TAG, ": not its chunk under the plan"));
  }
  return Offer(*std::move(chunk));
}

absl::StatusOr<std::string> Root::Run(Clock::time_point start) {
  start_ = start;
  last_progress_ = start;
  for (const auto& [first, last] :
       RankBlocks(plan_.count(), 0, plan_.ranks, plan_.block)) {
    NNFT_ASSIGN_OR_RETURN(
        auto chunks, ComputePositions(engine_, plan_, first, last, &compute_));
    for (ChunkSums& chunk : chunks) {
      NNFT_RETURN_IF_ERROR(Offer(std::move(chunk)));
    }
    for (bool received = true; received;) {
      NNFT_RETURN_IF_ERROR(Receive(/*block=*/false, &received));
    }
  }
  while (!complete()) {
    bool received = false;
    NNFT_RETURN_IF_ERROR(Receive(/*block=*/true, &received));
  }
  if (!merger_) {
    NNFT_RETURN_IF_ERROR(
        WriteAll(stream_fd_, EncodeEndRecord(sent_, sent_networks_)));
  }
  timings_.fold = merger_ ? merger_->fold_seconds() : 0;
  timings_.wall = SecondsSince(start_) + options_.startup_seconds;
  timings_.startup = options_.startup_seconds;
  timings_.compute = compute_.wall;
  NNFT_RETURN_IF_ERROR(
      GatherComputeTimes(comm_, compute_, 0, plan_.ranks, &timings_));
  return Result();
}

absl::StatusOr<std::string> Root::Result() {
  if (!merger_) {
    if (options_.progress) {
      std::fprintf(stderr,
                   "nnft-mpi-worker: streamed %lld chunks in %.3f s "
                   "(startup %.3f s, rank 0 compute %.3f s, receive %.3f s, "
                   "wait %.3f s)\n",
                   static_cast<long long>(sent_), timings_.wall,
                   timings_.startup, timings_.compute, timings_.receive,
                   timings_.wait);
    }
    return std::string();
  }
  RunInfo info{.ranks = plan_.ranks,
               .threads = plan_.threads,
               .block = plan_.block,
               .chunk_size = engine_.spec().sampling.chunk_size,
               .chunk_hash = merger_->ChunkHash(),
               .timings = timings_};
  CorrelatorEstimate estimate = merger_->Finish();
  FlagUnreachedTails(engine_.spec(), estimate);
  return ResultToJson(estimate, info);
}

absl::Status RunNonRoot(MPI_Comm comm, const Engine& engine, const Plan& plan) {
  Sender sender(comm);
  ComputeTime compute;
  for (const auto& [first, last] :
       RankBlocks(plan.count(), plan.rank, plan.ranks, plan.block)) {
    NNFT_ASSIGN_OR_RETURN(
        auto chunks, ComputePositions(engine, plan, first, last, &compute));
    for (const ChunkSums& chunk : chunks) {
      NNFT_RETURN_IF_ERROR(sender.Send(chunk));
    }
  }
  NNFT_RETURN_IF_ERROR(sender.Reap(/*wait=*/true));
  return GatherComputeTimes(comm, compute, plan.rank, plan.ranks, nullptr);
}

absl::StatusOr<Plan> MakePlan(MPI_Comm comm, const Engine& engine,
                              const WorkerOptions& options) {
  Plan plan;
  NNFT_RETURN_IF_ERROR(
      CheckMpi(MPI_Comm_rank(comm, &plan.rank), "MPI_Comm_rank"));
  NNFT_RETURN_IF_ERROR(
      CheckMpi(MPI_Comm_size(comm, &plan.ranks), "MPI_Comm_size"));
  if (options.threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "threads = ", options.threads, ": must be >= 0 (0: OpenMP default)"));
  }
  if (options.block < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "block = ", options.block, ": must be >= 0 (0: one per thread)"));
  }
  plan.threads = options.threads;
  const int threads =
      options.threads > 0
          ? options.threads
          : static_cast<int>(std::thread::hardware_concurrency());
  plan.block = options.block > 0 ? options.block : std::max(threads, 1);
  plan.num_chunks = NumChunks(engine.spec().sampling);
  plan.stream = options.stream_fd >= 0;
  if (!options.chunks.empty()) {
    if (!plan.stream) {
      return absl::InvalidArgumentError(
          "chunks: a list of chunks needs stream mode (--stream)");
    }
    for (size_t i = 0; i < options.chunks.size(); ++i) {
      const int64_t k = options.chunks[i];
      if (k < 0 || k >= plan.num_chunks ||
          (i > 0 && k <= options.chunks[i - 1])) {
        return absl::InvalidArgumentError(absl::StrCat(
            "chunks[", i, "] = ", k, ": must be increasing and in [0, ",
            plan.num_chunks, ")"));
      }
    }
    plan.chunks = options.chunks;
  }
  void* attribute = nullptr;
  int found = 0;
  NNFT_RETURN_IF_ERROR(
      CheckMpi(MPI_Comm_get_attr(comm, MPI_TAG_UB, &attribute, &found),
               "MPI_Comm_get_attr"));
  const int64_t tag_ub = found ? *static_cast<int*>(attribute) : 32767;
  if (plan.count() > 0 && plan.ChunkAt(plan.count() - 1) > tag_ub) {
    return absl::FailedPreconditionError(absl::StrCat(
        plan.num_chunks, " chunks: this MPI tags messages up to MPI_TAG_UB = ",
        tag_ub, "; use a larger sampling.chunk_size"));
  }
  return plan;
}

}  // namespace

absl::StatusOr<std::string> RunMpiWorker(MPI_Comm comm, const Engine& engine,
                                         const WorkerOptions& options) {
  const Clock::time_point start = Clock::now();
  NNFT_ASSIGN_OR_RETURN(Plan plan, MakePlan(comm, engine, options));
  if (plan.rank != 0) {
    NNFT_RETURN_IF_ERROR(RunNonRoot(comm, engine, plan));
    return std::string();
  }
  if (options.progress) {
    std::fprintf(stderr,
                 "nnft-mpi-worker: %d ranks x %d threads, %lld chunks of %d "
                 "networks, blocks of %lld\n",
                 plan.ranks, plan.threads, static_cast<long long>(plan.count()),
                 engine.spec().sampling.chunk_size,
                 static_cast<long long>(plan.block));
  }
  Root root(comm, engine, plan, options);
  return root.Run(start);
}

}  // namespace nnft::mpi
