#include "server/api/convert.h"

#include <cmath>
#include <limits>
#include <memory>

#include "gtest/gtest.h"

namespace nnft::server {
namespace {

// A synthetic result: `entries` 6-tuples of large indices (the widest
// entries) and a P x P kernel, with NaN where theory is unknown.
std::shared_ptr<JobResult> SyntheticResult(int64_t entries, int p) {
  auto r = std::make_shared<JobResult>();
  r->job.name = "jobs/0123456789abcdef";
  r->job.state = JobState::kSucceeded;
  CorrelatorEstimate& e = r->estimate;
  for (int64_t i = 0; i < entries; ++i) {
    e.tuples.push_back(
        {p - 1, p - 1, p - 2, p - 3, p - 4, static_cast<int>(i % p)});
    e.mean.push_back(1.0 + i);
    e.stderr_mean.push_back(0.5);
    e.connected.push_back(-1.0 * i);
    e.stderr_connected.push_back(0.25);
  }
  e.networks = 4000;
  e.chunks = 4;
  e.bins = 4;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r->theory.gp_full.assign(entries, 1.0);
  r->theory.gp_connected.assign(entries, 0.0);
  r->theory.exact_full.assign(entries, nan);
  r->theory.exact_connected.assign(entries, nan);
  r->theory.kernel = Eigen::MatrixXd::Constant(p, p, 0.125);
  static_cast<TheoryComparisons&>(*r) = CompareWithTheory(e, r->theory);
  return r;
}

TEST(ResultPiecesTest, EveryPieceStaysUnderTheLimitAtTheLargestSizes) {
  const int p = 4096;  // the default max_points: a kernel row is 32 KiB
  const int64_t entries = 20000;
  ResultPieces pieces(SyntheticResult(entries, p), "engine");
  v1::ResultPiece piece;
  ASSERT_TRUE(pieces.Next(&piece));
  ASSERT_TRUE(piece.has_header());
  EXPECT_EQ(piece.header().num_entries(), entries);
  EXPECT_EQ(piece.header().num_points(), p);
  EXPECT_EQ(piece.header().vs_gp().dof(), entries);
  EXPECT_EQ(piece.header().vs_exact().dof(), 0);
  int64_t next_entry = 0;
  int next_row = 0;
  int count = 0;
  while (pieces.Next(&piece)) {
    ++count;
    EXPECT_LE(static_cast<int64_t>(piece.ByteSizeLong()), kMaxPieceBytes);
    if (piece.has_entries()) {
      const v1::EntryBlock& b = piece.entries();
      EXPECT_EQ(b.offset(), next_entry);
      EXPECT_EQ(b.estimate().mean(0), 1.0 + next_entry);
      EXPECT_EQ(b.z_gp(0), (1.0 + next_entry - 1.0) / 0.5);
      EXPECT_TRUE(std::isnan(b.z_exact(0)));
      next_entry += b.estimate().mean_size();
      EXPECT_EQ(b.estimate().tuples_size(), b.estimate().mean_size());
      EXPECT_EQ(b.theory().gp_size(), b.estimate().mean_size());
    } else {
      ASSERT_TRUE(piece.has_kernel());
      EXPECT_EQ(piece.kernel().row_offset(), next_row);
      EXPECT_EQ(piece.kernel().values_size(), piece.kernel().rows() * p);
      next_row += piece.kernel().rows();
    }
  }
  EXPECT_EQ(next_entry, entries);
  EXPECT_EQ(next_row, p);
  EXPECT_GT(count, 2);
}

TEST(ResultPiecesTest, NoKernelMeansNoKernelBlocks) {
  auto result = SyntheticResult(3, 2);
  result->theory.kernel.resize(0, 0);
  ResultPieces pieces(result, "engine");
  v1::ResultPiece piece;
  int entry_blocks = 0, others = 0;
  while (pieces.Next(&piece)) {
    piece.has_entries() ? ++entry_blocks : ++others;
  }
  EXPECT_EQ(entry_blocks, 1);
  EXPECT_EQ(others, 1);  // the header
}

TEST(ConvertTest, JobTimesAndErrorsMapToTheProto) {
  JobSnapshot job;
  job.name = "jobs/0123456789abcdef";
  job.state = JobState::kFailed;
  job.create_time = absl::FromUnixSeconds(1700000000) + absl::Milliseconds(250);
  job.error = absl::DataLossError("chunk 3 corrupt");
  job.chunks_total = 5;
  job.spec_json = R"({"sampling": {"chunkSize": 10}})";
  const v1::Job out = JobToProto(job);
  EXPECT_EQ(out.state(), v1::Job::FAILED);
  EXPECT_EQ(out.create_time().seconds(), 1700000000);
  EXPECT_EQ(out.create_time().nanos(), 250000000);
  EXPECT_FALSE(out.has_start_time());
  EXPECT_EQ(out.error_code(), static_cast<int>(absl::StatusCode::kDataLoss));
  EXPECT_EQ(out.error_message(), "chunk 3 corrupt");
  EXPECT_EQ(out.progress().networks_total(), 50);
  EXPECT_EQ(out.spec().sampling().chunk_size(), 10);
}

}  // namespace
}  // namespace nnft::server
