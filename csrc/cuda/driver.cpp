// Loads the CUDA driver API with dlopen (see driver.h).
#include "driver.h"

#include <dlfcn.h>

namespace philoxinit {
namespace cudafill {
namespace {

struct Loaded {
  Driver api{};
  std::string error;  // empty when api is usable
};

// dlsym into a typed function pointer; false when the entry point is missing.
template <class F>
bool resolve(void* library, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(library, name));
  return fn != nullptr;
}

Loaded load() {
  Loaded out;
  // RTLD_LOCAL: nothing of the driver becomes visible to other libraries through us. A process
  // with torch's CUDA runtime has already loaded it; dlopen then returns the same library.
  void* library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    out.error = std::string("no NVIDIA driver: libcuda.so.1 cannot be loaded (") +
                (why ? why : "dlopen failed") + ")";
    return out;
  }
  Driver& d = out.api;
  // Entry points by their ABI names: where cuda.h maps a name to a _v2 symbol, the _v2 one.
  const char* missing = nullptr;
#define PXI_RESOLVE(field, symbol) \
  if (!missing && !resolve(library, symbol, d.field)) missing = symbol;
  PXI_RESOLVE(cuInit, "cuInit")
  PXI_RESOLVE(cuDriverGetVersion, "cuDriverGetVersion")
  PXI_RESOLVE(cuDeviceGetCount, "cuDeviceGetCount")
  PXI_RESOLVE(cuDeviceGet, "cuDeviceGet")
  PXI_RESOLVE(cuDeviceGetAttribute, "cuDeviceGetAttribute")
  PXI_RESOLVE(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
  PXI_RESOLVE(cuCtxGetCurrent, "cuCtxGetCurrent")
  PXI_RESOLVE(cuCtxSetCurrent, "cuCtxSetCurrent")
  PXI_RESOLVE(cuModuleLoadData, "cuModuleLoadData")
  PXI_RESOLVE(cuModuleGetFunction, "cuModuleGetFunction")
  PXI_RESOLVE(cuOccupancyMaxActiveBlocksPerMultiprocessor, "cuOccupancyMaxActiveBlocksPerMultiprocessor")
  PXI_RESOLVE(cuLaunchKernel, "cuLaunchKernel")
  PXI_RESOLVE(cuGetErrorName, "cuGetErrorName")
  PXI_RESOLVE(cuGetErrorString, "cuGetErrorString")
#undef PXI_RESOLVE
  if (missing) {
    out.error = std::string("the NVIDIA driver's libcuda.so.1 has no ") + missing +
                " (driver too old)";
    return out;
  }
  const CUresult init = d.cuInit(0);
  if (init != kCudaSuccess) out.error = "cuInit failed (" + error_text(d, init) + ")";
  // The library stays loaded for the life of the process, as the loaded kernels need.
  return out;
}

}  // namespace

const Driver* driver(std::string* error) {
  static const Loaded loaded = load();
  if (!loaded.error.empty()) {
    if (error) *error = loaded.error;
    return nullptr;
  }
  return &loaded.api;
}

std::string error_text(const Driver& d, CUresult result) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (d.cuGetErrorName(result, &name) != kCudaSuccess || name == nullptr)
    return "CUDA driver error " + std::to_string(result);
  if (d.cuGetErrorString(result, &text) != kCudaSuccess || text == nullptr) return name;
  return std::string(name) + ": " + text;
}

}  // namespace cudafill
}  // namespace philoxinit
