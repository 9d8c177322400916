// The CUDA kernels, one per (distribution, dtype): the one list that kernels.cu defines them from
// and the launcher (launcher.cpp) looks them up by (extern "C", so the names are not mangled).
// X(name, Dist, DType, parameter type); the index in this list is a kernel's slot.
#pragma once

#define PXI_CUDA_KERNELS(X)                                                          \
  X(philoxinit_fill_bits_u32, Dist::Bits, DType::Bits32, Prepared32)                 \
  X(philoxinit_fill_uniform_f32, Dist::Uniform, DType::Float32, Prepared32)          \
  X(philoxinit_fill_uniform_f16, Dist::Uniform, DType::Float16, Prepared32)          \
  X(philoxinit_fill_uniform_bf16, Dist::Uniform, DType::BFloat16, Prepared32)        \
  X(philoxinit_fill_uniform_f64, Dist::Uniform, DType::Float64, Prepared64)          \
  X(philoxinit_fill_normal_f32, Dist::Normal, DType::Float32, Prepared32)            \
  X(philoxinit_fill_normal_f16, Dist::Normal, DType::Float16, Prepared32)            \
  X(philoxinit_fill_normal_bf16, Dist::Normal, DType::BFloat16, Prepared32)          \
  X(philoxinit_fill_normal_f64, Dist::Normal, DType::Float64, Prepared64)            \
  X(philoxinit_fill_trunc_normal_f32, Dist::TruncNormal, DType::Float32, Prepared32) \
  X(philoxinit_fill_trunc_normal_f16, Dist::TruncNormal, DType::Float16, Prepared32) \
  X(philoxinit_fill_trunc_normal_bf16, Dist::TruncNormal, DType::BFloat16, Prepared32) \
  X(philoxinit_fill_trunc_normal_f64, Dist::TruncNormal, DType::Float64, Prepared64)

namespace philoxinit {
namespace cudafill {
constexpr int kThreadsPerBlock = 256;  // every kernel's __launch_bounds__ and launch block size
}  // namespace cudafill
}  // namespace philoxinit
