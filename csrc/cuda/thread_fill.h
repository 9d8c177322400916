// What one CUDA thread does, as host+device code: the kernels run it on the GPU, and the host
// emulation (tests) runs it for every thread of a small grid on the CPU, with the same tables.
//
// Thread t of T does items t, t + T, ... of the table (see table.h). For each item it computes one
// Philox block, turns it into stored bit patterns with block_bits32 / block_bits64 from fill.h
// (what the CPU's scalar fill runs), and stores the elements of the item that
// exist: one 16-byte (8-byte for 16-bit dtypes) store when the item is a whole block of a
// contiguous run at an aligned address, element stores otherwise.
#pragma once
#include <cstdint>

#include "../fill.h"
#include "../philox.h"
#include "table.h"

namespace philoxinit {
namespace cudafill {

// ---- index arithmetic ---------------------------------------------------------------------------

// q = n / d, r = n % d, with 32-bit division when both fit (64-bit division is slow on GPUs).
PXI_HD void divmod_u64(uint64_t n, uint64_t d, uint64_t& q, uint64_t& r) {
  if (((n | d) >> 32) == 0) {
    const uint32_t q32 = static_cast<uint32_t>(n) / static_cast<uint32_t>(d);
    q = q32;
    r = static_cast<uint32_t>(n) - q32 * static_cast<uint32_t>(d);
  } else {
    q = n / d;
    r = n - q * d;
  }
}

// Where an item's elements are: the Philox block number (before the request's offset), the
// column c0 of the block's word 0 in the row (may be negative), the words [lo, hi) of the block
// that this item stores, and the element (memory) index of the row's column 0.
struct ItemPlace {
  uint64_t block;
  int64_t c0;
  int lo, hi;
  int64_t row_mem;
};

template <class P>
PXI_HD ItemPlace place_item(const DevRequest<P>& q, const OuterDim* dims, uint64_t item, int pb) {
  uint64_t row = 0, j = item;
  if (q.outer_dims > 0) divmod_u64(item, q.items_per_row, row, j);
  // The row's outer multi-index, innermost outer dim first.
  uint64_t g = q.global_offset;
  int64_t m = 0;
  for (int d = q.outer_dims - 1; d >= 0; --d) {
    const OuterDim& od = dims[q.first_dim + d];
    uint64_t rest, idx;
    if (d > 0) {
      divmod_u64(row, static_cast<uint64_t>(od.size), rest, idx);
    } else {
      rest = 0;
      idx = row;
    }
    g += idx * static_cast<uint64_t>(od.gstride);
    m += static_cast<int64_t>(idx) * od.stride;
    row = rest;
  }
  ItemPlace p;
  p.row_mem = m;
  const uint64_t upb = static_cast<uint64_t>(pb);
  if (q.mode == kBlocks) {
    const int phase = static_cast<int>(g % upb);
    p.block = g / upb + j;
    p.c0 = static_cast<int64_t>(j) * pb - phase;
    p.lo = p.c0 < 0 ? static_cast<int>(-p.c0) : 0;
    const int64_t left = q.inner - p.c0;
    p.hi = left < pb ? static_cast<int>(left) : pb;  // may be <= lo: an empty item
  } else {
    const uint64_t ge = g + j * static_cast<uint64_t>(q.inner_gstep);
    const int w = static_cast<int>(ge % upb);
    p.block = ge / upb;
    p.c0 = static_cast<int64_t>(j) - w;
    p.lo = w;
    p.hi = w + 1;
  }
  return p;
}

// ---- one item -----------------------------------------------------------------------------------

// Store policy S provides:
//   store16(char* p, uint32_t w0, w1, w2, w3)   16 bytes at a 16-byte aligned p
//   store8(char* p, uint32_t w0, w1)             8 bytes at an 8-byte aligned p
//   store4(char* p, uint32_t v), store2(char* p, uint16_t v), store8x1(char* p, uint64_t v)
// Writes words [lo, hi) of Philox block `block` to the row elements c0 + w (memory stride ms).
template <Dist kDist, DType kT, class P, class S>
PXI_HD void write_block(const P& params, uint64_t key, uint64_t stream, uint64_t block, char* row,
                        int64_t c0, int lo, int hi, int64_t ms, S& store) {
  constexpr int pb = elements_per_block(kT);
  constexpr int esize = element_size(kT);
  const Block4 blk = philox_block(key, stream, block);
  const bool whole = lo == 0 && hi == pb && ms == 1;
  if constexpr (kT == DType::Float64) {
    uint64_t v64[2];
    block_bits64<kDist>(blk, params, v64);
    const uint64_t v0 = v64[0], v1 = v64[1];
    char* const p0 = row + c0 * esize;
    if (whole && reinterpret_cast<uintptr_t>(p0) % 16 == 0) {
      store.store16(p0, static_cast<uint32_t>(v0), static_cast<uint32_t>(v0 >> 32),
                    static_cast<uint32_t>(v1), static_cast<uint32_t>(v1 >> 32));
      return;
    }
    if (lo <= 0 && 0 < hi) store.store8x1(row + (c0 + 0) * ms * esize, v0);
    if (lo <= 1 && 1 < hi) store.store8x1(row + (c0 + 1) * ms * esize, v1);
  } else {
    uint32_t v[4];
    block_bits32<kDist, kT>(blk, params, v);
    if (whole) {
      char* const p0 = row + c0 * esize;
      if constexpr (esize == 4) {
        if (reinterpret_cast<uintptr_t>(p0) % 16 == 0) {
          store.store16(p0, v[0], v[1], v[2], v[3]);
          return;
        }
      } else {
        if (reinterpret_cast<uintptr_t>(p0) % 8 == 0) {
          store.store8(p0, v[0] | (v[1] << 16), v[2] | (v[3] << 16));
          return;
        }
      }
    }
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int w = 0; w < 4; ++w) {
      if (w < lo || w >= hi) continue;
      char* const pw = row + (c0 + w) * ms * esize;
      if constexpr (esize == 4)
        store.store4(pw, v[w]);
      else
        store.store2(pw, static_cast<uint16_t>(v[w]));
    }
  }
}

// Any item of any request.
template <Dist kDist, DType kT, class P, class S>
PXI_HD void fill_item(const DevRequest<P>& q, const OuterDim* dims, uint64_t item, S& store) {
  constexpr int pb = elements_per_block(kT);
  const ItemPlace at = place_item(q, dims, item, pb);
  if (at.hi <= at.lo) return;
  write_block<kDist, kT>(q.params, q.key, q.stream, q.offset + at.block,
                         q.data + at.row_mem * element_size(kT), at.c0, at.lo, at.hi,
                         q.inner_stride, store);
}

// Items [first, count) step `threads` of a one-row request with global step 1 (every tensor
// that is contiguous in global index after coalescing): place_item with row 0, its fields held
// in registers for the whole loop. Returns the first item past the end.
template <Dist kDist, DType kT, class P, class S>
PXI_HD uint64_t fill_row(const DevRequest<P>& q, uint64_t first, uint64_t count, uint64_t threads,
                         S& store) {
  constexpr int pb = elements_per_block(kT);
  const P params = q.params;
  const uint64_t key = q.key, stream = q.stream;
  const int phase = static_cast<int>(q.global_offset % pb);
  const uint64_t block0 = q.offset + q.global_offset / pb;
  char* const data = q.data;
  const int64_t inner = q.inner, ms = q.inner_stride;
  uint64_t j = first;
  for (; j < count; j += threads) {
    const int64_t c0 = static_cast<int64_t>(j) * pb - phase;
    const int lo = c0 < 0 ? static_cast<int>(-c0) : 0;
    const int64_t left = inner - c0;
    const int hi = left < pb ? static_cast<int>(left) : pb;
    write_block<kDist, kT>(params, key, stream, block0 + j, data, c0, lo, hi, ms, store);
  }
  return j;
}

// ---- one thread ---------------------------------------------------------------------------------

// The first request whose items reach past `item`, searching [lo, count).
template <class P>
PXI_HD int find_request(const Table<P>& t, uint64_t item, int lo) {
  int hi = t.count - 1;  // prefix[count] > item for any item the thread does
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    if (t.prefix[mid + 1] > item)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

template <Dist kDist, DType kT, class P, class S>
PXI_HD void thread_fill(const Table<P>& t, uint64_t thread, uint64_t threads, S& store) {
  const uint64_t total = t.prefix[t.count];
  uint64_t item = thread;
  if (item >= total) return;
  int r = find_request(t, item, 0);
  for (;;) {
    const DevRequest<P>& q = t.req[r];
    const uint64_t begin = t.prefix[r], end = t.prefix[r + 1];
    if (q.outer_dims == 0 && q.mode == kBlocks)
      item = begin + fill_row<kDist, kT>(q, item - begin, end - begin, threads, store);
    else
      for (; item < end; item += threads) fill_item<kDist, kT>(q, t.dims, item - begin, store);
    if (item >= total) return;
    r = find_request(t, item, r + 1);
  }
}

}  // namespace cudafill
}  // namespace philoxinit
