#include "tests/e2e/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace nnft::e2e {
namespace {

std::atomic<int> log_counter{0};

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// "address=HOST:PORT" from a line mentioning "listening"; "" if none yet.
std::string ListeningAddress(const std::string& log) {
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("listening") == std::string::npos) continue;
    const size_t at = line.find("address=");
    if (at == std::string::npos) continue;
    std::string address = line.substr(at + 8);
    address = address.substr(0, address.find_first_of(" \t\r"));
    address.erase(std::remove(address.begin(), address.end(), '"'),
                  address.end());
    if (!address.empty()) return address;
  }
  return "";
}

std::vector<char*> Argv(const std::string& binary,
                        std::vector<std::string>* args) {
  args->insert(args->begin(), binary);
  std::vector<char*> argv;
  for (std::string& arg : *args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string templ =
      absl::StrCat(base != nullptr ? base : "/tmp", "/nnft-e2e-XXXXXX");
  char* made = mkdtemp(templ.data());
  if (made == nullptr) {
    std::fprintf(stderr, "mkdtemp %s: %s\n", templ.c_str(),
                 std::strerror(errno));
    std::abort();
  }
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const ServerOptions& options, absl::Duration wait) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->log_path_ =
      absl::StrCat(options.data_dir, ".log.", log_counter.fetch_add(1));
  std::vector<std::string> args = {
      "--listen=127.0.0.1:0", absl::StrCat("--data_dir=", options.data_dir),
      absl::StrCat("--worker_threads=", options.worker_threads),
      absl::StrCat("--max_queued_jobs=", options.max_queued_jobs)};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  const std::string binary = ServerBinary();
  std::vector<char*> argv = Argv(binary, &args);
  const int log_fd = open(server->log_path_.c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("open ", server->log_path_));
  }
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(log_fd);
  server->pid_ = pid;
  server->running_ = true;
  const absl::Time deadline = absl::Now() + wait;
  while (absl::Now() < deadline) {
    server->address_ = ListeningAddress(server->Log());
    if (!server->address_.empty()) {
      server->watchdog_ = std::thread([s = server.get()] { s->Watch(); });
      return server;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      server->running_ = false;
      return absl::InternalError(
          absl::StrCat("nnft-server exited before listening (wait status ",
                       status, "); log:\n", server->Log()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "nnft-server printed no listening line; log:\n", server->Log()));
}

// Polls the child's state in /proc (without reaping it: Stop and the
// destructor do that). 'Z' (exited, not yet reaped) or no entry while
// nobody asked it to stop is a crash.
void ServerProcess::Watch() {
  const std::string stat_path = absl::StrCat("/proc/", pid_, "/stat");
  while (!stopping_.load()) {
    std::ifstream stat(stat_path);
    std::string pid, comm, state;
    const bool exited = !(stat >> pid >> comm >> state) || state == "Z";
    if (exited && !stopping_.load()) {
      std::string log = Log();
      if (log.size() > 8192) log = log.substr(log.size() - 8192);
      std::fprintf(stderr,
                   "\nnnft-server (pid %d) exited while in use; the end of "
                   "its log (%s):\n%s\n",
                   static_cast<int>(pid_), log_path_.c_str(), log.c_str());
      std::fflush(stderr);
      std::_Exit(1);
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

void ServerProcess::StopWatching() {
  stopping_ = true;
  if (watchdog_.joinable()) watchdog_.join();
}

ServerProcess::~ServerProcess() {
  StopWatching();
  if (running_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

std::string ServerProcess::Log() const { return ReadWholeFile(log_path_); }

absl::StatusOr<int> ServerProcess::Stop(int signal, absl::Duration wait) {
  if (!running_) return absl::FailedPreconditionError("server not running");
  StopWatching();
  kill(pid_, signal);
  const absl::Time deadline = absl::Now() + wait;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      running_ = false;
      return status;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("nnft-server did not exit within ",
                   absl::FormatDuration(wait), " of signal ", signal));
}

std::unique_ptr<client::Client> ServerProcess::NewClient() const {
  return std::make_unique<client::Client>(
      address_, client::ClientOptions{.timeout = absl::Seconds(30)});
}

std::string ServerBinary() {
  const char* env = std::getenv("NNFT_SERVER_BIN");
  if (env != nullptr && env[0] != '\0') return env;
  return NNFT_SERVER_BIN;
}

int64_t RssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      int64_t kib = -1;
      status >> kib;
      return kib;
    }
  }
  return -1;
}

}  // namespace nnft::e2e
