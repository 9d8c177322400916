// Philox4x32-10 (Salmon et al., SC11) and philoxinit's counter layout.
//
// Written once as a template over the 32-bit lane type U, so the scalar CPU path (U = uint32_t),
// the SIMD paths (U = a vector of uint32 lanes) and CUDA device code run the same rounds.
// A lane type supplies: copy, ^, and an overload mulhilo(U a, uint32_t m, U& hi, U& lo).
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define PXI_HD __host__ __device__ __forceinline__
#else
#define PXI_HD inline
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

// Ten rounds on the counter (c0..c3) in place; the key schedule is scalar (one key per call).
template <class U>
PXI_HD void philox4x32_10(U& c0, U& c1, U& c2, U& c3, uint32_t k0, uint32_t k1) {
#if defined(__CUDACC__)
#pragma unroll
#endif
  for (int round = 0; round < 10; ++round) {
    U hi0, lo0, hi1, lo1;
    mulhilo(c0, kPhiloxM0, hi0, lo0);
    mulhilo(c2, kPhiloxM1, hi1, lo1);
    const U n0 = hi1 ^ c1 ^ U(k0);
    const U n2 = hi0 ^ c3 ^ U(k1);
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
}

// The contract's stream: block B of stream S under key K is
//   Philox4x32-10(key = (lo K, hi K), counter = (lo B, hi B, lo S, hi S)).
struct Block4 {
  uint32_t w[4];
};

PXI_HD Block4 philox_block(uint64_t key, uint64_t stream, uint64_t block) {
  uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32);
  uint32_t c2 = static_cast<uint32_t>(stream), c3 = static_cast<uint32_t>(stream >> 32);
  philox4x32_10(c0, c1, c2, c3, static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32));
  return Block4{{c0, c1, c2, c3}};
}

}  // namespace philoxinit
