// The launch table of the CUDA fill: up to a few hundred requests of one (distribution, dtype),
// passed whole as ONE kernel parameter (a __grid_constant__ struct under 32 KiB).
//
// Why a kernel parameter: the launch copies it, so there is no device allocation, no host buffer
// to keep alive, no memcpy and no synchronization, and a launch captured into a CUDA graph carries
// its own table. A longer list of requests takes several launches (one per full table).
//
// Work is split into ITEMS: one item is the part of one row (a stretch along the innermost dim of a
// coalesced request) that reads one Philox block, i.e. up to 4 consecutive elements (2 for
// float64). A request with R rows has R * W items; the table holds the prefix sums of the item
// counts, and thread t of a grid of T threads does items t, t + T, t + 2T, ... of the whole table.
// Every value depends only on the item, never on the grid.
//
// This header is plain C++ (host compilers and nvcc): the planner below runs on the host for the
// real launcher and for the host emulation that the tests run.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "../fill.h"

namespace philoxinit {
namespace cudafill {

// How a row is cut into items.
enum RowMode : int32_t {
  kBlocks = 0,    // innermost global step 1: item j of a row = the row's elements in its j-th block
  kElements = 1,  // any other global step: one item per element
};

// One dimension above the innermost one (sizes and strides of the coalesced request).
struct OuterDim {
  int64_t size;
  int64_t stride;   // memory, elements
  int64_t gstride;  // global index
};

template <class P>
struct DevRequest {
  char* data;
  uint64_t key, stream, offset;
  uint64_t global_offset;
  uint64_t items_per_row;  // W
  int64_t inner;           // size of the innermost dim
  int64_t inner_stride;    // its memory stride, elements
  int64_t inner_gstep;     // its global-index step
  int32_t outer_dims;      // ndim - 1
  int32_t first_dim;       // index of its outermost OuterDim in Table::dims
  int32_t mode;            // RowMode
  int32_t pad_;
  P params;                // prepare32 / prepare64 of the request
};

constexpr size_t kTableBytes = 32000;  // the CUDA kernel parameter limit is 32764 bytes
constexpr int kTableDims = 96;         // outer dims shared by all requests of a table

template <class P>
struct TableHeader {
  int32_t count;
  int32_t pad_;
};

template <class P>
constexpr int table_capacity() {
  return static_cast<int>((kTableBytes - sizeof(TableHeader<P>) - sizeof(uint64_t) -
                           kTableDims * sizeof(OuterDim)) /
                          (sizeof(DevRequest<P>) + sizeof(uint64_t)));
}

template <class P>
struct Table {
  static constexpr int kCapacity = table_capacity<P>();
  int32_t count;
  int32_t ndims_used;
  uint64_t prefix[kCapacity + 1];  // prefix[i] = items of requests 0 .. i-1
  DevRequest<P> req[kCapacity];
  OuterDim dims[kTableDims];
};
static_assert(sizeof(Table<Prepared32>) <= kTableBytes, "table over the kernel parameter limit");
static_assert(sizeof(Table<Prepared64>) <= kTableBytes, "table over the kernel parameter limit");

using Table32 = Table<Prepared32>;
using Table64 = Table<Prepared64>;

// ---- host-side planning -------------------------------------------------------------------------

// Items per row of a coalesced request (ndim >= 1) and its row mode.
inline void row_items(const FillRequest& r, uint64_t& items_per_row, int32_t& mode) {
  const int last = r.ndim - 1;
  const uint64_t inner = static_cast<uint64_t>(r.sizes[last]);
  const uint64_t pb = static_cast<uint64_t>(elements_per_block(r.dtype));
  if (r.global_strides[last] != 1) {
    mode = kElements;
    items_per_row = inner;
    return;
  }
  mode = kBlocks;
  bool same_phase = true;  // every row starts at the same position inside its block
  for (int d = 0; d < last; ++d)
    if (static_cast<uint64_t>(r.global_strides[d]) % pb != 0) same_phase = false;
  if (same_phase) {
    const uint64_t phase = r.global_offset % pb;
    items_per_row = (phase + inner + pb - 1) / pb;
  } else {  // enough for the worst phase (pb - 1); rows with a smaller one leave an item empty
    items_per_row = (inner + 2 * pb - 2) / pb;
  }
}

// Appends a coalesced, non-empty request to a table; false when the table is full.
template <class P>
bool table_add(Table<P>& t, const FillRequest& r, const P& params) {
  const int outer = r.ndim - 1;
  if (t.count >= Table<P>::kCapacity || t.ndims_used + outer > kTableDims) return false;
  DevRequest<P>& q = t.req[t.count];
  std::memset(static_cast<void*>(&q), 0, sizeof(q));
  q.data = static_cast<char*>(r.data);
  q.key = r.key;
  q.stream = r.stream;
  q.offset = r.offset;
  q.global_offset = r.global_offset;
  row_items(r, q.items_per_row, q.mode);
  q.inner = r.sizes[outer];
  q.inner_stride = r.strides[outer];
  q.inner_gstep = r.global_strides[outer];
  q.outer_dims = outer;
  q.first_dim = t.ndims_used;
  q.params = params;
  uint64_t rows = 1;
  for (int d = 0; d < outer; ++d) {
    t.dims[t.ndims_used + d] = OuterDim{r.sizes[d], r.strides[d], r.global_strides[d]};
    rows *= static_cast<uint64_t>(r.sizes[d]);
  }
  t.ndims_used += outer;
  t.prefix[t.count + 1] = t.prefix[t.count] + rows * q.items_per_row;
  ++t.count;
  return true;
}

template <class P>
void table_clear(Table<P>& t) {
  t.count = 0;
  t.ndims_used = 0;
  t.prefix[0] = 0;
}

// One launch: a (dist, dtype) pair and its table.
struct Launch {
  Dist dist;
  DType dtype;
  bool wide;  // float64: table64, else table32
  const Table32* table32;
  const Table64* table64;
  uint64_t items() const {
    return wide ? table64->prefix[table64->count] : table32->prefix[table32->count];
  }
};

// Groups the requests by (dist, dtype), keeping their order inside a group, and packs each group
// into as few tables as fit. Requests must be coalesced and non-empty, with valid kinds (as
// to_request makes them). Owns the tables.
class Plan {
 public:
  explicit Plan(const std::vector<FillRequest>& requests) {
    for_each_kind([&](auto kind) {
      using K = decltype(kind);
      if constexpr (K::dtype == DType::Float64)
        pack<Prepared64>(requests, K::dist, K::dtype, tables64_);
      else
        pack<Prepared32>(requests, K::dist, K::dtype, tables32_);
    });
    // Pointers last: the table vectors do not move any more.
    size_t i32 = 0, i64 = 0;
    for (const Opened& k : opened_) {
      if (k.dtype == DType::Float64)
        launches_.push_back(Launch{k.dist, k.dtype, true, nullptr, &tables64_[i64++]});
      else
        launches_.push_back(Launch{k.dist, k.dtype, false, &tables32_[i32++], nullptr});
    }
  }
  const std::vector<Launch>& launches() const { return launches_; }

 private:
  struct Opened {  // the pair of a table, in the order tables were opened
    Dist dist;
    DType dtype;
  };

  static Prepared32 params_of(const FillRequest& r, Prepared32*) {
    return prepare32(r.params, r.dist, r.dtype);
  }
  static Prepared64 params_of(const FillRequest& r, Prepared64*) { return prepare64(r.params); }

  template <class P>
  void pack(const std::vector<FillRequest>& requests, Dist d, DType t,
            std::vector<Table<P>>& tables) {
    bool open = false;
    for (const FillRequest& r : requests) {
      if (r.dist != d || r.dtype != t) continue;
      const P params = params_of(r, static_cast<P*>(nullptr));
      if (!open || !table_add(tables.back(), r, params)) {
        tables.emplace_back();
        table_clear(tables.back());
        opened_.push_back(Opened{d, t});
        open = true;
        if (!table_add(tables.back(), r, params))
          throw std::invalid_argument("philoxinit: request does not fit an empty launch table");
      }
    }
  }

  std::vector<Table32> tables32_;
  std::vector<Table64> tables64_;
  std::vector<Opened> opened_;  // the 32-bit tables in their order, and the 64-bit ones in theirs
  std::vector<Launch> launches_;
};

}  // namespace cudafill
}  // namespace philoxinit
