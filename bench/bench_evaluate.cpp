// Reference vs fast exact evaluator on a constructed model of about 1,000 blocks over about
// 10,000 tokens (one attention head per code layer, four-neuron hats: the authors' shape).
// Usage: bench_evaluate [N=100] [n=100] [d=4] [m=10] [threads=0]
#include "bench_common.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/interpolation.hpp"

#include <cstdio>
#include <cstdlib>

using namespace interpcert;

int main(int argc, char** argv) {
  auto arg = [&](int i, std::size_t def) { return argc > i ? static_cast<std::size_t>(std::atol(argv[i])) : def; };
  std::size_t N = arg(1, 100), n = arg(2, 100), d = arg(3, 4), m = arg(4, 10);
  unsigned threads = static_cast<unsigned>(arg(5, 0));
  std::mt19937_64 rng(2026);
  Dataset ds = bench::hub_dataset(rng, N, n, d, m);
  auto t0 = std::chrono::steady_clock::now();
  Construction c = construct_model(ds, {4});
  double tc = bench::seconds_since(t0);
  std::printf("dataset: N = %zu, n = %zu, d = %zu, m = %zu: %zu tokens\n", N, n, d, m, ds.total_tokens());
  std::printf("model: %zu blocks (width 4), constructed in %.2f s\n", c.model.blocks.size(), tc);
  t0 = std::chrono::steady_clock::now();
  auto fast = check_interpolation(c.model, ds, Evaluator::Fast, threads);
  double tf = bench::seconds_since(t0);
  std::printf("fast evaluator:      %8.3f s  (%s)\n", tf, fast.first ? "MISMATCH" : "exact interpolation");
  t0 = std::chrono::steady_clock::now();
  auto ref = check_interpolation(c.model, ds, Evaluator::Reference, threads);
  double tr = bench::seconds_since(t0);
  std::printf("reference evaluator: %8.3f s  (%s)\n", tr, ref.first ? "MISMATCH" : "exact interpolation");
  std::printf("ratio reference / fast: %.1fx   peak memory %.0f MiB\n", tr / tf, bench::peak_rss_mib());
  return fast.first || ref.first ? 1 : 0;
}
