// One row of the scaling benchmark (bench/run_all.sh): generate a dataset, construct, verify
// with the fast and (when affordable) the reference evaluator, write the dataset, model and
// certificate for the checker and the baselines, and report sizes and bit lengths.
// Usage: bench_scale FAMILY N n d m WIDTH OUTDIR     (FAMILY: hub, shared-top, nested-chain, random)
#include "bench_common.hpp"
#include "dataset_families.hpp"
#include "interpcert/atomic_file.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/evaluate_fast.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/preconditions.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace interpcert;

namespace {
// Largest bit length of any token coordinate after any layer (one pass per block).
std::size_t state_bits(const Model& m, const Dataset& ds) {
  std::vector<std::vector<Vec>> z;
  for (const auto& s : ds.sequences) z.push_back(s.input);
  std::size_t bits = 0;
  auto scan = [&] {
    for (const auto& seq : z)
      for (const auto& t : seq)
        for (const auto& x : t) bits = std::max(bits, rational_bits(x));
  };
  scan();
  for (const Block& b : m.blocks) {
    Model one;
    one.d = m.d;
    one.blocks.push_back(b);
    z = evaluate_fast(one, std::move(z));
    scan();
  }
  return bits;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: bench_scale FAMILY N n d m WIDTH OUTDIR\n");
    return 2;
  }
  std::string family = argv[1], out = argv[7];
  std::size_t N = std::atol(argv[2]), n = std::atol(argv[3]), d = std::atol(argv[4]), m = std::atol(argv[5]),
              width = std::atol(argv[6]);
  std::mt19937_64 rng(N * 7919 + n * 31 + d);
  Dataset ds;
  if (family == "hub") ds = bench::hub_dataset(rng, N, n, d, m);
  else if (family == "random") ds = testing::make_random(rng, d, N, n, m);
  else if (family == "shared-top") ds = testing::make_family(testing::Family::SharedTop, rng, d, N, n);
  else if (family == "nested-chain") ds = testing::make_family(testing::Family::NestedChain, rng, d, N, n);
  else {
    std::fprintf(stderr, "unknown family %s\n", family.c_str());
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  PreconditionReport pre = check_preconditions(ds);
  Construction c = construct_model(ds, {width}, pre);
  double tc = bench::seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  auto fast = check_interpolation(c.model, ds, Evaluator::Fast, 0);
  double tf = bench::seconds_since(t0);
  std::string tr = "-";
  if (reference_cost_estimate(c.model, ds) <= 3e8) {
    t0 = std::chrono::steady_clock::now();
    auto ref = check_interpolation(c.model, ds, Evaluator::Reference, 0);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", bench::seconds_since(t0));
    tr = ref.first ? "MISMATCH" : buf;
  }
  ModelStats st = model_stats(c.model);
  t0 = std::chrono::steady_clock::now();
  write_file_atomically(out + "/dataset.json", dataset_to_json_text(ds));
  write_file_atomically(out + "/model.json", model_to_json_text(c.model));
  write_file_atomically(out + "/cert.json", certificate_text(ds, c.model, st, pre));
  double tw = bench::seconds_since(t0);
  std::string sbits = ds.total_tokens() * c.model.blocks.size() <= 20000000 ? std::to_string(state_bits(c.model, ds)) : "-";
  // family N n d m width tokens L P construct fast ref write model_bits state_bits exact
  std::printf("%s\t%zu\t%zu\t%zu\t%zu\t%zu\t%zu\t%zu\t%zu\t%.3f\t%.3f\t%s\t%.3f\t%zu\t%s\t%s\n", family.c_str(), N, n, d, m,
              width, ds.total_tokens(), st.blocks, st.parameters, tc, tf, tr.c_str(), tw, st.max_bits, sbits.c_str(),
              fast.first ? "MISMATCH" : "exact");
  return fast.first ? 1 : 0;
}
