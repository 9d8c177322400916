#pragma once
#include <pybind11/pybind11.h>

namespace philoxinit {

// Adds cpu_isas(), cpu_isa() and set_isa(name) to the module.
void register_cpu(pybind11::module_& m);

}  // namespace philoxinit
