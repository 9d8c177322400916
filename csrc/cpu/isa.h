// The per-ISA translation units (isa_vec128.cpp, isa_avx2.cpp, isa_avx512.cpp) and what the
// dispatcher calls.
//
// Each of those units is compiled with its own flags and includes the shared headers under a
// namespace of its own (philoxinit_vec128, philoxinit_avx2, ...), so no inline function compiled for a
// newer ISA can be merged by the linker into code that runs on an older CPU. Their entry points
// take the request as `const void*`: a philoxinit::FillRequest (the same definition under another
// namespace name, so the same layout).
#pragma once
#include <cstdint>

namespace philoxinit {
namespace cpu {

using RangeFill = void (*)(const void* request, int64_t begin, int64_t end, bool stream);

void fill_range_vec128(const void* request, int64_t begin, int64_t end, bool stream);

#if defined(PXI_HAVE_X86_SIMD)
void fill_range_avx2(const void* request, int64_t begin, int64_t end, bool stream);
void fill_range_avx512(const void* request, int64_t begin, int64_t end, bool stream);
#endif

}  // namespace cpu
}  // namespace philoxinit
