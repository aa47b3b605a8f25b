// The certify command's heap prefault (src/cli/heap_prefault.hpp): the pages it is given are
// really mapped (from the top down), allocations made afterwards are carved out of them, a freed
// block of more than 2 GiB is not trimmed away, and the sizing rule.
#include "../src/cli/heap_prefault.hpp"
#include "../src/cli/malloc_policy.hpp"

#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

using namespace interpcert::cli;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kGlibcMalloc = false;  // AddressSanitizer's allocator: freed blocks are quarantined
#else
constexpr bool kGlibcMalloc = true;
#endif

namespace {
// Pages of [begin, end) that are resident (mincore).
std::size_t resident_pages(std::uintptr_t begin, std::uintptr_t end) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> v((end - begin) / page);
  REQUIRE(::mincore(reinterpret_cast<void*>(begin), end - begin, v.data()) == 0);
  std::size_t n = 0;
  for (unsigned char c : v) n += c & 1;
  return n;
}

// Whether glibc writes every block it hands out or takes back (MALLOC_PERTURB_, which meson sets
// unless told otherwise: tests/meson.build sets it to 0 here): then every page of a freed block is
// resident anyway, and a block meant as address space only is written in full.
bool malloc_perturbed() {
  const char* e = std::getenv("MALLOC_PERTURB_");
  return e && std::atoi(e) % 256 != 0;
}

// Whether this kernel knows MADV_POPULATE_WRITE (Linux >= 5.14), probed on a mapping of our own.
bool kernel_populates() {
  const std::size_t len = 1 << 16;
  void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(m != MAP_FAILED);
  const bool ok = ::madvise(m, len, 23 /* MADV_POPULATE_WRITE */) == 0;
  ::munmap(m, len);
  return ok;
}
}  // namespace

TEST_CASE("heap_prefault: the range is mapped, and later allocations come from it") {
  keep_freed_memory();  // as certify does first: every block from the heap, which is never trimmed
  const std::size_t bytes = std::size_t{48} << 20;
  HeapPrefault prefault(bytes);
  REQUIRE(prefault.begin() < prefault.end());
  CHECK(prefault.end() - prefault.begin() <= bytes);
  CHECK(prefault.end() - prefault.begin() + 2 * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) > bytes);
  prefault.finish();
  if (!kGlibcMalloc) return;  // another allocator's freed block may be unmapped: nothing to check
  const std::size_t pages = (prefault.end() - prefault.begin()) / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (kernel_populates()) {
    CHECK(prefault.done() == prefault.end() - prefault.begin());
    CHECK(resident_pages(prefault.begin(), prefault.end()) == pages);
  } else {
    MESSAGE("this kernel has no MADV_POPULATE_WRITE: nothing is prefaulted");
    CHECK(prefault.done() == 0);
  }
  // What the command allocates next (the text of its input: one large block, then smaller ones)
  // lies in the range, and holds what is written to it.
  auto* text = static_cast<char*>(std::malloc(std::size_t{24} << 20));
  auto* small = static_cast<char*>(std::malloc(4096));
  REQUIRE(text != nullptr);
  REQUIRE(small != nullptr);
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (const char* p : {text, small}) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    CHECK(a + page > prefault.begin());  // the block starts in the page before the range at most
    CHECK(a < prefault.end());
  }
  std::memset(text, 'x', std::size_t{24} << 20);
  CHECK(text[(std::size_t{24} << 20) - 1] == 'x');
  std::free(small);
  std::free(text);
}

TEST_CASE("malloc_policy: a free block of more than 2 GiB at the heap's top stays mapped") {
  // The 10^7-token prefault (3.4 GB) was unmapped as soon as it was freed whenever it bordered the
  // heap's top: a trim threshold of INT_MAX (2 GiB) still trims a larger top. Address space only:
  // the block is never written, so no memory is used.
  if (!kGlibcMalloc) return;
  if (malloc_perturbed()) {
    MESSAGE("MALLOC_PERTURB_ is set: glibc would write the 2.5 GiB block; not checked");
    return;
  }
  keep_freed_memory();
  const std::size_t bytes = (std::size_t{5} << 29) + 12345;  // 2.5 GiB and a bit
  void* block = std::malloc(bytes);
  if (!block) {
    MESSAGE("no 2.5 GiB of address space (ulimit -v?): not checked");
    return;
  }
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<std::uintptr_t>(block) + page - 1) & ~(page - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(block) + bytes) & ~(page - 1);
  std::free(block);
  std::vector<unsigned char> v((end - begin) / page);
  CHECK(::mincore(reinterpret_cast<void*>(begin), end - begin, v.data()) == 0);  // ENOMEM if unmapped
  // And a large block allocated next is carved out of it (a freed top, or a free chunk).
  void* again = std::malloc(bytes / 2);
  REQUIRE(again != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(again) + page > begin);
  CHECK(reinterpret_cast<std::uintptr_t>(again) < end);
  std::free(again);
}

TEST_CASE("heap_prefault: stopping early joins at once, and nothing is asked for zero bytes") {
  keep_freed_memory();
  {
    HeapPrefault none(0);
    CHECK(none.begin() == none.end());
    CHECK(none.done() == 0);
  }
  {
    HeapPrefault big(std::size_t{256} << 20);
    // Stopped once it has mapped something (or after 10 s: then nothing is checked but the stop).
    for (int ms = 0; big.done() == 0 && ms < 10000; ++ms) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    big.stop();  // after the 64 MiB it is mapping
    const std::size_t done = big.done();
    CHECK(done < big.end() - big.begin());
    // Mapped from the end down: what was done is the top of the range (its bottom, where the
    // caller's first block goes, was partly mapped by the test above; its top is fresh).
    if (kGlibcMalloc && !malloc_perturbed()) CHECK(resident_pages(big.end() - done, big.end()) == done / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
  }
  auto* p = static_cast<char*>(std::malloc(1 << 20));
  REQUIRE(p != nullptr);
  p[0] = 1;
  std::free(p);
}

TEST_CASE("heap_prefault: 2.2 times the input, not below 64 MiB, at most half of what is available") {
  const std::size_t MiB = std::size_t{1} << 20;
  CHECK(prefault_bytes(0, 1000 * MiB) == 0);
  CHECK(prefault_bytes(64 * MiB - 1, 1000 * MiB) == 0);
  CHECK(prefault_bytes(64 * MiB, 1000 * MiB) == 64 * MiB / 5 * 11);
  CHECK(prefault_bytes(1713540363, std::size_t{24} << 30) == 3769788792);  // 10^7 tokens: 3.5 GiB
  CHECK(prefault_bytes(1700 * MiB, 6000 * MiB) == 3000 * MiB);  // capped by memory
  CHECK(prefault_bytes(1700 * MiB, 0) == 0);                    // available unknown: none
  CHECK(prefault_bytes_for_input("/nonexistent/interpcert-prefault") == 0);
  CHECK(prefault_bytes_for_input("/") == 0);  // a directory
}
