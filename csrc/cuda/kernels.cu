// The CUDA kernels: device code only. nvcc compiles this file alone into a fatbinary (CMakeLists.txt)
// that _C embeds (fatbin.cpp) and loads through the CUDA driver (launcher.cpp): no host code of
// nvcc's, no CUDA runtime. The per-thread work is thread_fill (thread_fill.h), the host+device
// code that the tests also run on the CPU; this file only adds the entry points.
//
// Each kernel takes ONE parameter, the request table (table.h), by value as a __grid_constant__:
// the launch copies it, so a fill needs no allocation, no copy and no synchronization, and a launch
// captured into a CUDA graph carries its own table.
#include <cstdint>

#include "kernels.h"
#include "table.h"
#include "thread_fill.h"

namespace philoxinit {
namespace cudafill {
namespace {

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
__device__ __forceinline__ void fill_grid(const Table<P>& table) {
  DeviceStore store;
  const uint64_t thread = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const uint64_t threads = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  thread_fill<kDist, kT>(table, thread, threads, store);
}

}  // namespace
}  // namespace cudafill
}  // namespace philoxinit

#define PXI_DEFINE_KERNEL(D, T, NAME)                                                               \
  extern "C" __global__ void __launch_bounds__(philoxinit::cudafill::kThreadsPerBlock) PXI_KERNEL_NAME(NAME)( \
      const __grid_constant__ philoxinit::cudafill::Table<philoxinit::PreparedOf<philoxinit::DType::T>> table) { \
    using namespace philoxinit;                                                                       \
    cudafill::fill_grid<Dist::D, DType::T>(table);                                                    \
  }
PXI_KINDS(PXI_DEFINE_KERNEL)
#undef PXI_DEFINE_KERNEL
