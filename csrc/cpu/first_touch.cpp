#include "first_touch.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// Whether MADV_HUGEPAGE can give a mapping huge pages: 4 KiB base pages and THP "always" or
// "madvise" (read once per process).
bool huge_pages_possible() {
  static const bool possible = [] {
    char mode[128] = {0};
    if (FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r")) {
      if (!std::fgets(mode, sizeof mode, f)) mode[0] = 0;
      std::fclose(f);
    }
    return page_size() == 4096 && (std::strstr(mode, "[always]") || std::strstr(mode, "[madvise]"));
  }();
  return possible;
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

int64_t free_huge_page_bytes() {
  constexpr int kHugeOrder = 9;  // 2^9 pages of 4 KiB: 2 MiB
  if (!huge_pages_possible()) return 0;
  FILE* f = std::fopen("/proc/buddyinfo", "r");
  if (!f) return 0;
  // Lines "Node 0, zone Normal n0 n1 ... n10": free blocks of 2^k pages for k = 0, 1, ...
  int64_t bytes = 0;
  char line[512];
  while (std::fgets(line, sizeof line, f)) {
    const char* p = std::strstr(line, "zone");
    if (!p) continue;
    p += 4;
    while (*p == ' ') ++p;
    while (*p && *p != ' ') ++p;  // the zone's name
    char* end = nullptr;
    for (int order = 0;; ++order) {
      const long long n = std::strtoll(p, &end, 10);
      if (end == p) break;
      if (order >= kHugeOrder) bytes += static_cast<int64_t>(n) * (int64_t{4096} << order);
      p = end;
    }
  }
  std::fclose(f);
  return bytes;
}

void advise_huge_pages(void* begin, void* end) {
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  const uintptr_t a = (reinterpret_cast<uintptr_t>(begin) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t b = reinterpret_cast<uintptr_t>(end) & ~(kHuge - 1);
  if (b > a) (void)madvise(reinterpret_cast<void*>(a), b - a, MADV_HUGEPAGE);
}
#else
bool untouched(const void*) { return false; }
void populate_for_write(void*, void*) {}
int64_t free_huge_page_bytes() { return 0; }
void advise_huge_pages(void*, void*) {}
#endif

}  // namespace cpu
}  // namespace philoxinit
