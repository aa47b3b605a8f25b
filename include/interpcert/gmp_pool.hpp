// A pool for GMP's one-limb allocations (issue 13). Datasets are millions of small rationals,
// each two one-limb integers; glibc spends a 32-byte chunk and a lock-free-list walk on each
// 8-byte limb. The pool hands out 8-byte cells from 1 MiB slabs: a third of the memory and no
// malloc on the hot path. Every other size goes to malloc/realloc/free unchanged.
#pragma once

namespace interpcert {

/// Installs the pool as GMP's memory functions (mp_set_memory_functions). Call first thing in
/// main(), before threads start; memory GMP allocated earlier stays valid (GMP passes sizes to
/// free, and an earlier one-limb block simply joins the pool when freed). Cells are reused,
/// never returned to the system.
void install_gmp_limb_pool();

}  // namespace interpcert
