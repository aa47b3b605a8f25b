#include "heap_prefault.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14's value; older kernels answer EINVAL
#endif

namespace interpcert::cli {
namespace {
double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

HeapPrefault::HeapPrefault(std::size_t bytes) {
  if (bytes == 0) return;
  void* block = std::malloc(bytes);
  if (!block) return;
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto at = reinterpret_cast<std::uintptr_t>(block);
  begin_ = (at + page - 1) & ~(page - 1);
  end_ = std::max(begin_, (at + bytes) & ~(page - 1));
  std::free(block);
  if (begin_ == end_) return;
  const bool report = std::getenv("INTERPCERT_PHASE_TIMES") != nullptr;  // a line beside the phase times
  thread_ = std::thread([this, report] {
    const double start = now();
#ifdef MADV_HUGEPAGE
    // Huge pages where the kernel has them, as the document's own buffers ask (json_reader.cpp):
    // later random reads of the text and tokens miss the TLB less, and the range stays one mapping.
    (void)::madvise(reinterpret_cast<void*>(begin_), end_ - begin_, MADV_HUGEPAGE);  // advice only
#endif
    // From the end down: the caller's first block (the document's text) is carved from the bottom
    // and written at once by its reader; front to back, both threads fault in the same pages at the
    // same time, each waiting for the other (at 10^7 tokens the 3.3 GB then took 10-16 s instead of
    // 2-4 s). Where the two meet, pages already there cost next to nothing.
    constexpr std::uintptr_t kStep = std::uintptr_t{64} << 20;
    int error = 0;
    for (std::uintptr_t top = end_; top > begin_ && !stop_.load(std::memory_order_relaxed);) {
      const std::uintptr_t len = std::min(kStep, top - begin_);
      if (::madvise(reinterpret_cast<void*>(top - len), len, MADV_POPULATE_WRITE) != 0) {
        error = errno;
        break;
      }
      top -= len;
      done_.fetch_add(len, std::memory_order_relaxed);
    }
    if (report)
      std::fprintf(stderr, "prefault: %zu of %zu MB in %.3f s%s%s\n", done() >> 20, (end_ - begin_) >> 20, now() - start,
                   error ? ", stopped: " : "", error ? std::strerror(error) : "");
  });
}

void HeapPrefault::finish() {
  if (thread_.joinable()) thread_.join();
}

void HeapPrefault::stop() {
  stop_.store(true, std::memory_order_relaxed);
  finish();
}

HeapPrefault::~HeapPrefault() { stop(); }

std::size_t prefault_bytes(std::size_t file_bytes, std::size_t available) {
  constexpr std::size_t kMin = std::size_t{64} << 20;
  if (file_bytes < kMin) return 0;
  return std::min(file_bytes / 5 * 11, available / 2);
}

std::size_t prefault_bytes_for_input(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  std::size_t available = 0;
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  std::size_t kb = 0;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") {
      available = kb * 1024;
      break;
    }
  return prefault_bytes(static_cast<std::size_t>(st.st_size), available);
}

}  // namespace interpcert::cli
