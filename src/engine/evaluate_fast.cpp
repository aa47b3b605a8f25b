#include "interpcert/evaluate_fast.hpp"

#include "attention_plan.hpp"
#include "feed_forward_plan.hpp"
#include "interpcert/parallel.hpp"
#include "token_pool.hpp"

#include <stdexcept>

namespace interpcert {
namespace {

// Worth indexing: an eta = 1 rank-one layer that the index already serves, or whose direction the
// next layer of the run shares (building costs one pass over the pool, as a direct evaluation).
bool use_index(const FeedForward& ff, const FeedForwardPlan& plan, const ProjectionIndex& index,
               const FeedForward* next) {
  if (!plan.rank_one || plan.u.empty() || ff.eta != 1) return false;
  if (index.built_for(plan.u)) return true;
  if (!next || next->eta != 1) return false;
  auto next_dir = rank_one_direction(next->U);
  return next_dir && *next_dir == plan.u;
}

void apply_indexed(const FeedForwardPlan& plan, TokenPool& pool, ProjectionIndex& index) {
  std::vector<std::uint32_t> moving;
  const std::size_t pieces = plan.A.size();
  for (std::size_t k = 0; k < pieces;) {
    if (plan.piece_is_zero(k)) {
      ++k;
      continue;
    }
    std::size_t end = k;
    while (end + 1 < pieces && !plan.piece_is_zero(end + 1)) ++end;
    const Rational* lo = k == 0 ? nullptr : &plan.breaks[k - 1];
    const Rational* hi = end + 1 == pieces ? nullptr : &plan.breaks[end];
    index.collect(lo, hi, moving);
    k = end + 1;
  }
  for (auto id : moving) {
    const Rational t = index.t_of(id);
    add_piece(plan, plan.piece_of(t), t, pool.values[id]);
  }
  for (auto id : moving) index.update(id, pool.values[id]);
}

void apply_feed_forward_run(const std::vector<const FeedForward*>& run, std::vector<std::vector<Vec>>& seqs,
                            unsigned threads) {
  TokenPool pool;
  pool.gather(seqs);
  ProjectionIndex index;
  for (std::size_t i = 0; i < run.size(); ++i) {
    const FeedForward& ff = *run[i];
    FeedForwardPlan plan = plan_feed_forward(ff);
    if (use_index(ff, plan, index, i + 1 < run.size() ? run[i + 1] : nullptr)) {
      if (!index.built_for(plan.u)) index.build(plan.u, pool.values, threads);
      apply_indexed(plan, pool, index);
    } else {
      index.invalidate();
      parallel_for(pool.values.size(), threads,
                   [&](std::size_t v) { pool.values[v] = apply_feed_forward_fast(ff, plan, pool.values[v]); });
    }
  }
  pool.scatter(seqs);
}

}  // namespace

std::vector<std::vector<Vec>> evaluate_fast(const Model& model, std::vector<std::vector<Vec>> seqs,
                                            unsigned threads) {
  if (model.attention != AttentionKind::Hardmax)
    throw std::invalid_argument("the exact evaluator runs hardmax models only");
  const auto& blocks = model.blocks;
  for (std::size_t i = 0; i < blocks.size();) {
    if (blocks[i].sa) {
      AttentionPlan plan = plan_attention(*blocks[i].sa);
      parallel_for(seqs.size(), threads, [&](std::size_t s) { apply_attention_fast(*blocks[i].sa, plan, seqs[s]); });
    }
    // The feed-forward layers up to the next attention layer act token by token: one run.
    std::vector<const FeedForward*> run;
    std::size_t j = i;
    do {
      if (blocks[j].ff) run.push_back(&*blocks[j].ff);
      ++j;
    } while (j < blocks.size() && !blocks[j].sa);
    if (!run.empty()) apply_feed_forward_run(run, seqs, threads);
    i = j;
  }
  return seqs;
}

}  // namespace interpcert
