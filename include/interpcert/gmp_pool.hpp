// A pool for GMP's small allocations (issue 13). Datasets are millions of small rationals,
// each two one-limb integers, and exact verification grows them to two or three limbs; glibc
// spends a 32-byte chunk and a lock-free-list walk on each. The pool hands out cells of 1 to 4
// limbs (8 to 32 bytes, one free list per size) from 1 MiB slabs: less memory and no malloc on
// the hot path. Every other size goes to malloc/realloc/free unchanged.
#pragma once

#include <cstddef>

namespace interpcert {

/// Installs the pool as GMP's memory functions (mp_set_memory_functions). Call first thing in
/// main(), before threads start; memory GMP allocated earlier stays valid (GMP passes sizes to
/// free, and an earlier small block simply joins the pool when freed). Cells are reused,
/// never returned to the system.
void install_gmp_limb_pool();

/// The number of 1 MiB slabs the pool has taken so far (for tests: it must not grow while the
/// numbers alive stay few, whichever threads allocate and free them).
std::size_t gmp_limb_pool_slabs();

}  // namespace interpcert
