// The one byte encoding of a chunk's moment sums (core/sampling/engine.h
// ChunkSums::sums) and the one checksum, shared by the result store's chunk
// rows (server/store/store.h) and the MPI worker's chunk stream
// (server/mpi/chunk_stream.h): each double's IEEE-754 bits, little-endian,
// 8 bytes per sum; CRC-32 as zlib computes it (IEEE 802.3, reflected
// polynomial 0xEDB88320). The chunk's index and network count travel beside
// the sums (store columns, stream header).
//
// All functions are pure and thread-safe.
#ifndef NNFT_SERVER_STORE_CHUNK_CODEC_H_
#define NNFT_SERVER_STORE_CHUNK_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace nnft::server {

// zlib's CRC-32 of `data`.
uint32_t Crc32(absl::string_view data);

// The encoded sums.
std::string EncodeChunkBlob(const std::vector<double>& sums);

// Inverse of EncodeChunkBlob. DataLoss for a length that is not a multiple
// of 8.
absl::StatusOr<std::vector<double>> DecodeChunkSums(absl::string_view blob);

// DecodeChunkSums after checking the blob against the CRC-32 stored beside
// it: DataLoss for a checksum mismatch too, so corrupt sums are never
// returned.
absl::StatusOr<std::vector<double>> DecodeChunkBlob(absl::string_view blob,
                                                    int64_t stored_crc);

}  // namespace nnft::server

#endif  // NNFT_SERVER_STORE_CHUNK_CODEC_H_
