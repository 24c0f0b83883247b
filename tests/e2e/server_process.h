// The real nnft-server binary as a child process on 127.0.0.1 port 0, for
// the end-to-end tests and the service benchmark: started with a data
// directory, its port read from its "listening address=HOST:PORT" log line,
// stopped with the signal a test chooses. Also a self-removing temporary
// directory. No GoogleTest here, so non-test tools can use it.
#ifndef NNFT_TESTS_E2E_SERVER_PROCESS_H_
#define NNFT_TESTS_E2E_SERVER_PROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"

namespace nnft::e2e {

// A fresh directory under $TEST_TMPDIR or /tmp, removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ServerOptions {
  std::string data_dir;
  int worker_threads = 2;
  int max_queued_jobs = 1000;
  // Appended to the command line as given.
  std::vector<std::string> extra_args = {};
};

// The real server binary as a child process. Its stderr and stdout go to
// `<data_dir>.log.<n>` so a failed test can show them. A watchdog thread
// ends the calling program (exit status 1, the log's tail on stderr) when
// the server dies without Stop or the destructor asking it to: a crash
// fails the test at once instead of leaving its client retrying
// UNAVAILABLE until some distant deadline.
class ServerProcess {
 public:
  // Starts the server and waits (up to `wait`) for its listening line.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const ServerOptions& options, absl::Duration wait = absl::Seconds(60));
  // SIGKILLs the process if it still runs.
  ~ServerProcess();

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

  // Sends `signal` and waits up to `wait` for the process to exit. Returns
  // the wait status (see WIFEXITED); DeadlineExceeded if it did not exit.
  absl::StatusOr<int> Stop(int signal, absl::Duration wait = absl::Seconds(60));

  // A client of this server (unary deadline 30 s).
  std::unique_ptr<client::Client> NewClient() const;

 private:
  ServerProcess() = default;
  void Watch();         // the watchdog thread's loop
  void StopWatching();  // before any intended exit; joins the thread
  pid_t pid_ = -1;
  bool running_ = false;
  std::atomic<bool> stopping_{false};
  std::thread watchdog_;
  std::string address_;
  std::string log_path_;
};

// Path of the server binary: $NNFT_SERVER_BIN if set, else the compile
// definition NNFT_SERVER_BIN.
std::string ServerBinary();

// Resident set size of process `pid` in KiB (VmRSS from /proc), or -1.
int64_t RssKib(pid_t pid);

}  // namespace nnft::e2e

#endif  // NNFT_TESTS_E2E_SERVER_PROCESS_H_
