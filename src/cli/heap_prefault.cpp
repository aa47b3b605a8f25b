#include "heap_prefault.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <vector>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14's value; older kernels answer EINVAL
#endif

namespace interpcert::cli {

HeapPrefault::HeapPrefault(std::size_t bytes) {
  if (bytes == 0) return;
  void* block = std::malloc(bytes);
  if (!block) return;
  // A small block after it keeps the freed block away from the heap's top, so that free() keeps it
  // as a free chunk for the allocations that follow instead of merging it into the top and
  // trimming it. Kept to the end of the process (reachable: leak checkers stay quiet).
  static auto* guards = new std::vector<void*>;  // never destroyed, on purpose
  guards->push_back(std::malloc(64));
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto at = reinterpret_cast<std::uintptr_t>(block);
  begin_ = (at + page - 1) & ~(page - 1);
  end_ = std::max(begin_, (at + bytes) & ~(page - 1));
  std::free(block);
  if (begin_ == end_) return;
  thread_ = std::thread([this] {
#ifdef MADV_HUGEPAGE
    // Huge pages where the kernel has them, as the document's own buffers ask (json_reader.cpp):
    // later random reads of the text and tokens miss the TLB less.
    (void)::madvise(reinterpret_cast<void*>(begin_), end_ - begin_, MADV_HUGEPAGE);  // advice only
#endif
    constexpr std::uintptr_t kStep = std::uintptr_t{64} << 20;
    for (std::uintptr_t p = begin_; p < end_ && !stop_.load(std::memory_order_relaxed); p += kStep) {
      const std::uintptr_t len = std::min(kStep, end_ - p);
      if (::madvise(reinterpret_cast<void*>(p), len, MADV_POPULATE_WRITE) != 0) return;
      done_.fetch_add(len, std::memory_order_relaxed);
    }
  });
}

void HeapPrefault::finish() {
  if (thread_.joinable()) thread_.join();
}

HeapPrefault::~HeapPrefault() {
  stop_.store(true, std::memory_order_relaxed);
  finish();
}

std::size_t prefault_bytes(std::size_t file_bytes, std::size_t available) {
  constexpr std::size_t kMin = std::size_t{64} << 20;
  if (file_bytes < kMin) return 0;
  return std::min(2 * file_bytes, available / 2);
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
