// The chunk record stream of nnft-mpi-worker --stream: records round-trip
// bit for bit in any split of the bytes; a flipped bit, a bad header or a
// wrong number of sums stops the reader with DataLoss.
#include "server/mpi/chunk_stream.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace nnft::mpi {
namespace {

ChunkSums Chunk(int64_t k) {
  return ChunkSums{
      .chunk = k,
      .networks = 1000,
      .sums = {0.1 * static_cast<double>(k), -2.5e-300,
               std::numeric_limits<double>::denorm_min(), std::nan("")}};
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), 8 * a.size()) == 0;
}

TEST(ChunkStreamTest, RecordsRoundTripInAnySplitOfTheBytes) {
  const std::string bytes = EncodeChunkRecord(Chunk(3)) +
                            EncodeChunkRecord(Chunk(0)) +
                            EncodeEndRecord(2, 2000);
  ChunkStreamDecoder decoder(4);
  std::vector<StreamRecord> records;
  for (char c : bytes) {  // one byte at a time: the worst split
    decoder.Feed(std::string(1, c));
    auto record = decoder.Next();
    ASSERT_TRUE(record.ok()) << record.status();
    if (record->has_value()) records.push_back(**record);
  }
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].chunk.chunk, 3);
  EXPECT_EQ(records[0].chunk.networks, 1000);
  EXPECT_TRUE(SameBits(records[0].chunk.sums, Chunk(3).sums));
  EXPECT_EQ(records[1].chunk.chunk, 0);
  EXPECT_TRUE(records[2].end);
  EXPECT_EQ(records[2].end_chunks, 2);
  EXPECT_EQ(records[2].end_networks, 2000);
  EXPECT_EQ(decoder.pending_bytes(), 0u);
}

TEST(ChunkStreamTest, FlippedBitIsDataLossAndSticks) {
  std::string bytes = EncodeChunkRecord(Chunk(1));
  bytes[40] ^= 0x10;  // inside the sums
  ChunkStreamDecoder decoder(4);
  decoder.Feed(bytes);
  auto record = decoder.Next();
  EXPECT_EQ(record.status().code(), absl::StatusCode::kDataLoss);
  decoder.Feed(EncodeChunkRecord(Chunk(2)));
  EXPECT_EQ(decoder.Next().status().code(), absl::StatusCode::kDataLoss);
}

TEST(ChunkStreamTest, WrongSumCountOrMagicIsDataLoss) {
  ChunkStreamDecoder three(3);
  three.Feed(EncodeChunkRecord(Chunk(1)));
  EXPECT_EQ(three.Next().status().code(), absl::StatusCode::kDataLoss);
  ChunkStreamDecoder text(4);
  text.Feed("nnft-mpi-worker: 1/7 chunks sent (90 networks)\n");
  EXPECT_EQ(text.Next().status().code(), absl::StatusCode::kDataLoss);
}

TEST(ChunkStreamTest, TruncatedRecordWaitsForMoreBytes) {
  const std::string bytes = EncodeChunkRecord(Chunk(5));
  ChunkStreamDecoder decoder(4);
  decoder.Feed(bytes.substr(0, bytes.size() - 1));
  auto record = decoder.Next();
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
  EXPECT_EQ(decoder.pending_bytes(), bytes.size() - 1);
}

}  // namespace
}  // namespace nnft::mpi
