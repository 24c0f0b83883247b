#include "server/store/store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/jobs/job_test_util.h"

namespace nnft::server {
namespace {

using testing_util::TempDir;

ChunkSums Chunk(int64_t k) {
  ChunkSums c;
  c.chunk = k;
  c.networks = 100;
  c.sums = {1.0 + k,
            -0.0,
            std::numeric_limits<double>::denorm_min(),
            std::numeric_limits<double>::quiet_NaN(),
            std::numeric_limits<double>::infinity(),
            0.1 * k,
            -1e300};
  return c;
}

void ExpectSameBits(const std::vector<double>& a,
                    const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint64_t>(a[i]), std::bit_cast<uint64_t>(b[i]))
        << "entry " << i;
  }
}

TEST(Crc32Test, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

TEST(ResultStoreTest, ChunkRoundTripKeepsEveryBit) {
  TempDir dir("nnft_store_");
  auto store = ResultStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->PutChunk("d1", Chunk(3)).ok());
  auto got = (*store)->GetChunk("d1", 3);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->chunk, 3);
  EXPECT_EQ((*got)->networks, 100);
  ExpectSameBits((*got)->sums, Chunk(3).sums);
  // Other digests and indices are absent.
  EXPECT_FALSE((*store)->GetChunk("d2", 3)->has_value());
  EXPECT_FALSE((*store)->GetChunk("d1", 2)->has_value());
}

TEST(ResultStoreTest, PutChunkKeepsTheFirstCopy) {
  TempDir dir("nnft_store_");
  auto store = *ResultStore::Open(dir.path());
  ASSERT_TRUE(store->PutChunk("d", Chunk(0)).ok());
  ChunkSums other = Chunk(0);
  other.sums[0] = 99.0;
  ASSERT_TRUE(store->PutChunk("d", other).ok());
  EXPECT_EQ((*store->GetChunk("d", 0))->sums[0], 1.0);
}

TEST(ResultStoreTest, RejectsBadChunks) {
  TempDir dir("nnft_store_");
  auto store = *ResultStore::Open(dir.path());
  ChunkSums bad = Chunk(-1);
  EXPECT_EQ(store->PutChunk("d", bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = Chunk(1);
  bad.networks = 0;
  EXPECT_EQ(store->PutChunk("d", bad).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResultStoreTest, StoredChunksListsIndicesBelowTheBound) {
  TempDir dir("nnft_store_");
  auto store = *ResultStore::Open(dir.path());
  for (int64_t k : {5, 0, 2, 9})
    ASSERT_TRUE(store->PutChunk("d", Chunk(k)).ok());
  ASSERT_TRUE(store->PutChunk("other", Chunk(1)).ok());
  EXPECT_EQ(*store->StoredChunks("d", 6), (std::vector<int64_t>{0, 2, 5}));
  EXPECT_EQ(*store->StoredChunksInRange("d", 1, 9),
            (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(*store->StoredChunks("d", 100), (std::vector<int64_t>{0, 2, 5, 9}));
  EXPECT_EQ(*store->CountChunks("d", 6), 3);
  EXPECT_TRUE(store->StoredChunks("none", 10)->empty());
}

TEST(ResultStoreTest, ChecksumDetectsCorruptedBlob) {
  TempDir dir("nnft_store_");
  std::string db_path;
  {
    auto store = *ResultStore::Open(dir.path());
    ASSERT_TRUE(store->PutChunk("d", Chunk(0)).ok());
    ASSERT_TRUE(store->PutChunk("d", Chunk(1)).ok());
    db_path = store->path();
  }
  // Overwrite chunk 0's blob with zeros and truncate chunk 1's, behind the
  // store's back.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE chunks SET sums = CAST(zeroblob(56) AS BLOB) "
                         "WHERE digest = 'd' AND k = 0;"
                         "UPDATE chunks SET sums = substr(sums, 1, 12) "
                         "WHERE digest = 'd' AND k = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = *ResultStore::Open(dir.path());
  EXPECT_EQ(store->GetChunk("d", 0).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(store->GetChunk("d", 1).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ResultStoreTest, UsesWriteAheadLogging) {
  TempDir dir("nnft_store_");
  auto store = *ResultStore::Open(dir.path());
  EXPECT_EQ(*store->JournalMode(), "wal");
}

JobRecord Job(const std::string& name, int64_t sequence) {
  JobRecord j;
  j.name = name;
  j.sequence = sequence;
  j.request_id = "req-" + name;
  j.owner = "alice";
  j.digest = "abc";
  j.spec_bytes = std::string("\0\x01\xff spec", 8);
  j.spec_json = R"({"seed": "1"})";
  j.num_networks = 5000;
  j.num_chunks = 5;
  j.priority = -3;
  j.target_stderr = 0.25;
  j.state = JobState::kFailed;
  j.error_code = 13;
  j.error_message = "boom";
  j.create_time = absl::FromUnixMicros(1700000000123456);
  j.start_time = absl::FromUnixMicros(1700000001000000);
  j.submissions = 4;
  j.chunks_done = 3;
  j.chunks_from_store = 1;
  return j;
}

TEST(ResultStoreTest, JobRowsSurviveReopen) {
  TempDir dir("nnft_store_");
  {
    auto store = *ResultStore::Open(dir.path());
    ASSERT_TRUE(store->PutJob(Job("jobs/b", 2)).ok());
    ASSERT_TRUE(store->PutJob(Job("jobs/a", 1)).ok());
    JobRecord replaced = Job("jobs/b", 2);
    replaced.state = JobState::kSucceeded;
    ASSERT_TRUE(store->PutJob(replaced).ok());
    ASSERT_TRUE(store->PutChunk("abc", Chunk(0)).ok());
  }
  auto store = *ResultStore::Open(dir.path());
  auto jobs = store->LoadJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 2u);
  const JobRecord& a = (*jobs)[0];
  const JobRecord want = Job("jobs/a", 1);
  EXPECT_EQ(a.name, want.name);
  EXPECT_EQ(a.request_id, want.request_id);
  EXPECT_EQ(a.owner, want.owner);
  EXPECT_EQ(a.spec_bytes, want.spec_bytes);
  EXPECT_EQ(a.spec_json, want.spec_json);
  EXPECT_EQ(a.num_networks, want.num_networks);
  EXPECT_EQ(a.num_chunks, want.num_chunks);
  EXPECT_EQ(a.priority, want.priority);
  EXPECT_EQ(a.target_stderr, want.target_stderr);
  EXPECT_EQ(a.state, want.state);
  EXPECT_EQ(a.error_code, want.error_code);
  EXPECT_EQ(a.error_message, want.error_message);
  EXPECT_EQ(a.create_time, want.create_time);
  EXPECT_EQ(a.start_time, want.start_time);
  EXPECT_EQ(a.end_time, absl::InfinitePast());
  EXPECT_EQ(a.submissions, want.submissions);
  EXPECT_EQ(a.chunks_done, want.chunks_done);
  EXPECT_EQ(a.chunks_from_store, want.chunks_from_store);
  EXPECT_EQ((*jobs)[1].state, JobState::kSucceeded);
  ExpectSameBits((*store->GetChunk("abc", 0))->sums, Chunk(0).sums);

  ASSERT_TRUE(store->DeleteJob("jobs/a").ok());
  EXPECT_EQ(store->DeleteJob("jobs/a").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->LoadJobs()->size(), 1u);
}

// Flips bit 0 of byte `offset` of column `column` (a BLOB or TEXT) of the job
// row `name`, through SQLite as a damaged disk would leave it.
void FlipJobByte(const std::string& db_path, const std::string& name,
                 const std::string& column, int offset) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  std::string value;
  {
    sqlite3_stmt* st = nullptr;
    const std::string sql = "SELECT " + column + " FROM jobs WHERE name = ?";
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_text(st, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    value.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                 sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
  }
  ASSERT_LT(offset, static_cast<int>(value.size()));
  value[offset] ^= 1;
  sqlite3_stmt* st = nullptr;
  const std::string sql = "UPDATE jobs SET " + column + " = ? WHERE name = ?";
  ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_blob(st, 1, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, name.c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(ResultStoreTest, AJobRowWithAFlippedByteLoadsAsDataLoss) {
  TempDir dir("nnft_store_");
  std::string db_path;
  {
    auto store = *ResultStore::Open(dir.path());
    db_path = store->path();
    ASSERT_TRUE(store->PutJob(Job("jobs/a", 1)).ok());
    ASSERT_TRUE(store->PutJob(Job("jobs/b", 2)).ok());
    ASSERT_TRUE(store->PutJob(Job("jobs/c", 3)).ok());
  }
  FlipJobByte(db_path, "jobs/a", "spec_bytes", 2);
  FlipJobByte(db_path, "jobs/c", "owner", 0);
  auto store = *ResultStore::Open(dir.path());
  auto jobs = store->LoadJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].integrity.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE((*jobs)[0].integrity.message().find("checksum mismatch"),
            std::string::npos);
  EXPECT_TRUE((*jobs)[1].integrity.ok()) << (*jobs)[1].integrity;
  EXPECT_EQ((*jobs)[2].integrity.code(), absl::StatusCode::kDataLoss);
}

// A database of schema 1 (no jobs.record_crc), as servers before the
// checksum wrote it: its rows get their checksum at the first open.
TEST(ResultStoreTest, SchemaOneRowsGetAChecksumAtTheFirstOpen) {
  TempDir dir("nnft_store_");
  const std::string db_path = dir.path() + "/nnft.db";
  std::filesystem::create_directories(dir.path());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    const char* kSchemaOne = R"sql(
      PRAGMA journal_mode=WAL;
      CREATE TABLE chunks (digest TEXT NOT NULL, k INTEGER NOT NULL,
        networks INTEGER NOT NULL, sums BLOB NOT NULL, crc32 INTEGER NOT NULL,
        PRIMARY KEY (digest, k)) WITHOUT ROWID;
      CREATE TABLE jobs (name TEXT PRIMARY KEY, sequence INTEGER NOT NULL,
        request_id TEXT NOT NULL, owner TEXT NOT NULL, digest TEXT NOT NULL,
        spec_bytes BLOB NOT NULL, spec_json TEXT NOT NULL,
        num_networks INTEGER NOT NULL, num_chunks INTEGER NOT NULL,
        priority INTEGER NOT NULL, target_stderr REAL NOT NULL,
        state INTEGER NOT NULL, error_code INTEGER NOT NULL,
        error_message TEXT NOT NULL, create_us INTEGER, start_us INTEGER,
        end_us INTEGER, submissions INTEGER NOT NULL,
        chunks_done INTEGER NOT NULL, chunks_from_store INTEGER NOT NULL);
      INSERT INTO jobs VALUES ('jobs/old', 7, 'r1', 'alice', 'd1', X'0102',
        '{}', 200, 2, 5, 0.0, 2, 0, '', 1700000000000000, NULL, NULL, 1, 2,
        0);
      PRAGMA user_version=1;
    )sql";
    ASSERT_EQ(sqlite3_exec(db, kSchemaOne, nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  {
    auto store = ResultStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    auto jobs = (*store)->LoadJobs();
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    ASSERT_EQ(jobs->size(), 1u);
    const JobRecord& old = (*jobs)[0];
    EXPECT_TRUE(old.integrity.ok()) << old.integrity;
    EXPECT_EQ(old.name, "jobs/old");
    EXPECT_EQ(old.owner, "alice");
    EXPECT_EQ(old.spec_bytes, std::string("\x01\x02", 2));
    EXPECT_EQ(old.state, JobState::kSucceeded);
    EXPECT_EQ(old.create_time, absl::FromUnixMicros(1700000000000000));
  }
  // Checked from then on.
  FlipJobByte(db_path, "jobs/old", "spec_bytes", 1);
  auto store = *ResultStore::Open(dir.path());
  EXPECT_EQ((*store->LoadJobs())[0].integrity.code(),
            absl::StatusCode::kDataLoss);
}

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

// The cap used to bound the database file alone: 1.8 MiB of database and
// 4 MiB of WAL under a 2 MiB cap. Database and WAL together stay within it
// (plus the one write that finds the store full).
TEST(ResultStoreTest, SizeCapCountsTheWriteAheadLog) {
  TempDir dir("nnft_store_");
  constexpr int64_t kCap = int64_t{2} << 20;
  auto store = ResultStore::Open(dir.path(), kCap);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->PutJob(Job("jobs/a", 1)).ok());
  const std::string db = (*store)->path(), wal = db + "-wal";
  // 64 KiB chunks until the store is full.
  ChunkSums chunk;
  chunk.networks = 100;
  chunk.sums.assign(8192, 0.5);
  absl::Status status;
  int64_t stored = 0, largest = 0;
  for (int k = 0; k < 200 && status.ok(); ++k) {
    chunk.chunk = k;
    chunk.sums[0] = k;
    status = (*store)->PutChunk("abc", chunk);
    if (status.ok()) ++stored;
    largest = std::max(largest, FileBytes(db) + FileBytes(wal));
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("full"), std::string::npos) << status;
  EXPECT_GT(stored, 8);
  EXPECT_LE(largest, kCap + (int64_t{96} << 10))
      << "database " << FileBytes(db) << " + WAL " << FileBytes(wal);
  // A stored job's row can still be updated (a job can end cleanly), and
  // every stored chunk reads back.
  JobRecord ended = Job("jobs/a", 1);
  ended.state = JobState::kFailed;
  EXPECT_TRUE((*store)->PutJob(ended).ok());
  for (int64_t k = 0; k < stored; ++k) {
    auto back = (*store)->GetChunk("abc", k);
    ASSERT_TRUE(back.ok() && back->has_value()) << k;
    EXPECT_EQ((**back).sums[0], k);
  }
}

// PutJobs writes a batch in one transaction: a batch that fills the store
// part way through leaves none of its rows (not the first ones either), and
// a batch that fits stores every row.
TEST(ResultStoreTest, PutJobsStoresAllRowsOrNone) {
  TempDir dir("nnft_store_");
  auto store = ResultStore::Open(dir.path(), int64_t{1} << 20);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->PutJob(Job("jobs/before", 1)).ok());
  // 100 rows of 20 KB: twice the 1 MiB cap, which the first rows fit.
  std::vector<JobRecord> big;
  for (int i = 0; i < 100; ++i) {
    big.push_back(Job(absl::StrCat("jobs/big", i), 10 + i));
    big.back().spec_bytes.assign(20000, static_cast<char>('a' + i % 26));
  }
  std::vector<const JobRecord*> rows;
  for (const JobRecord& j : big) rows.push_back(&j);
  EXPECT_FALSE((*store)->PutJobs(rows).ok());
  absl::StatusOr<std::vector<JobRecord>> jobs = (*store)->LoadJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].name, "jobs/before");

  std::vector<JobRecord> small;
  for (int i = 0; i < 50; ++i) {
    small.push_back(Job(absl::StrCat("jobs/small", i), 200 + i));
  }
  rows.clear();
  for (const JobRecord& j : small) rows.push_back(&j);
  ASSERT_TRUE((*store)->PutJobs(rows).ok());
  store->reset();
  auto reopened = *ResultStore::Open(dir.path());
  jobs = reopened->LoadJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 51u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ((*jobs)[i + 1].name, absl::StrCat("jobs/small", i));
    EXPECT_TRUE((*jobs)[i + 1].integrity.ok()) << (*jobs)[i + 1].integrity;
  }
}

TEST(ResultStoreTest, RefusesADatabaseFromANewerSchema) {
  TempDir dir("nnft_store_");
  std::string db_path;
  { db_path = (*ResultStore::Open(dir.path()))->path(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "PRAGMA user_version=999", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(ResultStore::Open(dir.path()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace nnft::server
