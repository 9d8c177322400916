// The SIMD fill of one run, generated for each ISA from its lane types (lanes_avx512.h,
// lanes_avx2.h, lanes_vec128.h) and the one set of templates in philox.h, transforms.h and fill.h.
//
// An iteration covers L Philox blocks: their words in element order (four vectors of L words),
// transformed lane by lane, store 4L words' worth of elements: 4L float32 / int32 / float16 /
// bfloat16 elements, or 2L float64 elements. Isa::words computes the blocks of Isa::kBatch
// iterations at once (one block per 64-bit lane, two vectors per counter word and iteration), so
// that more independent multiply chains keep the vector pipes busy. The blocks of an iteration
// share their counter's words 1..3, so part of their first two rounds is computed once per run
// (philox.h, SharedRounds). Heads (elements before the first block boundary), tails (less than one
// iteration left), the less-than-an-iteration before a multiple of 2^32 blocks (where word 1
// changes) and runs whose global step is not 1 go through fill_run_scalar, which computes the same
// bits one element at a time.
#pragma once
#include <cstdint>
#include <type_traits>

#include "../fill.h"
#include "kernel_scalar.h"
#include "multi.h"
#include "runs.h"

namespace philoxinit {
namespace simd {

#define PXI_L inline __attribute__((always_inline))

// bfloat16 round to nearest even on lanes: the formula of f32_to_bf16_bits, lane by lane, with
// the result left in the high half (the float32 bits of the rounded value).
template <class U>
PXI_L U bf16_rounded(U u) {
  return (u + U(0x7fffu) + ((u >> 16) & U(1u))) & U(0xffff0000u);
}

// Where a batch's vectors go: memory at p, with ordinary or non-temporal stores.
template <class Isa>
struct Sink {
  char* p;         // where element 0 of the batch goes
  bool stream;     // non-temporal stores (p aligned to the vector size)
  template <class V>
  PXI_L void put(int k, V v) const {  // the k-th vector (4L bytes) of the batch
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
  static constexpr int kBatch = Isa::kBatch;      // iterations whose blocks Isa::words computes at once
  static constexpr int kVectors = 4 * kBatch;     // their element-ordered word vectors
  // The transform runs on all vectors of a batch in lockstep (multi.h): its long dependency chains
  // (log, polynomials) then overlap, which smaller groups measured slower (docs/performance.md).
  using UG = multi::Multi<U, kVectors>;
  using FG = multi::Multi<F, kVectors>;
  using QG = multi::Multi<Q, kVectors>;
  using DG = multi::Multi<D, kVectors>;

  // A batch's values from its element-ordered words, handed to the sink in order.
  template <DType kType, class S>
  static PXI_L void emit(const U (&x)[kVectors], const Prepared32& p32, const Prepared64& p64, const S& sink) {
    if constexpr (kDist == Dist::Bits) {
      for (int k = 0; k < kVectors; ++k) sink.put(k, x[k]);
    } else if constexpr (kType == DType::Float64) {
      QG q;
      for (int i = 0; i < kVectors; ++i) q.v[i] = Isa::as_q(x[i]);
      DG v;
      if constexpr (kDist == Dist::Normal) v = normal_group<D>(q, p64);
      else v = sample64<kDist, DG>(q, p64);
      for (int i = 0; i < kVectors; ++i) sink.put(i, v.v[i]);
    } else {
      UG u;
      for (int i = 0; i < kVectors; ++i) u.v[i] = x[i];
      FG v;
      if constexpr (kDist == Dist::Normal) v = normal_group<F>(u, p32);
      else v = sample32<kDist, FG>(u, p32);
      if constexpr (kType == DType::Float32) {
        const FG r = finish32<kDist>(v, p32);
        for (int i = 0; i < kVectors; ++i) sink.put(i, r.v[i]);
      } else {
        UG h;
        if constexpr (kType == DType::BFloat16) {
          const FG r = finish32<kDist>(as_float(bf16_rounded(as_bits(v))), p32);
          h = as_bits(r) >> 16;  // r is a bfloat16 value (rounded, or a rounded bound): exact
        } else {
          FG rounded;
          for (int i = 0; i < kVectors; ++i) rounded.v[i] = Isa::f16_to_f32(Isa::f16_bits(v.v[i]));
          const FG r = finish32<kDist>(rounded, p32);
          for (int i = 0; i < kVectors; ++i) h.v[i] = Isa::f16_bits(r.v[i]);
        }
        for (int i = 0; i < kVectors; i += 2) sink.put16(i / 2, h.v[i], h.v[i + 1]);
      }
    }
  }

  // Normal values of element-ordered vectors (words as U, or 64-bit words as Q): Box-Muller takes the
  // words of a block in pairs, i.e. neighbouring lanes. unzip splits two vectors into the pairs'
  // first and second words, lane for lane; zip puts the two values of each pair back where their
  // words were.
  template <class V, class X, class P>
  static PXI_L multi::Multi<V, kVectors> normal_group(const multi::Multi<X, kVectors>& x, const P& p) {
    multi::Multi<X, kVectors / 2> a, b;
    multi::Multi<V, kVectors / 2> z0, z1;
    for (int h = 0; h < kVectors / 2; ++h) Isa::unzip(x.v[2 * h], x.v[2 * h + 1], a.v[h], b.v[h]);
    sample_pair<Dist::Normal>(a, b, p, z0, z1);
    multi::Multi<V, kVectors> v;
    for (int h = 0; h < kVectors / 2; ++h) Isa::zip(z0.v[h], z1.v[h], v.v[2 * h], v.v[2 * h + 1]);
    return v;
  }

  // `iters` whole iterations from block b on, the first element at p. Their blocks must share the
  // high word of their number (run() sees to it; the blocks of a last, partial batch that are
  // computed but not stored may not). Flattened so that the whole transform (normal transforms
  // included) is inlined into the loop, once.
  template <DType kType>
  __attribute__((flatten)) static void iterate(char* p, int64_t stride, int64_t iters, uint64_t b,
                                               const RoundKeys& rk, uint64_t r_stream,
                                               const Prepared32& p32, const Prepared64& p64, bool stream) {
    constexpr int kElems = elements_per_block(kType) * L;  // per iteration
    constexpr int kSize = element_size(kType);
    using T = typename std::conditional<kSize == 8, uint64_t,
                                        typename std::conditional<kSize == 4, uint32_t, uint16_t>::type>::type;
    // A batch's values go through this buffer when they cannot be stored in place: runs with one
    // inner memory stride (strided scalar stores after the vector math), and a last batch with
    // fewer than kBatch iterations left (its extra blocks are computed, not stored).
    alignas(64) T buf[kBatch * kElems];
    const bool nt = stream && stride == 1 && reinterpret_cast<uintptr_t>(p) % (L * 4) == 0;
    const int64_t step = stride * kSize;
    U x[kVectors];
    const SharedRounds s = shared_rounds(static_cast<uint32_t>(b >> 32), static_cast<uint32_t>(r_stream),
                                         static_cast<uint32_t>(r_stream >> 32), rk);
    for (int64_t it = 0; it < iters; it += kBatch, b += kBatch * L) {
      Isa::words(static_cast<uint32_t>(b), s, rk, x);
      const int64_t n = iters - it < kBatch ? iters - it : kBatch;
      const bool in_place = stride == 1 && n == kBatch;
      emit<kType>(x, p32, p64, Sink<Isa>{in_place ? p : reinterpret_cast<char*>(buf), in_place && nt});
      if (in_place) {
        p += kBatch * kElems * kSize;
      } else {
        for (int64_t j = 0; j < n * kElems; ++j, p += step) *reinterpret_cast<T*>(p) = buf[j];
      }
    }
  }

  // Elements [0, run.count) of a run with global step 1.
  template <DType kType>
  static void run(const FillRequest& r, const Run& run, bool stream) {
    constexpr int kPerBlock = elements_per_block(kType);
    constexpr int kElems = kPerBlock * L;  // elements per iteration
    constexpr int kSize = element_size(kType);
    const uint64_t g0 = run.global;
    int64_t head = static_cast<int64_t>((kPerBlock - g0 % kPerBlock) % kPerBlock);
    if (head > run.count) head = run.count;
    if ((run.count - head) / kElems == 0) return fill_run_scalar<kDist, kType>(r, run);
    if (head > 0) fill_run_scalar<kDist, kType>(r, Run{g0, 1, head, run.ptr, run.stride});

    const Prepared32 p32 = prepare32(r.params, kDist, r.dtype);
    const Prepared64 p64 = prepare64(r.params);
    const RoundKeys rk = round_keys(static_cast<uint32_t>(r.key), static_cast<uint32_t>(r.key >> 32));
    int64_t done = head;
    while (run.count - done >= kElems) {
      const uint64_t b = r.offset + (g0 + static_cast<uint64_t>(done)) / kPerBlock;
      char* p = run.ptr + done * run.stride * kSize;
      // SIMD up to the next multiple of 2^32 blocks, where the counter's word 1 changes (iterate
      // needs it fixed); what is left before it, less than an iteration, goes to the scalar kernel.
      const uint64_t to_wrap = (uint64_t{1} << 32) - (b & 0xffffffffu);
      int64_t n = (run.count - done) / kElems;
      if (static_cast<uint64_t>(n) > to_wrap / L) n = static_cast<int64_t>(to_wrap / L);
      if (n > 0) {
        iterate<kType>(p, run.stride, n, b, rk, r.stream, p32, p64, stream);
        done += n * kElems;
      } else {
        const int64_t m = static_cast<int64_t>(to_wrap) * kPerBlock;
        fill_run_scalar<kDist, kType>(r, Run{g0 + static_cast<uint64_t>(done), 1, m, p, run.stride});
        done += m;
      }
    }
    if (done < run.count)
      fill_run_scalar<kDist, kType>(r, Run{g0 + static_cast<uint64_t>(done), 1, run.count - done,
                                    run.ptr + done * run.stride * kSize, run.stride});
  }
};

// Elements [begin, end) of request r; `stream` asks for non-temporal stores where aligned.
template <class Isa>
void fill_range(const FillRequest& r, int64_t begin, int64_t end, bool stream) {
  visit_cpu_kind(r, [&](auto kind) {
    using K = decltype(kind);
    for_each_run(r, begin, end, [&](const Run& run) {
      if (run.global_step != 1) return fill_run_scalar<K::dist, K::dtype>(r, run);
      Fill<Isa, K::dist>::template run<K::dtype>(r, run, stream);
    });
  });
  if (stream) Isa::fence();
}

#undef PXI_L

}  // namespace simd
}  // namespace philoxinit
