// log and the lower-tail normal quantile from basic IEEE operations (included by transforms.h).
// The roundings of python/philoxinit/_quantile_ref.py, which documents the formulae, op for op
// except for rewrites that give the same bits with fewer operations (named at quantile_f32). The
// constants are generated into quantile_coeffs.h by tools/fit_quantile.py. Lane types as in
// transforms.h; they also need <= and any(mask) (any() only skips rarely needed regions, never
// changes bits).
// Smallest probability the quantile is fitted for (quantile_f32 / _f64 clamp q(1 - q) to it).
constexpr float kQMin_f32 = 0x1p-126f;
constexpr double kQMin_f64 = 0x1p-1000;

// A polynomial's coefficients times a constant power of two or its negative: Horner's rule on them
// gives exactly that constant times every step on the originals (IEEE rounding is symmetric and
// commutes with scaling by 2^k while nothing under- or overflows), so the product costs nothing
// at run time.
template <class C, int N>
struct Scaled {
  C c[N];
};
template <class C, int N>
constexpr Scaled<C, N> scaled(const C (&c)[N], C factor) {
  Scaled<C, N> out{};
  for (int k = 0; k < N; ++k) out.c[k] = factor * c[k];
  return out;
}
namespace coeffs {
// -2 g in the quantile (quantile_f32).
PXI_TABLE Scaled<float, kP1_f32_len> kQ1_f32 = scaled(kP1_f32, -2.0f);
PXI_TABLE Scaled<float, kP2_f32_len> kQ2_f32 = scaled(kP2_f32, -2.0f);
PXI_TABLE Scaled<float, kP3_f32_len> kQ3_f32 = scaled(kP3_f32, -2.0f);
PXI_TABLE Scaled<double, kP1_f64_len> kQ1_f64 = scaled(kP1_f64, -2.0);
PXI_TABLE Scaled<double, kP2_f64_len> kQ2_f64 = scaled(kP2_f64, -2.0);
PXI_TABLE Scaled<double, kP3_f64_len> kQ3_f64 = scaled(kP3_f64, -2.0);
PXI_TABLE Scaled<double, kP4_f64_len> kQ4_f64 = scaled(kP4_f64, -2.0);
PXI_TABLE Scaled<double, kP5_f64_len> kQ5_f64 = scaled(kP5_f64, -2.0);
}  // namespace coeffs

// log(y), y > 0 normal: y = 2^e m with m in (sqrt(1/2), sqrt(2)], log m = f - (f^2/2 - s (f^2/2 + R))
// where f = m - 1, s = f / (2 + f) and R(s^2) ~ 2 (atanh(s)/s - 1).
// e and m come straight from the bits, in integer operations: t = bits - fold, where fold is the
// bit pattern of the smallest m (the float just above sqrt(2)/2), has e in its exponent field
// (an arithmetic shift; here a logical one after adding e_add = 2^(width-2), minus e_bias), and
// bits - (t with its mantissa field cleared) is m. The same (e, m) as "m in [1, 2) from the
// mantissa, halved (and e + 1) when above sqrt(2)", in three fewer operations. log_f32<k>(y)
// is log(2^k y) for 2^k y normal, bit for bit: the same m, k added to e by the bias.
template <class F, class C, int NR, class W>
PXI_HD F log_basic(F y, const C (&log_r)[NR], int mant_bits, W mant_mask, W fold, W e_add, C e_bias,
                   C ln2_hi, C ln2_lo) {
  const auto bits = as_bits(y);
  using U = decltype(bits);
  const U t = bits - U(fold);
  const F m = from_bits(bits - (t & U(static_cast<W>(~mant_mask))), F(0));
  const F e = to_float_rn((t + U(e_add)) >> mant_bits, F(0)) - F(e_bias);
  const F f = m - F(C(1));
  const F s = f / (F(C(2)) + f);
  const F z = s * s;
  const F R = horner(log_r, z) * z;
  const F hfsq = (F(C(0.5)) * f) * f;
  const F lm = f - (hfsq - s * (hfsq + R));
  return e * F(ln2_hi) + (lm + e * F(ln2_lo));
}

template <int kPow2 = 0, class F>
PXI_HD F log_f32(F y) {
  using namespace coeffs;
  constexpr uint32_t fold = uint32_t(kSqrt2Bits_f32) - (uint32_t(1) << kMantBits_f32) + 1;  // 0x3f3504f4
  return log_basic(y, kLogR_f32, kMantBits_f32, uint32_t(kMantMask_f32), fold, uint32_t(1) << 30,
                   128.0f - kPow2, kLn2Hi_f32, kLn2Lo_f32);
}
template <int kPow2 = 0, class D>
PXI_HD D log_f64(D y) {
  using namespace coeffs;
  constexpr uint64_t fold = uint64_t(kSqrt2Bits_f64) - (uint64_t(1) << kMantBits_f64) + 1;
  return log_basic(y, kLogR_f64, kMantBits_f64, uint64_t(kMantMask_f64), fold, uint64_t(1) << 62,
                   1024.0 - kPow2, kLn2Hi_f64, kLn2Lo_f64);
}

// The normal quantile z = Phi^-1(q), q in [0, 1], through the lower tail: z = -x g(w) with
// q' = min(q, 1 - q) (clamped to kQMin), x = 1 - 2q, y = 4q'(1 - q') and w = -log y. g is a
// polynomial in w for w < W[0] (|z| < 2.93, 99.7% of draws) and in sqrt(w) beyond.
// The bits are the lower-tail formula's, -(1 - 2q') g(w) for q <= 1/2 and (1 - 2q') g(w) above
// (python/philoxinit/_quantile_ref.py), in fewer operations:
// - no reflection: q'(1 - q') is q(1 - q), as above 1/2 the reflected q' = 1 - q is exact and
//   1 - q' is q again; the clamp to kQMin becomes max(q(1 - q), kQMin), the same wherever it
//   acts (there 1 - q' rounds to 1). x from q itself, no sign to choose: above 1/2, 1 - 2q is
//   exact and is -(1 - 2q') exactly; below kQMin both round to 1; at q = 1/2, x = +0 and z = -0.
// - the factors 2 and 4 where they cost nothing: x = 2 (1/2 - q), with the 2 and the sign in the
//   polynomials' coefficients (-2 g: kQ*, Scaled), and log y = log(4 q(1 - q)) with the 4 in the
//   exponent (log_f32<2>; q(1 - q) >= kQMin is a normal number).
// - the polynomial in w - C evaluated at its negative (horner_at_negative).
// The tail test asks whether any part of a lane group needs the tail at all before building its
// mask. kTails = false leaves the tail and the clamp out, for requests whose q' never comes near
// them (fill.h, cpu_central).
template <bool kTails = true, class F>
PXI_HD F quantile_f32(F q) {
  using namespace coeffs;
  F y = q * (F(1.0f) - q);  // y / 4
  if constexpr (kTails) y = vmax(y, F(kQMin_f32));
  const F lg = log_f32<2>(y);  // log y = -w
  F p = horner_at_negative(kQ1_f32.c, lg + F(kC1_f32));
  if constexpr (kTails) {
    const auto lowest = min_of_parts(lg);
    if (any(lowest <= decltype(lowest)(-kW_f32[0]))) {
      const F w = -lg;
      const F s = vsqrt(w);
      F pt = horner(kQ2_f32.c, s - F(kC2_f32));
      const auto r3 = F(kW_f32[1]) <= w;
      if (any(r3)) pt = select(r3, horner(kQ3_f32.c, s - F(kC3_f32)), pt);
      p = select(F(kW_f32[0]) <= w, pt, p);
    }
  }
  return (F(0.5f) - q) * p;
}

template <class D>
PXI_HD D quantile_f64(D q) {
  using namespace coeffs;
  const D lg = log_f64<2>(vmax(q * (D(1.0) - q), D(kQMin_f64)));
  D p = horner_at_negative(kQ1_f64.c, lg + D(kC1_f64));
  const auto lowest = min_of_parts(lg);
  if (any(lowest <= decltype(lowest)(-kW_f64[0]))) {
    const D w = -lg;
    const D s = vsqrt(w);
    D pt = horner(kQ2_f64.c, s - D(kC2_f64));
    const auto r3 = D(kW_f64[1]) <= w;
    if (any(r3)) {
      pt = select(r3, horner(kQ3_f64.c, s - D(kC3_f64)), pt);
      const auto r4 = D(kW_f64[2]) <= w;
      if (any(r4)) {
        pt = select(r4, horner(kQ4_f64.c, s - D(kC4_f64)), pt);
        const auto r5 = D(kW_f64[3]) <= w;
        if (any(r5)) pt = select(r5, horner(kQ5_f64.c, s - D(kC5_f64)), pt);
      }
    }
    p = select(D(kW_f64[0]) <= w, pt, p);
  }
  return (D(0.5) - q) * p;
}
