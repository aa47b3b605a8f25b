// How certify asks glibc's malloc to treat large blocks (bench/README.md, issue 13).
#pragma once

namespace interpcert::cli {

/// Large blocks from the heap, and freed memory kept for reuse instead of returned to the system.
/// glibc serves a block above its mmap threshold (at most 32 MB) with a fresh mapping and unmaps it
/// when freed, so each of certify's 10^7-element temporaries (160 MB) was faulted in page by page
/// again: at 10^7 tokens the construction took 1.04 M minor faults for 2.5 GB of growth (at 10^6
/// the faults equal the growth). Only the allocator's policy changes, never a result. No-op on
/// other C libraries.
void keep_freed_memory();

}  // namespace interpcert::cli
