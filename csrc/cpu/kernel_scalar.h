// The portable fill of one run, one element at a time. SIMD kernels cover the aligned middle of
// contiguous runs and hand heads, tails and everything strided to this code, so every path writes
// the same bits.
#pragma once
#include <cstdint>
#include <type_traits>

#include "../fill.h"
#include "runs.h"

namespace philoxinit {

template <class T>
inline void store_at(char* base, int64_t i, int64_t stride, T v) {
  reinterpret_cast<T*>(base)[i * stride] = v;
}

// Elements [0, count) of a run. Consecutive global indices (step 1): a Philox block at a time
// (block_bits32 / block_bits64, the code CUDA runs), kept while the elements share the block.
// Other steps meet a new block at nearly every element: each element's own value only.
// Kept out of line: the SIMD kernels call it from several places (heads, tails, strided runs), and
// one copy per kind is enough for work that is a small part of any large fill.
template <Dist kDist, DType kT>
__attribute__((noinline)) void fill_run_scalar(const FillRequest& r, const Run& run) {
  constexpr int per_block = elements_per_block(kT);
  using Stored = typename std::conditional<
      kT == DType::Float64, uint64_t,
      typename std::conditional<kT == DType::Float16 || kT == DType::BFloat16, uint16_t, uint32_t>::type>::type;
  const Prepared32 p32 = prepare32(r.params, kDist, kT);
  const Prepared64 p64 = prepare64(r.params);
  uint32_t bits32[4] = {};
  uint64_t bits64[2] = {};
  uint64_t have = 0;  // block whose bits are held, once valid (any 64-bit value is a block number)
  bool valid = false;
  if (run.global_step != 1) {
    for (int64_t i = 0; i < run.count; ++i) {
      const uint64_t g = run.global + static_cast<uint64_t>(i * run.global_step);
      const Block4 blk = philox_block(r.key, r.stream, r.offset + g / per_block);
      const int j = static_cast<int>(g % per_block);
      store_at<Stored>(run.ptr, i, run.stride, static_cast<Stored>(element_bits<kDist, kT>(blk, j, p32, p64)));
    }
    return;
  }
  for (int64_t i = 0; i < run.count; ++i) {
    const uint64_t g = run.global + static_cast<uint64_t>(i);
    const uint64_t b = r.offset + g / per_block;
    if (!valid || b != have) {
      const Block4 blk = philox_block(r.key, r.stream, b);
      if constexpr (kT == DType::Float64) block_bits64<kDist>(blk, p64, bits64);
      else block_bits32<kDist, kT>(blk, p32, bits32);
      have = b;
      valid = true;
    }
    if constexpr (kT == DType::Float64) store_at<Stored>(run.ptr, i, run.stride, bits64[g % 2]);
    else store_at<Stored>(run.ptr, i, run.stride, static_cast<Stored>(bits32[g % 4]));
  }
}

}  // namespace philoxinit
