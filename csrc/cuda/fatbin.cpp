// Embeds the fatbinary built from kernels.cu (PHILOXINIT_FATBIN_PATH, set by CMakeLists.txt) as
// read-only bytes. The section is named .nv_fatbin, where nvcc-built objects keep theirs, so that
// `cuobjdump` lists the kernels of _C; the symbols are hidden (not exported by _C).
#include "fatbin.h"

#ifndef PHILOXINIT_FATBIN_PATH
#error "PHILOXINIT_FATBIN_PATH must name the fatbinary to embed"
#endif

__asm__(".pushsection .nv_fatbin, \"a\", @progbits\n"
        ".balign 16\n"
        ".globl philoxinit_fatbin\n"
        ".hidden philoxinit_fatbin\n"
        "philoxinit_fatbin:\n"
        ".incbin \"" PHILOXINIT_FATBIN_PATH "\"\n"
        ".popsection\n");

extern "C" __attribute__((visibility("hidden"))) const unsigned char philoxinit_fatbin[];

namespace philoxinit {
namespace cudafill {
const void* embedded_fatbin() { return philoxinit_fatbin; }
}  // namespace cudafill
}  // namespace philoxinit
