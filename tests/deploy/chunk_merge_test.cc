// The MPI-free half of nnft-mpi-worker: the block-cyclic deal, chunk
// messages, and the in-order merge that makes results independent of the
// order chunks arrive in.
#include "server/mpi/chunk_merge.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/estimate/estimate.h"
#include "core/spec/tuples.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/mpi/result_json.h"

namespace nnft::mpi {
namespace {

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TupleSet MakeTuples() {
  ObservableSpec observables;
  observables.orders = {2, 4};
  auto tuples = TupleSet::Build(3, observables, 1 << 20);
  EXPECT_TRUE(tuples.ok()) << tuples.status();
  return *std::move(tuples);
}

// Chunks with sums of plausible size from a seeded generator.
std::vector<ChunkSums> MakeChunks(const TupleSet& tuples, int count,
                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<ChunkSums> chunks(count);
  for (int k = 0; k < count; ++k) {
    chunks[k].chunk = k;
    chunks[k].networks = 50 + k % 3;  // unequal chunks, as the last may be
    for (int64_t t = 0; t < tuples.size(); ++t) {
      chunks[k].sums.push_back(chunks[k].networks * (1 + 0.1 * normal(rng)));
    }
  }
  return chunks;
}

TEST(RankBlocksTest, DealsEveryChunkToExactlyOneRank) {
  for (int64_t num_chunks : {0, 1, 7, 100}) {
    for (int ranks : {1, 2, 3, 5}) {
      for (int64_t block : {1, 2, 4}) {
        std::vector<int> owner(num_chunks, -1);
        for (int r = 0; r < ranks; ++r) {
          int64_t previous_last = 0;
          for (auto [first, last] : RankBlocks(num_chunks, r, ranks, block)) {
            EXPECT_LT(first, last);
            EXPECT_LE(last - first, block);
            EXPECT_GE(first, previous_last);
            previous_last = last;
            for (int64_t k = first; k < last; ++k) {
              EXPECT_EQ(owner[k], -1) << "chunk " << k << " dealt twice";
              owner[k] = r;
              EXPECT_EQ(OwnerOfChunk(k, ranks, block), r);
            }
          }
        }
        EXPECT_EQ(std::count(owner.begin(), owner.end(), -1), 0)
            << num_chunks << " chunks, " << ranks << " ranks, block " << block;
      }
    }
  }
}

TEST(RankBlocksTest, BlockOneIsRoundRobin) {
  using Blocks = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(RankBlocks(8, 1, 3, 1), (Blocks{{1, 2}, {4, 5}, {7, 8}}));
  EXPECT_EQ(RankBlocks(9, 0, 2, 4), (Blocks{{0, 4}, {8, 9}}));
}

TEST(ChunkMessageTest, RoundTripsEveryBit) {
  ChunkSums chunk{.chunk = (int64_t{1} << 52) + 3,
                  .networks = 1000,
                  .sums = {-0.0, std::numeric_limits<double>::denorm_min(),
                           1.0 / 3.0, -std::numeric_limits<double>::max()}};
  auto back = UnpackChunk(PackChunk(chunk), 4);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->chunk, chunk.chunk);
  EXPECT_EQ(back->networks, chunk.networks);
  EXPECT_TRUE(SameBits(back->sums, chunk.sums));
}

TEST(ChunkMessageTest, RejectsMalformedMessages) {
  const std::vector<double> short_message = {3.0};
  EXPECT_EQ(UnpackChunk(short_message, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<double> fractional = {1.5, 10, 1, 2};
  EXPECT_EQ(UnpackChunk(fractional, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<double> negative = {-1, 10, 1, 2};
  EXPECT_EQ(UnpackChunk(negative, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<double> wrong_length = {1, 10, 1, 2};
  EXPECT_EQ(UnpackChunk(wrong_length, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(OrderedMergerTest, AnyArrivalOrderGivesTheBitsOfAnInOrderFold) {
  const TupleSet tuples = MakeTuples();
  const std::vector<ChunkSums> chunks = MakeChunks(tuples, 40, 7);
  MomentAccumulator direct(tuples, /*seed=*/11);
  for (const ChunkSums& c : chunks) ASSERT_TRUE(direct.Add(c).ok());
  const CorrelatorEstimate want = direct.Finish();

  OrderedMerger in_order(tuples, 11, 40);
  for (const ChunkSums& c : chunks) ASSERT_TRUE(in_order.Offer(c).ok());
  std::vector<ChunkSums> shuffled = chunks;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(3));
  OrderedMerger out_of_order(tuples, 11, 40);
  for (const ChunkSums& c : shuffled) {
    ASSERT_TRUE(out_of_order.Offer(c).ok());
  }
  ASSERT_TRUE(in_order.complete() && out_of_order.complete());
  EXPECT_EQ(out_of_order.pending(), 0);
  EXPECT_EQ(in_order.ChunkHash(), out_of_order.ChunkHash());
  for (const OrderedMerger* m : {&in_order, &out_of_order}) {
    const CorrelatorEstimate got = m->Finish();
    EXPECT_TRUE(SameBits(got.mean, want.mean));
    EXPECT_TRUE(SameBits(got.stderr_mean, want.stderr_mean));
    EXPECT_TRUE(SameBits(got.connected, want.connected));
    EXPECT_TRUE(SameBits(got.stderr_connected, want.stderr_connected));
    EXPECT_EQ(got.networks, want.networks);
    EXPECT_EQ(EstimateHash(got), EstimateHash(want));
  }
}

TEST(OrderedMergerTest, HashSeesTheLastBitOfAnySum) {
  const TupleSet tuples = MakeTuples();
  std::vector<ChunkSums> chunks = MakeChunks(tuples, 5, 7);
  OrderedMerger a(tuples, 1, 5);
  for (const ChunkSums& c : chunks) ASSERT_TRUE(a.Offer(c).ok());
  chunks[3].sums[2] = std::nextafter(chunks[3].sums[2], 1e300);
  OrderedMerger b(tuples, 1, 5);
  for (const ChunkSums& c : chunks) ASSERT_TRUE(b.Offer(c).ok());
  EXPECT_NE(a.ChunkHash(), b.ChunkHash());
  EXPECT_EQ(a.ChunkHash().size(), 64u);
}

TEST(OrderedMergerTest, FoldsOnlyTheContiguousPrefix) {
  const TupleSet tuples = MakeTuples();
  const std::vector<ChunkSums> chunks = MakeChunks(tuples, 4, 7);
  OrderedMerger merger(tuples, 1, 4);
  ASSERT_TRUE(merger.Offer(chunks[2]).ok());
  ASSERT_TRUE(merger.Offer(chunks[1]).ok());
  EXPECT_EQ(merger.folded(), 0);
  EXPECT_EQ(merger.pending(), 2);
  ASSERT_TRUE(merger.Offer(chunks[0]).ok());
  EXPECT_EQ(merger.folded(), 3);
  EXPECT_EQ(merger.networks_folded(),
            chunks[0].networks + chunks[1].networks + chunks[2].networks);
  EXPECT_FALSE(merger.complete());
  ASSERT_TRUE(merger.Offer(chunks[3]).ok());
  EXPECT_TRUE(merger.complete());
}

TEST(OrderedMergerTest, RejectsBadChunksAndLeavesStateUnchanged) {
  const TupleSet tuples = MakeTuples();
  std::vector<ChunkSums> chunks = MakeChunks(tuples, 4, 7);
  OrderedMerger merger(tuples, 1, 4);
  ASSERT_TRUE(merger.Offer(chunks[0]).ok());
  ASSERT_TRUE(merger.Offer(chunks[2]).ok());
  const std::string hash = merger.ChunkHash();
  EXPECT_EQ(merger.Offer(chunks[0]).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(merger.Offer(chunks[2]).code(), absl::StatusCode::kAlreadyExists);
  ChunkSums outside = chunks[3];
  outside.chunk = 4;
  EXPECT_EQ(merger.Offer(outside).code(), absl::StatusCode::kInvalidArgument);
  ChunkSums short_sums = chunks[1];
  short_sums.sums.pop_back();
  EXPECT_EQ(merger.Offer(short_sums).code(),
            absl::StatusCode::kInvalidArgument);
  ChunkSums empty = chunks[1];
  empty.networks = 0;
  EXPECT_EQ(merger.Offer(empty).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(merger.folded(), 1);
  EXPECT_EQ(merger.pending(), 1);
  EXPECT_EQ(merger.ChunkHash(), hash);
}

TEST(ResultJsonTest, NumbersParseBackToTheSameBitsAndNanIsNull) {
  const TupleSet tuples = MakeTuples();
  const std::vector<ChunkSums> chunks = MakeChunks(tuples, 1, 9);
  OrderedMerger merger(tuples, 12345678901234567890ull, 1);
  ASSERT_TRUE(merger.Offer(chunks[0]).ok());
  const CorrelatorEstimate estimate = merger.Finish();  // 1 bin: NaN errors
  RunInfo info{.ranks = 3, .chunk_hash = merger.ChunkHash()};
  info.timings.rank_compute = {1.5, 2.5, 3.5};
  const std::string json = ResultToJson(estimate, info);

  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok())
      << json;
  const auto& fields = parsed.fields();
  const auto& mean = fields.at("mean").list_value().values();
  ASSERT_EQ(mean.size(), static_cast<int>(estimate.mean.size()));
  for (int i = 0; i < mean.size(); ++i) {
    const double v = mean[i].number_value();
    EXPECT_EQ(std::memcmp(&v, &estimate.mean[i], sizeof v), 0) << i;
  }
  for (const auto& v : fields.at("stderr").list_value().values()) {
    EXPECT_TRUE(v.has_null_value());
  }
  EXPECT_EQ(fields.at("tuples").list_value().values_size(),
            static_cast<int>(estimate.tuples.size()));
  EXPECT_EQ(fields.at("seed").string_value(), "12345678901234567890");
  EXPECT_EQ(fields.at("chunk_hash").string_value(), merger.ChunkHash());
  EXPECT_EQ(fields.at("estimate_hash").string_value(), EstimateHash(estimate));
  EXPECT_EQ(fields.at("networks").number_value(), chunks[0].networks);
  EXPECT_EQ(fields.at("ranks").number_value(), 3);
  EXPECT_EQ(fields.at("timing")
                .struct_value()
                .fields()
                .at("rank_compute_s")
                .list_value()
                .values_size(),
            3);
}

}  // namespace
}  // namespace nnft::mpi
