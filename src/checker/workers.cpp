#include "workers.hpp"

#include <mpfr.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace interpcert::checker {

void widen_exponent_range() {
  mpfr_set_emin(mpfr_get_emin_min());
  mpfr_set_emax(mpfr_get_emax_max());
}

void run_workers(unsigned threads, const std::function<void()>& work) {
  std::exception_ptr first;
  std::mutex mu;
  auto guarded = [&] {
    widen_exponent_range();
    try {
      work();
    } catch (...) {
      std::lock_guard<std::mutex> g(mu);
      if (!first) first = std::current_exception();
    }
    mpfr_free_cache();  // MPFR's per-thread caches (exp, constants) must not outlive the thread
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, threads); ++t) {
    try {
      pool.emplace_back(guarded);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: fewer runners, same result
    }
  }
  guarded();
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace interpcert::checker
