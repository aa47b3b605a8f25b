// How certify asks glibc's malloc to treat large blocks (bench/README.md, issue 13).
#pragma once

#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace interpcert::cli {

/// Large blocks from the heap, freed memory kept for reuse instead of returned to the system, and
/// no fastbins (malloc_policy.cpp says why).
/// glibc serves a block above its mmap threshold (at most 32 MB) with a fresh mapping and unmaps it
/// when freed, so each of certify's 10^7-element temporaries (160 MB) was faulted in page by page
/// again: at 10^7 tokens the construction took 1.04 M minor faults for 2.5 GB of growth (at 10^6
/// the faults equal the growth). Only the allocator's policy changes, never a result. No-op on
/// other C libraries.
void keep_freed_memory();

/// Hands `x` to the end of the process: it is never destroyed, and its memory goes back to the
/// system with the rest when the process exits, in one step. For the last objects of a command
/// (certify's dataset and model): at 10^7 tokens they are ~20 M GMP numbers whose one-by-one
/// freeing took ~1 s after the outputs were written (the "teardown" phase, which grew x15 from
/// 10^6: by then they are out of cache). They stay reachable, so leak checkers do not report them.
template <class T>
void keep_until_exit(T&& x) {
  static auto* kept = new std::vector<std::shared_ptr<void>>;  // never destroyed, on purpose
  kept->push_back(std::make_shared<std::decay_t<T>>(std::forward<T>(x)));
}

}  // namespace interpcert::cli
