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
#include "multi.h"

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

// ---- Philox lanes: one uint32 in the low half of each 64-bit lane ---------------------------------
// The high half is don't-care. vpmuludq multiplies exactly these low halves, so a 32x32 -> 64
// product needs no shuffling: its low word is already in place, and its high word comes down by
// swapping the halves (vpshufd can issue to any vector pipe, where a 64-bit shift competes with
// the transforms' float additions for the shift pipes).
// Philox runs on Multi's of these (Isa::words) through the same template as everything else.
struct VP {
  __m512i v;
  VP() = default;
  PXI_L VP(__m512i x) : v(x) {}
  PXI_L VP(uint32_t x) : v(_mm512_set1_epi32(static_cast<int>(x))) {}
};
PXI_L VP operator^(VP a, VP b) { return _mm512_xor_si512(a.v, b.v); }
PXI_L void mulhilo(VP a, uint32_t m, VP& hi, VP& lo) {
  const __m512i p = _mm512_mul_epu32(a.v, _mm512_set1_epi32(static_cast<int>(m)));
  lo = p;
  hi = _mm512_shuffle_epi32(p, _MM_PERM_CDAB);
}

// One vpternlogd reading the key word from memory as an embedded broadcast. Written as asm
// because GCC, given the intrinsics, broadcasts every round's key into a register of its own
// and, with the 16 state vectors of a batch, runs out of registers and spills.
PXI_L VP xor_key(VP a, VP b, const uint32_t& k) {
  __m512i r = a.v;
  asm("vpternlogd {$0x96, %2%{1to16%}, %1, %0|%0, %1, %2%{1to16%}, 0x96}" : "+v"(r) : "v"(b.v), "m"(k));
  return r;
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
PXI_L VF to_float_rn(VU a, VF) { return to_float_i31(a); }
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

PXI_L VD to_float_rn(VQ a, VD) { return to_double_i63(a); }
PXI_L VD from_bits(VQ a, VD) { return as_double(a); }

// ---- what the fill kernel needs beyond the math -------------------------------------------------
struct Isa {
  static constexpr int L = 16;  // uint32 / float lanes; 8 uint64 / double lanes
  using U = VU;
  using F = VF;
  using Q = VQ;
  using D = VD;
  // Iterations whose blocks words() computes at once: 64 blocks, sixteen independent multiply chains
  // per round, enough to hide a round's multiply latency; fewer leave the pipes idle, more spill
  // (16, 32, 48 and 64 blocks measured; 64 was fastest with the scheduling pass of CMakeLists.txt).
  static constexpr int kBatch = 4;
  // The four words of blocks b .. b + 16 kBatch - 1 of (key, stream), in element order: vector k
  // holds words 16k .. 16k+15 of the stretch (blocks 4k .. 4k+3). The blocks share the high word of
  // their number (kernel_simd.h sees to it), so only counter word 0 differs: b's low word + lane.
  static PXI_L void words(uint32_t b, const SharedRounds& s, const RoundKeys& rk, VU (&x)[4 * kBatch]) {
    constexpr int H = 2 * kBatch;  // vectors of 8 blocks
    // Block b + 8h + j in 64-bit lane j of vector h (no carry out of the low word: see above).
    const __m512i base = _mm512_add_epi32(_mm512_set1_epi64(b), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    multi::Multi<VP, H> c0, c1, c2, c3;
    for (int h = 0; h < H; ++h) c0.v[h] = _mm512_add_epi32(base, _mm512_set1_epi64(8 * h));
    philox4x32_10_shared(c0, c1, c2, c3, s, rk);
    // Words 0,1 and 2,3 of each block side by side (low halves only), then blocks in order.
    const __m512i pair = _mm512_set_epi32(30, 14, 28, 12, 26, 10, 24, 8, 22, 6, 20, 4, 18, 2, 16, 0);
    const __m512i q_lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    const __m512i q_hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    for (int h = 0; h < H; ++h) {
      const __m512i w01 = _mm512_permutex2var_epi32(c0.v[h].v, pair, c1.v[h].v);  // b0w0 b0w1 b1w0 ..
      const __m512i w23 = _mm512_permutex2var_epi32(c2.v[h].v, pair, c3.v[h].v);
      x[2 * h] = _mm512_permutex2var_epi64(w01, q_lo, w23);      // blocks 8h .. 8h+3
      x[2 * h + 1] = _mm512_permutex2var_epi64(w01, q_hi, w23);  // blocks 8h+4 .. 8h+7
    }
  }
  // Neighbouring lanes (2j, 2j+1) of x0, x1 -> a (first) and b (second), pair for pair (in a lane
  // order of the ISA's own, which zip undoes): vshufps / vunpck work within each 128-bit lane.
  static PXI_L void unzip(VU x0, VU x1, VU& a, VU& b) {
    const auto f0 = _mm512_castsi512_ps(x0.v), f1 = _mm512_castsi512_ps(x1.v);
    a = _mm512_castps_si512(_mm512_shuffle_ps(f0, f1, 0x88));
    b = _mm512_castps_si512(_mm512_shuffle_ps(f0, f1, 0xDD));
  }
  static PXI_L void zip(VF z0, VF z1, VF& y0, VF& y1) {
    y0 = _mm512_unpacklo_ps(z0.v, z1.v);
    y1 = _mm512_unpackhi_ps(z0.v, z1.v);
  }
  static PXI_L void unzip(VQ x0, VQ x1, VQ& a, VQ& b) {
    a = _mm512_unpacklo_epi64(x0.v, x1.v);
    b = _mm512_unpackhi_epi64(x0.v, x1.v);
  }
  static PXI_L void zip(VD z0, VD z1, VD& y0, VD& y1) {
    y0 = _mm512_unpacklo_pd(z0.v, z1.v);
    y1 = _mm512_unpackhi_pd(z0.v, z1.v);
  }
  static PXI_L VQ as_q(VU a) { return a.v; }
  static PXI_L void store(void* p, VU a) { _mm512_storeu_si512(p, a.v); }
  static PXI_L void store(void* p, VF a) { _mm512_storeu_ps(p, a.v); }
  static PXI_L void store(void* p, VD a) { _mm512_storeu_pd(p, a.v); }
  static PXI_L void stream(void* p, VU a) { _mm512_stream_si512(static_cast<__m512i*>(p), a.v); }
  static PXI_L void stream(void* p, VF a) { _mm512_stream_ps(static_cast<float*>(p), a.v); }
  static PXI_L void stream(void* p, VD a) { _mm512_stream_pd(static_cast<double*>(p), a.v); }
  // Two vectors of 16-bit values (in the low half of each lane) -> 32 halves in order: one
  // two-source word permute picks the even 16-bit elements of a, then of b.
  static PXI_L __m512i pack16(VU a, VU b) {
    const __m512i even = _mm512_set_epi16(62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32,
                                          30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_epi16(a.v, even, b.v);
  }
  static PXI_L void store16(void* p, VU a, VU b) { _mm512_storeu_si512(p, pack16(a, b)); }
  static PXI_L void stream16(void* p, VU a, VU b) { _mm512_stream_si512(static_cast<__m512i*>(p), pack16(a, b)); }
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
