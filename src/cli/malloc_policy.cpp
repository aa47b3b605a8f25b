#include "malloc_policy.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace interpcert::cli {

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);                 // no block gets its own mapping: all from the heap
  mallopt(M_TRIM_THRESHOLD, 1L << 40);    // never give the heap's top back (it is reused)
#endif
}

}  // namespace interpcert::cli
