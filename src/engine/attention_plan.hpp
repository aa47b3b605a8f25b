// Private to the fast evaluator: the structure of one hardmax attention layer.
#pragma once

#include "interpcert/model.hpp"

#include <vector>

namespace interpcert {

/// When Q^T K = a b^T (rank <= 1), s_il = (a.z_i)(b.z_l).
struct AttentionPlan {
  bool rank_one = false;
  Vec a, b;
};

/// Detects rank <= 1 of Q^T K exactly and factors it.
AttentionPlan plan_attention(const SelfAttention& sa);

/// V x (dense, or Vleft (Vright x) when factored). Exact.
Vec apply_value(const SelfAttention& sa, const Vec& x);

/// Replaces z by the attention layer's output; equal to the reference formula. Causal: query i
/// sees positions 0 ... i only; the rank-one path then keeps a running argmax/argmin (O(n)).
void apply_attention_fast(const SelfAttention& sa, const AttentionPlan& plan, std::vector<Vec>& z,
                          bool causal = false);

}  // namespace interpcert
