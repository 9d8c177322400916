#include "first_touch.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL
#endif

namespace philoxinit {
namespace cpu {

#if defined(__linux__)
namespace {
uintptr_t page_size() {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return page;
}
}  // namespace

bool untouched(const void* p) {
  const uintptr_t page = page_size();
  unsigned char resident = 1;
  void* at = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) & ~(page - 1));
  return mincore(at, page, &resident) == 0 && (resident & 1) == 0;
}

void populate_for_write(void* begin, void* end) {
  const uintptr_t page = page_size();
  const uintptr_t a = (reinterpret_cast<uintptr_t>(begin) + page - 1) & ~(page - 1);
  const uintptr_t b = reinterpret_cast<uintptr_t>(end) & ~(page - 1);
  if (b > a) (void)madvise(reinterpret_cast<void*>(a), b - a, MADV_POPULATE_WRITE);
}
#else
bool untouched(const void*) { return false; }
void populate_for_write(void*, void*) {}
#endif

}  // namespace cpu
}  // namespace philoxinit
