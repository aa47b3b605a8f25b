#include "workers.hpp"

#include <mpfr.h>

#include <algorithm>
#include <system_error>
#include <thread>
#include <vector>

namespace interpcert::checker {

void widen_exponent_range() {
  mpfr_set_emin(mpfr_get_emin_min());
  mpfr_set_emax(mpfr_get_emax_max());
}

void run_workers(unsigned threads, const std::function<void()>& work) {
  auto body = [&] {
    widen_exponent_range();
    work();
    mpfr_free_cache();  // MPFR's per-thread caches (exp, constants) must not outlive the thread
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, threads); ++t) {
    try {
      pool.emplace_back(body);
    } catch (const std::system_error&) {
      break;  // fewer threads than asked: the ones started (and this one) share the work
    }
  }
  body();
  for (auto& t : pool) t.join();
}

}  // namespace interpcert::checker
