// The AVX2 kernels (compiled with -mavx2 -mf16c, no FMA); called only when the CPU has both.
// See isa.h for the namespace rename.
#define philoxinit philoxinit_avx2
#include "kernel_simd.h"
#include "lanes_avx2.h"
#undef philoxinit

#include "isa.h"

void philoxinit::cpu::fill_range_avx2(const void* request, int64_t begin, int64_t end, bool stream) {
  namespace k = ::philoxinit_avx2;
  k::simd::fill_range<k::lanes256::Isa>(*static_cast<const k::FillRequest*>(request), begin, end, stream);
}
