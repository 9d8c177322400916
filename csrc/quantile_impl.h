// log and the lower-tail normal quantile from basic IEEE operations (included by transforms.h).
// Op for op as python/philoxinit/_quantile_ref.py, which documents the formulae; the constants
// are generated into quantile_coeffs.h by tools/fit_quantile.py. Lane types as in transforms.h;
// they also need <= and any(mask) (any() only skips rarely needed regions, never changes bits).
// Smallest probability the quantile is fitted for (truncated normal clamps to it).
constexpr float kQMin_f32 = 0x1p-126f;
constexpr double kQMin_f64 = 0x1p-1000;

// log(y), y > 0 normal: y = 2^e m with m in (sqrt(1/2), sqrt(2)], log m = f - (f^2/2 - s (f^2/2 + R))
// where f = m - 1, s = f / (2 + f) and R(s^2) ~ 2 (atanh(s)/s - 1).
template <class F, class C, int NR>
PXI_HD F log_basic(F y, const C (&log_r)[NR], int mant_bits, C exp_bias, uint64_t mant_mask,
                   uint64_t one_bits, C sqrt2, C ln2_hi, C ln2_lo) {
  const auto bits = as_bits(y);
  using U = decltype(bits);
  F e = to_float_rn(bits >> mant_bits, F(0)) - F(exp_bias);
  F m = from_bits((bits & U(mant_mask)) | U(one_bits), F(0));
  const auto big = F(sqrt2) < m;
  m = select(big, m * F(C(0.5)), m);
  e = select(big, e + F(C(1)), e);
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
  return log_basic(y, kLogR_f32, kMantBits_f32, float(kExpBias_f32), kMantMask_f32, kOneBits_f32,
                   kSqrt2_f32, kLn2Hi_f32, kLn2Lo_f32);
}
template <class D>
PXI_HD D log_f64(D y) {
  using namespace coeffs;
  return log_basic(y, kLogR_f64, kMantBits_f64, double(kExpBias_f64), kMantMask_f64, kOneBits_f64,
                   kSqrt2_f64, kLn2Hi_f64, kLn2Lo_f64);
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
