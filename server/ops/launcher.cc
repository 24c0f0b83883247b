#include "server/ops/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/status_macros.h"
#include "server/mpi/chunk_stream.h"
#include "server/ops/log.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

extern char** environ;

namespace nnft::server {
namespace {

std::string ShellQuote(const std::string& word) {
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

std::string ErrnoText(const char* call) {
  return absl::StrCat(call, ": ", std::strerror(errno));
}

// The launcher's shell, in its own session (so its own process group), with
// stdout and stderr on pipes and stdin on /dev/null.
class Child {
 public:
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(-pid_, SIGKILL);
      Wait();
    }
    for (int fd : {out_, err_}) {
      if (fd >= 0) ::close(fd);
    }
  }

  absl::Status Spawn(const std::string& command) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
      return absl::InternalError(ErrnoText("pipe2"));
    if (::pipe2(err, O_CLOEXEC) != 0) {
      ::close(out[0]);
      ::close(out[1]);
      return absl::InternalError(ErrnoText("pipe2"));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);  // the server blocks SIGTERM
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    const int rc = posix_spawn(&pid_, "/bin/sh", &actions, &attr,
                               const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
    if (rc != 0) {
      pid_ = -1;
      return absl::InternalError(
          absl::StrCat("posix_spawn /bin/sh: ", std::strerror(rc)));
    }
    return absl::OkStatus();
  }

  void Signal(int signal) {
    if (pid_ > 0 && !reaped_) ::kill(-pid_, signal);
  }

  // The wait status of the shell.
  int Wait() {
    while (!reaped_ && ::waitpid(pid_, &wait_status_, 0) < 0 &&
           errno == EINTR) {
    }
    reaped_ = true;
    return wait_status_;
  }

  int& out() { return out_; }
  int& err() { return err_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
};

std::string DescribeExit(int status) {
  if (WIFEXITED(status))
    return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

// One run: reads the pipes, checks records and hands chunks on.
class Reader {
 public:
  Reader(const LauncherOptions& options, const ExperimentSpec& spec,
         const std::vector<int64_t>& chunks, int64_t num_sums,
         const std::function<bool(ChunkSums)>& on_chunk)
      : options_(options),
        spec_(spec),
        wanted_(chunks.begin(), chunks.end()),
        decoder_(num_sums),
        on_chunk_(on_chunk) {}

  // Reads until both pipes close, the consumer stops, or stop() is true.
  void Loop(Child& child, const std::function<bool()>& stop);

  absl::Status Outcome(int wait_status, const std::string& command) const;

 private:
  void ReadOut(int& fd);
  void ReadErr(int& fd);
  absl::Status Take(ChunkSums chunk);

  const LauncherOptions& options_;
  const ExperimentSpec& spec_;
  std::set<int64_t> wanted_;  // requested, not yet received
  mpi::ChunkStreamDecoder decoder_;
  const std::function<bool(ChunkSums)>& on_chunk_;
  std::string err_tail_;
  absl::Status error_;    // the first bad record
  bool stopped_ = false;  // by the consumer or stop()
  bool end_seen_ = false;
  int64_t received_ = 0;
};

absl::Status Reader::Take(ChunkSums chunk) {
  if (end_seen_) {
    return absl::DataLossError("chunk stream: a record after the end record");
  }
  if (wanted_.erase(chunk.chunk) != 1) {
    return absl::DataLossError(
        absl::StrCat("chunk stream: chunk ", chunk.chunk,
                     " was not requested or came twice"));
  }
  if (chunk.networks != spec_.sampling.chunk_size) {
    return absl::DataLossError(absl::StrCat(
        "chunk stream: chunk ", chunk.chunk, " has ", chunk.networks,
        " networks; the spec's chunks have ", spec_.sampling.chunk_size));
  }
  ++received_;
  if (!on_chunk_(std::move(chunk))) stopped_ = true;
  return absl::OkStatus();
}

void Reader::ReadOut(int& fd) {
  char buffer[1 << 16];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    ::close(fd);
    fd = -1;
    return;
  }
  decoder_.Feed(absl::string_view(buffer, n));
  while (error_.ok() && !stopped_) {
    absl::StatusOr<std::optional<mpi::StreamRecord>> record = decoder_.Next();
    if (!record.ok()) {
      error_ = record.status();
    } else if (!record->has_value()) {
      break;
    } else if ((*record)->end) {
      end_seen_ = (*record)->end_chunks == received_;
      if (!end_seen_) {
        error_ = absl::DataLossError(absl::StrCat(
            "chunk stream: the end record counts ", (*record)->end_chunks,
            " chunks; ", received_, " arrived"));
      }
    } else {
      error_ = Take(std::move((*record)->chunk));
    }
  }
}

void Reader::ReadErr(int& fd) {
  char buffer[4096];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    ::close(fd);
    fd = -1;
    return;
  }
  err_tail_.append(buffer, n);
  const size_t keep = static_cast<size_t>(options_.stderr_tail_bytes);
  if (err_tail_.size() > 2 * keep) err_tail_.erase(0, err_tail_.size() - keep);
}

void Reader::Loop(Child& child, const std::function<bool()>& stop) {
  std::optional<absl::Time> kill_at, give_up_at;
  while (child.out() >= 0 || child.err() >= 0) {
    const absl::Time now = absl::Now();
    if (!kill_at.has_value()) {
      if (error_.ok() && !stopped_ && stop()) stopped_ = true;
      if (stopped_ || !error_.ok()) {
        child.Signal(SIGTERM);
        kill_at = now + options_.kill_grace;
      }
    } else if (!give_up_at.has_value() && now >= *kill_at) {
      child.Signal(SIGKILL);
      give_up_at = now + absl::Seconds(2);
    } else if (give_up_at.has_value() && now >= *give_up_at) {
      break;  // a process outside the group holds a pipe: stop reading
    }
    pollfd fds[2];
    int n = 0;
    for (int fd : {child.out(), child.err()}) {
      if (fd >= 0) fds[n++] = {.fd = fd, .events = POLLIN, .revents = 0};
    }
    if (::poll(fds, n, 100) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == child.out()) {
        ReadOut(child.out());
      } else {
        ReadErr(child.err());
      }
    }
  }
}

absl::Status Reader::Outcome(int wait_status,
                             const std::string& command) const {
  if (stopped_) return absl::CancelledError("launcher run stopped");
  std::string tail =
      err_tail_.size() > static_cast<size_t>(options_.stderr_tail_bytes)
          ? err_tail_.substr(err_tail_.size() - options_.stderr_tail_bytes)
          : err_tail_;
  const std::string context =
      absl::StrCat("launcher `", command, "` (", DescribeExit(wait_status),
                   "); its stderr ends: ", tail);
  if (!error_.ok()) {
    return absl::DataLossError(absl::StrCat(error_.message(), "; ", context));
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", context));
  }
  if (!end_seen_ || !wanted_.empty() || decoder_.pending_bytes() > 0) {
    return absl::DataLossError(absl::StrCat(
        "chunk stream ended early: ", wanted_.size(), " chunks missing, ",
        decoder_.pending_bytes(), " bytes of a partial record, end record ",
        end_seen_ ? "seen" : "missing", "; ", context));
  }
  return absl::OkStatus();
}

std::string DefaultWorker() {
  std::error_code error;
  const std::filesystem::path self =
      std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? "nnft-mpi-worker"
               : (self.parent_path() / "nnft-mpi-worker").string();
}

}  // namespace

absl::Status LauncherOptions::Validate() const {
  if (command.find("{args}") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mpi_launcher = '", command,
        "': must contain {args} (also {ranks}, {threads}, {worker})"));
  }
  if (ranks < 1 || ranks > 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat("mpi_ranks = ", ranks, ": must be in [1, 100000]"));
  }
  if (threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("mpi_threads = ", threads, ": must be >= 1"));
  }
  if (spec_dir.empty()) {
    return absl::InvalidArgumentError("spec_dir: must not be empty");
  }
  if (kill_grace < absl::ZeroDuration() || stderr_tail_bytes < 0 ||
      stderr_tail_bytes > (1 << 20)) {
    return absl::InvalidArgumentError(
        "kill_grace must be >= 0 and stderr_tail_bytes in [0, 1048576]");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launcher>> Launcher::Create(
    LauncherOptions options) {
  NNFT_RETURN_IF_ERROR(options.Validate());
  if (options.worker.empty()) options.worker = DefaultWorker();
  if (options.command.find("{worker}") != std::string::npos &&
      options.worker.find('/') != std::string::npos &&
      ::access(options.worker.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("mpi_worker = '", options.worker,
                                            "': not an executable file"));
  }
  std::error_code error;
  std::filesystem::create_directories(options.spec_dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("spec_dir = '", options.spec_dir, "': ", error.message()));
  }
  return std::unique_ptr<Launcher>(new Launcher(std::move(options)));
}

std::string Launcher::Expand(const std::vector<std::string>& args) const {
  std::vector<std::string> quoted;
  for (const std::string& a : args) quoted.push_back(ShellQuote(a));
  return absl::StrReplaceAll(options_.command,
                             {{"{ranks}", absl::StrCat(options_.ranks)},
                              {"{threads}", absl::StrCat(options_.threads)},
                              {"{worker}", ShellQuote(options_.worker)},
                              {"{args}", absl::StrJoin(quoted, " ")}});
}

std::string ChunkRanges(const std::vector<int64_t>& chunks) {
  std::vector<std::string> ranges;
  for (size_t i = 0; i < chunks.size();) {
    size_t j = i + 1;
    while (j < chunks.size() && chunks[j] == chunks[j - 1] + 1) ++j;
    ranges.push_back(absl::StrCat(chunks[i], ":", chunks[j - 1] + 1));
    i = j;
  }
  return absl::StrJoin(ranges, ",");
}

absl::Status Launcher::Run(const ExperimentSpec& spec,
                           const std::vector<int64_t>& chunks, int64_t num_sums,
                           const std::function<bool(ChunkSums)>& on_chunk,
                           const std::function<bool()>& stop) const {
  if (chunks.empty()) return absl::OkStatus();
  static std::atomic<int64_t> runs{0};
  const std::string digest = SpecDigest(spec);
  const std::filesystem::path spec_path =
      std::filesystem::path(options_.spec_dir) /
      absl::StrCat("spec-", digest.substr(0, 16), "-", ::getpid(), "-",
                   runs.fetch_add(1), ".json");
  {
    std::ofstream out(spec_path, std::ios::binary | std::ios::trunc);
    out << SpecProtoToJson(SpecToProto(spec));
    if (!out.flush()) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write the spec file ", spec_path.string()));
    }
  }
  const std::string command =
      Expand({"--spec=" + spec_path.string(), "--stream",
              "--chunks=" + ChunkRanges(chunks),
              absl::StrCat("--threads=", options_.threads),
              "--expect_digest=" + digest});
  LogComponentEvent(
      "launcher", "started",
      {{"chunks", static_cast<int64_t>(chunks.size())}, {"command", command}});
  Child child;
  absl::Status status = child.Spawn(command);
  if (status.ok()) {
    Reader reader(options_, spec, chunks, num_sums, on_chunk);
    reader.Loop(child, stop);
    status = reader.Outcome(child.Wait(), command);
  }
  std::error_code ignored;
  std::filesystem::remove(spec_path, ignored);
  LogComponentEvent("launcher", "finished",
                    {{"chunks", static_cast<int64_t>(chunks.size())},
                     {"status", status.ToString()}});
  return status;
}

}  // namespace nnft::server
