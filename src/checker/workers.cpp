#include "workers.hpp"

#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace interpcert::checker {

void run_workers(unsigned threads, const std::function<void()>& work) {
  std::exception_ptr first;
  std::mutex mu;
  auto guarded = [&] {
    try {
      work();
    } catch (...) {
      std::lock_guard<std::mutex> g(mu);
      if (!first) first = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) {
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
