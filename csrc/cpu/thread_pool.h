// philoxinit's own CPU thread pool (no OpenMP: a second OpenMP runtime beside torch's would
// oversubscribe the machine). Persistent workers sleep on a condition variable between calls;
// the calling thread always takes part. Sized per call: a call asking for n threads wakes n - 1
// workers, creating them the first time they are needed.
#pragma once
#include <cstdint>

namespace philoxinit {
namespace cpu {

// Calls fn(ctx, i) once for every i in [0, ntasks), on up to `threads` threads (the caller is one
// of them); tasks are handed out dynamically. Returns when all have run. When another call is
// using the pool (fills from several Python threads), or after fork() in the child, this call
// runs its tasks on the calling thread alone.
void parallel_for(int threads, int64_t ntasks, void (*fn)(void* ctx, int64_t task), void* ctx);

}  // namespace cpu
}  // namespace philoxinit
