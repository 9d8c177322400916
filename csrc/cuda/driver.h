// The CUDA driver API, loaded at run time from libcuda.so.1 (the NVIDIA driver's library): the few
// entry points the launcher uses, declared here with the driver's documented C signatures, so that
// _C links no CUDA library and imports on machines without a driver.
#pragma once
#include <cstddef>
#include <string>

namespace philoxinit {
namespace cudafill {

using CUresult = int;  // CUDA_SUCCESS == 0
using CUdevice = int;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;  // a cudaStream_t is the same handle

constexpr CUresult kCudaSuccess = 0;
constexpr int kAttrMultiprocessorCount = 16;  // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT

struct Driver {
  CUresult (*cuInit)(unsigned int flags);
  CUresult (*cuDriverGetVersion)(int* version);
  CUresult (*cuDeviceGetCount)(int* count);
  CUresult (*cuDeviceGet)(CUdevice* device, int ordinal);
  CUresult (*cuDeviceGetAttribute)(int* value, int attribute, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext* context, CUdevice device);
  CUresult (*cuCtxGetCurrent)(CUcontext* context);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuModuleLoadData)(CUmodule* module, const void* image);
  CUresult (*cuModuleGetFunction)(CUfunction* function, CUmodule module, const char* name);
  CUresult (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(int* blocks, CUfunction function,
                                                          int block_size, size_t dynamic_smem);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned grid_x, unsigned grid_y,
                             unsigned grid_z, unsigned block_x, unsigned block_y, unsigned block_z,
                             unsigned shared_bytes, CUstream stream, void** params, void** extra);
  CUresult (*cuGetErrorName)(CUresult error, const char** name);
  CUresult (*cuGetErrorString)(CUresult error, const char** text);
};

// The driver, loaded and initialized (cuInit) once per process; nullptr with *error set when
// libcuda.so.1 is missing, lacks an entry point, or cuInit fails (no device, driver too old for
// the kernel, ...). Thread-safe.
const Driver* driver(std::string* error);

// "CUDA_ERROR_NAME: description" for a driver result.
std::string error_text(const Driver& d, CUresult result);

}  // namespace cudafill
}  // namespace philoxinit
