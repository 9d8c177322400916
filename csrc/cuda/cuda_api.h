// The CUDA backend as plain C++ functions (no CUDA headers), implemented in kernels.cu.
// None of these throws except fill(), which throws std::runtime_error with the CUDA error string.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../fill.h"

namespace philoxinit {
namespace cudafill {

// Devices the CUDA runtime sees; 0 with *error set when there is no driver, no device, or a driver
// older than the runtime.
int device_count(std::string* error);
int runtime_version();
int driver_version();  // 0 without a driver
// Whether this build has a kernel image (or PTX) that loads on the device.
bool device_supported(int device, std::string* error);
// The architectures the kernels were compiled for, as CMake lists them (e.g. "80-real;90-real").
const char* compiled_architectures();

// Fills coalesced, non-empty requests on `device`, enqueued on `stream` (a cudaStream_t as an
// integer). Never synchronizes; safe to call during CUDA graph capture once the device has been
// used outside a capture (see kernels.cu).
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
