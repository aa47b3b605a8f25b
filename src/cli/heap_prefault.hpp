// Faulting in, on a spare core, the heap memory a large command is about to use (issue 13).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

namespace interpcert::cli {

/// Reserves `bytes` of heap as one free block and, on a thread of its own, asks the kernel to map
/// its pages (huge pages advised, then madvise MADV_POPULATE_WRITE, 64 MiB at a time, from the end
/// down) while the calling thread goes on reading its input. The block is freed before the thread
/// starts, so the allocations that follow (the document's text, then the dataset's tokens, then the
/// construction's temporaries) are carved out of it and find their pages already there.
///
/// Why: a page's first touch costs a fault and the zeroing of the page; on the benchmark machine (a
/// virtual machine that returns freed memory to its host) 0.5 to 1.4 s per GB (4 KiB or 2 MiB
/// pages), i.e. seconds of the single-threaded reading of a 10^7-token dataset (1.7 GB of text,
/// 1.4 GB of tokens) while the second core is idle; here the other core pays it. Only where pages
/// come from changes, never a value: MADV_POPULATE_WRITE maps pages as a write would but writes
/// nothing, so it may run while the block is in use. From the end down because the text, carved
/// from the bottom, is written by the reader at once (heap_prefault.cpp). Needs malloc_policy.hpp's
/// keep_freed_memory() first: no block gets a mapping of its own, and the heap is never trimmed
/// (the freed block may border the heap's top; trimmed, it was unmapped before it was populated,
/// and the thread stopped at the first hole: ENOMEM). Without MADV_POPULATE_WRITE (Linux < 5.14),
/// or with `bytes` == 0, it maps nothing. With INTERPCERT_PHASE_TIMES set, the thread prints how
/// much it mapped, in how long, and why it stopped early if it did.
class HeapPrefault {
 public:
  explicit HeapPrefault(std::size_t bytes);
  HeapPrefault(const HeapPrefault&) = delete;
  HeapPrefault& operator=(const HeapPrefault&) = delete;
  /// stop().
  ~HeapPrefault();
  /// Stops after the current 64 MiB and joins.
  void stop();
  /// Waits until every page of the range is mapped (or the kernel refused).
  void finish();
  /// The page-aligned address range [begin, end) given to the kernel (empty if none).
  std::uintptr_t begin() const { return begin_; }
  std::uintptr_t end() const { return end_; }
  /// Bytes mapped so far.
  std::size_t done() const { return done_.load(std::memory_order_relaxed); }

 private:
  std::uintptr_t begin_ = 0, end_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> done_{0};
  std::thread thread_;
};

/// How much heap to prefault for a `file_bytes` JSON input when `available` bytes of memory are
/// free: 2.2 times the file (its text; then what is parsed from it, a 10^7-token dataset's int32
/// tokens taking 0.4 of its text; then part of what the construction adds once the text is freed),
/// none below 64 MiB (nothing to gain), and at most half of what is available. Not more: the
/// prefault must not raise the peak, and certify's peak is ~2.4 times the file at 10^6 and 10^7
/// tokens (402 and 3,899 MiB); 2.6 times, right for int64 tokens (peak ~2.68 times), raised it
/// to 460 and 4,379 MiB.
std::size_t prefault_bytes(std::size_t file_bytes, std::size_t available);

/// prefault_bytes for the file at `path` (0 if it is not a regular file) and the system's
/// MemAvailable (/proc/meminfo; 0 if unknown).
std::size_t prefault_bytes_for_input(const std::string& path);

}  // namespace interpcert::cli
