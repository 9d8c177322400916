// Stand-alone check of the portable vec128 kernels against the scalar kernel, for targets where
// the Python package cannot be tested directly (e.g. AArch64 under qemu-user):
//
//   aarch64-linux-gnu-g++ -O2 -std=c++17 -ffp-contract=off -fno-math-errno -static \
//       -Icsrc tools/check_vec128.cpp -o /tmp/check_vec128 && qemu-aarch64 /tmp/check_vec128
//
// For every distribution and dtype, contiguous and with an inner stride, at offsets that start
// mid-block, it fills with both kernels and compares every byte. Exit status 0 when all agree. It
// also prints a digest of every byte written: the contract makes it the same on every platform, so
// the digests of two targets (x86-64 natively, AArch64 under qemu) must be equal.
#define philoxinit philoxinit_vec128
#include "cpu/kernel_simd.h"
#include "cpu/lanes_vec128.h"
#undef philoxinit

#include <cstdio>
#include <cstring>
#include <vector>

using namespace philoxinit_vec128;

static uint64_t g_digest = 1469598103934665603ull;  // FNV-1a over all outputs

static bool check(Dist dist, DType dtype, int64_t n, int64_t stride, uint64_t goffset, uint64_t offset,
                  Params p) {
  const int es = element_size(dtype);
  std::vector<char> a(n * stride * es + 64, 0x5a), b(n * stride * es + 64, 0x5a);
  FillRequest r;
  r.dtype = dtype;
  r.dist = dist;
  r.ndim = 1;
  r.sizes[0] = n;
  r.strides[0] = stride;
  r.global_strides[0] = 1;
  r.global_offset = goffset;
  r.key = 0x123456789abcdef0ull;
  r.stream = 7;
  r.offset = offset;
  r.params = p;
  r.data = a.data();
  simd::fill_range<lanes128::Isa>(r, 0, n, false);
  r.data = b.data();
  // The scalar kernel of the request's own kind: TruncNormal even where the SIMD kernel runs the
  // central variant, so that the two variants are compared as well.
  visit_kind(dist, dtype, [&](auto kind) {
    using K = decltype(kind);
    for_each_run(r, 0, n, [&](const Run& run) { fill_run_scalar<K::dist, K::dtype>(r, run); });
  });
  const bool same = std::memcmp(a.data(), b.data(), a.size()) == 0;
  for (char c : a) g_digest = (g_digest ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  if (!same)
    std::printf("MISMATCH dist %d dtype %d n %lld stride %lld global offset %llu block offset %llu\n",
                int(dist), int(dtype), static_cast<long long>(n), static_cast<long long>(stride),
                static_cast<unsigned long long>(goffset), static_cast<unsigned long long>(offset));
  return same;
}

int main() {
  Params uni;
  uni.a = -0.75;
  uni.b = 1.25;
  Params nor;
  nor.a = 0.5;
  nor.b = 2.0;
  Params tru;  // the standard normal on [-2, 2] as the host prepares it (quantile mode, no flip)
  tru.a = 0.0;
  tru.b = 1.0;
  tru.t0 = 0.022750131948179209;
  tru.dt = 0.95449973610364158;
  tru.flip = 1.0;
  tru.lo = -2.0;
  tru.hi = 2.0;
  int bad = 0, total = 0;
  // Block offsets: one far from any wrap, one whose low word wraps inside the runs (counter word 1
  // changes there, so the kernels' shared first rounds must stop short of it).
  for (uint64_t offset : {(1ull << 63) + 5, (1ull << 32) - 9})
    for (int64_t n : {1, 7, 64, 1000, 4099})
      for (int64_t stride : {1, 3})
        for (uint64_t goffset : {0ull, 1ull, 3ull, 1ull << 40})
          for_each_kind([&](auto kind) {  // every (distribution, dtype) pair
            using K = decltype(kind);
            const Params p = K::dist == Dist::Uniform  ? uni
                             : K::dist == Dist::Normal ? nor
                             : K::dist == Dist::TruncNormal ? tru
                                                            : Params{};
            total++, bad += !check(K::dist, K::dtype, n, stride, goffset, offset, p);
          });
  std::printf("vec128 vs scalar: %d of %d cases identical; digest of all outputs %016llx\n", total - bad,
              total, static_cast<unsigned long long>(g_digest));
  return bad == 0 ? 0 : 1;
}
