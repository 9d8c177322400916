// First touch of fresh memory. A tensor that was just allocated is written through page faults,
// one 4 KiB page at a time; asking the kernel to map a stretch of pages in one call
// (MADV_POPULATE_WRITE, Linux 5.14+) costs less per page. Only worth it for memory that is not
// mapped yet: on mapped pages the call still walks every page (about the cost of writing them).
#pragma once
#include <cstdint>

namespace philoxinit {
namespace cpu {

// True when the page holding p has never been touched (not resident). False where the system
// cannot tell.
bool untouched(const void* p);

// Maps the whole pages inside [begin, end) for writing, in one call. Best effort: where the
// kernel refuses (before Linux 5.14, or a mapping it cannot populate), the stores that follow fault
// the pages in as they always do, and the refusal cost one system call.
void populate_for_write(void* begin, void* end);

}  // namespace cpu
}  // namespace philoxinit
