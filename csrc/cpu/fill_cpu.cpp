// The CPU entry point: instruction-set dispatch, splitting into tasks, the thread pool.
#include "fill_cpu.h"

#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "first_touch.h"
#include "isa.h"
#include "kernel_scalar.h"
#include "runs.h"
#include "thread_pool.h"

#if defined(PXI_HAVE_X86_SIMD)
#include <cpuid.h>
#endif

namespace philoxinit {

namespace {

// ---- the portable kernel ------------------------------------------------------------------------
void fill_range_scalar(const void* request, int64_t begin, int64_t end, bool /*stream*/) {
  const FillRequest& r = *static_cast<const FillRequest*>(request);
  visit_cpu_kind(r, [&](auto kind) {
    using K = decltype(kind);
    for_each_run(r, begin, end, [&](const Run& run) { fill_run_scalar<K::dist, K::dtype>(r, run); });
  });
}

// ---- instruction sets ---------------------------------------------------------------------------
// Slowest first. vec128 (portable vector extensions) is compiled for every target and runs on
// every CPU of it: the default where neither AVX2 nor AVX-512 is available (AArch64 included).
enum class Isa { Scalar = 0, Vec128 = 1, Avx2 = 2, Avx512 = 3 };
constexpr const char* kIsaNames[] = {"scalar", "vec128", "avx2", "avx512"};

#if defined(PXI_HAVE_X86_SIMD)
// CPUID and XGETBV read directly: __builtin_cpu_supports depends on the compiler's runtime
// (libgcc's or compiler-rt's CPU model), and zig's compiler-rt, which the release wheel links,
// reports no feature at all. An ISA counts only when the OS also saves its registers (XCR0).
struct X86Features {
  bool avx2 = false;    // AVX2 + F16C, YMM state enabled
  bool avx512 = false;  // AVX-512 F/BW/DQ/VL, ZMM and opmask state enabled
};

X86Features detect_x86() {
  X86Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool f16c = c & bit_F16C;
  if (!(c & bit_OSXSAVE) || !(c & bit_AVX)) return f;
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool ymm = (xcr0_lo & 0x6) == 0x6;    // SSE + AVX state
  const bool zmm = (xcr0_lo & 0xe6) == 0xe6;  // + opmask, ZMM0-15 upper halves, ZMM16-31
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = ymm && f16c && (b & bit_AVX2);
  f.avx512 = zmm && (b & bit_AVX512F) && (b & bit_AVX512BW) && (b & bit_AVX512DQ) &&
             (b & bit_AVX512VL);
  return f;
}
#endif

bool supported(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
    case Isa::Vec128: return true;
#if defined(PXI_HAVE_X86_SIMD)
    case Isa::Avx2: {
      static const X86Features f = detect_x86();
      return f.avx2;
    }
    case Isa::Avx512: {
      static const X86Features f = detect_x86();
      return f.avx512;
    }
#else
    default: return false;
#endif
  }
  return false;
}

// vec128 reads 32-bit words out of 64-bit lanes and 16-bit halves out of 32-bit ones through
// little-endian views: big-endian targets get the scalar kernel only.
constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

bool compiled(Isa isa) {
#if defined(PXI_HAVE_X86_SIMD)
  (void)isa;
  return true;
#else
  return isa == Isa::Scalar || (isa == Isa::Vec128 && kLittleEndian);
#endif
}

cpu::RangeFill range_fill(Isa isa) {
  switch (isa) {
    case Isa::Vec128: return &cpu::fill_range_vec128;
#if defined(PXI_HAVE_X86_SIMD)
    case Isa::Avx2: return &cpu::fill_range_avx2;
    case Isa::Avx512: return &cpu::fill_range_avx512;
#endif
    default: return &fill_range_scalar;
  }
}

Isa best_isa() {
  static const Isa best = [] {
    for (Isa i : {Isa::Avx512, Isa::Avx2, Isa::Vec128})
      if (compiled(i) && supported(i)) return i;
    return Isa::Scalar;
  }();
  return best;
}

Isa parse_isa(const std::string& name, const char* source) {
  for (int i = 0; i < 4; ++i) {
    if (name != kIsaNames[i]) continue;
    const Isa isa = static_cast<Isa>(i);
    if (!compiled(isa))
      throw std::runtime_error(std::string("philoxinit: ") + source + " asks for '" + name +
                               "', but this build has no " + name + " kernels (available: scalar, vec128)");
    if (!supported(isa))
      throw std::runtime_error(std::string("philoxinit: ") + source + " asks for '" + name +
                               "', but this CPU does not support it");
    return isa;
  }
  throw std::runtime_error(std::string("philoxinit: ") + source + " is '" + name +
                           "'; expected one of scalar, vec128, avx2, avx512");
}

std::mutex g_forced_mu;
std::string g_forced;  // set_cpu_isa's choice, "" for none

Isa current_isa() {
  {
    std::lock_guard<std::mutex> lk(g_forced_mu);
    if (!g_forced.empty()) return parse_isa(g_forced, "set_isa");
  }
  const char* env = std::getenv("PHILOXINIT_ISA");
  if (env && *env) return parse_isa(env, "PHILOXINIT_ISA");
  return best_isa();
}

// ---- splitting the work -------------------------------------------------------------------------
// Below this much work in one call everything runs on the calling thread: waking a worker (tens
// of microseconds on a busy VM) costs more than it saves. A unit is one float32 uniform element
// (a fraction of a nanosecond with AVX-512), so 2^17 units are tens of microseconds of work: about
// one wake-up's cost, the point where splitting starts to pay.
constexpr int64_t kParallelMin = int64_t(1) << 17;
// Smallest task, and the granule tasks are cut at (relative to each request's first element:
// whole Philox blocks, whole cache lines, whole SIMD iterations).
constexpr int64_t kMinTask = int64_t(1) << 15;
constexpr int64_t kGranule = 1024;
// Requests at least this large are written with non-temporal stores: they would not stay in the
// cache anyway, and streaming stores skip reading each line before writing it.
constexpr int64_t kStreamBytes = int64_t(8) << 20;

struct Piece {
  size_t req;
  int64_t begin, end;
};

struct Job {
  const FillRequest* requests;
  cpu::RangeFill fn;
  std::vector<Piece> pieces;
  std::vector<size_t> task_first;  // task t is pieces [task_first[t], task_first[t + 1])
};

// Relative cost per element (benchmarks/kernel_cost.py): normal about 2 uniforms, truncated normal
// about 3, float64 twice float32.
int64_t work(const FillRequest& r) {
  const int64_t per = (r.dist == Dist::Normal ? 2 : r.dist == Dist::TruncNormal ? 3 : 1) *
                      (r.dtype == DType::Float64 ? 2 : 1);
  return r.numel() * per;
}

bool use_stream(const FillRequest& r) { return r.numel() * element_size(r.dtype) >= kStreamBytes; }

// A piece of contiguous memory that has not been touched yet (a tensor just allocated: whole-model
// init, torch.empty then init) is mapped kPopulateBytes at a time, each stretch just before it is
// filled, so that the pages the kernel zeroes are still in cache when the fill writes them, and
// the pages are mapped in one call instead of one fault each (about a fifth less time per fresh
// page, docs/performance.md). Whether the piece is fresh is asked of its last page only (malloc
// writes its header into the first page of a fresh mapping): one system call per piece, nothing
// more for memory that is already mapped.
constexpr int64_t kPopulateBytes = int64_t(256) << 10;

void fill_range(cpu::RangeFill fn, const FillRequest& r, int64_t first, int64_t last) {
  const bool stream = use_stream(r);
  const int64_t es = element_size(r.dtype);
  char* const base = static_cast<char*>(r.data);
  const bool contiguous = r.ndim == 1 && r.strides[0] == 1;
  if (!contiguous || (last - first) * es < 2 * kPopulateBytes || !cpu::untouched(base + last * es - 1))
    return fn(&r, first, last, stream);
  const int64_t step = kPopulateBytes / es / kGranule * kGranule;  // whole SIMD iterations
  for (int64_t begin = first; begin < last; begin += step) {
    const int64_t end = last - begin < step ? last : begin + step;
    cpu::populate_for_write(base + begin * es, base + end * es);
    fn(&r, begin, end, stream);
  }
}

void run_task(void* ctx, int64_t t) {
  const Job& job = *static_cast<const Job*>(ctx);
  for (size_t i = job.task_first[t]; i < job.task_first[t + 1]; ++i) {
    const Piece& p = job.pieces[i];
    fill_range(job.fn, job.requests[p.req], p.begin, p.end);
  }
}

}  // namespace

std::vector<std::string> cpu_isas() {
  std::vector<std::string> out;
  for (int i = 0; i < 4; ++i)
    if (compiled(static_cast<Isa>(i)) && supported(static_cast<Isa>(i))) out.emplace_back(kIsaNames[i]);
  return out;
}

std::string cpu_isa() { return kIsaNames[static_cast<int>(current_isa())]; }

void set_cpu_isa(const std::string& name) {
  if (!name.empty()) parse_isa(name, "set_isa");
  std::lock_guard<std::mutex> lk(g_forced_mu);
  g_forced = name;
}

void fill_cpu(const FillRequest* requests, size_t count, int threads) {
  const cpu::RangeFill fn = range_fill(current_isa());
  int64_t total = 0, total_work = 0;
  for (size_t i = 0; i < count; ++i) {
    total += requests[i].numel();
    total_work += work(requests[i]);
  }
  if (threads <= 1 || total_work < kParallelMin) {
    for (size_t i = 0; i < count; ++i) fill_range(fn, requests[i], 0, requests[i].numel());
    return;
  }
  // Tasks of about total / (4 threads) elements, so that a thread slowed by other work on its
  // core does not hold up the end; small requests share a task.
  int64_t chunk = (total + 4 * threads - 1) / (4 * threads);
  if (chunk < kMinTask) chunk = kMinTask;
  chunk = (chunk + kGranule - 1) / kGranule * kGranule;
  Job job{requests, fn, {}, {0}};
  int64_t filled = 0;
  for (size_t i = 0; i < count; ++i) {
    const int64_t n = requests[i].numel();
    for (int64_t pos = 0; pos < n;) {
      int64_t take = n - pos;
      const int64_t room = chunk - filled;
      if (take > room) {
        take = room / kGranule * kGranule;
        if (take == 0) {  // close this task, start the next
          job.task_first.push_back(job.pieces.size());
          filled = 0;
          continue;
        }
      }
      job.pieces.push_back(Piece{i, pos, pos + take});
      pos += take;
      filled += take;
      if (filled >= chunk) {
        job.task_first.push_back(job.pieces.size());
        filled = 0;
      }
    }
  }
  if (job.task_first.back() != job.pieces.size()) job.task_first.push_back(job.pieces.size());
  const int64_t ntasks = static_cast<int64_t>(job.task_first.size()) - 1;
  cpu::parallel_for(threads, ntasks, &run_task, &job);
}

}  // namespace philoxinit
