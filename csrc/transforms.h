// Random words -> values: the single source of truth for every backend (docs/contract.md).
//
// Every transform is a template over the lane types so that the scalar CPU path, the SIMD paths
// and CUDA run exactly the same IEEE operations in the same order:
//   F  a float32 lane (float, or a SIMD vector of floats), U its uint32 lane type;
//   D  a float64 lane (double, or a SIMD vector of doubles), Q its uint64 lane type.
// A lane type provides + - * / comparisons, the bit operators, and the free functions below
// (as_float, as_bits, to_float_i31, select, vmin, vmax, vsqrt, ...). Scalar versions are here.
//
// Builds must never contract a*b+c into an FMA (-ffp-contract=off, nvcc --fmad=false): the
// contract fixes the rounding of every step.
#pragma once
#include <cstdint>
#include <cstring>

#include "philox.h"
#include "quantile_coeffs.h"

namespace philoxinit {

// ---- scalar lane operations (SIMD lane types overload the same names) -------------------------
PXI_HD float as_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}
PXI_HD uint32_t as_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}
PXI_HD double as_double(uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double d;
  std::memcpy(&d, &u, 8);
  return d;
#endif
}
PXI_HD uint64_t as_bits(double d) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(d));
#else
  uint64_t u;
  std::memcpy(&u, &d, 8);
  return u;
#endif
}
// u < 2^31 converted with one round-to-nearest-even (a signed int32 conversion on every ISA).
PXI_HD float to_float_i31(uint32_t u) { return static_cast<float>(static_cast<int32_t>(u)); }
// u < 2^63, correctly rounded to double.
PXI_HD double to_double_i63(uint64_t u) { return static_cast<double>(static_cast<int64_t>(u)); }
// Precision-generic spellings (the second argument only picks the lane precision).
PXI_HD float to_float_rn(uint32_t u, float) { return to_float_i31(u); }  // u < 2^31
PXI_HD double to_float_rn(uint64_t u, double) { return to_double_i63(u); }  // u < 2^63
PXI_HD float from_bits(uint32_t u, float) { return as_float(u); }
PXI_HD double from_bits(uint64_t u, double) { return as_double(u); }
template <class T>
PXI_HD T select(bool m, T a, T b) { return m ? a : b; }
template <class T>
PXI_HD T vmin(T a, T b) { return b < a ? b : a; }
template <class T>
PXI_HD T vmax(T a, T b) { return a < b ? b : a; }
PXI_HD float vsqrt(float x) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(x);
#else
  return __builtin_sqrtf(x);
#endif
}
PXI_HD double vsqrt(double x) {
#if defined(__CUDA_ARCH__)
  return __dsqrt_rn(x);
#else
  return __builtin_sqrt(x);
#endif
}
PXI_HD bool any(bool m) { return m; }
// The lane-wise minimum over the parts of a lane group (multi.h); a lane type is one part.
template <class V>
PXI_HD V min_of_parts(V v) { return v; }

// Horner's rule with separate multiply and add, coefficients highest degree first.
template <class V, class C, int N>
PXI_HD V horner(const C (&c)[N], V t) {
  V p = V(c[0]);
  for (int k = 1; k < N; ++k) p = p * t + V(c[k]);
  return p;
}
// The same at -t, computed at t: c - p t in place of p (-t) + c, the same roundings (IEEE rounding
// is symmetric), one negation less.
template <class V, class C, int N>
PXI_HD V horner_at_negative(const C (&c)[N], V t) {
  V p = V(c[0]);
  for (int k = 1; k < N; ++k) p = V(c[k]) - p * t;
  return p;
}

// ---- uniform ---------------------------------------------------------------------------------
// float32: u = (x >> 8) * 2^-24; v = low + u * width. The rule v >= high -> low is the store
// rule (fill.h finish32), applied once, after rounding to the dtype: for float32 rounding is the
// identity, and for float16 / bfloat16 a v >= high rounds to at least the rounded high, so the
// rule gives the rounded low either way.
template <class F, class U>
PXI_HD F uniform_f32(U x, float low, float width) {
  const F u = to_float_i31(x >> 8) * F(0x1p-24f);
  return F(low) + u * F(width);
}

// float64: u = (((hi << 32) | lo) >> 11) * 2^-53, same rule in doubles.
template <class D, class Q>
PXI_HD D uniform_f64(Q bits, double low, double width, double high) {
  const D u = to_double_i63(bits >> 11) * D(0x1p-53);
  const D v = D(low) + u * D(width);
  return select(v < D(high), v, D(low));
}

// ---- log and the normal quantile from basic operations ----------------------------------------
#include "quantile_impl.h"

// ---- normal: Box-Muller on pairs of words -------------------------------------------------------
// A pair of words (a, b) gives two values: r = sqrt(-2 log u1) with u1 in (0, 1] from a, and the
// angle theta = 2 pi b / 2^N from b (N = 32, or 64 for float64's 64-bit words); z0 = r cos theta,
// z1 = r sin theta. The angle needs no range reduction: b's top three bits are the octant o, the
// rest k the position in it; phi = k' * (pi/4) / 2^shift with k' = k in even octants and
// 2^shift - k in odd ones, so phi is in [0, pi/4] and cos / sin of theta are +-cos / sin of phi,
// swapped in octants 1, 2, 5, 6 (bit o0 ^ o1), cos negative in octants 2..5 (o1 ^ o2), sin in 4..7.

// sin and cos of phi in [0, pi/4], z = phi^2: sin = phi + phi (z S(z)), cos = (1 - z/2) + z^2 K(z).
template <class F, class C, int NS, int NC>
PXI_HD void sincos_octant(F phi, const C (&kS)[NS], const C (&kK)[NC], F& s, F& c) {
  const F z = phi * phi;
  s = phi + phi * (z * horner(kS, z));
  c = (F(C(1)) - z * F(C(0.5))) + (z * z) * horner(kK, z);
}

// The pair's values mean + std r (cos theta, sin theta), r = sqrt(-2 log u1), for the angle word b;
// W is b's scalar integer type, Log the lane precision's log.
template <class F, class U, class W, class C, int NS, int NC, class Log>
PXI_HD void box_muller(F u1, U b, C mean, C std, int shift, C step, const C (&kS)[NS], const C (&kK)[NC],
                       Log log, F& v0, F& v1) {
  const F r = vsqrt(log(u1) * F(C(-2)));
  const W low = W(1) << shift;  // the octant's lowest bit
  const U k = b & U(low - 1);
  const U kk = select(U(W(0)) < (b & U(low)), U(low) - k, k);
  F s, c;
  sincos_octant(to_float_rn(kk, F(C(0))) * F(step), kS, kK, s, c);
  const U t = b ^ (b << 1);  // bit shift+1: o0 ^ o1 (swap), bit shift+2: o1 ^ o2 (cos < 0)
  const auto swap = U(W(0)) < (t & U(low << 1));
  const F x = select(swap, s, c), y = select(swap, c, s);
  v0 = F(mean) + F(std) * from_bits(as_bits(r * x) ^ (t & U(low << 2)), F(C(0)));
  v1 = F(mean) + F(std) * from_bits(as_bits(r * y) ^ (b & U(low << 2)), F(C(0)));
}
struct LogF32 {
  template <class F>
  PXI_HD F operator()(F y) const { return log_f32(y); }
};
struct LogF64 {
  template <class D>
  PXI_HD D operator()(D y) const { return log_f64(y); }
};

// float32: u1 = (a >> 1) 2^-31 + 2^-32 (the conversion rounds to nearest; u1 in [2^-32, 1]).
template <class F, class U>
PXI_HD void normal_pair_f32(U a, U b, float mean, float std, F& v0, F& v1) {
  using namespace coeffs;
  const F u1 = to_float_i31(a >> 1) * F(0x1p-31f) + F(0x1p-32f);
  box_muller<F, U, uint32_t>(u1, b, mean, std, kOctantShift_f32, kAngleStep_f32, kSin_f32, kCos_f32, LogF32{}, v0, v1);
}

// float64: the same with 64-bit words, u1 = (a >> 1) 2^-63 + 2^-64.
template <class D, class Q>
PXI_HD void normal_pair_f64(Q a, Q b, double mean, double std, D& v0, D& v1) {
  using namespace coeffs;
  const D u1 = to_double_i63(a >> 1) * D(0x1p-63) + D(0x1p-64);
  box_muller<D, Q, uint64_t>(u1, b, mean, std, kOctantShift_f64, kAngleStep_f64, kSin_f64, kCos_f64, LogF64{}, v0, v1);
}

// ---- truncated normal -------------------------------------------------------------------------
// One pass, no resampling; u in (0, 1] from the word. The host standardizes [a, b] to [alpha, beta],
// reflects it so that most of its mass is below zero (flip = -1 when it reflected), and picks:
//   quantile mode (series = false): t0 = Phi(alpha), dt = Phi(beta) - Phi(alpha); q = t0 + u dt
//     and z = Phi^-1(q) (via the lower tail: q > 1/2 uses -Phi^-1(1 - q)). Exact to the
//     quantile's accuracy, and precise wherever Phi(z) is small, i.e. deep in the tails.
//   series mode (series = true, narrow intervals, for h = beta - alpha with h max(1, |alpha|) <= 2^-7): t0 = alpha,
//     dt = c(h) = (Phi(alpha + h) - Phi(alpha)) / phi(alpha). With T = u c(h), the inverse of
//     c(delta) = T to third order is delta = T + T^2 (alpha/2 + T (2 alpha^2 + 1)/6), z = alpha + delta
//     (relative error in delta below 2^-21), so intervals narrower than a float32 step of Phi keep
//     full resolution anywhere.
// v = mean + std (flip z); the caller clamps it to the dtype-rounded bounds.
// The quantile of each lane precision, as a functor so one std_trunc serves both; kTails false
// leaves out the tail regions, for requests whose draws never reach them (fill.h).
template <bool kTails>
struct QuantileF32 {
  template <class F>
  PXI_HD F operator()(F q) const { return quantile_f32<kTails>(q); }
};
struct QuantileF64 {
  template <class D>
  PXI_HD D operator()(D q) const { return quantile_f64(q); }
};

// The standardized value z for u in (0, 1]; V is a float or double lane type, S its scalar.
// q = t0 + u dt never exceeds 1 (quantile_f32 / _f64 rely on it): u <= 1 and rounding is
// monotone, so q <= fl(t0 + dt), and the host's t0 = Phi(alpha) <= 1/2 and dt = Phi(beta) -
// Phi(alpha) <= 1 - t0, each rounded to the lane precision (float32 after double), sum to less
// than 1 + ulp(1)/2 (tested: test_trunc_normal_draws_q_at_most_one).
template <class V, class S, class Quantile>
PXI_HD V std_trunc(V u, S t0, S dt, bool series, Quantile quantile) {
  if (series) {
    const V alpha = V(t0);
    const V T = u * V(dt);
    const V k2 = alpha * V(S(0.5));
    const V k3 = ((alpha * alpha) * V(S(2)) + V(S(1))) / V(S(6));
    return alpha + (T + (T * T) * (k2 + T * k3));
  }
  return quantile(V(t0) + u * V(dt));
}

// u = (x >> 8) 2^-24 + 2^-25, computed as k 2^-25 with the odd integer k = 2 (x >> 8) + 1 < 2^25
// converted with one rounding: the same rounding as adding 1/2 to x >> 8 in float32.
// flip = +-1 multiplies std, not z: the same product, one operation less per value.
// kCentral: a request whose draws stay out of the quantile's tails and whose dt 2^-25 is normal or
// zero (fill.h, cpu_central); u enters only as u dt, which is then k (dt 2^-25) exactly, and the
// quantile is compiled without its tail test.
template <class F, class U, bool kCentral = false>
PXI_HD F trunc_normal_f32(U x, float t0, float dt, float flip, bool series, float mean, float std) {
  const F k = to_float_i31((x >> 7) | U(1u));
  F z;
  if constexpr (kCentral) {
    z = std_trunc(k, t0, dt * 0x1p-25f, series, QuantileF32<false>{});
  } else {
    z = std_trunc(k * F(0x1p-25f), t0, dt, series, QuantileF32<true>{});
  }
  return F(mean) + F(std * flip) * z;
}
template <class D, class Q>
PXI_HD D trunc_normal_f64(Q bits, double t0, double dt, double flip, bool series, double mean,
                          double std) {
  const D u = to_double_i63((bits >> 10) | Q(uint64_t(1))) * D(0x1p-54);
  return D(mean) + D(std * flip) * std_trunc(u, t0, dt, series, QuantileF64{});
}

// ---- narrow float formats: round to nearest even, finite inputs --------------------------------
PXI_HD uint16_t f32_to_bf16_bits(float f) {
  const uint32_t u = as_bits(f);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
PXI_HD float bf16_bits_to_f32(uint16_t h) { return as_float(static_cast<uint32_t>(h) << 16); }

PXI_HD uint16_t f32_to_f16_bits(float f) {
  const uint32_t u = as_bits(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7fffffffu;
  if (a >= 0x477ff000u) {  // rounds to >= 65520: overflow to inf (NaN never reaches here)
    return static_cast<uint16_t>(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));
  }
  if (a < 0x38800000u) {  // below 2^-14: subnormal half; add 0.5 so the FPU rounds at 2^-24
    const float r = as_float(a) + 0.5f;  // exact sum then one RNE at the 2^-24 step
    return static_cast<uint16_t>(sign | (as_bits(r) - as_bits(0.5f)));
  }
  const uint32_t rounded = a + 0xfffu + ((a >> 13) & 1u);  // RNE at bit 13
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}
PXI_HD float f16_bits_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t a = h & 0x7fffu;
  if (a >= 0x7c00u) return as_float(sign | 0x7f800000u | (a & 0x3ffu) << 13);
  if (a < 0x400u) {  // subnormal: a * 2^-24 is exact in float32
    const float v = static_cast<float>(a) * 0x1p-24f;
    return as_float(sign | as_bits(v));
  }
  return as_float(sign | ((a << 13) + 0x38000000u));
}

}  // namespace philoxinit
