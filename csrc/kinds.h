// What a request draws (Dist) into which element type (DType), and the one list of the pairs that
// have kernels. Every backend dispatches from this list: the CPU kernels (fill_cpu.cpp,
// kernel_simd.h), the CUDA kernels (kernels.cu), their launcher and their host emulation, and the
// bindings' validation. Adding a pair here adds it everywhere, or fails to compile where a backend
// cannot serve it.
#pragma once
#include <cstdint>

namespace philoxinit {

enum class DType : int32_t { Float32 = 0, Float64 = 1, Float16 = 2, BFloat16 = 3, Bits32 = 4 };
// TruncNormalCentral is the CPU kernels' own: a TruncNormal request whose draws all stay out of the
// quantile's tail regions (cpu_central in fill.h), filled without the tail test. Same bits.
enum class Dist : int32_t { Bits = 0, Uniform = 1, Normal = 2, TruncNormal = 3, TruncNormalCentral = 4 };

// X(Dist, DType, name): raw bits only into 32-bit integers, the distributions only into floating
// dtypes. The position in the list is a CUDA kernel's slot; `name` is its suffix.
#define PXI_KINDS(X)                              \
  X(Bits, Bits32, bits_u32)                       \
  X(Uniform, Float32, uniform_f32)                \
  X(Uniform, Float16, uniform_f16)                \
  X(Uniform, BFloat16, uniform_bf16)              \
  X(Uniform, Float64, uniform_f64)                \
  X(Normal, Float32, normal_f32)                  \
  X(Normal, Float16, normal_f16)                  \
  X(Normal, BFloat16, normal_bf16)                \
  X(Normal, Float64, normal_f64)                  \
  X(TruncNormal, Float32, trunc_normal_f32)       \
  X(TruncNormal, Float16, trunc_normal_f16)       \
  X(TruncNormal, BFloat16, trunc_normal_bf16)     \
  X(TruncNormal, Float64, trunc_normal_f64)

// A pair as a type, for code templated on it.
template <Dist D, DType T>
struct Kind {
  static constexpr Dist dist = D;
  static constexpr DType dtype = T;
};

// Calls f(Kind<D, T>{}) for the pair (d, t) of the list; false (and no call) for a pair outside it.
template <class F>
inline bool visit_kind(Dist d, DType t, F&& f) {
#define PXI_VISIT(D, T, NAME)                      \
  if (d == Dist::D && t == DType::T) {             \
    f(Kind<Dist::D, DType::T>{});                  \
    return true;                                   \
  }
  PXI_KINDS(PXI_VISIT)
#undef PXI_VISIT
  return false;
}

// Calls f(Kind<D, T>{}) for every pair of the list, in its order.
template <class F>
inline void for_each_kind(F&& f) {
#define PXI_EACH(D, T, NAME) f(Kind<Dist::D, DType::T>{});
  PXI_KINDS(PXI_EACH)
#undef PXI_EACH
}

inline bool is_kind(Dist d, DType t) {
  return visit_kind(d, t, [](auto) {});
}

}  // namespace philoxinit
