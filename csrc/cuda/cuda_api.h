// The CUDA backend as plain C++ functions (no CUDA headers), implemented in launcher.cpp over the
// CUDA driver API. None of these throws except fill(), which throws std::runtime_error with the
// driver's error name and text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../fill.h"

namespace philoxinit {
namespace cudafill {

// Devices the CUDA driver sees; 0 with *error set when there is no driver (libcuda.so.1) or no
// device.
int device_count(std::string* error);
// The CUDA version of the toolkit the kernels were compiled with (e.g. 13000): there is no CUDA
// runtime library, the kernels load through the driver.
int runtime_version();
int driver_version();  // cuDriverGetVersion, 0 without a driver
// Whether this build has a kernel image (or PTX) that loads on the device (and its driver).
bool device_supported(int device, std::string* error);
// The architectures the kernels were compiled for, as CMake lists them (e.g. "80-real;90-real").
const char* compiled_architectures();

// Fills coalesced, non-empty requests on `device`, enqueued on `stream` (a cudaStream_t as an
// integer). Never synchronizes; safe to call during CUDA graph capture once the device has been
// used outside a capture (see launcher.cpp).
void fill(const std::vector<FillRequest>& requests, int device, uintptr_t stream);

// Blocks per grid for `items` items at `threads_per_block`, given what is resident per SM.
inline uint64_t grid_blocks(uint64_t items, int threads_per_block, int sm_count, int blocks_per_sm) {
  const uint64_t needed = (items + threads_per_block - 1) / threads_per_block;
  const uint64_t resident = static_cast<uint64_t>(sm_count > 0 ? sm_count : 1) *
                            static_cast<uint64_t>(blocks_per_sm > 0 ? blocks_per_sm : 1);
  // Up to 4 waves of resident blocks: enough to hide the tail, few enough to amortize the setup.
  const uint64_t cap = resident * 4;
  const uint64_t b = needed < cap ? needed : cap;
  return b > 0 ? b : 1;
}

}  // namespace cudafill
}  // namespace philoxinit
