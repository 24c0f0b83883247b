#include "server/store/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/status_macros.h"

namespace nnft::server {
namespace {

// Schema version stored in PRAGMA user_version. Bump with a migration when
// the tables change. 2: jobs.record_crc (JobRecordCrc of the row).
constexpr int kSchemaVersion = 2;
constexpr int kBusyTimeoutMs = 10000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS chunks (
  digest   TEXT    NOT NULL,
  k        INTEGER NOT NULL,
  networks INTEGER NOT NULL,
  sums     BLOB    NOT NULL,
  crc32    INTEGER NOT NULL,
  PRIMARY KEY (digest, k)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs (
  name              TEXT PRIMARY KEY,
  sequence          INTEGER NOT NULL,
  request_id        TEXT    NOT NULL,
  owner             TEXT    NOT NULL,
  digest            TEXT    NOT NULL,
  spec_bytes        BLOB    NOT NULL,
  spec_json         TEXT    NOT NULL,
  num_networks      INTEGER NOT NULL,
  num_chunks        INTEGER NOT NULL,
  priority          INTEGER NOT NULL,
  target_stderr     REAL    NOT NULL,
  state             INTEGER NOT NULL,
  error_code        INTEGER NOT NULL,
  error_message     TEXT    NOT NULL,
  create_us         INTEGER,
  start_us          INTEGER,
  end_us            INTEGER,
  submissions       INTEGER NOT NULL,
  chunks_done       INTEGER NOT NULL,
  chunks_from_store INTEGER NOT NULL,
  record_crc        INTEGER
);
)sql";

// Stable on-disk codes of JobState.
int StateCode(JobState s) { return static_cast<int>(s); }
absl::StatusOr<JobState> StateFromCode(int code) {
  if (code < 0 || code > static_cast<int>(JobState::kCancelled)) {
    return absl::DataLossError(absl::StrCat("job row: bad state ", code));
  }
  return static_cast<JobState>(code);
}

absl::Status SqliteError(sqlite3* db, absl::string_view what) {
  const int code = sqlite3_errcode(db);
  std::string msg = absl::StrCat("sqlite ", what, ": ", sqlite3_errmsg(db));
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(msg);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

// A prepared statement, finalised on scope exit; or one of the store's
// cached statements (ResultStore::Cached), reset and unbound on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  // `cached` may be null (its preparation failed: Prepared() says why).
  Stmt(sqlite3* db, sqlite3_stmt* cached)
      : db_(db), stmt_(cached), cached_(true) {
    rc_ = cached != nullptr ? SQLITE_OK : sqlite3_errcode(db);
  }
  ~Stmt() {
    if (!cached_) {
      sqlite3_finalize(stmt_);
    } else if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  absl::Status Prepared() const {
    return rc_ == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, "prepare");
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void BindText(int i, absl::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void BindBlob(int i, absl::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void BindTime(int i, absl::Time t) {
    if (t == absl::InfinitePast()) {
      sqlite3_bind_null(stmt_, i);
    } else {
      Bind(i, absl::ToUnixMicros(t));
    }
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  sqlite3_stmt* raw() { return stmt_; }
  int64_t Int(int c) { return sqlite3_column_int64(stmt_, c); }
  double Double(int c) { return sqlite3_column_double(stmt_, c); }
  std::string Blob(int c) {
    const void* p = sqlite3_column_blob(stmt_, c);
    const int n = sqlite3_column_bytes(stmt_, c);
    return p ? std::string(static_cast<const char*>(p), n) : std::string();
  }
  absl::Time Time(int c) {
    if (sqlite3_column_type(stmt_, c) == SQLITE_NULL) {
      return absl::InfinitePast();
    }
    return absl::FromUnixMicros(Int(c));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool cached_ = false;
  int rc_;
};

}  // namespace

uint32_t JobRecordCrc(const JobRecord& job) {
  // Every field of the row, each length-prefixed or fixed-width, so that no
  // two rows share an encoding.
  std::string bytes;
  auto put_int = [&bytes](int64_t v) {
    for (int b = 0; b < 8; ++b) {
      bytes.push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * b)));
    }
  };
  auto put_text = [&](absl::string_view v) {
    put_int(static_cast<int64_t>(v.size()));
    bytes.append(v.data(), v.size());
  };
  auto put_time = [&](absl::Time t) {
    put_int(t == absl::InfinitePast() ? 0 : 1);
    put_int(t == absl::InfinitePast() ? 0 : absl::ToUnixMicros(t));
  };
  bytes.reserve(256 + job.spec_bytes.size() + job.spec_json.size());
  put_text(job.name);
  put_int(job.sequence);
  put_text(job.request_id);
  put_text(job.owner);
  put_text(job.digest);
  put_text(job.spec_bytes);
  put_text(job.spec_json);
  put_int(job.num_networks);
  put_int(job.num_chunks);
  put_int(job.priority);
  put_int(std::bit_cast<int64_t>(job.target_stderr));
  put_int(StateCode(job.state));
  put_int(job.error_code);
  put_text(job.error_message);
  put_time(job.create_time);
  put_time(job.start_time);
  put_time(job.end_time);
  put_int(job.submissions);
  put_int(job.chunks_done);
  put_int(job.chunks_from_store);
  return Crc32(bytes);
}

absl::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "QUEUED";
    case JobState::kRunning:
      return "RUNNING";
    case JobState::kSucceeded:
      return "SUCCEEDED";
    case JobState::kFailed:
      return "FAILED";
    case JobState::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

bool IsTerminal(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

absl::StatusOr<std::unique_ptr<ResultStore>> ResultStore::Open(
    const std::string& data_dir, int64_t max_bytes) {
  if (max_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_store_bytes = ", max_bytes, ": must be >= 0"));
  }
  if (data_dir.empty()) {
    return absl::InvalidArgumentError(
        "data_dir is empty: must name a directory");
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create data_dir '", data_dir, "': ", ec.message()));
  }
  std::string path = (std::filesystem::path(data_dir) / "nnft.db").string();
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s =
        db ? SqliteError(db, "open")
           : absl::ResourceExhaustedError("sqlite open: no memory");
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<ResultStore> store(new ResultStore(db, std::move(path)));
  absl::MutexLock lock(&store->mu_);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // Switching to WAL needs an exclusive lock, and SQLite answers BUSY at once
  // (without the busy handler) when another connection races it: retry.
  const absl::Time deadline = absl::Now() + absl::Milliseconds(kBusyTimeoutMs);
  absl::Status status;
  while (!(status = store->InitSchema()).ok() && absl::IsUnavailable(status) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat(store->path_, ": ", status.message()));
  }
  if (max_bytes > 0) {
    // Pages are 4096 bytes unless the file says otherwise; the cap rounds
    // down, with room for the schema.
    Stmt page(db, "PRAGMA page_size");
    NNFT_RETURN_IF_ERROR(page.Prepared());
    const int64_t page_size = page.Step() == SQLITE_ROW ? page.Int(0) : 4096;
    const int64_t pages = std::max<int64_t>(max_bytes / page_size, 16);
    NNFT_RETURN_IF_ERROR(
        store->Exec(absl::StrCat("PRAGMA max_page_count=", pages).c_str()));
    // The WAL is part of the store's footprint (CheckRoom): checkpoint it
    // after an eighth of the cap (SQLite's default is 1000 pages, 4 MiB)
    // and truncate it to that size when it is reset.
    const int64_t wal_bytes = std::max<int64_t>(max_bytes / 8, 16 * page_size);
    NNFT_RETURN_IF_ERROR(store->Exec(
        absl::StrCat("PRAGMA wal_autocheckpoint=", wal_bytes / page_size)
            .c_str()));
    NNFT_RETURN_IF_ERROR(store->Exec(
        absl::StrCat("PRAGMA journal_size_limit=", wal_bytes).c_str()));
    store->max_bytes_ = max_bytes;
  }
  return store;
}

ResultStore::~ResultStore() {
  absl::MutexLock lock(&mu_);
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

sqlite3_stmt* ResultStore::Cached(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                         nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return nullptr;
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

absl::Status ResultStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    absl::Status s = SqliteError(db_, "exec");
    sqlite3_free(err);
    return s;
  }
  return absl::OkStatus();
}

absl::Status ResultStore::InitSchema() {
  // WAL: readers never block the writer; synchronous=NORMAL keeps every
  // committed transaction atomic across a process kill (a power loss may
  // drop the last commits, never tear one).
  {
    // The pragma answers the mode in force, which stays the old one when
    // another connection holds a lock.
    Stmt wal(db_, "PRAGMA journal_mode=WAL");
    NNFT_RETURN_IF_ERROR(wal.Prepared());
    const int rc = wal.Step();
    if (rc != SQLITE_ROW) return SqliteError(db_, "journal_mode");
    if (wal.Blob(0) != "wal") {
      return absl::UnavailableError(
          absl::StrCat(path_, ": could not switch to WAL (database busy)"));
    }
  }
  NNFT_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
  Stmt version(db_, "PRAGMA user_version");
  NNFT_RETURN_IF_ERROR(version.Prepared());
  const int64_t found = version.Step() == SQLITE_ROW ? version.Int(0) : 0;
  if (found > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": schema version ", found,
                     " is newer than this build's ", kSchemaVersion));
  }
  return InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                           mu_) -> absl::Status {
    NNFT_RETURN_IF_ERROR(Exec(kSchema));
    // Read again under the write lock: another process may have migrated.
    Stmt again(db_, "PRAGMA user_version");
    NNFT_RETURN_IF_ERROR(again.Prepared());
    if (again.Step() == SQLITE_ROW && again.Int(0) == 1) {
      NNFT_RETURN_IF_ERROR(MigrateToRecordCrc());
    }
    return Exec(absl::StrCat("PRAGMA user_version=", kSchemaVersion).c_str());
  });
}

int64_t ResultStore::FileBytes() const {
  int64_t total = 0;
  for (const std::string& file : {path_, path_ + "-wal"}) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(file, ec);
    if (!ec) total += static_cast<int64_t>(size);
  }
  return total;
}

absl::Status ResultStore::CheckRoom() {
  if (max_bytes_ == 0 || FileBytes() <= max_bytes_) return absl::OkStatus();
  // Move the WAL into the database and truncate it; fails (busy) while a
  // reader holds an old snapshot, and the write is then refused.
  Exec("PRAGMA wal_checkpoint(TRUNCATE)").IgnoreError();
  const int64_t bytes = FileBytes();
  if (bytes <= max_bytes_) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat("result store full: ", bytes, " bytes in ", path_,
                   " and its write-ahead log, at the cap of ", max_bytes_,
                   " bytes (--max_store_mb)"));
}

absl::StatusOr<std::string> ResultStore::JournalMode() {
  absl::MutexLock lock(&mu_);
  Stmt st(db_, "PRAGMA journal_mode");
  NNFT_RETURN_IF_ERROR(st.Prepared());
  if (st.Step() != SQLITE_ROW) return SqliteError(db_, "journal_mode");
  return st.Blob(0);
}

absl::Status ResultStore::PutChunk(absl::string_view digest,
                                   const ChunkSums& chunk) {
  if (chunk.chunk < 0 || chunk.networks <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk ", chunk.chunk, " with ", chunk.networks,
                     " networks: index must be >= 0 and networks >= 1"));
  }
  const std::string blob = EncodeChunkBlob(chunk.sums);
  absl::MutexLock lock(&mu_);
  NNFT_RETURN_IF_ERROR(CheckRoom());
  Stmt st(db_, Cached("INSERT OR IGNORE INTO chunks (digest, k, networks, "
                      "sums, crc32) VALUES (?, ?, ?, ?, ?)"));
  NNFT_RETURN_IF_ERROR(st.Prepared());
  st.BindText(1, digest);
  st.Bind(2, chunk.chunk);
  st.Bind(3, chunk.networks);
  st.BindBlob(4, blob);
  st.Bind(5, static_cast<int64_t>(Crc32(blob)));
  if (st.Step() != SQLITE_DONE) return SqliteError(db_, "put chunk");
  return absl::OkStatus();
}

absl::StatusOr<ResultStore::CheckReport> ResultStore::Check() {
  absl::MutexLock lock(&mu_);
  {
    Stmt st(db_, "PRAGMA quick_check");
    if (!st.Prepared().ok()) {
      return absl::DataLossError(absl::StrCat(
          path_, ": damaged store file: ", st.Prepared().message()));
    }
    std::string verdict;
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      absl::StrAppend(&verdict, verdict.empty() ? "" : "; ", st.Blob(0));
    }
    if (rc != SQLITE_DONE || verdict != "ok") {
      return absl::DataLossError(
          absl::StrCat(path_, ": damaged store file (quick_check: ",
                       verdict.empty() ? sqlite3_errmsg(db_) : verdict,
                       "); move it aside to start an empty store"));
    }
  }
  CheckReport report;
  {
    Stmt st(db_, "SELECT digest, k, sums, crc32 FROM chunks");
    NNFT_RETURN_IF_ERROR(st.Prepared());
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      ++report.chunks_checked;
      if (!DecodeChunkBlob(st.Blob(2), st.Int(3)).ok()) {
        report.removed.emplace_back(st.Blob(0), st.Int(1));
      }
    }
    if (rc != SQLITE_DONE) {
      return absl::DataLossError(
          absl::StrCat(path_, ": damaged store file: ", sqlite3_errmsg(db_)));
    }
  }
  for (const auto& [digest, k] : report.removed) {
    Stmt del(db_, "DELETE FROM chunks WHERE digest = ? AND k = ?");
    NNFT_RETURN_IF_ERROR(del.Prepared());
    del.BindText(1, digest);
    del.Bind(2, k);
    if (del.Step() != SQLITE_DONE) return SqliteError(db_, "delete chunk");
  }
  return report;
}

absl::StatusOr<std::optional<ChunkSums>> ResultStore::GetChunk(
    absl::string_view digest, int64_t k) {
  absl::MutexLock lock(&mu_);
  Stmt st(db_, Cached("SELECT networks, sums, crc32 FROM chunks WHERE "
                      "digest = ? AND k = ?"));
  NNFT_RETURN_IF_ERROR(st.Prepared());
  st.BindText(1, digest);
  st.Bind(2, k);
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return SqliteError(db_, "get chunk");
  absl::StatusOr<std::vector<double>> sums =
      DecodeChunkBlob(st.Blob(1), st.Int(2));
  if (!sums.ok()) {
    return absl::DataLossError(absl::StrCat("chunk ", k, " of ", digest, ": ",
                                            sums.status().message()));
  }
  ChunkSums chunk;
  chunk.chunk = k;
  chunk.networks = st.Int(0);
  chunk.sums = *std::move(sums);
  return chunk;
}

absl::StatusOr<std::vector<int64_t>> ResultStore::StoredChunks(
    absl::string_view digest, int64_t below) {
  return StoredChunksInRange(digest, 0, below);
}

absl::StatusOr<std::vector<int64_t>> ResultStore::StoredChunksInRange(
    absl::string_view digest, int64_t from, int64_t below) {
  absl::MutexLock lock(&mu_);
  Stmt st(db_, Cached("SELECT k FROM chunks WHERE digest = ? AND k >= ? AND "
                      "k < ? ORDER BY k"));
  NNFT_RETURN_IF_ERROR(st.Prepared());
  st.BindText(1, digest);
  st.Bind(2, from);
  st.Bind(3, below);
  std::vector<int64_t> ks;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) ks.push_back(st.Int(0));
  if (rc != SQLITE_DONE) return SqliteError(db_, "list chunks");
  return ks;
}

absl::StatusOr<int64_t> ResultStore::CountChunks(absl::string_view digest,
                                                 int64_t below) {
  absl::MutexLock lock(&mu_);
  Stmt st(db_,
          Cached("SELECT COUNT(*) FROM chunks WHERE digest = ? AND k < ?"));
  NNFT_RETURN_IF_ERROR(st.Prepared());
  st.BindText(1, digest);
  st.Bind(2, below);
  if (st.Step() != SQLITE_ROW) return SqliteError(db_, "count chunks");
  return st.Int(0);
}

absl::StatusOr<bool> ResultStore::HasJob(absl::string_view name) {
  Stmt exists(db_, Cached("SELECT 1 FROM jobs WHERE name = ?"));
  NNFT_RETURN_IF_ERROR(exists.Prepared());
  exists.BindText(1, name);
  const int rc = exists.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(db_, "job");
  return rc == SQLITE_ROW;
}

absl::Status ResultStore::PutJob(const JobRecord& job) {
  absl::MutexLock lock(&mu_);
  if (max_bytes_ > 0) {
    // New rows need room; a stored row is always rewritten, so that a job
    // can still end (FAILED, CANCELLED) in a full store.
    NNFT_ASSIGN_OR_RETURN(const bool exists, HasJob(job.name));
    if (!exists) NNFT_RETURN_IF_ERROR(CheckRoom());
  }
  return WriteJobRow(job);
}

absl::Status ResultStore::PutJobs(const std::vector<const JobRecord*>& jobs) {
  if (jobs.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (max_bytes_ > 0) {
    bool any_new = false;
    for (size_t i = 0; i < jobs.size() && !any_new; ++i) {
      NNFT_ASSIGN_OR_RETURN(const bool exists, HasJob(jobs[i]->name));
      any_new = !exists;
    }
    if (any_new) NNFT_RETURN_IF_ERROR(CheckRoom());
  }
  return InTransaction([&]()
                           ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
                             for (const JobRecord* job : jobs)
                               NNFT_RETURN_IF_ERROR(WriteJobRow(*job));
                             return absl::OkStatus();
                           });
}

absl::Status ResultStore::InTransaction(
    const std::function<absl::Status()>& body) {
  NNFT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status s = body();
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) Exec("ROLLBACK").IgnoreError();
  return s;
}

absl::Status ResultStore::WriteJobRow(const JobRecord& job) {
  Stmt st(db_,
          Cached("INSERT OR REPLACE INTO jobs (name, sequence, request_id, "
                 "owner, digest, spec_bytes, spec_json, num_networks, "
                 "num_chunks, priority, target_stderr, state, error_code, "
                 "error_message, create_us, start_us, end_us, submissions, "
                 "chunks_done, chunks_from_store, record_crc) VALUES "
                 "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  NNFT_RETURN_IF_ERROR(st.Prepared());
  st.BindText(1, job.name);
  st.Bind(2, job.sequence);
  st.BindText(3, job.request_id);
  st.BindText(4, job.owner);
  st.BindText(5, job.digest);
  st.BindBlob(6, job.spec_bytes);
  st.BindText(7, job.spec_json);
  st.Bind(8, job.num_networks);
  st.Bind(9, job.num_chunks);
  st.Bind(10, int64_t{job.priority});
  st.Bind(11, job.target_stderr);
  st.Bind(12, int64_t{StateCode(job.state)});
  st.Bind(13, int64_t{job.error_code});
  st.BindText(14, job.error_message);
  st.BindTime(15, job.create_time);
  st.BindTime(16, job.start_time);
  st.BindTime(17, job.end_time);
  st.Bind(18, job.submissions);
  st.Bind(19, job.chunks_done);
  st.Bind(20, job.chunks_from_store);
  st.Bind(21, int64_t{JobRecordCrc(job)});
  if (st.Step() != SQLITE_DONE) return SqliteError(db_, "put job");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<JobRecord>> ResultStore::ReadJobRows() {
  Stmt st(db_,
          "SELECT name, sequence, request_id, owner, digest, spec_bytes, "
          "spec_json, num_networks, num_chunks, priority, target_stderr, "
          "state, error_code, error_message, create_us, start_us, end_us, "
          "submissions, chunks_done, chunks_from_store, record_crc FROM jobs "
          "ORDER BY sequence");
  NNFT_RETURN_IF_ERROR(st.Prepared());
  std::vector<JobRecord> jobs;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    JobRecord j;
    j.name = st.Blob(0);
    j.sequence = st.Int(1);
    j.request_id = st.Blob(2);
    j.owner = st.Blob(3);
    j.digest = st.Blob(4);
    j.spec_bytes = st.Blob(5);
    j.spec_json = st.Blob(6);
    j.num_networks = st.Int(7);
    j.num_chunks = st.Int(8);
    j.priority = static_cast<int>(st.Int(9));
    j.target_stderr = st.Double(10);
    const int64_t state = st.Int(11);
    absl::StatusOr<JobState> decoded = StateFromCode(static_cast<int>(state));
    j.state = decoded.ok() ? *decoded : JobState::kFailed;
    j.error_code = static_cast<int>(st.Int(12));
    j.error_message = st.Blob(13);
    j.create_time = st.Time(14);
    j.start_time = st.Time(15);
    j.end_time = st.Time(16);
    j.submissions = st.Int(17);
    j.chunks_done = st.Int(18);
    j.chunks_from_store = st.Int(19);
    if (!decoded.ok()) {
      j.integrity = decoded.status();
    } else if (sqlite3_column_type(st.raw(), 20) == SQLITE_NULL) {
      j.integrity = absl::DataLossError("job row: no checksum");
    } else if (st.Int(20) != int64_t{JobRecordCrc(j)}) {
      j.integrity = absl::DataLossError(
          "job row: checksum mismatch (the stored record is corrupt)");
    }
    jobs.push_back(std::move(j));
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, "load jobs");
  return jobs;
}

absl::StatusOr<std::vector<JobRecord>> ResultStore::LoadJobs() {
  absl::MutexLock lock(&mu_);
  return ReadJobRows();
}

absl::Status ResultStore::MigrateToRecordCrc() {
  // Rows of schema 1 carry no checksum: they are trusted as they are now,
  // once, and checked from then on.
  NNFT_RETURN_IF_ERROR(Exec("ALTER TABLE jobs ADD COLUMN record_crc INTEGER"));
  NNFT_ASSIGN_OR_RETURN(std::vector<JobRecord> rows, ReadJobRows());
  for (const JobRecord& row : rows) {
    Stmt st(db_, "UPDATE jobs SET record_crc = ? WHERE name = ?");
    NNFT_RETURN_IF_ERROR(st.Prepared());
    st.Bind(1, int64_t{JobRecordCrc(row)});
    st.BindText(2, row.name);
    if (st.Step() != SQLITE_DONE) return SqliteError(db_, "migrate job");
  }
  return absl::OkStatus();
}

absl::Status ResultStore::DeleteJobs(const std::vector<std::string>& names) {
  if (names.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  return InTransaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        for (const std::string& name : names) {
          Stmt st(db_, Cached("DELETE FROM jobs WHERE name = ?"));
          NNFT_RETURN_IF_ERROR(st.Prepared());
          st.BindText(1, name);
          if (st.Step() != SQLITE_DONE) return SqliteError(db_, "delete jobs");
        }
        return absl::OkStatus();
      });
}

absl::Status ResultStore::DeleteJob(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  Stmt st(db_, "DELETE FROM jobs WHERE name = ?");
  NNFT_RETURN_IF_ERROR(st.Prepared());
  st.BindText(1, name);
  if (st.Step() != SQLITE_DONE) return SqliteError(db_, "delete job");
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(absl::StrCat("job '", name, "' not found"));
  }
  return absl::OkStatus();
}

}  // namespace nnft::server
