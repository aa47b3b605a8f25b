#include "forward.hpp"

namespace interpcert::checker {
namespace {

// By linearity the mean of V z_l over C equals V applied to the mean of z_l over C.
Vec value_of(const SelfAttention& sa, const Vec& x) {
  if (!sa.factored) return matvec(sa.V, x);
  return matvec(sa.Vleft, matvec(sa.Vright, x));
}

// causal: query i sees l <= i only.
std::vector<Vec> attention(const SelfAttention& sa, const std::vector<Vec>& z, bool causal) {
  const std::size_t n = z.size(), h = sa.Q.rows;
  std::vector<Vec> q(n), k(n);
  for (std::size_t i = 0; i < n; ++i) {
    q[i] = matvec(sa.Q, z[i]);
    k[i] = matvec(sa.K, z[i]);
  }
  std::vector<Vec> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<Rational> score(causal ? i + 1 : n);
    for (std::size_t l = 0; l < score.size(); ++l)
      for (std::size_t r = 0; r < h; ++r) score[l] += q[i][r] * k[l][r];
    Rational top = score[0];
    for (const auto& s : score) top = s > top ? s : top;
    Vec mean(z[i].size());
    long count = 0;
    for (std::size_t l = 0; l < score.size(); ++l)
      if (score[l] == top) {
        ++count;
        for (std::size_t c = 0; c < mean.size(); ++c) mean[c] += z[l][c];
      }
    for (auto& x : mean) x /= Rational(count);
    Vec v = value_of(sa, mean);
    out[i] = z[i];
    for (std::size_t c = 0; c < v.size(); ++c) out[i][c] = sa.rho * z[i][c] + v[c];
  }
  return out;
}

void feed_forward(const FeedForward& ff, Vec& z) {
  Vec out(z.size());
  for (std::size_t c = 0; c < z.size(); ++c) out[c] = ff.eta * z[c];
  for (std::size_t j = 0; j < ff.U.rows; ++j) {
    Rational pre = ff.b[j];
    for (std::size_t c = 0; c < z.size(); ++c) pre += ff.U(j, c) * z[c];
    if (pre <= 0) continue;
    for (std::size_t c = 0; c < z.size(); ++c) out[c] += ff.W(c, j) * pre;
  }
  z = std::move(out);
}

}  // namespace

std::vector<Vec> forward_hardmax(const Model& m, std::vector<Vec> z) {
  for (const Block& b : m.blocks) {
    if (b.sa) z = attention(*b.sa, z, m.mask == MaskKind::Causal);
    if (b.ff)
      for (auto& t : z) feed_forward(*b.ff, t);
  }
  return z;
}

}  // namespace interpcert::checker
