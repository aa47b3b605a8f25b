#include "interpcert/evaluate_fast.hpp"

#include "attention_plan.hpp"
#include "feed_forward_plan.hpp"
#include "interpcert/dataset.hpp"
#include "interpcert/parallel.hpp"
#include "machine_forward.hpp"
#include "token_pool.hpp"

#include <mutex>
#include <stdexcept>

namespace interpcert {

struct FastEvaluator::Plans {
  std::vector<AttentionPlan> attention;   // per block (unused where sa is null)
  std::vector<FeedForwardPlan> feed_forward;  // per block (unused where ff is null)
  // Per run of feed-forward layers (indexed by its first block): how many more batches evaluate
  // it token by token, without the pool of distinct values. After attention with per-context codes
  // nearly every token differs (10^6-token hubs: all but 1%), and the pool's hashing, copying and
  // scattering cost more than the repeats it saves. Only a choice of route: both are exact.
  std::mutex mu;
  std::vector<unsigned> skip_pool;
  std::unique_ptr<MachineForward> machine;  // built from the plans above
};

namespace {
// A run whose batch has fewer than 1 repeat in 20 tokens skips the pool for the next batches, then
// looks again.
constexpr std::size_t kRepeatsPer = 20;
constexpr unsigned kSkipBatches = 15;
}  // namespace

namespace {

// Worth indexing: an eta = 1 rank-one layer that the index already serves, or whose direction the
// next layer of the run shares (building costs one pass over the pool, as a direct evaluation).
bool use_index(const FeedForward& ff, const FeedForwardPlan& plan, const ProjectionIndex& index,
               const FeedForward* next, const FeedForwardPlan* next_plan) {
  if (!plan.rank_one || plan.u.empty() || ff.eta != 1) return false;
  if (index.built_for(plan.u)) return true;
  return next && next->eta == 1 && next_plan->rank_one && next_plan->u == plan.u;
}

void apply_indexed(const FeedForwardPlan& plan, TokenPool& pool, ProjectionIndex& index) {
  std::vector<std::uint32_t> moving;
  const std::size_t pieces = plan.pieces();
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

}  // namespace

FastEvaluator::FastEvaluator(const Model& model) : model_(model), plans_(std::make_unique<Plans>()) {
  if (model.attention != AttentionKind::Hardmax)
    throw std::invalid_argument("the exact evaluator runs hardmax models only");
  plans_->attention.resize(model.blocks.size());
  plans_->skip_pool.assign(model.blocks.size(), 0);
  plans_->feed_forward.resize(model.blocks.size());
  for (std::size_t i = 0; i < model.blocks.size(); ++i) {
    if (model.blocks[i].sa) plans_->attention[i] = plan_attention(*model.blocks[i].sa);
    if (model.blocks[i].ff) plans_->feed_forward[i] = plan_feed_forward(*model.blocks[i].ff);
  }
  plans_->machine = std::make_unique<MachineForward>(model, plans_->attention, plans_->feed_forward);
}

FastEvaluator::~FastEvaluator() = default;

std::vector<std::vector<Vec>> FastEvaluator::run(std::vector<std::vector<Vec>> seqs, unsigned threads) const {
  const auto& blocks = model_.blocks;
  const bool causal = model_.mask == MaskKind::Causal;
  for (std::size_t i = 0; i < blocks.size();) {
    if (blocks[i].sa) {
      const AttentionPlan& plan = plans_->attention[i];
      parallel_for(seqs.size(), threads, [&](std::size_t s) { apply_attention_fast(*blocks[i].sa, plan, seqs[s], causal); });
    }
    // The feed-forward layers up to the next attention layer act token by token: one run, on the
    // distinct token values only.
    std::vector<std::size_t> run;
    std::size_t j = i;
    do {
      if (blocks[j].ff) run.push_back(j);
      ++j;
    } while (j < blocks.size() && !blocks[j].sa);
    const std::size_t first = i;
    i = j;
    if (run.empty()) continue;
    bool pooled = true;
    {
      std::lock_guard<std::mutex> lock(plans_->mu);
      if (plans_->skip_pool[first] > 0) --plans_->skip_pool[first], pooled = false;
    }
    if (!pooled) {
      parallel_for(seqs.size(), threads, [&](std::size_t s) {
        for (Vec& z : seqs[s])
          for (std::size_t b : run) apply_feed_forward_in_place(*blocks[b].ff, plans_->feed_forward[b], z);
      });
      continue;
    }
    TokenPool pool;
    pool.gather(seqs);
    std::size_t tokens = 0;
    for (const auto& seq : pool.ids) tokens += seq.size();
    if ((tokens - pool.values.size()) * kRepeatsPer < tokens) {
      std::lock_guard<std::mutex> lock(plans_->mu);
      plans_->skip_pool[first] = kSkipBatches;
    }
    ProjectionIndex index;
    for (std::size_t r = 0; r < run.size(); ++r) {
      const FeedForward& ff = *blocks[run[r]].ff;
      const FeedForwardPlan& plan = plans_->feed_forward[run[r]];
      bool has_next = r + 1 < run.size();
      if (use_index(ff, plan, index, has_next ? &*blocks[run[r + 1]].ff : nullptr,
                    has_next ? &plans_->feed_forward[run[r + 1]] : nullptr)) {
        if (!index.built_for(plan.u)) index.build(plan.u, pool.values, threads);
        apply_indexed(plan, pool, index);
      } else {
        index.invalidate();
        parallel_for(pool.values.size(), threads,
                     [&](std::size_t v) { apply_feed_forward_in_place(ff, plan, pool.values[v]); });
      }
    }
    pool.scatter(seqs);
  }
  return seqs;
}

std::vector<std::vector<Vec>> FastEvaluator::run_outputs(const Sequence* seqs, std::size_t count, unsigned threads,
                                                        std::size_t* machine) const {
  std::vector<std::vector<Vec>> out(count);
  std::vector<char> done(count, 0);
  const MachineForward& mf = *plans_->machine;
  if (mf.usable())
    parallel_for(count, threads, [&](std::size_t s) { done[s] = mf.run(seqs[s].input, seqs[s].positions, out[s]); });
  std::vector<std::size_t> rest;
  for (std::size_t s = 0; s < count; ++s)
    if (!done[s]) rest.push_back(s);
  if (machine) *machine = count - rest.size();
  // The rest with GMP rationals, about this many tokens at a time (memory stays a fraction of the
  // dataset's own).
  constexpr std::size_t kBatchTokens = 1 << 15;
  for (std::size_t lo = 0; lo < rest.size();) {
    std::size_t hi = lo, tokens = 0;
    while (hi < rest.size() && (hi == lo || tokens + seqs[rest[hi]].input.size() <= kBatchTokens))
      tokens += seqs[rest[hi++]].input.size();
    std::vector<std::vector<Vec>> batch(hi - lo);
    parallel_for(batch.size(), threads, [&](std::size_t b) { batch[b] = seqs[rest[lo + b]].input; });
    batch = run(std::move(batch), threads);
    for (std::size_t b = 0; b < batch.size(); ++b) {
      const Sequence& q = seqs[rest[lo + b]];
      std::vector<Vec>& o = out[rest[lo + b]];
      o.resize(q.positions.size());
      for (std::size_t k = 0; k < q.positions.size(); ++k) o[k] = batch[b][q.positions[k]];
    }
    lo = hi;
  }
  return out;
}

std::vector<std::vector<Vec>> evaluate_fast(const Model& model, std::vector<std::vector<Vec>> seqs,
                                            unsigned threads) {
  return FastEvaluator(model).run(std::move(seqs), threads);
}

}  // namespace interpcert
