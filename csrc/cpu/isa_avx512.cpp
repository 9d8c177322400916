// The AVX-512 kernels (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mf16c); called
// only when the CPU has all of them. See isa.h for the namespace rename.
// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized (their "undefined" vector idiom).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define philoxinit philoxinit_avx512
#include "kernel_simd.h"
#include "lanes_avx512.h"
#undef philoxinit

#include "isa.h"

void philoxinit::cpu::fill_range_avx512(const void* request, int64_t begin, int64_t end, bool stream) {
  namespace k = ::philoxinit_avx512;
  k::simd::fill_range<k::lanes512::Isa>(*static_cast<const k::FillRequest*>(request), begin, end, stream);
}
