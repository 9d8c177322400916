// AVX-512 lane types for the templates in philox.h, transforms.h and fill.h: 16 float / uint32
// lanes, 8 double / uint64 lanes. Every operation is the IEEE operation the scalar code runs, lane
// by lane (no FMA anywhere: this file is compiled with -ffp-contract=off like the rest).
//
// Only for the AVX-512 translation unit (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl),
// which includes the shared headers under its own namespace (see isa_avx512.cpp).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "../transforms.h"

namespace philoxinit {
namespace lanes512 {

#define PXI_L inline __attribute__((always_inline))

// ---- masks ------------------------------------------------------------------------------------
struct M16 {
  __mmask16 m;
};
struct M8 {
  __mmask8 m;
};
PXI_L M16 operator&(M16 a, M16 b) { return {static_cast<__mmask16>(a.m & b.m)}; }
PXI_L M16 operator|(M16 a, M16 b) { return {static_cast<__mmask16>(a.m | b.m)}; }
PXI_L M16 operator~(M16 a) { return {static_cast<__mmask16>(~a.m)}; }
PXI_L M16 operator!(M16 a) { return ~a; }
PXI_L M8 operator&(M8 a, M8 b) { return {static_cast<__mmask8>(a.m & b.m)}; }
PXI_L M8 operator|(M8 a, M8 b) { return {static_cast<__mmask8>(a.m | b.m)}; }
PXI_L M8 operator~(M8 a) { return {static_cast<__mmask8>(~a.m)}; }
PXI_L M8 operator!(M8 a) { return ~a; }
PXI_L bool any(M16 a) { return a.m != 0; }
PXI_L bool any(M8 a) { return a.m != 0; }

// ---- 16 x uint32 ------------------------------------------------------------------------------
struct VU {
  __m512i v;
  VU() = default;
  PXI_L VU(__m512i x) : v(x) {}
  PXI_L VU(uint32_t x) : v(_mm512_set1_epi32(static_cast<int>(x))) {}
};
PXI_L VU operator&(VU a, VU b) { return _mm512_and_si512(a.v, b.v); }
PXI_L VU operator|(VU a, VU b) { return _mm512_or_si512(a.v, b.v); }
PXI_L VU operator^(VU a, VU b) { return _mm512_xor_si512(a.v, b.v); }
PXI_L VU operator+(VU a, VU b) { return _mm512_add_epi32(a.v, b.v); }
PXI_L VU operator-(VU a, VU b) { return _mm512_sub_epi32(a.v, b.v); }
PXI_L VU operator>>(VU a, int n) { return _mm512_srli_epi32(a.v, static_cast<unsigned>(n)); }
PXI_L VU operator<<(VU a, int n) { return _mm512_slli_epi32(a.v, static_cast<unsigned>(n)); }
PXI_L VU& operator&=(VU& a, VU b) { return a = a & b; }
PXI_L VU& operator|=(VU& a, VU b) { return a = a | b; }
PXI_L VU& operator^=(VU& a, VU b) { return a = a ^ b; }
PXI_L VU& operator+=(VU& a, VU b) { return a = a + b; }
PXI_L VU& operator-=(VU& a, VU b) { return a = a - b; }
// Unsigned comparisons (the contract only needs lanes < 2^31, where signed and unsigned agree).
PXI_L M16 operator<(VU a, VU b) { return {_mm512_cmplt_epu32_mask(a.v, b.v)}; }
PXI_L M16 operator>(VU a, VU b) { return {_mm512_cmpgt_epu32_mask(a.v, b.v)}; }
PXI_L VU select(M16 m, VU a, VU b) { return _mm512_mask_blend_epi32(m.m, b.v, a.v); }

// Philox's 32x32 -> 64 multiply by a constant: even lanes and odd lanes through vpmuludq, then the
// high and low halves picked back into lane order.
PXI_L void mulhilo(VU a, uint32_t m, VU& hi, VU& lo) {
  const __m512i mm = _mm512_set1_epi64(m);
  const __m512i even = _mm512_mul_epu32(a.v, mm);                        // a[2j] m, 64-bit
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a.v, 32), mm);  // a[2j+1] m
#if PXI_MULHILO == 1
  const __m512i hi_idx = _mm512_set_epi32(31, 15, 29, 13, 27, 11, 25, 9, 23, 7, 21, 5, 19, 3, 17, 1);
  const __m512i lo_idx = _mm512_set_epi32(30, 14, 28, 12, 26, 10, 24, 8, 22, 6, 20, 4, 18, 2, 16, 0);
  hi = _mm512_permutex2var_epi32(even, hi_idx, odd);
  lo = _mm512_permutex2var_epi32(even, lo_idx, odd);
#elif PXI_MULHILO == 2
  lo = _mm512_mullo_epi32(a.v, _mm512_set1_epi32(static_cast<int>(m)));
  hi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, _MM_PERM_CDAB);
#else
  // hi: the high halves of even's products move down into the even lanes of odd's;
  // lo: the low halves of odd's products move up into the odd lanes of even's.
  hi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, _MM_PERM_CDAB);
  lo = _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CDAB);
#endif
}

// ---- 16 x float -------------------------------------------------------------------------------
struct VF {
  __m512 v;
  VF() = default;
  PXI_L VF(__m512 x) : v(x) {}
  PXI_L VF(float x) : v(_mm512_set1_ps(x)) {}
};
PXI_L VF operator+(VF a, VF b) { return _mm512_add_ps(a.v, b.v); }
PXI_L VF operator-(VF a, VF b) { return _mm512_sub_ps(a.v, b.v); }
PXI_L VF operator*(VF a, VF b) { return _mm512_mul_ps(a.v, b.v); }
PXI_L VF operator/(VF a, VF b) { return _mm512_div_ps(a.v, b.v); }
PXI_L VF operator-(VF a) {  // flips the sign bit, as scalar negation does
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a.v), _mm512_set1_epi32(INT32_MIN)));
}
PXI_L VF& operator+=(VF& a, VF b) { return a = a + b; }
PXI_L VF& operator-=(VF& a, VF b) { return a = a - b; }
PXI_L VF& operator*=(VF& a, VF b) { return a = a * b; }
PXI_L VF& operator/=(VF& a, VF b) { return a = a / b; }
PXI_L M16 operator<(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
PXI_L M16 operator>(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
PXI_L M16 operator<=(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
PXI_L M16 operator>=(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)}; }
PXI_L VF select(M16 m, VF a, VF b) { return _mm512_mask_blend_ps(m.m, b.v, a.v); }
// vmin(a, b) = b < a ? b : a and vmax(a, b) = a < b ? b : a, exactly (NaN and signed zeros
// included): vminps(x, y) returns x < y ? x : y, vmaxps(x, y) returns x > y ? x : y.
PXI_L VF vmin(VF a, VF b) { return _mm512_min_ps(b.v, a.v); }
PXI_L VF vmax(VF a, VF b) { return _mm512_max_ps(b.v, a.v); }
PXI_L VF vsqrt(VF a) { return _mm512_sqrt_ps(a.v); }
PXI_L VU as_bits(VF a) { return _mm512_castps_si512(a.v); }
PXI_L VF as_float(VU a) { return _mm512_castsi512_ps(a.v); }
PXI_L VF to_float_i31(VU a) { return _mm512_cvtepi32_ps(a.v); }  // MXCSR: round to nearest even

// Precision-generic spellings of the conversions (the second argument picks the lane precision).
PXI_L VF to_float_exact(VU a, VF) { return to_float_i31(a); }
PXI_L VF from_bits(VU a, VF) { return as_float(a); }

// ---- 8 x uint64 -------------------------------------------------------------------------------
struct VQ {
  __m512i v;
  VQ() = default;
  PXI_L VQ(__m512i x) : v(x) {}
  PXI_L VQ(uint64_t x) : v(_mm512_set1_epi64(static_cast<long long>(x))) {}
};
PXI_L VQ operator&(VQ a, VQ b) { return _mm512_and_si512(a.v, b.v); }
PXI_L VQ operator|(VQ a, VQ b) { return _mm512_or_si512(a.v, b.v); }
PXI_L VQ operator^(VQ a, VQ b) { return _mm512_xor_si512(a.v, b.v); }
PXI_L VQ operator+(VQ a, VQ b) { return _mm512_add_epi64(a.v, b.v); }
PXI_L VQ operator-(VQ a, VQ b) { return _mm512_sub_epi64(a.v, b.v); }
PXI_L VQ operator>>(VQ a, int n) { return _mm512_srli_epi64(a.v, static_cast<unsigned>(n)); }
PXI_L VQ operator<<(VQ a, int n) { return _mm512_slli_epi64(a.v, static_cast<unsigned>(n)); }
PXI_L VQ& operator&=(VQ& a, VQ b) { return a = a & b; }
PXI_L VQ& operator|=(VQ& a, VQ b) { return a = a | b; }
PXI_L VQ& operator^=(VQ& a, VQ b) { return a = a ^ b; }
PXI_L VQ& operator+=(VQ& a, VQ b) { return a = a + b; }
PXI_L VQ& operator-=(VQ& a, VQ b) { return a = a - b; }
PXI_L M8 operator<(VQ a, VQ b) { return {_mm512_cmplt_epu64_mask(a.v, b.v)}; }
PXI_L M8 operator>(VQ a, VQ b) { return {_mm512_cmpgt_epu64_mask(a.v, b.v)}; }
PXI_L VQ select(M8 m, VQ a, VQ b) { return _mm512_mask_blend_epi64(m.m, b.v, a.v); }

// ---- 8 x double -------------------------------------------------------------------------------
struct VD {
  __m512d v;
  VD() = default;
  PXI_L VD(__m512d x) : v(x) {}
  PXI_L VD(double x) : v(_mm512_set1_pd(x)) {}
};
PXI_L VD operator+(VD a, VD b) { return _mm512_add_pd(a.v, b.v); }
PXI_L VD operator-(VD a, VD b) { return _mm512_sub_pd(a.v, b.v); }
PXI_L VD operator*(VD a, VD b) { return _mm512_mul_pd(a.v, b.v); }
PXI_L VD operator/(VD a, VD b) { return _mm512_div_pd(a.v, b.v); }
PXI_L VD operator-(VD a) {
  return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(a.v), _mm512_set1_epi64(INT64_MIN)));
}
PXI_L VD& operator+=(VD& a, VD b) { return a = a + b; }
PXI_L VD& operator-=(VD& a, VD b) { return a = a - b; }
PXI_L VD& operator*=(VD& a, VD b) { return a = a * b; }
PXI_L VD& operator/=(VD& a, VD b) { return a = a / b; }
PXI_L M8 operator<(VD a, VD b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_LT_OQ)}; }
PXI_L M8 operator>(VD a, VD b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_GT_OQ)}; }
PXI_L M8 operator<=(VD a, VD b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_LE_OQ)}; }
PXI_L M8 operator>=(VD a, VD b) { return {_mm512_cmp_pd_mask(a.v, b.v, _CMP_GE_OQ)}; }
PXI_L VD select(M8 m, VD a, VD b) { return _mm512_mask_blend_pd(m.m, b.v, a.v); }
PXI_L VD vmin(VD a, VD b) { return _mm512_min_pd(b.v, a.v); }
PXI_L VD vmax(VD a, VD b) { return _mm512_max_pd(b.v, a.v); }
PXI_L VD vsqrt(VD a) { return _mm512_sqrt_pd(a.v); }
PXI_L VQ as_bits(VD a) { return _mm512_castpd_si512(a.v); }
PXI_L VD as_double(VQ a) { return _mm512_castsi512_pd(a.v); }
PXI_L VD to_double_i63(VQ a) { return _mm512_cvtepi64_pd(a.v); }  // AVX512DQ, round to nearest

PXI_L VD to_float_exact(VQ a, VD) { return to_double_i63(a); }
PXI_L VD from_bits(VQ a, VD) { return as_double(a); }

// ---- what the fill kernel needs beyond the math -------------------------------------------------
struct Isa {
  static constexpr int L = 16;  // uint32 / float lanes; 8 uint64 / double lanes
  using U = VU;
  using F = VF;
  using Q = VQ;
  using D = VD;
  static PXI_L VU iota() { return _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0); }
  static PXI_L VU load(const uint32_t* p) { return _mm512_loadu_si512(p); }
  // Block-major words (vector w = word w of blocks 0..15) -> element order (vector k = words
  // 16k .. 16k+15 of the 64-word stretch, i.e. blocks 4k .. 4k+3).
  static PXI_L void transpose(VU& a, VU& b, VU& c, VU& d) {
    // Interleave pairs: ab0 = a0 b0 a1 b1 .. a7 b7, ab1 = a8 b8 .. a15 b15 (same for cd).
    const __m512i lo_idx = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi_idx = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    const __m512i ab0 = _mm512_permutex2var_epi32(a.v, lo_idx, b.v);
    const __m512i ab1 = _mm512_permutex2var_epi32(a.v, hi_idx, b.v);
    const __m512i cd0 = _mm512_permutex2var_epi32(c.v, lo_idx, d.v);
    const __m512i cd1 = _mm512_permutex2var_epi32(c.v, hi_idx, d.v);
    // Then 64-bit pairs: out = ab(j) cd(j) ab(j+1) cd(j+1) ..
    const __m512i q_lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    const __m512i q_hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    a = _mm512_permutex2var_epi64(ab0, q_lo, cd0);
    b = _mm512_permutex2var_epi64(ab0, q_hi, cd0);
    c = _mm512_permutex2var_epi64(ab1, q_lo, cd1);
    d = _mm512_permutex2var_epi64(ab1, q_hi, cd1);
  }
  static PXI_L VQ as_q(VU a) { return a.v; }
  static PXI_L void store(void* p, VU a) { _mm512_storeu_si512(p, a.v); }
  static PXI_L void store(void* p, VF a) { _mm512_storeu_ps(p, a.v); }
  static PXI_L void store(void* p, VD a) { _mm512_storeu_pd(p, a.v); }
  static PXI_L void stream(void* p, VU a) { _mm512_stream_si512(static_cast<__m512i*>(p), a.v); }
  static PXI_L void stream(void* p, VF a) { _mm512_stream_ps(static_cast<float*>(p), a.v); }
  static PXI_L void stream(void* p, VD a) { _mm512_stream_pd(static_cast<double*>(p), a.v); }
  // Two vectors of 16-bit values (in the low half of each lane) -> 32 halves in order.
  static PXI_L void store16(void* p, VU a, VU b) {
    _mm256_storeu_si256(static_cast<__m256i*>(p), _mm512_cvtepi32_epi16(a.v));
    _mm256_storeu_si256(static_cast<__m256i*>(p) + 1, _mm512_cvtepi32_epi16(b.v));
  }
  static PXI_L void stream16(void* p, VU a, VU b) {
    const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(a.v)),
                                         _mm512_cvtepi32_epi16(b.v), 1);
    _mm512_stream_si512(static_cast<__m512i*>(p), v);
  }
  // float -> IEEE binary16 bits, round to nearest even (vcvtps2ph ignores MXCSR.FTZ/DAZ for the
  // conversion itself); and back.
  static PXI_L VU f16_bits(VF a) {
    return _mm512_cvtepu16_epi32(_mm512_cvtps_ph(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  static PXI_L VF f16_to_f32(VU h) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h.v)); }
  static PXI_L void fence() { _mm_sfence(); }
};

#undef PXI_L

}  // namespace lanes512
}  // namespace philoxinit
