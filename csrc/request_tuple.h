// Request tuples from Python -> FillRequest (shared by the CPU and CUDA entry points).
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <tuple>
#include <vector>

#include "fill.h"

namespace philoxinit {


using Dims = std::vector<int64_t>;
using ParamTuple = std::tuple<double, double, double, double, double, double, double, double>;
// (data_ptr, dtype, dist, sizes, strides, global_strides, global_offset, key, stream, offset, params)
using RequestTuple = std::tuple<uintptr_t, int, int, Dims, Dims, Dims, uint64_t, uint64_t, uint64_t,
                                uint64_t, ParamTuple>;

inline FillRequest to_request(const RequestTuple& t) {
  FillRequest r;
  const auto& [ptr, dtype, dist, sizes, strides, gstrides, goffset, key, stream, offset, p] = t;
  if (dtype < 0 || dtype > 4) throw std::invalid_argument("philoxinit: unknown dtype code");
  if (dist < 0 || dist > 3) throw std::invalid_argument("philoxinit: unknown distribution code");
  if (!is_kind(static_cast<Dist>(dist), static_cast<DType>(dtype)))
    throw std::invalid_argument(
        "philoxinit: random bits need an int32/uint32 tensor and the distributions a floating one");
  if (sizes.size() != strides.size() || sizes.size() != gstrides.size())
    throw std::invalid_argument("philoxinit: sizes, strides and global strides differ in length");
  if (sizes.size() > static_cast<size_t>(kMaxDims))
    throw std::invalid_argument("philoxinit: more than 16 dimensions");
  r.data = reinterpret_cast<void*>(ptr);
  r.dtype = static_cast<DType>(dtype);
  r.dist = static_cast<Dist>(dist);
  r.ndim = static_cast<int>(sizes.size());
  for (int d = 0; d < r.ndim; ++d) {
    if (sizes[d] < 0) throw std::invalid_argument("philoxinit: negative size");
    r.sizes[d] = sizes[d];
    r.strides[d] = strides[d];
    r.global_strides[d] = gstrides[d];
  }
  r.global_offset = goffset;
  r.key = key;
  r.stream = stream;
  r.offset = offset;
  const auto& [a, b, t0, dt, flip, lo, hi, series] = p;
  r.params = Params{a, b, t0, dt, flip, lo, hi, series};
  coalesce(r);
  return r;
}

inline std::vector<FillRequest> to_requests(const std::vector<RequestTuple>& ts) {
  std::vector<FillRequest> out;
  out.reserve(ts.size());
  for (const auto& t : ts) {
    FillRequest r = to_request(t);
    if (r.numel() > 0) out.push_back(r);
  }
  return out;
}


}  // namespace philoxinit
