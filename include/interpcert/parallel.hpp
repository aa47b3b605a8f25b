// Spreading independent work (sequences, distinct tokens) over the cores.
#pragma once

#include <cstddef>
#include <functional>

namespace interpcert {

/// Number of worker threads to use: `requested`, or all cores when 0.
unsigned worker_count(unsigned requested);

/// Runs fn(i) for every i in [0, n), split into contiguous chunks over `threads` workers
/// (0 = all cores). The first exception thrown by any fn is rethrown after all workers stop.
/// Chunks whose thread the system refuses to start run on the calling thread (no abort).
/// `on_worker_exit` runs on each worker thread before it ends (to free per-thread library caches).
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& fn,
                  const std::function<void()>& on_worker_exit = {});

}  // namespace interpcert
