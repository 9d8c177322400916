// A fill request: which memory to write, which global indices it holds, and what to draw there.
//
// The element at local multi-index (i_0 .. i_{n-1}) lives at  data + sum(i_d * strides[d]) elements
// and holds global (row-major, unsharded) index  global_offset + sum(i_d * global_strides[d]).
// Its value is a pure function of (key, stream, offset, global index, dist, params, dtype), so
// any split of the local index range (threads, SIMD, CUDA grids) writes the same bits.
#pragma once
#include <cstdint>
#include <type_traits>

#include "kinds.h"
#include "transforms.h"

namespace philoxinit {

constexpr int kMaxDims = 16;

// Distribution parameters as the Python layer computes them (Python doubles).
//   Uniform:     a = low, b = high
//   Normal:      a = mean, b = std
//   TruncNormal: a = mean, b = std, t0, dt, flip, series (see trunc_normal_f32), lo / hi = the bounds
struct Params {
  double a = 0, b = 0, t0 = 0, dt = 0, flip = 1, lo = 0, hi = 0, series = 0;
};

struct FillRequest {
  void* data = nullptr;
  DType dtype = DType::Float32;
  Dist dist = Dist::Uniform;
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};         // memory strides, in elements
  int64_t global_strides[kMaxDims] = {};  // global-index strides
  uint64_t global_offset = 0;
  uint64_t key = 0, stream = 0, offset = 0;
  Params params;

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }
};

// Drops size-1 dims and merges neighbours that are contiguous in both memory and global index,
// so a contiguous tensor becomes one run.
inline void coalesce(FillRequest& r) {
  int out = 0;
  for (int d = 0; d < r.ndim; ++d) {
    if (r.sizes[d] == 1) continue;
    if (out > 0 && r.strides[out - 1] == r.strides[d] * r.sizes[d] &&
        r.global_strides[out - 1] == r.global_strides[d] * r.sizes[d]) {
      r.sizes[out - 1] *= r.sizes[d];
      r.strides[out - 1] = r.strides[d];
      r.global_strides[out - 1] = r.global_strides[d];
      continue;
    }
    r.sizes[out] = r.sizes[d];
    r.strides[out] = r.strides[d];
    r.global_strides[out] = r.global_strides[d];
    ++out;
  }
  if (out == 0) {  // a single element
    r.sizes[0] = 1;
    r.strides[0] = 1;
    r.global_strides[0] = 1;
    out = 1;
  }
  r.ndim = out;
}

// Bytes per element (constexpr and host + device, like the next: every backend sizes its stores with them).
PXI_HD constexpr int element_size(DType t) {
  return t == DType::Float64 ? 8 : (t == DType::Float16 || t == DType::BFloat16) ? 2 : 4;
}
// Elements per Philox block: one word each, float64 two words each.
PXI_HD constexpr int elements_per_block(DType t) { return t == DType::Float64 ? 2 : 4; }

// The parameters of one request converted once to the lane precision, as every backend uses them.
struct Prepared32 {
  float a = 0, b = 0, width = 0, t0 = 0, dt = 0, flip = 1, lo = 0, hi = 0;
  bool series = false;
};
struct Prepared64 {
  double a = 0, b = 0, width = 0, t0 = 0, dt = 0, flip = 1, lo = 0, hi = 0;
  bool series = false;
};
// The parameters a dtype's kernels read: float64 lanes for float64, float32 lanes otherwise.
template <DType T>
using PreparedOf = typename std::conditional<T == DType::Float64, Prepared64, Prepared32>::type;

PXI_HD float round_to_dtype(float v, DType t) {
  if (t == DType::BFloat16) return bf16_bits_to_f32(f32_to_bf16_bits(v));
  if (t == DType::Float16) return f16_bits_to_f32(f32_to_f16_bits(v));
  return v;
}

// lo / hi hold what the store step compares against: for uniform the dtype-rounded low and high
// (v >= high -> low), for truncated normal the dtype-rounded bounds (clamp).
inline Prepared32 prepare32(const Params& p, Dist dist, DType t) {
  Prepared32 q;
  q.a = static_cast<float>(p.a);
  q.b = static_cast<float>(p.b);
  q.width = q.b - q.a;
  q.t0 = static_cast<float>(p.t0);
  q.dt = static_cast<float>(p.dt);
  q.flip = static_cast<float>(p.flip);
  q.series = p.series != 0;
  if (dist == Dist::Uniform) {
    q.lo = round_to_dtype(q.a, t);
    q.hi = round_to_dtype(q.b, t);
  } else {
    q.lo = round_to_dtype(static_cast<float>(p.lo), t);
    q.hi = round_to_dtype(static_cast<float>(p.hi), t);
  }
  return q;
}
inline Prepared64 prepare64(const Params& p) {
  Prepared64 q;
  q.a = p.a;
  q.b = p.b;
  q.width = p.b - p.a;
  q.t0 = p.t0;
  q.dt = p.dt;
  q.flip = p.flip;
  q.series = p.series != 0;
  q.lo = p.lo;
  q.hi = p.hi;
  return q;
}

// One float32-lane value from its word, before the dtype's store rule (normal comes in pairs).
template <Dist kDist, class F, class U>
PXI_HD F sample32(U x, const Prepared32& p) {
  static_assert(kDist != Dist::Normal, "normal values come in pairs: sample_pair");
  if constexpr (kDist == Dist::Uniform) return uniform_f32<F>(x, p.a, p.width);
  if constexpr (kDist == Dist::TruncNormal || kDist == Dist::TruncNormalCentral) {
    constexpr bool kCentral = kDist == Dist::TruncNormalCentral;
    return trunc_normal_f32<F, U, kCentral>(x, p.t0, p.dt, p.flip, p.series, p.a, p.b);
  }
  return F(0.0f);
}
// The values of two words that sit side by side in a block (words 0, 1 or 2, 3).
template <Dist kDist, class F, class U>
PXI_HD void sample_pair(U a, U b, const Prepared32& p, F& v0, F& v1) {
  if constexpr (kDist == Dist::Normal) {
    normal_pair_f32<F>(a, b, p.a, p.b, v0, v1);
  } else {
    v0 = sample32<kDist, F>(a, p);
    v1 = sample32<kDist, F>(b, p);
  }
}
// The store rule of narrow dtypes, on values already rounded to them: uniform keeps v < high,
// truncated normal clamps to the rounded bounds. float32 uses it too (rounding is the identity).
template <Dist kDist, class F>
PXI_HD F finish32(F r, const Prepared32& p) {
  if constexpr (kDist == Dist::Uniform) return select(r < F(p.hi), r, F(p.lo));
  if constexpr (kDist == Dist::TruncNormal || kDist == Dist::TruncNormalCentral)
    return vmin(vmax(r, F(p.lo)), F(p.hi));
  return r;
}

template <Dist kDist, class D, class Q>
PXI_HD D sample64(Q bits, const Prepared64& p) {
  static_assert(kDist != Dist::Normal, "normal values come in pairs: sample_pair");
  if constexpr (kDist == Dist::Uniform) return uniform_f64<D>(bits, p.a, p.width, p.b);
  if constexpr (kDist == Dist::TruncNormal || kDist == Dist::TruncNormalCentral) {
    const D v = trunc_normal_f64<D>(bits, p.t0, p.dt, p.flip, p.series, p.a, p.b);
    return vmin(vmax(v, D(p.lo)), D(p.hi));
  }
  return D(0.0);
}
// The two float64 elements of a block: 64-bit words a = (w1 w0) and b = (w3 w2).
template <Dist kDist, class D, class Q>
PXI_HD void sample_pair(Q a, Q b, const Prepared64& p, D& v0, D& v1) {
  if constexpr (kDist == Dist::Normal) {
    normal_pair_f64<D>(a, b, p.a, p.b, v0, v1);
  } else {
    v0 = sample64<kDist, D>(a, p);
    v1 = sample64<kDist, D>(b, p);
  }
}

// Whether the CPU kernels may fill a truncated normal request as TruncNormalCentral: a float32-lane
// request whose draws all have q' = min(q, 1 - q) >= 0.002, so that w = -log(4q'(1 - q')) < 4.84
// stays below the quantile's first tail boundary (5): q = t0 + u dt lies in [t0, fl(t0 + dt)] for
// the float32 t0, dt of prepare32 (|z| < 2.87 at both ends; the default [-2, 2] among them), and
// whose dt 2^-25 is normal or zero (trunc_normal_f32 folds u's scale into dt). The last follows
// from the others today (such an interval has dt > 1e-5, or std = 0 and dt = 0); it is checked so
// that the fold stays exact if the threshold moves.
inline bool cpu_central(const FillRequest& r) {
  if (r.dist != Dist::TruncNormal || r.dtype == DType::Float64) return false;
  constexpr double kQ = 0.002;
  const Prepared32 p = prepare32(r.params, r.dist, r.dtype);
  return !p.series && p.t0 >= kQ && 1.0 - static_cast<double>(p.t0 + p.dt) >= kQ &&
         (p.dt == 0.0f || p.dt >= 0x1p-101f);
}

// visit_kind (kinds.h) for the CPU kernels: a central truncated normal goes to f as
// Kind<TruncNormalCentral, dtype>.
template <class F>
inline bool visit_cpu_kind(const FillRequest& r, F&& f) {
  return visit_kind(r.dist, r.dtype, [&](auto kind) {
    using K = decltype(kind);
    if constexpr (K::dist == Dist::TruncNormal && K::dtype != DType::Float64) {
      if (cpu_central(r)) return f(Kind<Dist::TruncNormalCentral, K::dtype>{});
    }
    f(kind);
  });
}

// ---- a whole block at a time, one element per lane: what the scalar CPU and CUDA code store ----

// The stored bit pattern of a 32-bit-lane value (float32, or float16 / bfloat16 in the low half):
// round to the dtype, then its store rule.
template <Dist kDist, DType kT>
PXI_HD uint32_t store_bits32(float v, const Prepared32& p) {
  if constexpr (kT == DType::Float32) {
    return as_bits(finish32<kDist>(v, p));
  } else if constexpr (kT == DType::BFloat16) {
    return f32_to_bf16_bits(finish32<kDist>(bf16_bits_to_f32(f32_to_bf16_bits(v)), p));
  } else {
    return f32_to_f16_bits(finish32<kDist>(f16_bits_to_f32(f32_to_f16_bits(v)), p));
  }
}

// The stored bit patterns of the four elements of a block (dtypes with 32-bit lanes, and raw bits).
template <Dist kDist, DType kT>
PXI_HD void block_bits32(const Block4& blk, const Prepared32& p, uint32_t (&out)[4]) {
  if constexpr (kDist == Dist::Bits) {
    for (int w = 0; w < 4; ++w) out[w] = blk.w[w];
  } else {
    float v[4];
    sample_pair<kDist, float>(blk.w[0], blk.w[1], p, v[0], v[1]);
    sample_pair<kDist, float>(blk.w[2], blk.w[3], p, v[2], v[3]);
    for (int w = 0; w < 4; ++w) out[w] = store_bits32<kDist, kT>(v[w], p);
  }
}

// The two float64 elements of a block, as bit patterns.
template <Dist kDist>
PXI_HD void block_bits64(const Block4& blk, const Prepared64& p, uint64_t (&out)[2]) {
  const uint64_t a = (static_cast<uint64_t>(blk.w[1]) << 32) | blk.w[0];
  const uint64_t b = (static_cast<uint64_t>(blk.w[3]) << 32) | blk.w[2];
  double v0 = 0, v1 = 0;
  sample_pair<kDist, double>(a, b, p, v0, v1);
  out[0] = as_bits(v0);
  out[1] = as_bits(v1);
}

// Element j of a block alone (word j; float64: 64-bit word j), computing only its own value (its
// pair, for normal): for runs that meet a new block at nearly every element.
template <Dist kDist, DType kT>
PXI_HD uint64_t element_bits(const Block4& blk, int j, const Prepared32& p32, const Prepared64& p64) {
  if constexpr (kT == DType::Float64) {
    if constexpr (kDist == Dist::Normal) {
      uint64_t out[2];
      block_bits64<kDist>(blk, p64, out);
      return out[j];
    } else {
      const uint64_t bits = (static_cast<uint64_t>(blk.w[2 * j + 1]) << 32) | blk.w[2 * j];
      return as_bits(sample64<kDist, double>(bits, p64));
    }
  } else if constexpr (kDist == Dist::Bits) {
    return blk.w[j];
  } else if constexpr (kDist == Dist::Normal) {
    float v0 = 0, v1 = 0;
    sample_pair<kDist, float>(blk.w[j & 2], blk.w[(j & 2) + 1], p32, v0, v1);
    return store_bits32<kDist, kT>(j & 1 ? v1 : v0, p32);
  } else {
    return store_bits32<kDist, kT>(sample32<kDist, float>(blk.w[j], p32), p32);
  }
}

}  // namespace philoxinit
