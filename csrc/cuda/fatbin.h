// The CUDA kernels' fatbinary (kernels.cu compiled by nvcc --fatbin: machine code per architecture
// plus PTX), embedded in _C by fatbin.cpp.
#pragma once

namespace philoxinit {
namespace cudafill {
// The image for cuModuleLoadData.
const void* embedded_fatbin();
}  // namespace cudafill
}  // namespace philoxinit
