// philoxinit._C: plain integers and raw pointers in, no libtorch. The Python layer validates
// everything; this layer only checks what it needs to stay memory-safe.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <tuple>
#include <vector>

#include "cpu/cpu_module.h"
#include "cpu/fill_cpu.h"
#include "cuda/register.h"
#include "request_tuple.h"
#include "fill.h"
#include "philox.h"

namespace py = pybind11;
using namespace philoxinit;


PYBIND11_MODULE(_C, m) {
  m.doc() = "philoxinit compiled kernels (no libtorch: raw pointers and plain integers)";

  m.def(
      "philox4x32_10",
      [](std::tuple<uint32_t, uint32_t, uint32_t, uint32_t> c, std::tuple<uint32_t, uint32_t> k) {
        auto [c0, c1, c2, c3] = c;
        philox4x32_10(c0, c1, c2, c3, round_keys(std::get<0>(k), std::get<1>(k)));
        return std::make_tuple(c0, c1, c2, c3);
      },
      py::arg("counter"), py::arg("key"),
      "Philox4x32-10 of one counter (4 words) under one key (2 words).");

  m.def(
      "fill_cpu",
      [](const std::vector<RequestTuple>& requests, int threads) {
        std::vector<FillRequest> rs = to_requests(requests);
        py::gil_scoped_release release;
        fill_cpu(rs.data(), rs.size(), threads);
      },
      py::arg("requests"), py::arg("threads") = 1,
      "Fill CPU memory described by request tuples (see csrc/fill.h); releases the GIL.");

  register_cpu(m);
  register_cuda(m);
}
