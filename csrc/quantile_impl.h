// log and the lower-tail normal quantile from basic IEEE operations (included by transforms.h).
// Op for op as python/philoxinit/_quantile_ref.py, which documents the formulae; the constants
// are generated into quantile_coeffs.h by tools/fit_quantile.py. Lane types as in transforms.h;
// they also need <= and any(mask) (any() only skips rarely needed regions, never changes bits).
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

// The quantile's magnitude from x = 1 - 2q and y = 4q(1 - q) = 1 - x^2 (the caller computes both
// in the way that is precise for it): -Phi^-1(q) = x g(w), w = -log y. g is a polynomial in w for
// w < W[0] (|z| < 2.93, 99.7% of draws) and in sqrt(w) beyond.
template <class F>
PXI_HD F quantile_magnitude_f32(F x, F y) {
  using namespace coeffs;
  const F w = -log_f32(y);
  F p = horner(kP1_f32, w - F(kC1_f32));
  const auto tail = F(kW_f32[0]) <= w;
  if (any(tail)) {
    const F s = vsqrt(w);
    F pt = horner(kP2_f32, s - F(kC2_f32));
    const auto r3 = F(kW_f32[1]) <= w;
    if (any(r3)) pt = select(r3, horner(kP3_f32, s - F(kC3_f32)), pt);
    p = select(tail, pt, p);
  }
  return x * p;
}

// Phi^-1(q) <= 0 for q in (0, 1/2].
template <class F>
PXI_HD F quantile_lower_f32(F q) {
  const F y = (F(4.0f) * q) * (F(1.0f) - q);
  return -quantile_magnitude_f32(F(1.0f) - F(2.0f) * q, y);
}

template <class D>
PXI_HD D quantile_magnitude_f64(D x, D y) {
  using namespace coeffs;
  const D w = -log_f64(y);
  D p = horner(kP1_f64, w - D(kC1_f64));
  const auto tail = D(kW_f64[0]) <= w;
  if (any(tail)) {
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
    p = select(tail, pt, p);
  }
  return x * p;
}

template <class D>
PXI_HD D quantile_lower_f64(D q) {
  const D y = (D(4.0) * q) * (D(1.0) - q);
  return -quantile_magnitude_f64(D(1.0) - D(2.0) * q, y);
}
