// The cheapest linear-time job with a given memory footprint, as a yardstick for growth.sh: how
// does the time of merely writing and reading B bytes of fresh memory grow from B to 10 B on this
// machine? On a virtual machine it need not grow by 10: fresh pages are faulted in from the host
// and a larger working set misses more in the caches and the TLB. growth.sh runs it with the peak
// resident size that certify and the checker reached at each size, so their growth can be read
// against the machine's own floor for the same memory.
// Usage: bench_memory_floor BYTES   (prints the sum of what it read, so no pass is optimized away)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  char* end = nullptr;
  const unsigned long long bytes = argc == 2 ? std::strtoull(argv[1], &end, 10) : 0;
  if (argc != 2 || *end != '\0' || bytes < 8) {
    std::fprintf(stderr, "usage: bench_memory_floor BYTES (at least 8)\n");
    return 2;
  }
  const std::size_t words = bytes / 8;
  // Plain malloc with glibc's default policy (a block this large is a fresh mapping of 4 KiB
  // pages), as an ordinary program would get.
  auto* a = static_cast<std::uint64_t*>(std::malloc(words * 8));
  if (!a) {
    std::fprintf(stderr, "bench_memory_floor: cannot allocate %llu bytes\n", bytes);
    return 1;
  }
  for (std::size_t i = 0; i < words; ++i) a[i] = i * 0x9E3779B97F4A7C15ull;  // one write pass
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < words; ++i) sum += a[i];  // one read pass
  std::printf("%llu\n", static_cast<unsigned long long>(sum));
  std::free(a);
  return 0;
}
