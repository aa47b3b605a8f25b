// The checker's worker threads: one loop body run by several threads that share a work counter.
#pragma once

#include <functional>

namespace interpcert::checker {

/// Widens MPFR's exponent range of the calling thread to the widest MPFR allows, so that
/// exp(-10^12) does not underflow nor exp(10^12) overflow. MPFR keeps the range per thread.
void widen_exponent_range();

/// Runs `work` on the calling thread and on up to `threads` - 1 more. `work` must take its items
/// from a shared counter, so that any number of runners finishes the job. Each runner first widens
/// its MPFR exponent range, and frees MPFR's per-thread caches when done. A thread the system
/// refuses to start (under `ulimit -u`, or out of memory for stacks) is simply not used: the
/// threads already started and the calling thread do the work. The first exception any runner
/// throws is rethrown once all have stopped.
void run_workers(unsigned threads, const std::function<void()>& work);

}  // namespace interpcert::checker
