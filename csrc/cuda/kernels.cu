// The CUDA kernels and their launcher. The per-thread work is thread_fill (thread_fill.h), the
// host+device code that the tests also run on the CPU; this file only adds the launch.
//
// Rules the launcher keeps (graph capture included):
//   - the request table is the kernel parameter (table.h): no allocation, no copy, no host buffer
//     that must outlive the call, no synchronization;
//   - launches go to the caller's stream on the caller's device; the current device is restored;
//   - the first fill on a device loads every kernel and queries its occupancy, once. Do one fill
//     on a device outside capture before capturing (as torch's own warm-up rule asks), so that a
//     capture only records kernel launches.
#include <cuda_runtime.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>

#include "cuda_api.h"
#include "table.h"
#include "thread_fill.h"

#ifndef PHILOXINIT_CUDA_ARCHS
#define PHILOXINIT_CUDA_ARCHS "unknown"
#endif

namespace philoxinit {
namespace cudafill {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxDevices = 64;

// Streaming stores: the output is written once and not read back by this kernel.
struct DeviceStore {
  __device__ __forceinline__ void store16(char* p, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    __stcs(reinterpret_cast<uint4*>(p), make_uint4(a, b, c, d));
  }
  __device__ __forceinline__ void store8(char* p, uint32_t a, uint32_t b) {
    __stcs(reinterpret_cast<uint2*>(p), make_uint2(a, b));
  }
  __device__ __forceinline__ void store8x1(char* p, uint64_t v) {
    __stcs(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  }
  __device__ __forceinline__ void store4(char* p, uint32_t v) {
    __stcs(reinterpret_cast<unsigned int*>(p), v);
  }
  __device__ __forceinline__ void store2(char* p, uint16_t v) {
    __stcs(reinterpret_cast<unsigned short*>(p), v);
  }
};

template <Dist kDist, DType kT, class P>
__global__ void __launch_bounds__(kThreads) fill_kernel(const __grid_constant__ Table<P> table) {
  DeviceStore store;
  const uint64_t thread = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const uint64_t threads = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  thread_fill<kDist, kT>(table, thread, threads, store);
}

std::string error_text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

void check(cudaError_t e, const char* what, int device) {
  if (e == cudaSuccess) return;
  throw std::runtime_error("philoxinit: " + std::string(what) + " failed on cuda:" +
                           std::to_string(device) + " (" + error_text(e) + ")");
}

// Sets the current device for its lifetime and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) : device_(device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice", device);
    if (previous_ != device_) check(cudaSetDevice(device_), "cudaSetDevice", device);
  }
  ~DeviceGuard() {
    if (previous_ != device_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int device_;
  int previous_ = 0;
};

// Per device: SM count and, per kernel, resident blocks per SM. Filled by warm_up().
struct DeviceState {
  std::atomic<bool> ready{false};
  int sm_count = 0;
  int blocks_per_sm[32] = {};
};
DeviceState g_devices[kMaxDevices];
std::mutex g_warm_mutex;

// Every kernel, in a fixed order (the index is its slot in DeviceState::blocks_per_sm).
struct KernelEntry {
  Dist dist;
  DType dtype;
  const void* fn;
};
const KernelEntry kKernels[] = {
    {Dist::Bits, DType::Bits32, reinterpret_cast<const void*>(fill_kernel<Dist::Bits, DType::Bits32, Prepared32>)},
#define PXI_FLOAT_KERNELS(D)                                                                              \
  {D, DType::Float32, reinterpret_cast<const void*>(fill_kernel<D, DType::Float32, Prepared32>)},        \
      {D, DType::Float16, reinterpret_cast<const void*>(fill_kernel<D, DType::Float16, Prepared32>)},    \
      {D, DType::BFloat16, reinterpret_cast<const void*>(fill_kernel<D, DType::BFloat16, Prepared32>)},  \
      {D, DType::Float64, reinterpret_cast<const void*>(fill_kernel<D, DType::Float64, Prepared64>)}
    PXI_FLOAT_KERNELS(Dist::Uniform),
    PXI_FLOAT_KERNELS(Dist::Normal),
    PXI_FLOAT_KERNELS(Dist::TruncNormal),
#undef PXI_FLOAT_KERNELS
};
constexpr int kKernelCount = sizeof(kKernels) / sizeof(kKernels[0]);
static_assert(kKernelCount <= 32, "DeviceState holds 32 kernels");

int kernel_slot(Dist d, DType t) {
  for (int i = 0; i < kKernelCount; ++i)
    if (kKernels[i].dist == d && kKernels[i].dtype == t) return i;
  throw std::invalid_argument("philoxinit: no CUDA kernel for this distribution and dtype");
}

// Loads every kernel on the current device and records what the launcher needs. Throws when the
// build has no image for the device.
DeviceState& warm_up(int device) {
  if (device < 0 || device >= kMaxDevices)
    throw std::runtime_error("philoxinit: cuda:" + std::to_string(device) + " is out of range");
  DeviceState& s = g_devices[device];
  if (s.ready.load(std::memory_order_acquire)) return s;
  std::lock_guard<std::mutex> lock(g_warm_mutex);
  if (s.ready.load(std::memory_order_relaxed)) return s;
  check(cudaDeviceGetAttribute(&s.sm_count, cudaDevAttrMultiProcessorCount, device),
        "cudaDeviceGetAttribute", device);
  for (int i = 0; i < kKernelCount; ++i) {
    cudaFuncAttributes attr;
    check(cudaFuncGetAttributes(&attr, kKernels[i].fn),
          "loading the kernels (this build has no code for the device's architecture?)", device);
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&s.blocks_per_sm[i], kKernels[i].fn,
                                                        kThreads, 0),
          "cudaOccupancyMaxActiveBlocksPerMultiprocessor", device);
  }
  s.ready.store(true, std::memory_order_release);
  return s;
}

template <Dist D, DType T, class P>
void launch_kernel(const Table<P>& table, const DeviceState& s, int slot, cudaStream_t stream) {
  const uint64_t items = table.prefix[table.count];
  if (items == 0) return;
  const uint64_t blocks = grid_blocks(items, kThreads, s.sm_count, s.blocks_per_sm[slot]);
  fill_kernel<D, T, P><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(table);
}

void launch(const Launch& l, const DeviceState& s, cudaStream_t stream) {
  const int slot = kernel_slot(l.dist, l.dtype);
  const Table32& t = *l.table32;
  switch (l.dist) {
    case Dist::Bits:
      return launch_kernel<Dist::Bits, DType::Bits32>(t, s, slot, stream);
#define PXI_CASE(D)                                                                         \
  case D:                                                                                   \
    switch (l.dtype) {                                                                      \
      case DType::Float32: return launch_kernel<D, DType::Float32>(t, s, slot, stream);     \
      case DType::Float16: return launch_kernel<D, DType::Float16>(t, s, slot, stream);     \
      case DType::BFloat16: return launch_kernel<D, DType::BFloat16>(t, s, slot, stream);   \
      case DType::Float64:                                                                  \
        return launch_kernel<D, DType::Float64>(*l.table64, s, slot, stream);               \
      default: break;                                                                       \
    }                                                                                       \
    break;
      PXI_CASE(Dist::Uniform)
      PXI_CASE(Dist::Normal)
      PXI_CASE(Dist::TruncNormal)
#undef PXI_CASE
    case Dist::TruncNormalCentral: break;  // the CPU kernels' own kind: requests never carry it
  }
  throw std::invalid_argument("philoxinit: no CUDA kernel for this distribution and dtype");
}

}  // namespace

int device_count(std::string* error) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // do not leave the error for the next caller
    if (error) *error = error_text(e);
    return 0;
  }
  if (n == 0 && error) *error = "no CUDA device";
  return n;
}

int runtime_version() {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess) v = 0;
  return v;
}

int driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess) v = 0;
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
    DeviceGuard guard(device);
    warm_up(device);
    return true;
  } catch (const std::exception& e) {
    cudaGetLastError();
    if (error) *error = e.what();
    return false;
  }
}

const char* compiled_architectures() { return PHILOXINIT_CUDA_ARCHS; }

void fill(const std::vector<FillRequest>& requests, int device, uintptr_t stream_handle) {
  if (requests.empty()) return;
  const Plan plan(requests);
  DeviceGuard guard(device);
  const DeviceState& state = warm_up(device);
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(stream_handle);
  // A failure left by earlier, unrelated work would otherwise be reported as ours.
  const cudaError_t before = cudaGetLastError();
  if (before != cudaSuccess) check(before, "an earlier CUDA call (reported before launching)", device);
  for (const Launch& l : plan.launches()) {
    launch(l, state, stream);
    check(cudaGetLastError(), "the fill kernel launch", device);
  }
}

}  // namespace cudafill
}  // namespace philoxinit
