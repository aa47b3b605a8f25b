#include "phase_times.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <sys/resource.h>

namespace interpcert::cli {
namespace {
double seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
// The process's start (near enough: static initialization, before main). Not "now minus the
// process's CPU time" at the first call: with another thread already running (certify's heap
// prefault during its first phase) that CPU is more than the wall time that has passed.
const double process_start = seconds(CLOCK_MONOTONIC);
}  // namespace

void phase_done(const char* name) {
  static const bool enabled = std::getenv("INTERPCERT_PHASE_TIMES") != nullptr;
  if (!enabled) return;
  static double wall = process_start, cpu = 0, main_cpu = 0;  // the process's start: CPU clocks 0
  const double w = seconds(CLOCK_MONOTONIC), c = seconds(CLOCK_PROCESS_CPUTIME_ID);
  const double m = seconds(CLOCK_THREAD_CPUTIME_ID);  // phase_done runs on the main thread
  static long faults = 0;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  long rss_kb = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    long pages = 0;
    if (std::fscanf(f, "%*s %ld", &pages) == 1) rss_kb = pages * 4;
    std::fclose(f);
  }
  // The process's CPU includes other threads' (certify's dataset digest runs beside the
  // preconditions and the construction): the main thread's own is printed last.
  std::fprintf(stderr,
               "phase %-22s %8.3f s wall %8.3f s cpu %8ld minor faults, rss %6ld MB, peak %6ld MB, main thread %8.3f s cpu\n",
               name, w - wall, c - cpu, ru.ru_minflt - faults, rss_kb / 1024, ru.ru_maxrss / 1024, m - main_cpu);
  faults = ru.ru_minflt;
  wall = w;
  cpu = c;
  main_cpu = m;
}

}  // namespace interpcert::cli
