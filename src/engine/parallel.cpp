#include "interpcert/parallel.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <system_error>
#include <utility>
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
  auto run = [&](std::size_t lo, std::size_t hi) {
    try {
      for (std::size_t i = lo; i < hi; ++i) fn(i);
    } catch (...) {
      std::lock_guard<std::mutex> g(mu);
      if (!first) first = std::current_exception();
    }
  };
  std::size_t chunk = (n + t - 1) / t;
  std::vector<std::pair<std::size_t, std::size_t>> unstarted;
  for (unsigned w = 0; w < t; ++w) {
    std::size_t lo = w * chunk, hi = std::min(n, lo + chunk);
    if (lo >= hi) break;
    if (unstarted.empty()) {
      try {
        pool.emplace_back([&, lo, hi] {
          run(lo, hi);
          if (on_worker_exit) on_worker_exit();
        });
        continue;
      } catch (const std::system_error&) {
        // The system refuses more threads (ulimit -u, no memory for a stack): the calling
        // thread does the chunks that have no thread, while the started ones run.
      }
    }
    unstarted.emplace_back(lo, hi);
  }
  for (auto [lo, hi] : unstarted) run(lo, hi);
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace interpcert
