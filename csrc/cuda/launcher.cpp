// The CUDA launcher: plain C++ over the driver API (driver.h). It loads the kernels embedded in _C
// (fatbin.h) and launches them on the caller's stream.
//
// Rules it keeps (graph capture included):
//   - the request table is the kernel parameter (table.h): no allocation, no copy, no host buffer
//     that must outlive the call, no synchronization;
//   - launches go to the caller's stream in the device's primary context (the one the CUDA
//     runtime, and so torch, uses); the thread's current context is restored afterwards;
//   - the first fill on a device loads the kernels into its primary context and queries their
//     occupancy, once. Do one fill on a device outside capture before capturing (as torch's own
//     warm-up rule asks), so that a capture only records kernel launches.
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "cuda_api.h"
#include "driver.h"
#include "fatbin.h"
#include "kernels.h"
#include "table.h"

#ifndef PHILOXINIT_CUDA_ARCHS
#define PHILOXINIT_CUDA_ARCHS "unknown"
#endif
#ifndef PHILOXINIT_CUDA_VERSION
#define PHILOXINIT_CUDA_VERSION 0
#endif

namespace philoxinit {
namespace cudafill {
namespace {

// The table travels to the kernel as raw bytes: its layout is the same for the host compiler and
// nvcc only while it is a plain standard-layout aggregate.
static_assert(std::is_standard_layout<Table32>::value && std::is_trivially_copyable<Table32>::value,
              "Table32 is passed by bytes");
static_assert(std::is_standard_layout<Table64>::value && std::is_trivially_copyable<Table64>::value,
              "Table64 is passed by bytes");

constexpr int kMaxDevices = 64;

struct KernelEntry {
  const char* name;
  Dist dist;
  DType dtype;
};
#define PXI_STRING_(X) #X
#define PXI_STRING(X) PXI_STRING_(X)  // after expanding X
#define PXI_KERNEL_ENTRY(D, T, NAME) {PXI_STRING(PXI_KERNEL_NAME(NAME)), Dist::D, DType::T},
const KernelEntry kKernels[] = {PXI_KINDS(PXI_KERNEL_ENTRY)};
#undef PXI_KERNEL_ENTRY
constexpr int kKernelCount = sizeof(kKernels) / sizeof(kKernels[0]);

[[noreturn]] void fail(const std::string& what, int device, const std::string& why) {
  throw std::runtime_error("philoxinit: " + what + " failed on cuda:" + std::to_string(device) +
                           " (" + why + ")");
}

const Driver& require_driver(int device) {
  std::string error;
  const Driver* d = driver(&error);
  if (d == nullptr) fail("loading the CUDA driver", device, error);
  return *d;
}

void check(const Driver& d, CUresult r, const char* what, int device) {
  if (r != kCudaSuccess) fail(what, device, error_text(d, r));
}

// Per device: its primary context (retained once, for the life of the process), the kernels
// loaded there, and what the launcher needs to size grids. Filled by warm_up().
struct DeviceState {
  std::atomic<bool> ready{false};
  CUcontext context = nullptr;
  CUmodule module = nullptr;
  int sm_count = 0;
  CUfunction functions[kKernelCount] = {};
  int blocks_per_sm[kKernelCount] = {};
};
DeviceState g_devices[kMaxDevices];
std::mutex g_warm_mutex;

// Makes `context` current on this thread for its lifetime and restores the previous one.
class ContextGuard {
 public:
  ContextGuard(const Driver& d, CUcontext context, int device) : d_(d) {
    check(d_, d_.cuCtxGetCurrent(&previous_), "cuCtxGetCurrent", device);
    if (previous_ != context) {
      check(d_, d_.cuCtxSetCurrent(context), "cuCtxSetCurrent", device);
      switched_ = true;
    }
  }
  ~ContextGuard() {
    if (switched_) d_.cuCtxSetCurrent(previous_);
  }
  ContextGuard(const ContextGuard&) = delete;
  ContextGuard& operator=(const ContextGuard&) = delete;

 private:
  const Driver& d_;
  CUcontext previous_ = nullptr;
  bool switched_ = false;
};

// Retains the device's primary context, loads the kernels there and records their occupancy.
// Throws when the build has no image (or PTX) the device or its driver can load.
DeviceState& warm_up(const Driver& d, int device) {
  if (device < 0 || device >= kMaxDevices)
    throw std::runtime_error("philoxinit: cuda:" + std::to_string(device) + " is out of range");
  DeviceState& s = g_devices[device];
  if (s.ready.load(std::memory_order_acquire)) return s;
  std::lock_guard<std::mutex> lock(g_warm_mutex);
  if (s.ready.load(std::memory_order_relaxed)) return s;
  CUdevice dev = 0;
  check(d, d.cuDeviceGet(&dev, device), "cuDeviceGet", device);
  if (s.context == nullptr)
    check(d, d.cuDevicePrimaryCtxRetain(&s.context, dev), "cuDevicePrimaryCtxRetain", device);
  ContextGuard guard(d, s.context, device);
  check(d, d.cuDeviceGetAttribute(&s.sm_count, kAttrMultiprocessorCount, dev),
        "cuDeviceGetAttribute", device);
  if (s.module == nullptr)
    check(d, d.cuModuleLoadData(&s.module, embedded_fatbin()),
          "loading the kernels (no code for the device's architecture, or a driver too old for "
          "them?)",
          device);
  for (int i = 0; i < kKernelCount; ++i) {
    check(d, d.cuModuleGetFunction(&s.functions[i], s.module, kKernels[i].name),
          "cuModuleGetFunction", device);
    check(d, d.cuOccupancyMaxActiveBlocksPerMultiprocessor(&s.blocks_per_sm[i], s.functions[i],
                                                           kThreadsPerBlock, 0),
          "cuOccupancyMaxActiveBlocksPerMultiprocessor", device);
  }
  s.ready.store(true, std::memory_order_release);
  return s;
}

int kernel_slot(Dist dist, DType dtype) {
  for (int i = 0; i < kKernelCount; ++i)
    if (kKernels[i].dist == dist && kKernels[i].dtype == dtype) return i;
  throw std::invalid_argument("philoxinit: no CUDA kernel for this distribution and dtype");
}

void launch(const Driver& d, const Launch& l, const DeviceState& s, CUstream stream, int device) {
  const uint64_t items = l.items();
  if (items == 0) return;
  const int slot = kernel_slot(l.dist, l.dtype);
  const uint64_t blocks = grid_blocks(items, kThreadsPerBlock, s.sm_count, s.blocks_per_sm[slot]);
  // The one kernel parameter is the table itself: the driver copies its bytes at the launch.
  void* table = l.wide ? const_cast<void*>(static_cast<const void*>(l.table64))
                       : const_cast<void*>(static_cast<const void*>(l.table32));
  void* params[] = {table};
  check(d,
        d.cuLaunchKernel(s.functions[slot], static_cast<unsigned>(blocks), 1, 1, kThreadsPerBlock,
                         1, 1, 0, stream, params, nullptr),
        "the fill kernel launch", device);
}

}  // namespace

int device_count(std::string* error) {
  const Driver* d = driver(error);
  if (d == nullptr) return 0;
  int n = 0;
  const CUresult r = d->cuDeviceGetCount(&n);
  if (r != kCudaSuccess) {
    if (error) *error = "cuDeviceGetCount failed (" + error_text(*d, r) + ")";
    return 0;
  }
  if (n == 0 && error) *error = "no CUDA device";
  return n;
}

int runtime_version() { return PHILOXINIT_CUDA_VERSION; }

int driver_version() {
  const Driver* d = driver(nullptr);
  int v = 0;
  if (d == nullptr || d->cuDriverGetVersion(&v) != kCudaSuccess) v = 0;
  return v;
}

bool device_supported(int device, std::string* error) {
  try {
    std::string count_error;
    const int n = device_count(&count_error);
    if (device < 0 || device >= n) {
      if (error) *error = n == 0 ? count_error : "no cuda:" + std::to_string(device);
      return false;
    }
    warm_up(require_driver(device), device);
    return true;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
}

const char* compiled_architectures() { return PHILOXINIT_CUDA_ARCHS; }

void fill(const std::vector<FillRequest>& requests, int device, uintptr_t stream_handle) {
  if (requests.empty()) return;
  const Plan plan(requests);
  const Driver& d = require_driver(device);
  const DeviceState& state = warm_up(d, device);
  ContextGuard guard(d, state.context, device);
  const CUstream stream = reinterpret_cast<CUstream>(stream_handle);
  for (const Launch& l : plan.launches()) launch(d, l, state, stream, device);
}

}  // namespace cudafill
}  // namespace philoxinit
