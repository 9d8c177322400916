// The CUDA kernels' per-thread code run on the CPU: every thread of a given grid, one after the
// other, over the same launch tables the CUDA launcher builds (table.h, thread_fill.h). Tests
// compare what it writes with the CPU fill, so the index, split and vectorization logic of the
// kernels is checked on machines without a GPU.
#include "emulate.h"

#include <pybind11/stl.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "../request_tuple.h"
#include "table.h"
#include "thread_fill.h"

namespace py = pybind11;

namespace philoxinit {
namespace cudafill {
namespace {

// Writes like the device stores, and counts them; a vector store at an address the GPU would
// fault on is recorded, not performed.
struct HostStore {
  uint64_t vector_stores = 0, element_stores = 0, elements = 0, misaligned = 0;

  template <class T>
  void put(char* p, const T& v) {
    std::memcpy(p, &v, sizeof(T));
  }
  bool aligned(const char* p, uintptr_t a) {
    if (reinterpret_cast<uintptr_t>(p) % a == 0) return true;
    ++misaligned;
    return false;
  }
  void store16(char* p, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    if (!aligned(p, 16)) return;
    const uint32_t w[4] = {a, b, c, d};
    put(p, w);
    ++vector_stores;
    elements += 16;  // bytes for now; divided by the element size below
  }
  void store8(char* p, uint32_t a, uint32_t b) {
    if (!aligned(p, 8)) return;
    const uint32_t w[2] = {a, b};
    put(p, w);
    ++vector_stores;
    elements += 8;
  }
  void store8x1(char* p, uint64_t v) { element(p, v); }
  void store4(char* p, uint32_t v) { element(p, v); }
  void store2(char* p, uint16_t v) { element(p, v); }
  template <class T>
  void element(char* p, T v) {
    if (!aligned(p, sizeof(T))) return;
    put(p, v);
    ++element_stores;
    elements += sizeof(T);
  }
};

template <Dist D, DType T, class P>
void run_grid(const Table<P>& t, uint64_t grid, uint64_t block, HostStore& s) {
  const uint64_t threads = grid * block;
  for (uint64_t b = 0; b < grid; ++b)
    for (uint64_t i = 0; i < block; ++i) thread_fill<D, T>(t, b * block + i, threads, s);
}

// The table a kernel of parameter type P reads (Prepared64: float64 launches).
template <class P>
const Table<P>& table_of(const Launch& l);
template <>
const Table32& table_of<Prepared32>(const Launch& l) { return *l.table32; }
template <>
const Table64& table_of<Prepared64>(const Launch& l) { return *l.table64; }

// Dispatched from the same kind list (kinds.h) the CUDA kernels are defined from.
void run_launch(const Launch& l, uint64_t grid, uint64_t block, HostStore& s) {
  const bool known = visit_kind(l.dist, l.dtype, [&](auto kind) {
    using K = decltype(kind);
    run_grid<K::dist, K::dtype>(table_of<PreparedOf<K::dtype>>(l), grid, block, s);
  });
  if (!known) throw std::invalid_argument("philoxinit: no kernel for this distribution and dtype");
}

}  // namespace
}  // namespace cudafill

void register_cuda_emulation(py::module_& m) {
  using namespace cudafill;
  m.def(
      "_cuda_emulate_fill",
      [](const std::vector<RequestTuple>& tuples, uint64_t grid, uint64_t block) {
        if (grid == 0 || block == 0) throw std::invalid_argument("grid and block must be positive");
        const std::vector<FillRequest> requests = to_requests(tuples);
        py::dict out;
        uint64_t launches = 0, items = 0;
        HostStore s;
        {
          py::gil_scoped_release release;
          const Plan plan(requests);
          for (const Launch& l : plan.launches()) {
            HostStore ls;
            run_launch(l, grid, block, ls);
            const uint64_t es = static_cast<uint64_t>(element_size(l.dtype));
            s.vector_stores += ls.vector_stores;
            s.element_stores += ls.element_stores;
            s.misaligned += ls.misaligned;
            s.elements += ls.elements / es;
            items += l.items();
            ++launches;
          }
        }
        out["launches"] = launches;
        out["items"] = items;
        out["vector_stores"] = s.vector_stores;
        out["element_stores"] = s.element_stores;
        out["elements_written"] = s.elements;
        out["misaligned"] = s.misaligned;
        return out;
      },
      py::arg("requests"), py::arg("grid"), py::arg("block"),
      "Runs the CUDA kernels' per-thread code on the CPU for every thread of a grid of `grid` "
      "blocks of `block` threads, writing CPU memory described by request tuples. Returns counts "
      "(launches, items, vector/element stores, elements written, misaligned vector stores).");
  m.attr("_cuda_table_capacity") =
      py::make_tuple(Table32::kCapacity, Table64::kCapacity, kTableDims);
}

}  // namespace philoxinit
