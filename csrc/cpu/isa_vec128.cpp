// The portable 128-bit vector kernels (GCC / Clang vector extensions: SSE2 on x86-64, NEON on
// AArch64), compiled with the target's baseline flags, so they run on every CPU of the target.
// See isa.h for the namespace rename.
#define philoxinit philoxinit_vec128
#include "kernel_simd.h"
#include "lanes_vec128.h"
#undef philoxinit

#include "isa.h"

void philoxinit::cpu::fill_range_vec128(const void* request, int64_t begin, int64_t end, bool stream) {
  namespace k = ::philoxinit_vec128;
  k::simd::fill_range<k::lanes128::Isa>(*static_cast<const k::FillRequest*>(request), begin, end, stream);
}
