// Shared by the benchmarks: timing, peak memory, and the "hub" datasets.
#pragma once

#include "interpcert/dataset.hpp"

#include <sys/resource.h>

#include <chrono>
#include <random>

namespace interpcert::bench {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Peak resident memory of this process so far, in MiB.
inline double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

/// N sequences of n distinct random integer tokens in [-R, R]^d with m outputs each (the last m
/// positions); every sequence also holds one shared "hub" token at its first output position,
/// with its own target, so the hub needs N different targets and attention is required.
inline Dataset hub_dataset(std::mt19937_64& rng, std::size_t N, std::size_t n, std::size_t d, std::size_t m,
                           long R = 1000000) {
  Dataset ds;
  ds.d = d;
  Vec hub(d);
  for (std::size_t i = 0; i < d; ++i) hub[i] = Rational(static_cast<long>(i) - 3);
  auto draw = [&] { return Rational(static_cast<long>(rng() % static_cast<std::uint64_t>(2 * R + 1)) - R); };
  for (std::size_t j = 0; j < N; ++j) {
    Sequence s;
    std::vector<Vec> input;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      Vec z(d);
      for (auto& x : z) x = draw();
      input.push_back(std::move(z));
    }
    input.insert(input.begin() + static_cast<long>(n - m), hub);
    s.input = input;
    for (std::size_t k = 0; k < m; ++k) {
      Vec y(d);
      for (auto& x : y) x = draw();
      s.output.push_back(std::move(y));
      s.positions.push_back(n - m + k);
    }
    ds.sequences.push_back(std::move(s));
  }
  return ds;
}

}  // namespace interpcert::bench
