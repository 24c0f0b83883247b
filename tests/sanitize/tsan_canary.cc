// Checks that the ThreadSanitizer stage of tests/sanitize.sh can see what it
// is meant to see, on this toolchain:
//   tsan_canary unlocked  two threads write one counter without a lock: TSan
//                         must report a data race (CTest expects the report);
//   tsan_canary locked    the same writes under an absl::Mutex, and a value
//                         handed over through an absl::CondVar: TSan must
//                         stay silent, which it does only when Abseil's
//                         locking is instrumented (tests/sanitize/
//                         tsan_abseil.sh) — with Debian's uninstrumented
//                         Abseil it reports both as races.
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace {

constexpr int kIterations = 10000;

int Unlocked() {
  long counter = 0;
  std::thread other([&counter] {
    for (int i = 0; i < kIterations; ++i) ++counter;
  });
  for (int i = 0; i < kIterations; ++i) ++counter;
  other.join();
  std::printf("unlocked: counter %ld\n", counter);
  return 0;
}

int Locked() {
  absl::Mutex mu;
  long counter = 0;
  std::thread other([&] {
    for (int i = 0; i < kIterations; ++i) {
      absl::MutexLock lock(&mu);
      ++counter;
    }
  });
  for (int i = 0; i < kIterations; ++i) {
    absl::MutexLock lock(&mu);
    ++counter;
  }
  other.join();

  // A hand-over: the producer writes a plain value, then signals under the
  // mutex; the consumer waits on the condition variable and reads it.
  absl::CondVar ready_cv;
  bool ready = false;
  long payload = 0;
  std::thread producer([&] {
    payload = counter;  // plain write, ordered by the lock below
    absl::MutexLock lock(&mu);
    ready = true;
    ready_cv.Signal();
  });
  long seen = 0;
  {
    absl::MutexLock lock(&mu);
    while (!ready) ready_cv.Wait(&mu);
    seen = payload;
  }
  producer.join();
  std::printf("locked: counter %ld, handed over %ld\n", counter, seen);
  return counter == 2 * kIterations && seen == counter ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "unlocked") == 0) return Unlocked();
  if (argc == 2 && std::strcmp(argv[1], "locked") == 0) return Locked();
  std::fprintf(stderr, "usage: tsan_canary unlocked|locked\n");
  return 2;
}
