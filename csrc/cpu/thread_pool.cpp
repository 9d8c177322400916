#include "thread_pool.h"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace philoxinit {
namespace cpu {

namespace {

class Pool {
 public:
  // One job at a time; `busy` is held by the caller for the job's whole duration.
  std::mutex busy;

  void run(int threads, int64_t ntasks, void (*fn)(void*, int64_t), void* ctx) {
    const int helpers = threads - 1;
    {
      std::lock_guard<std::mutex> lk(mu_);
      while (static_cast<int>(workers_.size()) < helpers) {
        const int id = static_cast<int>(workers_.size());
        workers_.emplace_back([this, id] { loop(id); });
      }
      fn_ = fn;
      ctx_ = ctx;
      ntasks_ = ntasks;
      next_.store(0, std::memory_order_relaxed);
      helpers_ = helpers;
      active_ = helpers;
      ++generation_;
    }
    wake_.notify_all();
    work(fn, ctx, ntasks);
    std::unique_lock<std::mutex> lk(mu_);
    done_.wait(lk, [this] { return active_ == 0; });
  }

 private:
  void work(void (*fn)(void*, int64_t), void* ctx, int64_t ntasks) {
    for (int64_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < ntasks;) fn(ctx, i);
  }

  void loop(int id) {
    std::unique_lock<std::mutex> lk(mu_);
    uint64_t seen = generation_ - 1;  // created for the job being started now
    for (;;) {
      wake_.wait(lk, [&] { return generation_ != seen; });
      seen = generation_;
      if (id >= helpers_) continue;  // this job asked for fewer threads
      auto fn = fn_;
      void* ctx = ctx_;
      const int64_t n = ntasks_;
      lk.unlock();
      work(fn, ctx, n);
      lk.lock();
      if (--active_ == 0) done_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  uint64_t generation_ = 0;
  int helpers_ = 0, active_ = 0;
  void (*fn_)(void*, int64_t) = nullptr;
  void* ctx_ = nullptr;
  int64_t ntasks_ = 0;
  std::atomic<int64_t> next_{0};
};

// Never destroyed: worker threads stay blocked until the process exits (joining them during
// interpreter shutdown could hang). After fork() the child has none of the parent's workers, so
// the child forgets the old pool (leaked on purpose: its mutexes may be held) and makes a new one.
std::atomic<Pool*> g_pool{nullptr};
std::mutex g_create;

void forget_pool_in_child() {
  g_pool.store(nullptr);
  new (&g_create) std::mutex();
}

Pool* pool() {
  Pool* p = g_pool.load(std::memory_order_acquire);
  if (p) return p;
  std::lock_guard<std::mutex> lk(g_create);
  p = g_pool.load(std::memory_order_acquire);
  if (!p) {
    static bool registered = (pthread_atfork(nullptr, nullptr, forget_pool_in_child), true);
    (void)registered;
    p = new Pool();
    g_pool.store(p, std::memory_order_release);
  }
  return p;
}

}  // namespace

void parallel_for(int threads, int64_t ntasks, void (*fn)(void*, int64_t), void* ctx) {
  if (threads > ntasks) threads = static_cast<int>(ntasks);
  if (threads > 1) {
    Pool* p = pool();
    std::unique_lock<std::mutex> own(p->busy, std::try_to_lock);
    if (own.owns_lock()) return p->run(threads, ntasks, fn, ctx);
  }
  for (int64_t i = 0; i < ntasks; ++i) fn(ctx, i);
}

}  // namespace cpu
}  // namespace philoxinit
