// Multi<V, N>: N native vectors used as one lane type of N times the width. Every operation is
// applied to each part, so the math is exactly that of V; the point is instruction-level
// parallelism: Philox rounds and the normal transforms are long chains of dependent operations,
// and running several independent vectors (a whole batch, kernel_simd.h) through each step in
// lockstep keeps the pipes busy instead of waiting on latencies.
#pragma once

#include <cstdint>
#include <type_traits>

#include "../philox.h"

namespace philoxinit {
namespace multi {

#define PXI_M inline __attribute__((always_inline))

template <class V, int N>
struct Multi {
  V v[N];
  Multi() = default;
  template <class S, class = typename std::enable_if<std::is_arithmetic<S>::value>::type>
  PXI_M Multi(S s) {
    for (int i = 0; i < N; ++i) v[i] = V(s);
  }
};

template <class V, int N, class Fn>
PXI_M auto map1(const Multi<V, N>& a, Fn fn) {
  Multi<decltype(fn(a.v[0])), N> r;
  for (int i = 0; i < N; ++i) r.v[i] = fn(a.v[i]);
  return r;
}
template <class A, class B, int N, class Fn>
PXI_M auto map2(const Multi<A, N>& a, const Multi<B, N>& b, Fn fn) {
  Multi<decltype(fn(a.v[0], b.v[0])), N> r;
  for (int i = 0; i < N; ++i) r.v[i] = fn(a.v[i], b.v[i]);
  return r;
}

#define PXI_MULTI_BINOP(op)                                                                      \
  template <class V, int N>                                                                      \
  PXI_M auto operator op(const Multi<V, N>& a, const Multi<V, N>& b) {                           \
    return map2(a, b, [](const V& x, const V& y) { return x op y; }); \
  }
PXI_MULTI_BINOP(+)
PXI_MULTI_BINOP(-)
PXI_MULTI_BINOP(*)
PXI_MULTI_BINOP(/)
PXI_MULTI_BINOP(&)
PXI_MULTI_BINOP(|)
PXI_MULTI_BINOP(^)
PXI_MULTI_BINOP(<)
PXI_MULTI_BINOP(>)
PXI_MULTI_BINOP(<=)
PXI_MULTI_BINOP(>=)
#undef PXI_MULTI_BINOP

#define PXI_MULTI_ASSIGN(op)                                               \
  template <class V, int N>                                                \
  PXI_M Multi<V, N>& operator op##=(Multi<V, N>& a, const Multi<V, N>& b) { \
    return a = a op b;                                                     \
  }
PXI_MULTI_ASSIGN(+)
PXI_MULTI_ASSIGN(-)
PXI_MULTI_ASSIGN(*)
PXI_MULTI_ASSIGN(/)
PXI_MULTI_ASSIGN(&)
PXI_MULTI_ASSIGN(|)
PXI_MULTI_ASSIGN(^)
#undef PXI_MULTI_ASSIGN

template <class V, int N>
PXI_M Multi<V, N> operator>>(const Multi<V, N>& a, int n) {
  return map1(a, [n](const V& x) { return x >> n; });
}
template <class V, int N>
PXI_M Multi<V, N> operator<<(const Multi<V, N>& a, int n) {
  return map1(a, [n](const V& x) { return x << n; });
}
template <class V, int N>
PXI_M Multi<V, N> operator-(const Multi<V, N>& a) {
  return map1(a, [](const V& x) { return -x; });
}
template <class V, int N>
PXI_M Multi<V, N> operator~(const Multi<V, N>& a) {
  return map1(a, [](const V& x) { return ~x; });
}
template <class V, int N>
PXI_M Multi<V, N> operator!(const Multi<V, N>& a) {
  return ~a;
}

#define PXI_MULTI_FN1(fn)                                                             \
  template <class V, int N>                                                           \
  PXI_M auto fn(const Multi<V, N>& a) {                                               \
    return map1(a, [](const V& x) { return fn(x); }); \
  }
PXI_MULTI_FN1(as_bits)
PXI_MULTI_FN1(as_float)
PXI_MULTI_FN1(as_double)
PXI_MULTI_FN1(to_float_i31)
PXI_MULTI_FN1(to_double_i63)
PXI_MULTI_FN1(vsqrt)
#undef PXI_MULTI_FN1

#define PXI_MULTI_FN2(fn)                                                                        \
  template <class A, class B, int N>                                                             \
  PXI_M auto fn(const Multi<A, N>& a, const Multi<B, N>& b) {                                    \
    return map2(a, b, [](const A& x, const B& y) { return fn(x, y); }); \
  }
PXI_MULTI_FN2(to_float_rn)
PXI_MULTI_FN2(from_bits)
#undef PXI_MULTI_FN2

// By value, like transforms.h's scalar templates, so that these are the more specialized overloads.
template <class V, int N>
PXI_M Multi<V, N> vmin(Multi<V, N> a, Multi<V, N> b) {
  for (int i = 0; i < N; ++i) a.v[i] = vmin(a.v[i], b.v[i]);
  return a;
}
template <class V, int N>
PXI_M Multi<V, N> vmax(Multi<V, N> a, Multi<V, N> b) {
  for (int i = 0; i < N; ++i) a.v[i] = vmax(a.v[i], b.v[i]);
  return a;
}

template <class M, class V, int N>
PXI_M Multi<V, N> select(const Multi<M, N>& m, const Multi<V, N>& a, const Multi<V, N>& b) {
  Multi<V, N> r;
  for (int i = 0; i < N; ++i) r.v[i] = select(m.v[i], a.v[i], b.v[i]);
  return r;
}
template <class V, int N>
PXI_M void mulhilo(const Multi<V, N>& a, uint32_t m, Multi<V, N>& hi, Multi<V, N>& lo) {
  for (int i = 0; i < N; ++i) mulhilo(a.v[i], m, hi.v[i], lo.v[i]);
}
// Philox rounds part by part: four temporaries live at a time, not 4N (philox.h).
template <class V, int N>
PXI_M void philox_round(Multi<V, N>& c0, Multi<V, N>& c1, Multi<V, N>& c2, Multi<V, N>& c3, const uint32_t& k0,
                        const uint32_t& k1) {
  for (int i = 0; i < N; ++i) philoxinit::philox_round(c0.v[i], c1.v[i], c2.v[i], c3.v[i], k0, k1);
}

template <class V, int N>
PXI_M void philox_shared_rounds(Multi<V, N>& c0, Multi<V, N>& c1, Multi<V, N>& c2, Multi<V, N>& c3,
                                const SharedRounds& s) {
  for (int i = 0; i < N; ++i) philoxinit::philox_shared_rounds(c0.v[i], c1.v[i], c2.v[i], c3.v[i], s);
}

template <class V, int N>
PXI_M V min_of_parts(const Multi<V, N>& a) {
  V m = a.v[0];
  for (int i = 1; i < N; ++i) m = vmin(m, a.v[i]);
  return m;
}

template <class M, int N>
PXI_M bool any(const Multi<M, N>& m) {
  M acc = m.v[0];
  for (int i = 1; i < N; ++i) acc = acc | m.v[i];
  return any(acc);
}

#undef PXI_M

}  // namespace multi
}  // namespace philoxinit
