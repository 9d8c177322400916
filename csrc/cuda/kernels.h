// The CUDA kernels: one per pair of the kind list (kinds.h), defined by kernels.cu and looked up by
// the launcher (launcher.cpp) by name: extern "C", so the names are not mangled.
#pragma once

#include "../kinds.h"

// philoxinit_fill_<name of the pair>, e.g. philoxinit_fill_normal_bf16.
#define PXI_KERNEL_NAME(NAME) philoxinit_fill_##NAME

namespace philoxinit {
namespace cudafill {
constexpr int kThreadsPerBlock = 256;  // every kernel's __launch_bounds__ and launch block size
}  // namespace cudafill
}  // namespace philoxinit
