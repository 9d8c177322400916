// Built when no CUDA toolkit is found: CUDA tensors then use the torch fallback. The host
// emulation of the CUDA kernels is there in every build.
#include "emulate.h"
#include "register.h"

namespace philoxinit {
void register_cuda(pybind11::module_& m) {
  m.def("cuda_available", [] { return false; }, "Whether compiled CUDA kernels can run here.");
  m.def(
      "cuda_device_supported", [](int) { return false; }, pybind11::arg("device"),
      "Whether the compiled kernels load on cuda:<device> (never: built without CUDA).");
  m.def("cuda_info", [] {
    pybind11::dict d;
    d["compiled"] = false;
    d["architectures"] = pybind11::list();
    d["runtime_version"] = 0;
    d["driver_version"] = 0;
    d["device_count"] = 0;
    d["error"] = "built without CUDA";
    d["devices"] = pybind11::list();
    return d;
  }, "The CUDA build: here, none.");
  m.attr("cuda_compiled") = false;
  register_cuda_emulation(m);
}
}  // namespace philoxinit
