// The CUDA entry points of philoxinit._C when the CUDA kernels are compiled in. Plain C++: the
// CUDA driver is reached only through cuda_api.h (launcher.cpp).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <string>
#include <vector>

#include "../request_tuple.h"
#include "cuda_api.h"
#include "emulate.h"
#include "register.h"

namespace py = pybind11;

namespace philoxinit {

namespace {

// cudaGetDeviceCount once per process: it never changes for a process, and a machine without a
// driver answers with an error string instead of a crash.
struct CudaPresence {
  int count = 0;
  std::string error;
};
const CudaPresence& presence() {
  static const CudaPresence p = [] {
    CudaPresence c;
    c.count = cudafill::device_count(&c.error);
    return c;
  }();
  return p;
}

// Per device: whether the kernels load there (their architecture is compiled in).
bool device_ok(int device, std::string* why) {
  static std::mutex mu;
  static std::vector<int> known;  // -1 unknown, 0 no, 1 yes
  static std::vector<std::string> reasons;
  if (device < 0) {
    if (why) *why = "negative device index";
    return false;
  }
  std::lock_guard<std::mutex> lock(mu);
  if (known.size() <= static_cast<size_t>(device)) {
    known.resize(device + 1, -1);
    reasons.resize(device + 1);
  }
  if (known[device] < 0) known[device] = cudafill::device_supported(device, &reasons[device]) ? 1 : 0;
  if (why) *why = reasons[device];
  return known[device] == 1;
}

}  // namespace

void register_cuda(py::module_& m) {
  m.attr("cuda_compiled") = true;
  m.def(
      "cuda_available", [] { return presence().count > 0; },
      "Whether compiled CUDA kernels can run here (a driver and at least one device).");
  m.def(
      "cuda_device_supported", [](int device) { return device_ok(device, nullptr); },
      py::arg("device"),
      "Whether the compiled kernels load on cuda:<device> (its architecture is compiled in).");
  m.def("cuda_info", [] {
    py::dict d;
    d["compiled"] = true;
    const std::string archs = cudafill::compiled_architectures();
    py::list arch_list;
    size_t start = 0;
    while (start <= archs.size()) {
      const size_t end = archs.find(',', start);
      const std::string a = archs.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!a.empty()) arch_list.append(a);
      if (end == std::string::npos) break;
      start = end + 1;
    }
    d["architectures"] = arch_list;
    d["runtime_version"] = cudafill::runtime_version();
    d["driver_version"] = cudafill::driver_version();
    d["device_count"] = presence().count;
    d["error"] = presence().error.empty() ? py::object(py::none()) : py::object(py::str(presence().error));
    py::list devices;
    for (int i = 0; i < presence().count; ++i) {
      std::string why;
      const bool ok = device_ok(i, &why);
      py::dict dev;
      dev["index"] = i;
      dev["supported"] = ok;
      dev["error"] = ok ? py::object(py::none()) : py::object(py::str(why));
      devices.append(dev);
    }
    d["devices"] = devices;
    return d;
  }, "The CUDA build and what the runtime sees: architectures, versions, devices, errors.");
  m.def(
      "fill_cuda",
      [](const std::vector<RequestTuple>& tuples, int device, uintptr_t stream) {
        std::vector<FillRequest> requests = to_requests(tuples);
        if (requests.empty()) return;
        std::string why;
        if (!device_ok(device, &why))
          throw std::runtime_error("philoxinit: no usable CUDA kernels for cuda:" +
                                   std::to_string(device) + " (" + why + ")");
        py::gil_scoped_release release;
        cudafill::fill(requests, device, stream);
      },
      py::arg("requests"), py::arg("device"), py::arg("stream"),
      "Fill CUDA memory described by request tuples on cuda:<device>, enqueued on the stream "
      "whose cudaStream_t is `stream` (an int). Never synchronizes.");
  register_cuda_emulation(m);
}

}  // namespace philoxinit
