// Writes a "hub" dataset (bench_common.hpp: same seed, same draws, byte-identical to what
// bench_scale writes) straight to a file, token by token, without holding it in memory: the
// 10^7-token file of bench/scale.sh is ~1.7 GB.
// Usage: bench_gen_dataset hub N n d m FILE
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

int main(int argc, char** argv) {
  if (argc != 7 || std::string(argv[1]) != "hub") {
    std::fprintf(stderr, "usage: bench_gen_dataset hub N n d m FILE\n");
    return 2;
  }
  const std::size_t N = std::atol(argv[2]), n = std::atol(argv[3]), d = std::atol(argv[4]), m = std::atol(argv[5]);
  const long R = 1000000;
  std::string tmp = std::string(argv[6]) + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) {
    std::perror(tmp.c_str());
    return 2;
  }
  std::mt19937_64 rng(N * 7919 + n * 31 + d);  // as bench_scale
  auto draw = [&] { return static_cast<long>(rng() % static_cast<std::uint64_t>(2 * R + 1)) - R; };
  auto token = [&](bool first, auto value) {
    std::fputs(first ? "[" : ", [", f);
    for (std::size_t i = 0; i < d; ++i) std::fprintf(f, i ? ", \"%ld\"" : "\"%ld\"", value(i));
    std::fputc(']', f);
  };
  std::fprintf(f, "{\n  \"format\": \"interpcert-dataset\", \"version\": 1,\n  \"d\": %zu,\n  \"sequences\": [\n", d);
  for (std::size_t j = 0; j < N; ++j) {
    std::fputs("    {\"input\": [", f);
    for (std::size_t i = 0; i < n; ++i) {
      if (i == n - m) token(i == 0, [](std::size_t k) { return static_cast<long>(k) - 3; });  // the hub
      if (i + 1 < n) token(i == 0 && i != n - m, [&](std::size_t) { return draw(); });
    }
    std::fputs("],\n     \"output\": [", f);
    for (std::size_t k = 0; k < m; ++k) token(k == 0, [&](std::size_t) { return draw(); });
    std::fputs("], \"positions\": [", f);
    for (std::size_t k = 0; k < m; ++k) std::fprintf(f, k ? ", %zu" : "%zu", n - m + k);
    std::fputs(j + 1 < N ? "]},\n" : "]}\n", f);
  }
  std::fputs("  ]\n}\n", f);
  if (std::fclose(f) != 0 || std::rename(tmp.c_str(), argv[6]) != 0) {
    std::perror(argv[6]);
    return 2;
  }
  return 0;
}
