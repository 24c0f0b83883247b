// A small fixed pool of threads for the service's blocking work (validation,
// persistence, theory, folding results), so gRPC's callback threads never
// wait on it. Tasks run in submission order; the destructor finishes every
// queued task, then joins. Thread-safe.
#ifndef NNFT_SERVER_API_WORK_POOL_H_
#define NNFT_SERVER_API_WORK_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace nnft::server {

class WorkPool {
 public:
  explicit WorkPool(int threads) {
    for (int i = 0; i < (threads < 1 ? 1 : threads); ++i) {
      threads_.emplace_back([this] { Loop(); });
    }
  }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;
  ~WorkPool() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : threads_) t.join();
  }

  void Run(std::function<void()> task) {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](WorkPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
              return p->stopping_ || !p->tasks_.empty();
            },
            this));
        if (tasks_.empty()) return;  // stopping and drained
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace nnft::server

#endif  // NNFT_SERVER_API_WORK_POOL_H_
