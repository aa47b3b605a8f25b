#include "interpcert/interpolation.hpp"

#include "interpcert/evaluate_fast.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "interpcert/parallel.hpp"

#include <memory>

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

InterpolationCheck check_interpolation(const Model& model, const Dataset& ds, Evaluator which, unsigned threads) {
  InterpolationCheck result;
  auto compare = [&](std::size_t s, const std::vector<Vec>& at_positions) {
    const Sequence& q = ds.sequences[s];
    for (std::size_t k = 0; k < q.output.size(); ++k) {
      const Vec& v = at_positions[k];
      if (v == q.output[k]) continue;
      if (result.mismatches++ == 0) result.first = Mismatch{s, k, q.positions[k], v, q.output[k]};
    }
  };
  if (which == Evaluator::Fast) {
    // Only the tokens at the target positions come back (in machine integers where they fit).
    FastEvaluator fast(model);
    auto outputs = fast.run_outputs(ds.sequences.data(), ds.sequences.size(), threads);
    for (std::size_t s = 0; s < outputs.size(); ++s) compare(s, outputs[s]);
    return result;
  }
  // About this many tokens in flight per batch: memory stays a fraction of the dataset's own.
  constexpr std::size_t kBatchTokens = 1 << 15;
  for (std::size_t lo = 0; lo < ds.sequences.size();) {
    std::size_t hi = lo, tokens = 0;
    while (hi < ds.sequences.size() && (hi == lo || tokens + ds.sequences[hi].input.size() <= kBatchTokens))
      tokens += ds.sequences[hi++].input.size();
    std::vector<std::vector<Vec>> batch(hi - lo);
    // Tokens to exact vectors on every core (a GMP number per coordinate).
    parallel_for(batch.size(), threads, [&](std::size_t s) { batch[s] = ds.sequences[lo + s].input; });
    parallel_for(batch.size(), threads, [&](std::size_t s) { batch[s] = evaluate_reference(model, std::move(batch[s])); });
    for (std::size_t s = lo; s < hi; ++s) {
      const Sequence& q = ds.sequences[s];
      std::vector<Vec> at(q.positions.size());
      for (std::size_t k = 0; k < q.positions.size(); ++k) at[k] = std::move(batch[s - lo][q.positions[k]]);
      compare(s, at);
    }
    lo = hi;
  }
  return result;
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
