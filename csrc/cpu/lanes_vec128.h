// Portable 128-bit lane types for the templates in philox.h, transforms.h and fill.h, written with
// GCC / Clang vector extensions: the compiler maps them to SSE2 on any x86-64 and to NEON on
// AArch64, with no intrinsics and no run-time CPU check. 4 float / uint32 lanes, 2 double / uint64
// lanes; every operation is the IEEE operation the scalar code runs, lane by lane (no FMA: this
// unit is compiled with -ffp-contract=off like the rest).
//
// Only for the vec128 translation unit (isa_vec128.cpp), which includes the shared headers under
// its own namespace. Little-endian targets only (the dispatcher never picks it elsewhere): the
// vector casts below read words out of wider lanes in little-endian order.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#include "../transforms.h"
#include "multi.h"

namespace philoxinit {
namespace lanes128 {

#define PXI_L inline __attribute__((always_inline))

typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef float f32x4 __attribute__((vector_size(16)));
typedef uint64_t u64x2 __attribute__((vector_size(16)));
typedef int64_t i64x2 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));

// ---- masks: lanes of all ones or all zeros, as vector comparisons give them ----------------------
struct M32 {
  i32x4 m;
};
struct M64 {
  i64x2 m;
};
PXI_L M32 operator&(M32 a, M32 b) { return {a.m & b.m}; }
PXI_L M32 operator|(M32 a, M32 b) { return {a.m | b.m}; }
PXI_L M32 operator~(M32 a) { return {~a.m}; }
PXI_L M32 operator!(M32 a) { return ~a; }
PXI_L M64 operator&(M64 a, M64 b) { return {a.m & b.m}; }
PXI_L M64 operator|(M64 a, M64 b) { return {a.m | b.m}; }
PXI_L M64 operator~(M64 a) { return {~a.m}; }
PXI_L M64 operator!(M64 a) { return ~a; }
PXI_L bool any(M32 a) { return (a.m[0] | a.m[1] | a.m[2] | a.m[3]) != 0; }
PXI_L bool any(M64 a) { return (a.m[0] | a.m[1]) != 0; }

// Lanewise operators of a wrapper type T around the vector V, and its assignment forms.
#define PXI_VEC_OPS(T, OP)                                          \
  PXI_L T operator OP(T a, T b) { return T(a.v OP b.v); }          \
  PXI_L T& operator OP##=(T & a, T b) { return a = a OP b; }

// ---- 4 x uint32 -------------------------------------------------------------------------------
struct VU {
  u32x4 v;
  VU() = default;
  PXI_L VU(u32x4 x) : v(x) {}
  PXI_L VU(uint32_t x) : v(u32x4{x, x, x, x}) {}
};
PXI_VEC_OPS(VU, &)
PXI_VEC_OPS(VU, |)
PXI_VEC_OPS(VU, ^)
PXI_VEC_OPS(VU, +)
PXI_VEC_OPS(VU, -)
PXI_L VU operator>>(VU a, int n) { return VU(a.v >> n); }
PXI_L VU operator<<(VU a, int n) { return VU(a.v << n); }
PXI_L M32 operator<(VU a, VU b) { return {(i32x4)(a.v < b.v)}; }  // unsigned lanes compare unsigned
PXI_L M32 operator>(VU a, VU b) { return {(i32x4)(a.v > b.v)}; }
PXI_L VU select(M32 m, VU a, VU b) { return VU(m.m ? a.v : b.v); }

// ---- Philox lanes: one uint32 in the low half of each 64-bit lane (as in lanes_avx512.h) -------
// The product of the low half and a 32-bit constant is a full 64-bit one: its low word is in place
// for the next round and its high word one shift away. The one operation written per target: a
// plain 64-bit vector multiply is what compilers see in the generic form, and they turn a multiply
// by a constant into shifts and adds (measured: as slow as the scalar kernel).
struct VP {
  u64x2 v;
  VP() = default;
  PXI_L VP(u64x2 x) : v(x) {}
  PXI_L VP(uint32_t x) : v(u64x2{x, x}) {}
};
PXI_L VP operator^(VP a, VP b) { return VP(a.v ^ b.v); }
PXI_L void mulhilo(VP a, uint32_t m, VP& hi, VP& lo) {
#if defined(__SSE2__)
  const u64x2 p = (u64x2)_mm_mul_epu32((__m128i)a.v, _mm_set1_epi32(static_cast<int>(m)));
#elif defined(__ARM_NEON)
  const u64x2 p = vmull_n_u32(vmovn_u64(a.v), m);
#else
  const u64x2 p = (a.v & 0xffffffffu) * static_cast<uint64_t>(m);
#endif
  lo = VP(p);
  hi = VP(p >> 32);
}

// ---- 4 x float --------------------------------------------------------------------------------
struct VF {
  f32x4 v;
  VF() = default;
  PXI_L VF(f32x4 x) : v(x) {}
  PXI_L VF(float x) : v(f32x4{x, x, x, x}) {}
};
PXI_VEC_OPS(VF, +)
PXI_VEC_OPS(VF, -)
PXI_VEC_OPS(VF, *)
PXI_VEC_OPS(VF, /)
PXI_L VF operator-(VF a) { return VF((f32x4)((u32x4)a.v ^ 0x80000000u)); }  // flips the sign bit
PXI_L M32 operator<(VF a, VF b) { return {a.v < b.v}; }
PXI_L M32 operator>(VF a, VF b) { return {a.v > b.v}; }
PXI_L M32 operator<=(VF a, VF b) { return {a.v <= b.v}; }
PXI_L M32 operator>=(VF a, VF b) { return {a.v >= b.v}; }
PXI_L VF select(M32 m, VF a, VF b) { return VF(m.m ? a.v : b.v); }
PXI_L VF vmin(VF a, VF b) { return select(b < a, b, a); }
PXI_L VF vmax(VF a, VF b) { return select(a < b, b, a); }
PXI_L VF vsqrt(VF a) {  // lane by lane (the compiler emits sqrtps / fsqrt v.4s)
  for (int i = 0; i < 4; ++i) a.v[i] = __builtin_sqrtf(a.v[i]);
  return a;
}
PXI_L VU as_bits(VF a) { return VU((u32x4)a.v); }
PXI_L VF as_float(VU a) { return VF((f32x4)a.v); }
PXI_L VF to_float_i31(VU a) { return VF(__builtin_convertvector((i32x4)a.v, f32x4)); }  // round to nearest

PXI_L VF to_float_rn(VU a, VF) { return to_float_i31(a); }
PXI_L VF from_bits(VU a, VF) { return as_float(a); }

// ---- 2 x uint64 -------------------------------------------------------------------------------
struct VQ {
  u64x2 v;
  VQ() = default;
  PXI_L VQ(u64x2 x) : v(x) {}
  PXI_L VQ(uint64_t x) : v(u64x2{x, x}) {}
};
PXI_VEC_OPS(VQ, &)
PXI_VEC_OPS(VQ, |)
PXI_VEC_OPS(VQ, ^)
PXI_VEC_OPS(VQ, +)
PXI_VEC_OPS(VQ, -)
PXI_L VQ operator>>(VQ a, int n) { return VQ(a.v >> n); }
PXI_L VQ operator<<(VQ a, int n) { return VQ(a.v << n); }
PXI_L M64 operator<(VQ a, VQ b) { return {(i64x2)(a.v < b.v)}; }
PXI_L M64 operator>(VQ a, VQ b) { return {(i64x2)(a.v > b.v)}; }
PXI_L VQ select(M64 m, VQ a, VQ b) { return VQ(m.m ? a.v : b.v); }

// ---- 2 x double -------------------------------------------------------------------------------
struct VD {
  f64x2 v;
  VD() = default;
  PXI_L VD(f64x2 x) : v(x) {}
  PXI_L VD(double x) : v(f64x2{x, x}) {}
};
PXI_VEC_OPS(VD, +)
PXI_VEC_OPS(VD, -)
PXI_VEC_OPS(VD, *)
PXI_VEC_OPS(VD, /)
PXI_L VD operator-(VD a) { return VD((f64x2)((u64x2)a.v ^ 0x8000000000000000ull)); }
PXI_L M64 operator<(VD a, VD b) { return {a.v < b.v}; }
PXI_L M64 operator>(VD a, VD b) { return {a.v > b.v}; }
PXI_L M64 operator<=(VD a, VD b) { return {a.v <= b.v}; }
PXI_L M64 operator>=(VD a, VD b) { return {a.v >= b.v}; }
PXI_L VD select(M64 m, VD a, VD b) { return VD(m.m ? a.v : b.v); }
PXI_L VD vmin(VD a, VD b) { return select(b < a, b, a); }
PXI_L VD vmax(VD a, VD b) { return select(a < b, b, a); }
PXI_L VD vsqrt(VD a) {
  for (int i = 0; i < 2; ++i) a.v[i] = __builtin_sqrt(a.v[i]);
  return a;
}
PXI_L VQ as_bits(VD a) { return VQ((u64x2)a.v); }
PXI_L VD as_double(VQ a) { return VD((f64x2)a.v); }
PXI_L VD to_double_i63(VQ a) { return VD(__builtin_convertvector((i64x2)a.v, f64x2)); }  // round to nearest

PXI_L VD to_float_rn(VQ a, VD) { return to_double_i63(a); }
PXI_L VD from_bits(VQ a, VD) { return as_double(a); }

#undef PXI_VEC_OPS

// ---- what the fill kernel needs beyond the math -------------------------------------------------
struct Isa {
  static constexpr int L = 4;  // uint32 / float lanes; 2 uint64 / double lanes
  using U = VU;
  using F = VF;
  using Q = VQ;
  using D = VD;
  // Iterations whose blocks words() computes at once (lanes_avx512.h says why).
  static constexpr int kBatch = 2;
  // The four words of blocks b .. b+4 kBatch-1, in element order: vector k holds block k. Only
  // counter word 0 differs between them (lanes_avx512.h).
  static PXI_L void words(uint32_t b, const SharedRounds& s, const RoundKeys& rk, VU (&x)[4 * kBatch]) {
    constexpr int H = 2 * kBatch;  // vectors of 2 blocks
    multi::Multi<VP, H> c0, c1, c2, c3;
    const u64x2 base = u64x2{b, b + 1u};
    for (int h = 0; h < H; ++h) c0.v[h] = VP(base + 2u * h);
    philox4x32_10_shared(c0, c1, c2, c3, s, rk);
    for (int h = 0; h < H; ++h) {  // the low halves (lanes 0 and 2 as uint32) of the four words
      const u32x4 w0 = (u32x4)c0.v[h].v, w1 = (u32x4)c1.v[h].v, w2 = (u32x4)c2.v[h].v, w3 = (u32x4)c3.v[h].v;
      const u32x4 w01 = __builtin_shufflevector(w0, w1, 0, 4, 2, 6);  // b0w0 b0w1 b1w0 b1w1
      const u32x4 w23 = __builtin_shufflevector(w2, w3, 0, 4, 2, 6);
      x[2 * h] = VU(__builtin_shufflevector(w01, w23, 0, 1, 4, 5));
      x[2 * h + 1] = VU(__builtin_shufflevector(w01, w23, 2, 3, 6, 7));
    }
  }
  // Neighbouring lanes (2j, 2j+1) of x0, x1 -> a (first) and b (second), pair for pair; zip undoes it.
  static PXI_L void unzip(VU x0, VU x1, VU& a, VU& b) {
    a = VU(__builtin_shufflevector(x0.v, x1.v, 0, 2, 4, 6));
    b = VU(__builtin_shufflevector(x0.v, x1.v, 1, 3, 5, 7));
  }
  static PXI_L void zip(VF z0, VF z1, VF& y0, VF& y1) {
    y0 = VF(__builtin_shufflevector(z0.v, z1.v, 0, 4, 1, 5));
    y1 = VF(__builtin_shufflevector(z0.v, z1.v, 2, 6, 3, 7));
  }
  static PXI_L void unzip(VQ x0, VQ x1, VQ& a, VQ& b) {
    a = VQ(__builtin_shufflevector(x0.v, x1.v, 0, 2));
    b = VQ(__builtin_shufflevector(x0.v, x1.v, 1, 3));
  }
  static PXI_L void zip(VD z0, VD z1, VD& y0, VD& y1) {
    y0 = VD(__builtin_shufflevector(z0.v, z1.v, 0, 2));
    y1 = VD(__builtin_shufflevector(z0.v, z1.v, 1, 3));
  }
  static PXI_L VQ as_q(VU a) { return VQ((u64x2)a.v); }
  template <class V>
  static PXI_L void store(void* p, V a) { std::memcpy(p, &a.v, 16); }
  template <class V>
  static PXI_L void stream(void* p, V a) { store(p, a); }  // no portable non-temporal store
  // Two vectors of 16-bit values (in the low half of each lane) -> 8 halves in order.
  static PXI_L void store16(void* p, VU a, VU b) {
    const u16x8 h = __builtin_shufflevector((u16x8)a.v, (u16x8)b.v, 0, 2, 4, 6, 8, 10, 12, 14);
    std::memcpy(p, &h, 16);
  }
  static PXI_L void stream16(void* p, VU a, VU b) { store16(p, a, b); }
  // float <-> IEEE binary16 bits, lane by lane with the scalar code (no portable vector form).
  static PXI_L VU f16_bits(VF a) {
    VU r;
    for (int i = 0; i < 4; ++i) r.v[i] = f32_to_f16_bits(a.v[i]);
    return r;
  }
  static PXI_L VF f16_to_f32(VU h) {
    VF r;
    for (int i = 0; i < 4; ++i) r.v[i] = f16_bits_to_f32(static_cast<uint16_t>(h.v[i]));
    return r;
  }
  static PXI_L void fence() {}
};

#undef PXI_L

}  // namespace lanes128
}  // namespace philoxinit
