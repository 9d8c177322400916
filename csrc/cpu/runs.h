// Walks a (coalesced) request's local elements [begin, end) in row-major local order as runs:
// stretches along the innermost dim, each with its first global index, its first element's
// address and its memory stride. Threads split [0, numel) and each walks its own part.
#pragma once
#include <cstdint>

#include "../fill.h"

namespace philoxinit {

struct Run {
  uint64_t global;     // global index of the first element
  int64_t global_step; // global-index step along the run (1 for any box of a row-major tensor)
  int64_t count;
  char* ptr;           // first element
  int64_t stride;      // memory stride in elements
};

template <class Fn>
void for_each_run(const FillRequest& r, int64_t begin, int64_t end, Fn&& fn) {
  if (begin >= end) return;
  const int last = r.ndim - 1;
  const int64_t inner = r.sizes[last];
  const int esize = element_size(r.dtype);
  int64_t idx[kMaxDims];
  int64_t row = begin / inner, col = begin % inner;
  for (int d = last - 1; d >= 0; --d) {  // odometer position of the first row
    idx[d] = row % r.sizes[d];
    row /= r.sizes[d];
  }
  int64_t remaining = end - begin;
  while (remaining > 0) {
    uint64_t g = r.global_offset;
    int64_t m = 0;
    for (int d = 0; d < last; ++d) {
      g += static_cast<uint64_t>(idx[d] * r.global_strides[d]);
      m += idx[d] * r.strides[d];
    }
    const int64_t count = inner - col < remaining ? inner - col : remaining;
    fn(Run{g + static_cast<uint64_t>(col * r.global_strides[last]), r.global_strides[last], count,
           static_cast<char*>(r.data) + (m + col * r.strides[last]) * esize, r.strides[last]});
    remaining -= count;
    col = 0;
    for (int d = last - 1; d >= 0; --d) {  // next row
      if (++idx[d] < r.sizes[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace philoxinit
