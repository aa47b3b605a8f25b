#include "malloc_policy.hpp"

#include <limits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace interpcert::cli {

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);                 // no block gets its own mapping: all from the heap
  // Never give the heap's top back (it is reused). mallopt takes an int: the largest one (2 GiB),
  // not a larger number that would wrap (1 << 40 became 0: trim at every free).
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  // No fastbins: with them, every request of 1 KiB or more first merges all freed small blocks
  // (malloc_consolidate), a walk over scattered memory that grew faster than the input (10^6 ->
  // 10^7 tokens: x20 in perf samples). Small blocks are still served from the per-thread cache.
  mallopt(M_MXFAST, 0);
#endif
}

}  // namespace interpcert::cli
