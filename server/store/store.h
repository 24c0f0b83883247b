// The result store: per-chunk moment sums keyed by (spec digest, chunk index)
// and the persistent job rows, in one SQLite database `<data_dir>/nnft.db` in
// WAL mode (DESIGN.md section 3, "Store" and "Queue").
//
// Only complete chunks are stored; each chunk row is written in one
// transaction, so after a crash (SIGKILL included) a chunk is either wholly
// present or absent. Chunk sums are stored as a little-endian IEEE-754 blob
// with a CRC-32 of the blob; GetChunk verifies it and answers DataLoss on a
// mismatch. Job rows carry a CRC-32 of all their fields, checked when they
// are loaded. Chunks are content-addressed and shared between jobs: deleting a
// job never deletes chunks.
//
// Thread safety: a ResultStore may be used from any number of threads (one
// connection, serialised by a mutex). Several processes may open the same
// data directory (SQLite locking, busy timeout), though nnft runs one server
// per data directory.
#ifndef NNFT_SERVER_STORE_STORE_H_
#define NNFT_SERVER_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/sampling/engine.h"
#include "server/store/chunk_codec.h"

struct sqlite3;
struct sqlite3_stmt;

namespace nnft::server {

// Life cycle of a job (AIP-151 style long-running operation).
enum class JobState {
  kQueued,     // persisted, waiting for an executor
  kRunning,    // an executor is computing its missing chunks
  kSucceeded,  // all its chunks are stored; Result() answers
  kFailed,     // stopped by an error (JobRecord::error_*)
  kCancelled,  // stopped by CancelJob; its finished chunks stay stored
};

// "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED".
absl::string_view JobStateName(JobState state);

// True for kSucceeded, kFailed and kCancelled.
bool IsTerminal(JobState state);

// One persisted job. Times are absl::InfinitePast() when unset.
struct JobRecord {
  std::string name;        // "jobs/<16 hex>"
  std::string request_id;  // idempotency key given by the client ("" if none)
  std::string owner;       // "" when the server has no authentication
  std::string digest;      // SpecDigest of the spec
  std::string spec_bytes;  // RequestSpecBytes of the spec (DecodeSpecBytes)
  std::string spec_json;   // the spec as submitted, for display only
  int64_t num_networks = 0;
  int64_t num_chunks = 0;  // chunks requested, NumChunks(spec.sampling)
  int priority = 0;
  double target_stderr = 0;  // 0: run all num_chunks
  JobState state = JobState::kQueued;
  int error_code = 0;  // absl::StatusCode of a failed job
  std::string error_message;
  absl::Time create_time = absl::InfinitePast();
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  int64_t submissions = 1;  // identical submissions that joined this job
  // Progress at the last persisted transition (recomputed from the chunks on
  // resume). For a job stopped early by target_stderr, chunks_done is the
  // number of chunks its result uses.
  int64_t chunks_done = 0;
  int64_t chunks_from_store = 0;
  // Monotone submission sequence: FIFO order among equal priorities.
  int64_t sequence = 0;
  // Set by LoadJobs, not stored: DataLoss when the row fails its checksum
  // (JobRecordCrc), has none, or holds an unknown state. The other fields
  // are then as read and must not be trusted.
  absl::Status integrity;
};

class ResultStore {
 public:
  // Creates `data_dir` if needed and opens (or creates) `<data_dir>/nnft.db`:
  // WAL journal, synchronous=NORMAL, a busy timeout, and the schema (with a
  // schema version; FailedPrecondition for a database of a newer version).
  // `max_bytes` > 0 caps the store's files, the database and its
  // write-ahead log together: once they reach it (after a checkpoint that
  // truncates the log), new chunks and new job rows fail with
  // ResourceExhausted, exactly as on a full disk, and nothing already
  // stored is touched; rewrites of stored job rows still succeed. The files
  // may pass the cap by the one write that reaches it. 0: no cap.
  static absl::StatusOr<std::unique_ptr<ResultStore>> Open(
      const std::string& data_dir, int64_t max_bytes = 0);

  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;
  ~ResultStore();

  // Stores a complete chunk under (digest, chunk.chunk). A chunk already
  // stored is left as it is (INSERT OR IGNORE: chunks are deterministic).
  // InvalidArgument for a negative index or a non-positive network count.
  absl::Status PutChunk(absl::string_view digest, const ChunkSums& chunk);

  // The chunk (digest, k), or nullopt when absent. DataLoss when its checksum
  // or blob length does not match.
  absl::StatusOr<std::optional<ChunkSums>> GetChunk(absl::string_view digest,
                                                    int64_t k);

  // Indices k < below stored for `digest`, ascending.
  absl::StatusOr<std::vector<int64_t>> StoredChunks(absl::string_view digest,
                                                    int64_t below);

  // Indices k in [from, below) stored for `digest`, ascending.
  absl::StatusOr<std::vector<int64_t>> StoredChunksInRange(
      absl::string_view digest, int64_t from, int64_t below);

  // Number of chunks k < below stored for `digest`.
  absl::StatusOr<int64_t> CountChunks(absl::string_view digest, int64_t below);

  // Inserts or replaces the job row `job.name`, with its JobRecordCrc.
  absl::Status PutJob(const JobRecord& job);
  // PutJob of every row of `jobs` in one transaction: after a crash
  // (SIGKILL included) either every row is stored or none is, and an error
  // stores none. One commit for the lot, so a batch of N jobs costs one
  // write of the log instead of N. The cap (Open's max_bytes) is checked
  // once, when any row is new.
  absl::Status PutJobs(const std::vector<const JobRecord*>& jobs);
  // Every job row, in sequence order. A row that fails its checksum is
  // returned with `integrity` set to DataLoss (the others still load).
  absl::StatusOr<std::vector<JobRecord>> LoadJobs();
  // Removes the job row (not its chunks). NotFound when absent.
  absl::Status DeleteJob(absl::string_view name);
  // Removes the rows of `names` (absent ones ignored; chunks kept) in one
  // transaction: all or none.
  absl::Status DeleteJobs(const std::vector<std::string>& names);

  // The start-up check (DESIGN.md section 3: only intact chunks are ever
  // served): SQLite's structural check (PRAGMA quick_check), then every stored
  // chunk's CRC-32. Chunks that fail are deleted, so they are recomputed when
  // a job needs them, and listed in the report. DataLoss naming the file when
  // its structure is damaged (the server must not run on it). Reads the whole
  // chunk table: seconds per GB.
  struct CheckReport {
    int64_t chunks_checked = 0;
    std::vector<std::pair<std::string, int64_t>> removed;  // (digest, k)
  };
  absl::StatusOr<CheckReport> Check();

  // The journal mode SQLite reports ("wal" once opened); for tests and status.
  absl::StatusOr<std::string> JournalMode();

  const std::string& path() const { return path_; }

 private:
  ResultStore(sqlite3* db, std::string path)
      : db_(db), path_(std::move(path)) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InitSchema() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Bytes of the database file and its WAL on disk.
  int64_t FileBytes() const;
  // ResourceExhausted when the files are at max_bytes_ even after a
  // checkpoint; OK without a cap.
  absl::Status CheckRoom() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Schema 1 -> 2: adds jobs.record_crc, computed from the rows as they are.
  absl::Status MigrateToRecordCrc() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the job row `name` exists.
  absl::StatusOr<bool> HasJob(absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `body` between BEGIN IMMEDIATE and COMMIT; rolls back when body or
  // the commit fails, and returns that error.
  absl::Status InTransaction(const std::function<absl::Status()>& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The INSERT OR REPLACE of one job row, in whatever transaction is open.
  absl::Status WriteJobRow(const JobRecord& job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<JobRecord>> ReadJobRows()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The statement `sql` (a string literal), prepared on first use and kept
  // until the store closes; null when it cannot be prepared (the connection's
  // error says why). The hot statements skip SQLite's parser this way.
  sqlite3_stmt* Cached(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, sqlite3_stmt*> statements_ ABSL_GUARDED_BY(mu_);
  const std::string path_;
  int64_t max_bytes_ = 0;  // set by Open; 0: no cap
};

// CRC-32 of every field of a job row (not `integrity`), length-prefixed:
// stored beside the row and checked by LoadJobs.
uint32_t JobRecordCrc(const JobRecord& job);

}  // namespace nnft::server

#endif  // NNFT_SERVER_STORE_STORE_H_
