// log and the lower-tail normal quantile from basic IEEE operations (included by transforms.h).
// The roundings of python/philoxinit/_quantile_ref.py, which documents the formulae, op for op
// except for rewrites that give the same bits with fewer operations: the polynomial in w - C at
// its negative (horner_at_negative), and the sign applied to x rather than to the product. The
// constants are generated into quantile_coeffs.h by tools/fit_quantile.py. Lane types as in
// transforms.h; they also need <= and any(mask) (any() only skips rarely needed regions, never
// changes bits).
// Smallest probability the quantile is fitted for (truncated normal clamps to it).
constexpr float kQMin_f32 = 0x1p-126f;
constexpr double kQMin_f64 = 0x1p-1000;

// log(y), y > 0 normal: y = 2^e m with m in (sqrt(1/2), sqrt(2)], log m = f - (f^2/2 - s (f^2/2 + R))
// where f = m - 1, s = f / (2 + f) and R(s^2) ~ 2 (atanh(s)/s - 1).
// e and m come straight from the bits, in integer operations: t = bits - fold, where fold is the
// bit pattern of the smallest m (the float just above sqrt(2)/2), has e in its exponent field
// (an arithmetic shift; here a logical one after adding e_add = 2^(width-2), minus e_bias), and
// bits - (t with its mantissa field cleared) is m. The same (e, m) as "m in [1, 2) from the
// mantissa, halved (and e + 1) when above sqrt(2)", in three fewer operations.
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

template <class F>
PXI_HD F log_f32(F y) {
  using namespace coeffs;
  constexpr uint32_t fold = uint32_t(kSqrt2Bits_f32) - (uint32_t(1) << kMantBits_f32) + 1;  // 0x3f3504f4
  return log_basic(y, kLogR_f32, kMantBits_f32, uint32_t(kMantMask_f32), fold, uint32_t(1) << 30, 128.0f,
                   kLn2Hi_f32, kLn2Lo_f32);
}
template <class D>
PXI_HD D log_f64(D y) {
  using namespace coeffs;
  constexpr uint64_t fold = uint64_t(kSqrt2Bits_f64) - (uint64_t(1) << kMantBits_f64) + 1;
  return log_basic(y, kLogR_f64, kMantBits_f64, uint64_t(kMantMask_f64), fold, uint64_t(1) << 62, 1024.0,
                   kLn2Hi_f64, kLn2Lo_f64);
}

// The normal quantile's magnitude at the lower-tail probability q in (0, 1/2], -Phi^-1(q) =
// x g(w) >= 0 with x = 1 - 2q, y = 4q(1 - q) = 1 - x^2 and w = -log y, returned with the sign bit
// `sign` (put on x: a product's sign is the xor of its factors'). g is a polynomial in w for
// w < W[0] (|z| < 2.93, 99.7% of draws) and in sqrt(w) beyond. The polynomial in w - C is evaluated
// at its negative, log y + C, with horner_at_negative; the tail test asks whether any part of a
// lane group needs the tail at all before building its mask. kTails = false leaves the tail out,
// for requests whose draws never reach it (fill.h, cpu_kind).
template <bool kTails = true, class F, class U>
PXI_HD F quantile_signed_f32(F q, U sign) {
  using namespace coeffs;
  const F y = (F(4.0f) * q) * (F(1.0f) - q);
  const F x = from_bits(as_bits(F(1.0f) - F(2.0f) * q) ^ sign, F(0.0f));
  const F lg = log_f32(y);  // -w
  F p = horner_at_negative(kP1_f32, lg + F(kC1_f32));
  if constexpr (kTails) {
    const auto lowest = min_of_parts(lg);
    if (any(lowest <= decltype(lowest)(-kW_f32[0]))) {
      const F w = -lg;
      const F s = vsqrt(w);
      F pt = horner(kP2_f32, s - F(kC2_f32));
      const auto r3 = F(kW_f32[1]) <= w;
      if (any(r3)) pt = select(r3, horner(kP3_f32, s - F(kC3_f32)), pt);
      p = select(F(kW_f32[0]) <= w, pt, p);
    }
  }
  return x * p;
}

template <class D, class Q>
PXI_HD D quantile_signed_f64(D q, Q sign) {
  using namespace coeffs;
  const D y = (D(4.0) * q) * (D(1.0) - q);
  const D x = from_bits(as_bits(D(1.0) - D(2.0) * q) ^ sign, D(0.0));
  const D lg = log_f64(y);
  D p = horner_at_negative(kP1_f64, lg + D(kC1_f64));
  const auto lowest = min_of_parts(lg);
  if (any(lowest <= decltype(lowest)(-kW_f64[0]))) {
    const D w = -lg;
    const D s = vsqrt(w);
    D pt = horner(kP2_f64, s - D(kC2_f64));
    const auto r3 = D(kW_f64[1]) <= w;
    if (any(r3)) {
      pt = select(r3, horner(kP3_f64, s - D(kC3_f64)), pt);
      const auto r4 = D(kW_f64[2]) <= w;
      if (any(r4)) {
        pt = select(r4, horner(kP4_f64, s - D(kC4_f64)), pt);
        const auto r5 = D(kW_f64[3]) <= w;
        if (any(r5)) pt = select(r5, horner(kP5_f64, s - D(kC5_f64)), pt);
      }
    }
    p = select(D(kW_f64[0]) <= w, pt, p);
  }
  return x * p;
}
