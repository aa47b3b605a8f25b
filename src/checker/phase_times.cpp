#include "phase_times.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <sys/resource.h>

namespace interpcert::checker {
namespace {
double seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

void phase_done(const char* name) {
  static const bool enabled = std::getenv("INTERPCERT_PHASE_TIMES") != nullptr;
  if (!enabled) return;
  static double wall = 0, cpu = 0;  // the process's start: CPU clock 0, wall from the first call
  static bool first = true;
  const double w = seconds(CLOCK_MONOTONIC), c = seconds(CLOCK_PROCESS_CPUTIME_ID);
  if (first) wall = w - c, first = false;  // assume single-threaded until the first phase
  static long faults = 0;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  long rss_kb = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    long pages = 0;
    if (std::fscanf(f, "%*s %ld", &pages) == 1) rss_kb = pages * 4;
    std::fclose(f);
  }
  std::fprintf(stderr, "phase %-22s %8.3f s wall %8.3f s cpu %8ld minor faults, rss %6ld MB, peak %6ld MB\n", name,
               w - wall, c - cpu, ru.ru_minflt - faults, rss_kb / 1024, ru.ru_maxrss / 1024);
  faults = ru.ru_minflt;
  wall = w;
  cpu = c;
}

}  // namespace interpcert::checker
