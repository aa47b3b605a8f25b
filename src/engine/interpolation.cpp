#include "interpcert/interpolation.hpp"

#include "interpcert/evaluate_fast.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "interpcert/parallel.hpp"

namespace interpcert {

std::vector<std::vector<Vec>> evaluate_dataset(const Model& model, const Dataset& ds, Evaluator which,
                                               unsigned threads) {
  std::vector<std::vector<Vec>> inputs(ds.sequences.size());
  for (std::size_t s = 0; s < inputs.size(); ++s) inputs[s] = ds.sequences[s].input;
  if (which == Evaluator::Fast) return evaluate_fast(model, std::move(inputs), threads);
  std::vector<std::vector<Vec>> out(inputs.size());
  parallel_for(inputs.size(), threads, [&](std::size_t s) { out[s] = evaluate_reference(model, std::move(inputs[s])); });
  return out;
}

std::optional<Mismatch> first_mismatch(const Dataset& ds, const std::vector<std::vector<Vec>>& final_tokens) {
  for (std::size_t s = 0; s < ds.sequences.size(); ++s) {
    const Sequence& q = ds.sequences[s];
    for (std::size_t k = 0; k < q.output.size(); ++k) {
      const Vec& v = final_tokens[s][q.positions[k]];
      if (v != q.output[k]) return Mismatch{s, k, q.positions[k], v, q.output[k]};
    }
  }
  return std::nullopt;
}

std::size_t count_mismatches(const Dataset& ds, const std::vector<std::vector<Vec>>& final_tokens) {
  std::size_t bad = 0;
  for (std::size_t s = 0; s < ds.sequences.size(); ++s) {
    const Sequence& q = ds.sequences[s];
    for (std::size_t k = 0; k < q.output.size(); ++k) bad += final_tokens[s][q.positions[k]] != q.output[k];
  }
  return bad;
}

double reference_cost_estimate(const Model& model, const Dataset& ds) {
  double per_token_ff = 0, per_pair_sa = 0, per_token_sa = 0;
  const double d = static_cast<double>(model.d);
  for (const Block& b : model.blocks) {
    if (b.sa) {
      per_pair_sa += static_cast<double>(b.sa->Q.rows);
      per_token_sa += d * d;
    }
    if (b.ff) per_token_ff += 2.0 * static_cast<double>(b.ff->U.rows) * d;
  }
  double total = 0;
  for (const auto& q : ds.sequences) {
    double n = static_cast<double>(q.input.size());
    total += n * n * per_pair_sa + n * (per_token_sa + per_token_ff);
  }
  return total;
}

}  // namespace interpcert
