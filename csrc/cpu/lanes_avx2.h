// AVX2 lane types for the templates in philox.h, transforms.h and fill.h: 8 float / uint32 lanes,
// 4 double / uint64 lanes. Every operation is the IEEE operation the scalar code runs, lane by
// lane (no FMA: compiled with -ffp-contract=off and without -mfma).
//
// Only for the AVX2 translation unit (compiled with -mavx2 -mf16c), which includes the shared
// headers under its own namespace (see isa_avx2.cpp).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "../transforms.h"
#include "multi.h"

namespace philoxinit {
namespace lanes256 {

#define PXI_L inline __attribute__((always_inline))

// ---- masks: all-ones / all-zeros lanes ----------------------------------------------------------
struct M32 {  // 8 lanes of 32 bits
  __m256i m;
};
struct M64 {  // 4 lanes of 64 bits
  __m256i m;
};
PXI_L M32 operator&(M32 a, M32 b) { return {_mm256_and_si256(a.m, b.m)}; }
PXI_L M32 operator|(M32 a, M32 b) { return {_mm256_or_si256(a.m, b.m)}; }
PXI_L M32 operator~(M32 a) { return {_mm256_xor_si256(a.m, _mm256_set1_epi32(-1))}; }
PXI_L M32 operator!(M32 a) { return ~a; }
PXI_L M64 operator&(M64 a, M64 b) { return {_mm256_and_si256(a.m, b.m)}; }
PXI_L M64 operator|(M64 a, M64 b) { return {_mm256_or_si256(a.m, b.m)}; }
PXI_L M64 operator~(M64 a) { return {_mm256_xor_si256(a.m, _mm256_set1_epi32(-1))}; }
PXI_L M64 operator!(M64 a) { return ~a; }
PXI_L bool any(M32 a) { return !_mm256_testz_si256(a.m, a.m); }
PXI_L bool any(M64 a) { return !_mm256_testz_si256(a.m, a.m); }

// ---- 8 x uint32 -------------------------------------------------------------------------------
struct VU {
  __m256i v;
  VU() = default;
  PXI_L VU(__m256i x) : v(x) {}
  PXI_L VU(uint32_t x) : v(_mm256_set1_epi32(static_cast<int>(x))) {}
};
PXI_L VU operator&(VU a, VU b) { return _mm256_and_si256(a.v, b.v); }
PXI_L VU operator|(VU a, VU b) { return _mm256_or_si256(a.v, b.v); }
PXI_L VU operator^(VU a, VU b) { return _mm256_xor_si256(a.v, b.v); }
PXI_L VU operator+(VU a, VU b) { return _mm256_add_epi32(a.v, b.v); }
PXI_L VU operator-(VU a, VU b) { return _mm256_sub_epi32(a.v, b.v); }
PXI_L VU operator>>(VU a, int n) { return _mm256_srli_epi32(a.v, n); }
PXI_L VU operator<<(VU a, int n) { return _mm256_slli_epi32(a.v, n); }
PXI_L VU& operator&=(VU& a, VU b) { return a = a & b; }
PXI_L VU& operator|=(VU& a, VU b) { return a = a | b; }
PXI_L VU& operator^=(VU& a, VU b) { return a = a ^ b; }
PXI_L VU& operator+=(VU& a, VU b) { return a = a + b; }
PXI_L VU& operator-=(VU& a, VU b) { return a = a - b; }
// Unsigned comparisons by flipping the sign bit (equal to signed ones for lanes < 2^31).
PXI_L M32 operator<(VU a, VU b) {
  const __m256i s = _mm256_set1_epi32(INT32_MIN);
  return {_mm256_cmpgt_epi32(_mm256_xor_si256(b.v, s), _mm256_xor_si256(a.v, s))};
}
PXI_L M32 operator>(VU a, VU b) { return b < a; }
PXI_L VU select(M32 m, VU a, VU b) { return _mm256_blendv_epi8(b.v, a.v, m.m); }

// ---- Philox lanes: one uint32 in the low half of each 64-bit lane (the high half don't-care), so
// vpmuludq's products need no shuffling (see lanes_avx512.h).
struct VP {
  __m256i v;
  VP() = default;
  PXI_L VP(__m256i x) : v(x) {}
  PXI_L VP(uint32_t x) : v(_mm256_set1_epi32(static_cast<int>(x))) {}
};
PXI_L VP operator^(VP a, VP b) { return _mm256_xor_si256(a.v, b.v); }
PXI_L void mulhilo(VP a, uint32_t m, VP& hi, VP& lo) {
  const __m256i p = _mm256_mul_epu32(a.v, _mm256_set1_epi32(static_cast<int>(m)));
  lo = p;
  hi = _mm256_srli_epi64(p, 32);
}

// ---- 8 x float --------------------------------------------------------------------------------
struct VF {
  __m256 v;
  VF() = default;
  PXI_L VF(__m256 x) : v(x) {}
  PXI_L VF(float x) : v(_mm256_set1_ps(x)) {}
};
PXI_L VF operator+(VF a, VF b) { return _mm256_add_ps(a.v, b.v); }
PXI_L VF operator-(VF a, VF b) { return _mm256_sub_ps(a.v, b.v); }
PXI_L VF operator*(VF a, VF b) { return _mm256_mul_ps(a.v, b.v); }
PXI_L VF operator/(VF a, VF b) { return _mm256_div_ps(a.v, b.v); }
PXI_L VF operator-(VF a) { return _mm256_xor_ps(a.v, _mm256_set1_ps(-0.0f)); }
PXI_L VF& operator+=(VF& a, VF b) { return a = a + b; }
PXI_L VF& operator-=(VF& a, VF b) { return a = a - b; }
PXI_L VF& operator*=(VF& a, VF b) { return a = a * b; }
PXI_L VF& operator/=(VF& a, VF b) { return a = a / b; }
PXI_L M32 cmp_mask(__m256 c) { return {_mm256_castps_si256(c)}; }
PXI_L M32 operator<(VF a, VF b) { return cmp_mask(_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)); }
PXI_L M32 operator>(VF a, VF b) { return cmp_mask(_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)); }
PXI_L M32 operator<=(VF a, VF b) { return cmp_mask(_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)); }
PXI_L M32 operator>=(VF a, VF b) { return cmp_mask(_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)); }
PXI_L VF select(M32 m, VF a, VF b) { return _mm256_blendv_ps(b.v, a.v, _mm256_castsi256_ps(m.m)); }
PXI_L VF vmin(VF a, VF b) { return _mm256_min_ps(b.v, a.v); }  // b < a ? b : a
PXI_L VF vmax(VF a, VF b) { return _mm256_max_ps(b.v, a.v); }  // a < b ? b : a
PXI_L VF vsqrt(VF a) { return _mm256_sqrt_ps(a.v); }
PXI_L VU as_bits(VF a) { return _mm256_castps_si256(a.v); }
PXI_L VF as_float(VU a) { return _mm256_castsi256_ps(a.v); }
PXI_L VF to_float_i31(VU a) { return _mm256_cvtepi32_ps(a.v); }  // MXCSR: round to nearest even

// Precision-generic spellings of the conversions (the second argument picks the lane precision).
PXI_L VF to_float_rn(VU a, VF) { return to_float_i31(a); }
PXI_L VF from_bits(VU a, VF) { return as_float(a); }

// ---- 4 x uint64 -------------------------------------------------------------------------------
struct VQ {
  __m256i v;
  VQ() = default;
  PXI_L VQ(__m256i x) : v(x) {}
  PXI_L VQ(uint64_t x) : v(_mm256_set1_epi64x(static_cast<long long>(x))) {}
};
PXI_L VQ operator&(VQ a, VQ b) { return _mm256_and_si256(a.v, b.v); }
PXI_L VQ operator|(VQ a, VQ b) { return _mm256_or_si256(a.v, b.v); }
PXI_L VQ operator^(VQ a, VQ b) { return _mm256_xor_si256(a.v, b.v); }
PXI_L VQ operator+(VQ a, VQ b) { return _mm256_add_epi64(a.v, b.v); }
PXI_L VQ operator-(VQ a, VQ b) { return _mm256_sub_epi64(a.v, b.v); }
PXI_L VQ operator>>(VQ a, int n) { return _mm256_srli_epi64(a.v, n); }
PXI_L VQ operator<<(VQ a, int n) { return _mm256_slli_epi64(a.v, n); }
PXI_L VQ& operator&=(VQ& a, VQ b) { return a = a & b; }
PXI_L VQ& operator|=(VQ& a, VQ b) { return a = a | b; }
PXI_L VQ& operator^=(VQ& a, VQ b) { return a = a ^ b; }
PXI_L VQ& operator+=(VQ& a, VQ b) { return a = a + b; }
PXI_L VQ& operator-=(VQ& a, VQ b) { return a = a - b; }
PXI_L M64 operator<(VQ a, VQ b) {
  const __m256i s = _mm256_set1_epi64x(INT64_MIN);
  return {_mm256_cmpgt_epi64(_mm256_xor_si256(b.v, s), _mm256_xor_si256(a.v, s))};
}
PXI_L M64 operator>(VQ a, VQ b) { return b < a; }
PXI_L VQ select(M64 m, VQ a, VQ b) { return _mm256_blendv_epi8(b.v, a.v, m.m); }

// ---- 4 x double -------------------------------------------------------------------------------
struct VD {
  __m256d v;
  VD() = default;
  PXI_L VD(__m256d x) : v(x) {}
  PXI_L VD(double x) : v(_mm256_set1_pd(x)) {}
};
PXI_L VD operator+(VD a, VD b) { return _mm256_add_pd(a.v, b.v); }
PXI_L VD operator-(VD a, VD b) { return _mm256_sub_pd(a.v, b.v); }
PXI_L VD operator*(VD a, VD b) { return _mm256_mul_pd(a.v, b.v); }
PXI_L VD operator/(VD a, VD b) { return _mm256_div_pd(a.v, b.v); }
PXI_L VD operator-(VD a) { return _mm256_xor_pd(a.v, _mm256_set1_pd(-0.0)); }
PXI_L VD& operator+=(VD& a, VD b) { return a = a + b; }
PXI_L VD& operator-=(VD& a, VD b) { return a = a - b; }
PXI_L VD& operator*=(VD& a, VD b) { return a = a * b; }
PXI_L VD& operator/=(VD& a, VD b) { return a = a / b; }
PXI_L M64 cmp_mask(__m256d c) { return {_mm256_castpd_si256(c)}; }
PXI_L M64 operator<(VD a, VD b) { return cmp_mask(_mm256_cmp_pd(a.v, b.v, _CMP_LT_OQ)); }
PXI_L M64 operator>(VD a, VD b) { return cmp_mask(_mm256_cmp_pd(a.v, b.v, _CMP_GT_OQ)); }
PXI_L M64 operator<=(VD a, VD b) { return cmp_mask(_mm256_cmp_pd(a.v, b.v, _CMP_LE_OQ)); }
PXI_L M64 operator>=(VD a, VD b) { return cmp_mask(_mm256_cmp_pd(a.v, b.v, _CMP_GE_OQ)); }
PXI_L VD select(M64 m, VD a, VD b) { return _mm256_blendv_pd(b.v, a.v, _mm256_castsi256_pd(m.m)); }
PXI_L VD vmin(VD a, VD b) { return _mm256_min_pd(b.v, a.v); }
PXI_L VD vmax(VD a, VD b) { return _mm256_max_pd(b.v, a.v); }
PXI_L VD vsqrt(VD a) { return _mm256_sqrt_pd(a.v); }
PXI_L VQ as_bits(VD a) { return _mm256_castpd_si256(a.v); }
PXI_L VD as_double(VQ a) { return _mm256_castsi256_pd(a.v); }
// AVX2 has no 64-bit integer -> double conversion. Both 32-bit halves convert exactly (through
// the 2^52 exponent trick), hi * 2^32 is exact, and the one addition rounds the exact sum to
// nearest: the correctly rounded conversion, as cvtsi2sd gives.
PXI_L VD to_double_i63(VQ a) {
  const __m256i magic = _mm256_set1_epi64x(0x4330000000000000LL);  // 2^52
  const __m256i lo32 = _mm256_and_si256(a.v, _mm256_set1_epi64x(0xffffffffLL));
  const __m256i hi32 = _mm256_srli_epi64(a.v, 32);
  const __m256d two52 = _mm256_set1_pd(0x1p52);
  const __m256d lo = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(lo32, magic)), two52);
  const __m256d hi = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(hi32, magic)), two52);
  return _mm256_add_pd(_mm256_mul_pd(hi, _mm256_set1_pd(0x1p32)), lo);
}

PXI_L VD to_float_rn(VQ a, VD) { return to_double_i63(a); }
PXI_L VD from_bits(VQ a, VD) { return as_double(a); }

// ---- what the fill kernel needs beyond the math -------------------------------------------------
struct Isa {
  static constexpr int L = 8;
  using U = VU;
  using F = VF;
  using Q = VQ;
  using D = VD;
  // Iterations whose blocks words() computes at once (lanes_avx512.h says why).
  static constexpr int kBatch = 2;
  // The four words of blocks b .. b+8 kBatch-1 of (key, stream), in element order: vector k holds
  // blocks 2k, 2k+1. Only counter word 0 differs between them (lanes_avx512.h).
  static PXI_L void words(uint32_t b, const SharedRounds& s, const RoundKeys& rk, VU (&x)[4 * kBatch]) {
    constexpr int H = 2 * kBatch;  // vectors of 4 blocks
    const __m256i base = _mm256_add_epi32(_mm256_set1_epi64x(b), _mm256_set_epi64x(3, 2, 1, 0));
    multi::Multi<VP, H> c0, c1, c2, c3;
    for (int h = 0; h < H; ++h) c0.v[h] = _mm256_add_epi32(base, _mm256_set1_epi64x(4 * h));
    philox4x32_10_shared(c0, c1, c2, c3, s, rk);
    for (int h = 0; h < H; ++h) {
      // (w0, w1) and (w2, w3) of block 4h + j in 64-bit lane j, then blocks in order.
      const __m256i w01 = _mm256_blend_epi32(c0.v[h].v, _mm256_slli_epi64(c1.v[h].v, 32), 0xAA);
      const __m256i w23 = _mm256_blend_epi32(c2.v[h].v, _mm256_slli_epi64(c3.v[h].v, 32), 0xAA);
      const __m256i even = _mm256_unpacklo_epi64(w01, w23);  // block 4h | block 4h+2
      const __m256i odd = _mm256_unpackhi_epi64(w01, w23);   // block 4h+1 | block 4h+3
      x[2 * h] = _mm256_permute2x128_si256(even, odd, 0x20);
      x[2 * h + 1] = _mm256_permute2x128_si256(even, odd, 0x31);
    }
  }
  // Neighbouring lanes (2j, 2j+1) of x0, x1 -> a (first) and b (second), pair for pair (in a lane
  // order of the ISA's own, which zip undoes): vshufps / vunpck work within each 128-bit lane.
  static PXI_L void unzip(VU x0, VU x1, VU& a, VU& b) {
    const auto f0 = _mm256_castsi256_ps(x0.v), f1 = _mm256_castsi256_ps(x1.v);
    a = _mm256_castps_si256(_mm256_shuffle_ps(f0, f1, 0x88));
    b = _mm256_castps_si256(_mm256_shuffle_ps(f0, f1, 0xDD));
  }
  static PXI_L void zip(VF z0, VF z1, VF& y0, VF& y1) {
    y0 = _mm256_unpacklo_ps(z0.v, z1.v);
    y1 = _mm256_unpackhi_ps(z0.v, z1.v);
  }
  static PXI_L void unzip(VQ x0, VQ x1, VQ& a, VQ& b) {
    a = _mm256_unpacklo_epi64(x0.v, x1.v);
    b = _mm256_unpackhi_epi64(x0.v, x1.v);
  }
  static PXI_L void zip(VD z0, VD z1, VD& y0, VD& y1) {
    y0 = _mm256_unpacklo_pd(z0.v, z1.v);
    y1 = _mm256_unpackhi_pd(z0.v, z1.v);
  }
  static PXI_L VQ as_q(VU a) { return a.v; }
  static PXI_L void store(void* p, VU a) { _mm256_storeu_si256(static_cast<__m256i*>(p), a.v); }
  static PXI_L void store(void* p, VF a) { _mm256_storeu_ps(static_cast<float*>(p), a.v); }
  static PXI_L void store(void* p, VD a) { _mm256_storeu_pd(static_cast<double*>(p), a.v); }
  static PXI_L void stream(void* p, VU a) { _mm256_stream_si256(static_cast<__m256i*>(p), a.v); }
  static PXI_L void stream(void* p, VF a) { _mm256_stream_ps(static_cast<float*>(p), a.v); }
  static PXI_L void stream(void* p, VD a) { _mm256_stream_pd(static_cast<double*>(p), a.v); }
  static PXI_L __m256i pack16(VU a, VU b) {  // lanes hold values < 2^16
    return _mm256_permute4x64_epi64(_mm256_packus_epi32(a.v, b.v), 0xD8);
  }
  static PXI_L void store16(void* p, VU a, VU b) { _mm256_storeu_si256(static_cast<__m256i*>(p), pack16(a, b)); }
  static PXI_L void stream16(void* p, VU a, VU b) { _mm256_stream_si256(static_cast<__m256i*>(p), pack16(a, b)); }
  static PXI_L VU f16_bits(VF a) {
    return _mm256_cvtepu16_epi32(_mm256_cvtps_ph(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  static PXI_L VF f16_to_f32(VU h) {
    const __m128i p = _mm_packus_epi32(_mm256_castsi256_si128(h.v), _mm256_extracti128_si256(h.v, 1));
    return _mm256_cvtph_ps(p);
  }
  static PXI_L void fence() { _mm_sfence(); }
};

#undef PXI_L

}  // namespace lanes256
}  // namespace philoxinit
