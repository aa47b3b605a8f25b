#include "interpcert/parallel.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace interpcert {

unsigned worker_count(unsigned requested) {
  if (requested) return requested;
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? hc : 1;
}

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& fn,
                  const std::function<void()>& on_worker_exit) {
  unsigned t = std::min<std::size_t>(worker_count(threads), std::max<std::size_t>(n, 1));
  if (t <= 1 || n < 2) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::exception_ptr first;
  std::mutex mu;
  std::vector<std::thread> pool;
  std::size_t chunk = (n + t - 1) / t;
  for (unsigned w = 0; w < t; ++w) {
    std::size_t lo = w * chunk, hi = std::min(n, lo + chunk);
    if (lo >= hi) break;
    pool.emplace_back([&, lo, hi] {
      try {
        for (std::size_t i = lo; i < hi; ++i) fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> g(mu);
        if (!first) first = std::current_exception();
      }
      if (on_worker_exit) on_worker_exit();
    });
  }
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace interpcert
