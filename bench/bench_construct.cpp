// Construction and exact verification time as N, n and d grow; the block count must not grow with
// n. Usage: bench_construct [--big]   (--big adds N = 10,000, n = 100, d = 16, m = 2)
#include "bench_common.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/preconditions.hpp"

#include <cstdio>
#include <cstring>

using namespace interpcert;

namespace {
void row(std::size_t N, std::size_t n, std::size_t d, std::size_t m, std::size_t cap) {
  std::mt19937_64 rng(N * 1000003 + n * 101 + d);
  Dataset ds = bench::hub_dataset(rng, N, n, d, m);
  auto t0 = std::chrono::steady_clock::now();
  PreconditionReport pre = check_preconditions(ds);
  Construction c = construct_model(ds, {cap}, pre);
  double tc = bench::seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  auto v = check_interpolation(c.model, ds, Evaluator::Fast, 0);
  double tv = bench::seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  ModelStats st = model_stats(c.model);
  std::string cert = certificate_text(ds, c.model, st, pre);
  double tw = bench::seconds_since(t0);
  std::printf("%6zu %5zu %3zu %2zu %5s | %6zu %6zu %8zu | %8.2f %8.2f %8.2f %8.2f | %7.0f %s\n", N, n, d, m,
              cap ? std::to_string(cap).c_str() : "-", st.blocks, construction_block_bound(ds), st.parameters, tc, tv,
              tw, tc + tv + tw, bench::peak_rss_mib(), v.first ? "MISMATCH" : "exact");
  std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
  bool big = argc > 1 && std::strcmp(argv[1], "--big") == 0;
  std::printf("     N     n   d  m width |      L  Sm+N        P | constr.  verify  certif.    total | peakMiB\n");
  for (std::size_t n : {10, 100, 1000}) row(200, n, 8, 2, 0);      // L does not grow with n
  for (std::size_t n : {10, 100, 1000}) row(200, n, 8, 2, 4);
  for (std::size_t d : {2, 16, 64}) row(500, 50, d, 2, 0);
  for (std::size_t N : {1000, 3000}) row(N, 100, 16, 2, 0);
  if (big) row(10000, 100, 16, 2, 0);
  return 0;
}
