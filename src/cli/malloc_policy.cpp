#include "malloc_policy.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace interpcert::cli {

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);                 // no block gets its own mapping: all from the heap
  // Never give the heap's top back (it is reused): -1, which glibc documents as "disables trimming
  // completely" (the threshold becomes SIZE_MAX). Not INT_MAX: that trimmed a free top of 2 GiB or
  // more, e.g. heap_prefault.hpp's 3.4 GB block at 10^7 tokens when it happened to border the top,
  // unmapping it before it was populated.
  mallopt(M_TRIM_THRESHOLD, -1);
  // No fastbins: with them, every request of 1 KiB or more first merges all freed small blocks
  // (malloc_consolidate), a walk over scattered memory that grew faster than the input (10^6 ->
  // 10^7 tokens: x20 in perf samples). Small blocks are still served from the per-thread cache.
  mallopt(M_MXFAST, 0);
#endif
}

}  // namespace interpcert::cli
