#include "interpcert/evaluate_reference.hpp"

#include <stdexcept>

namespace interpcert {
namespace {

// Causal: query i sees positions 0 ... i only (proofs/formats-v1.md, "mask").
std::vector<Vec> apply_attention(const SelfAttention& sa, const std::vector<Vec>& z, bool causal) {
  const std::size_t n = z.size();
  const Matrix V = sa.value_matrix();
  std::vector<Vec> qz(n), kz(n), vz(n);
  for (std::size_t i = 0; i < n; ++i) {
    qz[i] = matvec(sa.Q, z[i]);
    kz[i] = matvec(sa.K, z[i]);
    vz[i] = matvec(V, z[i]);
  }
  std::vector<Vec> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t seen = causal ? i + 1 : n;
    std::vector<Rational> s(seen);
    for (std::size_t l = 0; l < seen; ++l) s[l] = dot(qz[i], kz[l]);
    Rational best = s[0];
    for (std::size_t l = 1; l < seen; ++l)
      if (s[l] > best) best = s[l];
    Vec sum(z[i].size());
    std::size_t count = 0;
    for (std::size_t l = 0; l < seen; ++l) {
      if (s[l] != best) continue;
      ++count;
      for (std::size_t c = 0; c < sum.size(); ++c) sum[c] += vz[l][c];
    }
    out[i].resize(z[i].size());
    for (std::size_t c = 0; c < sum.size(); ++c) out[i][c] = sa.rho * z[i][c] + sum[c] / Rational(count);
  }
  return out;
}

Vec apply_feed_forward(const FeedForward& ff, const Vec& z) {
  Vec hidden = matvec(ff.U, z);
  for (std::size_t j = 0; j < hidden.size(); ++j) {
    hidden[j] += ff.b[j];
    if (hidden[j] < 0) hidden[j] = 0;
  }
  Vec out = matvec(ff.W, hidden);
  for (std::size_t c = 0; c < out.size(); ++c) out[c] += ff.eta * z[c];
  return out;
}

}  // namespace

std::vector<Vec> evaluate_reference(const Model& model, std::vector<Vec> tokens) {
  if (model.attention != AttentionKind::Hardmax)
    throw std::invalid_argument("the exact evaluator runs hardmax models only");
  for (const Block& b : model.blocks) {
    if (b.sa) tokens = apply_attention(*b.sa, tokens, model.mask == MaskKind::Causal);
    if (b.ff)
      for (auto& z : tokens) z = apply_feed_forward(*b.ff, z);
  }
  return tokens;
}

}  // namespace interpcert
