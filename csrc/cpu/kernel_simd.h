// The SIMD fill of one run, generated for each ISA from its lane types (lanes_avx512.h,
// lanes_avx2.h) and the one set of templates in philox.h, transforms.h and fill.h.
//
// An iteration computes L Philox blocks at once (one block per uint32 lane: vector w holds word w
// of blocks b .. b+L-1), transposes the four word vectors into element order, applies the
// transform lane by lane and stores 4L words' worth of elements: 4L float32 / int32 / float16 /
// bfloat16 elements, or 2L float64 elements. Heads (elements before the first block boundary),
// tails (fewer than L blocks left) and runs whose global step is not 1 go through
// fill_run_scalar, which computes the same bits one element at a time.
#pragma once
#include <cstdint>
#include <type_traits>

#include "../fill.h"
#include "kernel_scalar.h"
#include "runs.h"

namespace philoxinit {
namespace simd {

#define PXI_L inline __attribute__((always_inline))

// bfloat16 round to nearest even on lanes: the formula of f32_to_bf16_bits, lane by lane.
template <class U>
PXI_L U bf16_bits(U u) {
  return (u + U(0x7fffu) + ((u >> 16) & U(1u))) >> 16;
}

template <class Isa>
struct Sink {
  char* p;         // where element 0 of the iteration goes
  bool stream;     // non-temporal stores (p aligned to the vector size)
  template <class V>
  PXI_L void put(int k, V v) const {  // the k-th vector (4L bytes) of the iteration
    char* at = p + k * Isa::L * 4;
    if (stream) Isa::stream(at, v);
    else Isa::store(at, v);
  }
  PXI_L void put16(int k, typename Isa::U a, typename Isa::U b) const {  // the k-th pair (4L bytes)
    char* at = p + k * Isa::L * 4;
    if (stream) Isa::stream16(at, a, b);
    else Isa::store16(at, a, b);
  }
};

template <class Isa, Dist kDist>
struct Fill {
  using U = typename Isa::U;
  using F = typename Isa::F;
  using Q = typename Isa::Q;
  using D = typename Isa::D;
  static constexpr int L = Isa::L;

  // Words of blocks b .. b+L-1 under (key, stream), in element order.
  static PXI_L void words(uint64_t b, uint32_t k0, uint32_t k1, U s_lo, U s_hi, U (&x)[4]) {
    const uint32_t lo = static_cast<uint32_t>(b), hi = static_cast<uint32_t>(b >> 32);
    U c0 = U(lo) + Isa::iota();
    U c1 = U(hi);
    if (lo > UINT32_MAX - static_cast<uint32_t>(L - 1)) {  // the low word wraps inside the vector
      alignas(64) uint32_t h[L];
      for (int j = 0; j < L; ++j) h[j] = static_cast<uint32_t>((b + static_cast<uint64_t>(j)) >> 32);
      c1 = Isa::load(h);
    }
    U c2 = s_lo, c3 = s_hi;
    philox4x32_10(c0, c1, c2, c3, k0, k1);
    x[0] = c0;
    x[1] = c1;
    x[2] = c2;
    x[3] = c3;
    Isa::transpose(x[0], x[1], x[2], x[3]);
  }

  // One iteration's values from its element-ordered words, handed to the sink in order.
  template <DType kType, class S>
  static PXI_L void emit(const U (&x)[4], const Prepared32& p32, const Prepared64& p64, const S& sink) {
    if constexpr (kDist == Dist::Bits) {
      for (int k = 0; k < 4; ++k) sink.put(k, x[k]);
    } else if constexpr (kType == DType::Float64) {
      for (int k = 0; k < 4; ++k) sink.put(k, sample64<kDist, D>(Isa::as_q(x[k]), p64));
    } else if constexpr (kType == DType::Float32) {
      for (int k = 0; k < 4; ++k) sink.put(k, finish32<kDist>(sample32<kDist, F>(x[k], p32), p32));
    } else {
      U h[4];
      for (int k = 0; k < 4; ++k) {
        const F v = sample32<kDist, F>(x[k], p32);
        if constexpr (kType == DType::BFloat16) {
          const F r = finish32<kDist>(as_float(bf16_bits(as_bits(v)) << 16), p32);
          h[k] = bf16_bits(as_bits(r));
        } else {
          const F r = finish32<kDist>(Isa::f16_to_f32(Isa::f16_bits(v)), p32);
          h[k] = Isa::f16_bits(r);
        }
      }
      sink.put16(0, h[0], h[1]);
      sink.put16(1, h[2], h[3]);
    }
  }

  // Elements [0, run.count) of a run with global step 1.
  template <DType kType>
  static void run(const FillRequest& r, const Run& run, bool stream) {
    constexpr int kPerBlock = kType == DType::Float64 ? 2 : 4;
    constexpr int kElems = kPerBlock * L;  // elements per iteration
    constexpr int kSize = kType == DType::Float64 ? 8 : (kType == DType::Float16 || kType == DType::BFloat16) ? 2 : 4;
    const uint64_t g0 = run.global;
    int64_t head = static_cast<int64_t>((kPerBlock - g0 % kPerBlock) % kPerBlock);
    if (head > run.count) head = run.count;
    const int64_t iters = (run.count - head) / kElems;
    if (iters == 0) return fill_run_scalar<kDist>(r, run);
    if (head > 0) fill_run_scalar<kDist>(r, Run{g0, 1, head, run.ptr, run.stride});

    const Prepared32 p32 = prepare32(r.params, kDist, r.dtype);
    const Prepared64 p64 = prepare64(r.params);
    const uint32_t k0 = static_cast<uint32_t>(r.key), k1 = static_cast<uint32_t>(r.key >> 32);
    const U s_lo = U(static_cast<uint32_t>(r.stream)), s_hi = U(static_cast<uint32_t>(r.stream >> 32));
    uint64_t b = r.offset + (g0 + static_cast<uint64_t>(head)) / kPerBlock;
    char* p = run.ptr + head * run.stride * kSize;
    U x[4];
    if (run.stride == 1) {
      const bool nt = stream && reinterpret_cast<uintptr_t>(p) % (L * 4) == 0;
      for (int64_t it = 0; it < iters; ++it, b += L, p += kElems * kSize) {
        words(b, k0, k1, s_lo, s_hi, x);
        emit<kType>(x, p32, p64, Sink<Isa>{p, nt});
      }
    } else {  // one inner memory stride: vector math into a buffer, then strided scalar stores
      using T = typename std::conditional<kSize == 8, uint64_t,
                                          typename std::conditional<kSize == 4, uint32_t, uint16_t>::type>::type;
      alignas(64) T buf[kElems];
      const int64_t step = run.stride * kSize;
      for (int64_t it = 0; it < iters; ++it, b += L) {
        words(b, k0, k1, s_lo, s_hi, x);
        emit<kType>(x, p32, p64, Sink<Isa>{reinterpret_cast<char*>(buf), false});
        for (int j = 0; j < kElems; ++j, p += step) *reinterpret_cast<T*>(p) = buf[j];
      }
    }
    const int64_t done = head + iters * kElems;
    if (done < run.count)
      fill_run_scalar<kDist>(r, Run{g0 + static_cast<uint64_t>(done), 1, run.count - done, p, run.stride});
  }
};

template <class Isa, Dist kDist>
void fill_range_dist(const FillRequest& r, int64_t begin, int64_t end, bool stream) {
  using K = Fill<Isa, kDist>;
  for_each_run(r, begin, end, [&](const Run& run) {
    if (run.global_step != 1) return fill_run_scalar<kDist>(r, run);
    if constexpr (kDist == Dist::Bits) {
      if (element_size(r.dtype) == 4) return K::template run<DType::Bits32>(r, run, stream);
      return fill_run_scalar<kDist>(r, run);
    }
    switch (r.dtype) {
      case DType::Float32: return K::template run<DType::Float32>(r, run, stream);
      case DType::Float64: return K::template run<DType::Float64>(r, run, stream);
      case DType::Float16: return K::template run<DType::Float16>(r, run, stream);
      case DType::BFloat16: return K::template run<DType::BFloat16>(r, run, stream);
      case DType::Bits32: return fill_run_scalar<kDist>(r, run);  // not a valid pairing
    }
  });
}

// Elements [begin, end) of request r; `stream` asks for non-temporal stores where aligned.
template <class Isa>
void fill_range(const FillRequest& r, int64_t begin, int64_t end, bool stream) {
  switch (r.dist) {
    case Dist::Bits: fill_range_dist<Isa, Dist::Bits>(r, begin, end, stream); break;
    case Dist::Uniform: fill_range_dist<Isa, Dist::Uniform>(r, begin, end, stream); break;
    case Dist::Normal: fill_range_dist<Isa, Dist::Normal>(r, begin, end, stream); break;
    case Dist::TruncNormal: fill_range_dist<Isa, Dist::TruncNormal>(r, begin, end, stream); break;
  }
  if (stream) Isa::fence();
}

#undef PXI_L

}  // namespace simd
}  // namespace philoxinit
