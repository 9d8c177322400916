#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "../fill.h"

namespace philoxinit {

// Fills every request on the CPU on up to `threads` threads, with the instruction set chosen by
// cpu_isa(). Requests must be coalesced and must not overlap. Throws std::runtime_error when
// PHILOXINIT_ISA (or set_cpu_isa) asks for an instruction set this build or CPU lacks.
void fill_cpu(const FillRequest* requests, size_t count, int threads);

// Instruction sets this build has kernels for and this CPU runs, slowest first ("scalar", "avx2",
// "avx512").
std::vector<std::string> cpu_isas();
// The one fills use now: set_cpu_isa's choice, else $PHILOXINIT_ISA (read at each call), else the
// fastest of cpu_isas(). Throws std::runtime_error for an unknown or unavailable name.
std::string cpu_isa();
// Forces an instruction set for later calls in this process ("" goes back to the default).
void set_cpu_isa(const std::string& name);

}  // namespace philoxinit
