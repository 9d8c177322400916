// Entry points every build has, CUDA toolkit or not: the host emulation of the CUDA kernels.
#pragma once
#include <pybind11/pybind11.h>

namespace philoxinit {
// Adds _cuda_emulate_fill and _cuda_table_capacity to the module.
void register_cuda_emulation(pybind11::module_& m);
}  // namespace philoxinit
