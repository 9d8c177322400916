// The portable fill of one run, one element at a time. SIMD kernels cover the aligned middle of
// contiguous runs and hand heads, tails and everything strided to this code, so every path writes
// the same bits.
#pragma once
#include <cstdint>

#include "../fill.h"
#include "runs.h"

namespace philoxinit {

template <class T>
inline void store_at(char* base, int64_t i, int64_t stride, T v) {
  reinterpret_cast<T*>(base)[i * stride] = v;
}

// Writes elements [0, count) of a run whose global step is 1 (consecutive global indices).
template <Dist kDist>
void fill_run_scalar(const FillRequest& r, const Run& run) {
  const DType t = r.dtype;
  const int per_block = elements_per_block(t);
  const Prepared32 p32 = prepare32(r.params, kDist, t);
  const Prepared64 p64 = prepare64(r.params);
  Block4 blk{};
  uint64_t have = 0;  // block held in blk, once valid (any 64-bit value is a block number)
  bool valid = false;
  for (int64_t i = 0; i < run.count; ++i) {
    const uint64_t g = run.global + static_cast<uint64_t>(i * run.global_step);
    const uint64_t b = r.offset + g / per_block;
    if (!valid || b != have) {
      blk = philox_block(r.key, r.stream, b);
      have = b;
      valid = true;
    }
    if (t == DType::Float64) {
      const int j = static_cast<int>(g % 2) * 2;
      const uint64_t bits = (static_cast<uint64_t>(blk.w[j + 1]) << 32) | blk.w[j];
      store_at<double>(run.ptr, i, run.stride, sample64<kDist, double>(bits, p64));
      continue;
    }
    const uint32_t x = blk.w[g % 4];
    if constexpr (kDist == Dist::Bits) {
      store_at<uint32_t>(run.ptr, i, run.stride, x);
    } else {
      const float v = sample32<kDist, float>(x, p32);
      if (t == DType::Float32) {
        store_at<float>(run.ptr, i, run.stride, finish32<kDist>(v, p32));
      } else if (t == DType::BFloat16) {
        const float rv = finish32<kDist>(bf16_bits_to_f32(f32_to_bf16_bits(v)), p32);
        store_at<uint16_t>(run.ptr, i, run.stride, f32_to_bf16_bits(rv));
      } else {
        const float rv = finish32<kDist>(f16_bits_to_f32(f32_to_f16_bits(v)), p32);
        store_at<uint16_t>(run.ptr, i, run.stride, f32_to_f16_bits(rv));
      }
    }
  }
}

}  // namespace philoxinit
