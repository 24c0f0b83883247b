// Counter-based random streams for the Monte-Carlo engine: Philox4x32-10
// (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3",
// SC'11), written so that GCC vectorises sixteen blocks at a time.
//
// A stream is named by (seed, network m, tag). Block b of the stream is
//   Philox4x32-10(counter = (m_lo, m_hi, b, tag), key = (seed_lo, seed_hi)),
// so network m's numbers depend on nothing but (seed, m, tag): not on the
// thread, the chunk split or the other streams' lengths. Streams are read in
// groups of 16 consecutive blocks; the numbers of a group are laid out
// "structure of arrays": output r of block 16 g + l goes to index
// G g + 16 r + l, where G is the group size (64 in float, 32 in double).
//
// Uniforms are in (0, 1), never 0 or 1: float (k + 1/2) 2^-23 with a 23-bit
// k (one word each); double (k + 1/2) 2^-52 with a 52-bit k (two words each).
// Normals by Box-Muller, z = sqrt(-2 log u1) (cos 2 pi u2, sin 2 pi u2), with
// the vectorisable log and sincos of core/sampling/vector_math.h. Tails: |z|
// <= 5.8 in float, <= 8.5 in double.
//
// Cost: one Philox block is 10 rounds of two 32x32->64 multiplies and a few
// xors; a float group gives 64 normals, a double group 32.
#ifndef NNFT_CORE_SAMPLING_RNG_H_
#define NNFT_CORE_SAMPLING_RNG_H_

#include <cmath>
#include <cstdint>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/sampling/vector_math.h"

namespace nnft {

inline constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
inline constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
inline constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
inline constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1
inline constexpr int kPhiloxLanes = 16;             // blocks per group

// One Philox4x32-10 block, in place on the counter words x0..x3.
inline void Philox4x32x10(uint32_t& x0, uint32_t& x1, uint32_t& x2,
                          uint32_t& x3, uint32_t k0, uint32_t k1) {
#pragma GCC unroll 10
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kPhiloxM0} * x0;
    const uint64_t p1 = uint64_t{kPhiloxM1} * x2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32);
    const uint32_t lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32);
    const uint32_t lo1 = static_cast<uint32_t>(p1);
    x0 = hi1 ^ x1 ^ k0;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ k1;
    x3 = lo0;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
}

// Identifies one stream: key = seed, counter words 0, 1, 3 = (m_lo, m_hi, tag).
struct StreamId {
  uint64_t seed = 0;
  uint64_t network = 0;
  uint32_t tag = 0;
};

// Numbers per group of 16 blocks: 64 in float, 32 in double.
template <typename T>
inline constexpr int kGroupSize = sizeof(T) == 4 ? 64 : 32;

// n rounded up to whole groups: the capacity the fill functions need.
template <typename T>
inline constexpr int64_t StreamPadded(int64_t n) {
  return (n + kGroupSize<T> - 1) / kGroupSize<T> * kGroupSize<T>;
}

// The four words of blocks 16 g .. 16 g + 15, structure of arrays; portable
// code that GCC vectorises (with 64-bit multiplies).
inline void PhiloxGroupPortable(const StreamId& id, int64_t group,
                                uint32_t (&w)[4][kPhiloxLanes]) {
  const uint32_t c0 = static_cast<uint32_t>(id.network);
  const uint32_t c1 = static_cast<uint32_t>(id.network >> 32);
  const uint32_t k0 = static_cast<uint32_t>(id.seed);
  const uint32_t k1 = static_cast<uint32_t>(id.seed >> 32);
  const uint32_t base = static_cast<uint32_t>(group * kPhiloxLanes);
#pragma omp simd
  for (int l = 0; l < kPhiloxLanes; ++l) {
    uint32_t x0 = c0, x1 = c1, x2 = base + static_cast<uint32_t>(l),
             x3 = id.tag;
    Philox4x32x10(x0, x1, x2, x3, k0, k1);
    w[0][l] = x0;
    w[1][l] = x1;
    w[2][l] = x2;
    w[3][l] = x3;
  }
}

#if defined(__AVX512F__)
// The same with AVX-512 intrinsics: 32x32->64 products of the even and odd
// lanes (vpmuludq), split into high and low words by shifts and blends;
// twice as fast as what GCC makes of the portable loop.
inline void PhiloxGroup(const StreamId& id, int64_t group,
                        uint32_t (&w)[4][kPhiloxLanes]) {
  auto splat = [](uint32_t v) {
    return _mm512_set1_epi32(static_cast<int>(v));
  };
  const __m512i m0 = _mm512_set1_epi64(kPhiloxM0);
  const __m512i m1 = _mm512_set1_epi64(kPhiloxM1);
  __m512i x0 = splat(static_cast<uint32_t>(id.network));
  __m512i x1 = splat(static_cast<uint32_t>(id.network >> 32));
  __m512i x2 = _mm512_add_epi32(
      splat(static_cast<uint32_t>(group * kPhiloxLanes)),
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  __m512i x3 = splat(id.tag);
  uint32_t k0 = static_cast<uint32_t>(id.seed);
  uint32_t k1 = static_cast<uint32_t>(id.seed >> 32);
  constexpr __mmask16 kOdd = 0xAAAA;
  for (int round = 0; round < 10; ++round) {
    const __m512i e0 = _mm512_mul_epu32(x0, m0);
    const __m512i o0 = _mm512_mul_epu32(_mm512_srli_epi64(x0, 32), m0);
    const __m512i e1 = _mm512_mul_epu32(x2, m1);
    const __m512i o1 = _mm512_mul_epu32(_mm512_srli_epi64(x2, 32), m1);
    const __m512i hi0 =
        _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(e0, 32), o0);
    const __m512i lo0 =
        _mm512_mask_blend_epi32(kOdd, e0, _mm512_slli_epi64(o0, 32));
    const __m512i hi1 =
        _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(e1, 32), o1);
    const __m512i lo1 =
        _mm512_mask_blend_epi32(kOdd, e1, _mm512_slli_epi64(o1, 32));
    // 0x96: three-way xor.
    x0 = _mm512_ternarylogic_epi32(hi1, x1, splat(k0), 0x96);
    x1 = lo1;
    x2 = _mm512_ternarylogic_epi32(hi0, x3, splat(k1), 0x96);
    x3 = lo0;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  _mm512_store_si512(w[0], x0);
  _mm512_store_si512(w[1], x1);
  _mm512_store_si512(w[2], x2);
  _mm512_store_si512(w[3], x3);
}
#else
inline void PhiloxGroup(const StreamId& id, int64_t group,
                        uint32_t (&w)[4][kPhiloxLanes]) {
  PhiloxGroupPortable(id, group, w);
}
#endif

// Uniform in (0, 1) from one word (float) or two words (double, a high).
inline float UniformFloat(uint32_t a) {
  return static_cast<float>(static_cast<int32_t>(a >> 9)) * 0x1p-23f + 0x1p-24f;
}
inline double UniformDouble(uint32_t a, uint32_t b) {
  const uint64_t k = ((uint64_t{a} << 32) | b) >> 12;
  return static_cast<double>(static_cast<int64_t>(k)) * 0x1p-52 + 0x1p-53;
}

// Fills out[0 .. StreamPadded<T>(n)) with uniforms of stream `id`.
template <typename T>
void FillUniforms(const StreamId& id, int64_t n, T* out) {
  alignas(64) uint32_t w[4][kPhiloxLanes];
  const int64_t groups = StreamPadded<T>(n) / kGroupSize<T>;
  for (int64_t g = 0; g < groups; ++g) {
    PhiloxGroup(id, g, w);
    T* o = out + g * kGroupSize<T>;
    if constexpr (sizeof(T) == 4) {
#pragma omp simd
      for (int l = 0; l < kPhiloxLanes; ++l) {
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) o[16 * r + l] = UniformFloat(w[r][l]);
      }
    } else {
#pragma omp simd
      for (int l = 0; l < kPhiloxLanes; ++l) {
        o[l] = UniformDouble(w[0][l], w[1][l]);
        o[16 + l] = UniformDouble(w[2][l], w[3][l]);
      }
    }
  }
}

// Box-Muller pair from two uniforms.
template <typename T>
inline void BoxMuller(T u1, T u2, T& z1, T& z2) {
  const T rho = std::sqrt(T(-2) * vmath::LogPositive(u1));
  T s, c;
  vmath::SinCos2Pi(u2, s, c);
  z1 = rho * c;
  z2 = rho * s;
}

// Fills out[0 .. StreamPadded<T>(n)) with standard normals of stream `id`,
// multiplied by `scale`.
template <typename T>
void FillNormals(const StreamId& id, int64_t n, T scale, T* out) {
  alignas(64) uint32_t w[4][kPhiloxLanes];
  const int64_t groups = StreamPadded<T>(n) / kGroupSize<T>;
  for (int64_t g = 0; g < groups; ++g) {
    PhiloxGroup(id, g, w);
    T* o = out + g * kGroupSize<T>;
    if constexpr (sizeof(T) == 4) {
#pragma omp simd
      for (int l = 0; l < kPhiloxLanes; ++l) {
        float z0, z1, z2, z3;
        BoxMuller(UniformFloat(w[0][l]), UniformFloat(w[1][l]), z0, z1);
        BoxMuller(UniformFloat(w[2][l]), UniformFloat(w[3][l]), z2, z3);
        o[l] = z0 * scale;
        o[16 + l] = z1 * scale;
        o[32 + l] = z2 * scale;
        o[48 + l] = z3 * scale;
      }
    } else {
#pragma omp simd
      for (int l = 0; l < kPhiloxLanes; ++l) {
        double z0, z1;
        BoxMuller(UniformDouble(w[0][l], w[1][l]),
                  UniformDouble(w[2][l], w[3][l]), z0, z1);
        o[l] = z0 * scale;
        o[16 + l] = z1 * scale;
      }
    }
  }
}

}  // namespace nnft

#endif  // NNFT_CORE_SAMPLING_RNG_H_
