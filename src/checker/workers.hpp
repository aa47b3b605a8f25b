// The checker's worker threads for its interval (MPFR/MPFI) passes.
#pragma once

#include <functional>

namespace interpcert::checker {

/// Widens MPFR's exponent range of the calling thread to the widest MPFR allows, so that
/// exp(-10^12) does not underflow nor exp(10^12) overflow. MPFR keeps the range per thread.
void widen_exponent_range();

/// Runs `work` on `threads` threads (the calling thread is one of them) and waits for all. Each
/// thread first widens its MPFR exponent range, and frees MPFR's per-thread caches when done.
/// If the system refuses to create a thread, the work runs on the threads already started
/// (`work` must take its items from a shared counter until none are left).
void run_workers(unsigned threads, const std::function<void()>& work);

}  // namespace interpcert::checker
