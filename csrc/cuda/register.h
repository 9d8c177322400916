// Adds the CUDA entry points to the module: fill_cuda, cuda_available, cuda_device_supported,
// cuda_info, cuda_compiled, and the host emulation (_cuda_emulate_fill). Built from
// cuda/register_cuda.cpp + cuda/launcher.cpp (+ the kernels of cuda/kernels.cu, embedded) when CUDA
// is enabled, else from cuda/no_cuda.cpp.
#pragma once
#include <pybind11/pybind11.h>

namespace philoxinit {
void register_cuda(pybind11::module_& m);
}
