// Philox4x32-10 (Salmon et al., SC11) and philoxinit's counter layout.
//
// Written once as a template over the 32-bit lane type U, so the scalar CPU path (U = uint32_t),
// the SIMD paths (U = a vector of uint32 lanes) and CUDA device code run the same rounds.
// A lane type supplies: copy, construction from a uint32, ^, and an overload
// mulhilo(U a, uint32_t m, U& hi, U& lo); it may overload xor_key and philox_round too.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define PXI_HD __host__ __device__ __forceinline__
#define PXI_HD_INLINE PXI_HD
#else
#define PXI_HD inline
// Always inlined on the host too: the SIMD loops need the rounds in their body (Clang otherwise
// keeps philox4x32_10 on vectors out of line, its state passed through memory).
#if defined(__GNUC__)
#define PXI_HD_INLINE inline __attribute__((always_inline))
#else
#define PXI_HD_INLINE inline
#endif
#endif

namespace philoxinit {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1

PXI_HD void mulhilo(uint32_t a, uint32_t m, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * m;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// The key words each round xors in: round r uses (k0 + r W0, k1 + r W1) mod 2^32. Computed once per
// key, so that SIMD code can read them from memory where it uses them (lanes_avx512.h: an embedded
// broadcast, no register); scalar and CUDA code keep them in registers after unrolling.
struct RoundKeys {
  uint32_t k[10][2];
};

PXI_HD RoundKeys round_keys(uint32_t k0, uint32_t k1) {
  RoundKeys rk;
  for (int round = 0; round < 10; ++round) {
    rk.k[round][0] = k0;
    rk.k[round][1] = k1;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  return rk;
}

// a ^ b ^ k with the key word k in every lane (a lane type may overload it: one three-way xor).
template <class U>
PXI_HD_INLINE U xor_key(U a, U b, const uint32_t& k) {
  return a ^ b ^ U(k);
}

// One round under the round keys (k0, k1). Lane types may overload it (multi.h runs it part by
// part, so that each part's temporaries die before the next part's are made).
template <class U>
PXI_HD_INLINE void philox_round(U& c0, U& c1, U& c2, U& c3, const uint32_t& k0, const uint32_t& k1) {
  U hi0, lo0, hi1, lo1;
  mulhilo(c0, kPhiloxM0, hi0, lo0);
  mulhilo(c2, kPhiloxM1, hi1, lo1);
  c0 = xor_key(hi1, c1, k0);
  c1 = lo1;
  c2 = xor_key(hi0, c3, k1);
  c3 = lo0;
}

// Ten rounds on the counter (c0..c3) in place.
template <class U>
PXI_HD_INLINE void philox4x32_10(U& c0, U& c1, U& c2, U& c3, const RoundKeys& rk) {
#if defined(__CUDACC__)
#pragma unroll
#elif defined(__GNUC__)
#pragma GCC unroll 10
#endif
  for (int round = 0; round < 10; ++round) philox_round(c0, c1, c2, c3, rk.k[round][0], rk.k[round][1]);
}

// Blocks whose counters differ only in word 0 (one stream, one high word of the block number) share
// half of their first two rounds: round 0's product of c2 and round 1's product of x0 are the same
// for every block. SharedRounds holds what those constant halves contribute, computed once, so a
// SIMD batch does 17 multiplies per block instead of 20 (and 55 vector operations instead of 60).
struct SharedRounds {
  uint32_t x2_key;  // round 0: x2 = hi(M0 c0) ^ x2_key
  uint32_t x0_key;  // round 1: x0 = hi(M1 x2) ^ x0_key
  uint32_t x2_key1; // round 1: x2 = x3 ^ x2_key1
  uint32_t x3;      // round 1: x3, the same for every block
};

PXI_HD SharedRounds shared_rounds(uint32_t c1, uint32_t c2, uint32_t c3, const RoundKeys& rk) {
  uint32_t hi1, lo1, hi0, lo0;
  mulhilo(c2, kPhiloxM1, hi1, lo1);       // round 0, the constant product
  const uint32_t x0 = hi1 ^ c1 ^ rk.k[0][0];  // round 0's x0 and x1: constants
  const uint32_t x1 = lo1;
  mulhilo(x0, kPhiloxM0, hi0, lo0);       // round 1, the constant product
  return SharedRounds{c3 ^ rk.k[0][1], x1 ^ rk.k[1][0], hi0 ^ rk.k[1][1], lo0};
}

// Rounds 0 and 1 of blocks that share counter words 1..3 (s from shared_rounds): c0 holds counter
// word 0 on entry; all four words hold the state after round 1 on return. The same bits as
// philox_round twice. Lane types may overload it (multi.h runs it part by part).
template <class U>
PXI_HD_INLINE void philox_shared_rounds(U& c0, U& c1, U& c2, U& c3, const SharedRounds& s) {
  U hi, lo;
  mulhilo(c0, kPhiloxM0, hi, lo);
  const U x2 = hi ^ U(s.x2_key), x3 = lo;
  mulhilo(x2, kPhiloxM1, hi, lo);
  c0 = hi ^ U(s.x0_key);
  c1 = lo;
  c2 = x3 ^ U(s.x2_key1);
  c3 = U(s.x3);
}

// Philox4x32-10 of blocks that share counter words 1..3: c0 holds word 0 on entry.
template <class U>
PXI_HD_INLINE void philox4x32_10_shared(U& c0, U& c1, U& c2, U& c3, const SharedRounds& s, const RoundKeys& rk) {
  philox_shared_rounds(c0, c1, c2, c3, s);
#if defined(__CUDACC__)
#pragma unroll
#elif defined(__GNUC__)
#pragma GCC unroll 8
#endif
  for (int round = 2; round < 10; ++round) philox_round(c0, c1, c2, c3, rk.k[round][0], rk.k[round][1]);
}

// The contract's stream: block B of stream S under key K is
//   Philox4x32-10(key = (lo K, hi K), counter = (lo B, hi B, lo S, hi S)).
struct Block4 {
  uint32_t w[4];
};

PXI_HD Block4 philox_block(uint64_t key, uint64_t stream, uint64_t block) {
  uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32);
  uint32_t c2 = static_cast<uint32_t>(stream), c3 = static_cast<uint32_t>(stream >> 32);
  philox4x32_10(c0, c1, c2, c3, round_keys(static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)));
  return Block4{{c0, c1, c2, c3}};
}

}  // namespace philoxinit
