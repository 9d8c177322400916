// The CPU entries of philoxinit._C beyond fill_cpu: which instruction sets, and a test hook.
#include "cpu_module.h"

#include <pybind11/stl.h>

#include "fill_cpu.h"

namespace philoxinit {

void register_cpu(pybind11::module_& m) {
  m.def("cpu_isas", &cpu_isas,
        "CPU instruction sets this build has kernels for and this CPU supports, slowest first.");
  m.def("cpu_isa", &cpu_isa,
        "The CPU instruction set fills use now: set_isa's choice, else $PHILOXINIT_ISA, else the "
        "fastest available. RuntimeError if the requested one is unknown or unavailable.");
  m.def("set_isa", &set_cpu_isa, pybind11::arg("name"),
        "Force a CPU instruction set ('scalar', 'avx2', 'avx512') for this process; '' restores "
        "the default. For tests and benchmarks. RuntimeError if unavailable.");
}

}  // namespace philoxinit
