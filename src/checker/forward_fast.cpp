#include "forward_fast.hpp"

#include "forward.hpp"

#include <gmp.h>

#include <algorithm>

namespace interpcert::checker {

// g(t) = sum_j W_j relu(c_j t + b_j) = slope[p] t + offset[p] for t in piece p, where piece p lies
// between breaks[p-1] and breaks[p]. g is continuous, so at a breakpoint either piece is right.
struct StructuredModel::Layer {
  Vec u;
  std::vector<Rational> breaks;
  std::vector<Vec> slope, offset;
};

namespace {

std::unique_ptr<StructuredModel::Layer> tabulate(const FeedForward& ff) {
  const std::size_t w = ff.U.rows, d = ff.U.cols, dout = ff.W.rows;
  std::size_t r0 = w, piv = d;  // first nonzero row and its first nonzero column
  for (std::size_t j = 0; j < w && r0 == w; ++j)
    for (std::size_t c = 0; c < d; ++c)
      if (ff.U(j, c) != 0) {
        r0 = j, piv = c;
        break;
      }
  auto layer = std::make_unique<StructuredModel::Layer>();
  layer->u.assign(d, Rational(0));
  std::vector<Rational> coef(w);  // row j = coef[j] * u
  if (r0 < w) {
    for (std::size_t c = 0; c < d; ++c) layer->u[c] = ff.U(r0, c);
    for (std::size_t j = 0; j < w; ++j) {
      coef[j] = ff.U(j, piv) / ff.U(r0, piv);
      for (std::size_t c = 0; c < d; ++c)
        if (ff.U(j, c) != coef[j] * layer->u[c]) return nullptr;  // not rank one: plain evaluation
    }
  }
  // Sweep left to right. Far left (t -> -inf) a neuron is on iff c_j < 0, or c_j = 0 and b_j > 0;
  // at its breakpoint -b_j / c_j a neuron with c_j > 0 switches on, one with c_j < 0 off.
  std::vector<std::pair<Rational, std::size_t>> at;  // (breakpoint, neuron)
  Vec slope(dout), offset(dout);
  auto toggle = [&](std::size_t j, int sign) {
    for (std::size_t r = 0; r < dout; ++r) {
      Rational ws = ff.W(r, j) * coef[j], wb = ff.W(r, j) * ff.b[j];
      if (sign > 0) slope[r] += ws, offset[r] += wb;
      else slope[r] -= ws, offset[r] -= wb;
    }
  };
  for (std::size_t j = 0; j < w; ++j) {
    if (coef[j] != 0) at.push_back({-ff.b[j] / coef[j], j});
    if (coef[j] < 0 || (coef[j] == 0 && ff.b[j] > 0)) toggle(j, +1);
  }
  std::sort(at.begin(), at.end());
  layer->slope.push_back(slope);
  layer->offset.push_back(offset);
  for (std::size_t i = 0; i < at.size();) {
    const Rational beta = at[i].first;
    for (; i < at.size() && at[i].first == beta; ++i) toggle(at[i].second, coef[at[i].second] > 0 ? +1 : -1);
    layer->breaks.push_back(beta);
    layer->slope.push_back(slope);
    layer->offset.push_back(offset);
  }
  return layer;
}

void update(Rational& y, const Rational& e, const Rational* a, const Rational* b, const Rational& c);

void attention_one_head(const SelfAttention& sa, std::vector<Vec>& z) {
  const std::size_t n = z.size();
  Vec q(sa.Q.a.begin(), sa.Q.a.end()), k(sa.K.a.begin(), sa.K.a.end());
  std::vector<Rational> key(n);
  for (std::size_t l = 0; l < n; ++l) key[l] = dot(k, z[l]);
  Rational hi = *std::max_element(key.begin(), key.end()), lo = *std::min_element(key.begin(), key.end());
  auto value_of_mean = [&](auto pick) {
    Vec mean(z[0].size());
    long count = 0;
    for (std::size_t l = 0; l < n; ++l)
      if (pick(key[l])) {
        ++count;
        for (std::size_t c = 0; c < mean.size(); ++c) mean[c] += z[l][c];
      }
    for (auto& x : mean) x /= Rational(count);
    return sa.factored ? matvec(sa.Vleft, matvec(sa.Vright, mean)) : matvec(sa.V, mean);
  };
  Vec to_max = value_of_mean([&](const Rational& x) { return x == hi; });
  Vec to_min = value_of_mean([&](const Rational& x) { return x == lo; });
  Vec to_all = value_of_mean([](const Rational&) { return true; });
  for (auto& t : z) {
    int sign = dot(q, t).sign();
    const Vec& v = sign > 0 ? to_max : sign < 0 ? to_min : to_all;
    for (std::size_t c = 0; c < t.size(); ++c) update(t[c], sa.rho, nullptr, nullptr, v[c]);
  }
}

// Causal, one head: query i sees the prefix 0 ... i, so the attended sets are the prefix's argmax,
// argmin or all of it; kept as running (count, sum) per set while i grows.
void attention_one_head_causal(const SelfAttention& sa, std::vector<Vec>& z) {
  const std::size_t n = z.size(), d = z.empty() ? 0 : z[0].size();
  Vec q(sa.Q.a.begin(), sa.Q.a.end()), k(sa.K.a.begin(), sa.K.a.end());
  struct Set {
    Rational key;
    long count = 0;
    Vec sum;
  };
  Set hi, lo, all;
  hi.sum = lo.sum = all.sum = Vec(d);
  std::vector<Vec> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Rational key = dot(k, z[i]);
    auto include = [&](Set& s, bool better) {
      if (s.count == 0 || better) {
        s.key = key, s.count = 0, s.sum = Vec(d);
      } else if (key != s.key) {
        return;
      }
      ++s.count;
      for (std::size_t c = 0; c < d; ++c) s.sum[c] += z[i][c];
    };
    include(hi, hi.count > 0 && key > hi.key);
    include(lo, lo.count > 0 && key < lo.key);
    ++all.count;
    for (std::size_t c = 0; c < d; ++c) all.sum[c] += z[i][c];
    int sign = dot(q, z[i]).sign();
    const Set& s = sign > 0 ? hi : sign < 0 ? lo : all;
    Vec mean = s.sum;
    for (auto& x : mean) x /= Rational(s.count);
    Vec v = sa.factored ? matvec(sa.Vleft, matvec(sa.Vright, mean)) : matvec(sa.V, mean);
    out[i] = z[i];
    for (std::size_t c = 0; c < d; ++c) out[i][c] = sa.rho * z[i][c] + v[c];
  }
  z = std::move(out);
}

bool is_int(const Rational& q) { return mpz_cmp_ui(mpq_denref(q.backend().data()), 1) == 0; }

// y <- e y + a b + c (b may be null: then y <- e y + c). When every operand is an integer the
// numerators are combined directly (no gcds, no temporaries); an integer mpq is canonical, so
// the result is the mpq of the plain formula (tests/checker_fast_test.cpp).
void update(Rational& y, const Rational& e, const Rational* a, const Rational* b, const Rational& c) {
  if (is_int(y) && is_int(e) && is_int(c) && (!b || (is_int(*a) && is_int(*b)))) {
    mpz_ptr n = mpq_numref(y.backend().data());
    if (mpz_cmp_ui(mpq_numref(e.backend().data()), 1) != 0) mpz_mul(n, n, mpq_numref(e.backend().data()));
    if (b) mpz_addmul(n, mpq_numref(a->backend().data()), mpq_numref(b->backend().data()));
    mpz_add(n, n, mpq_numref(c.backend().data()));
    return;
  }
  y = b ? e * y + *a * *b + c : e * y + c;
}

}  // namespace

StructuredModel::StructuredModel(const Model& m) : m_(m), ff_(m.blocks.size()) {
  for (std::size_t i = 0; i < m.blocks.size(); ++i)
    if (m.blocks[i].ff) ff_[i] = tabulate(*m.blocks[i].ff);
}

StructuredModel::~StructuredModel() = default;

std::vector<Vec> StructuredModel::forward(std::vector<Vec> z) const {
  for (std::size_t i = 0; i < m_.blocks.size(); ++i) {
    const Block& b = m_.blocks[i];
    if (b.sa) {
      if (b.sa->Q.rows == 1 && m_.mask == MaskKind::Causal) {
        attention_one_head_causal(*b.sa, z);
      } else if (b.sa->Q.rows == 1) {
        attention_one_head(*b.sa, z);
      } else {
        Model one;
        one.d = m_.d;
        one.mask = m_.mask;
        one.blocks.push_back(Block{b.sa, std::nullopt});
        z = forward_hardmax(one, std::move(z));
      }
    }
    if (!b.ff) continue;
    const Layer* layer = ff_[i].get();
    if (!layer) {
      Model one;
      one.d = m_.d;
      one.blocks.push_back(Block{std::nullopt, b.ff});
      z = forward_hardmax(one, std::move(z));
      continue;
    }
    for (auto& t : z) {
      Rational s = dot(layer->u, t);
      std::size_t p = static_cast<std::size_t>(std::lower_bound(layer->breaks.begin(), layer->breaks.end(), s) -
                                               layer->breaks.begin());
      for (std::size_t c = 0; c < t.size(); ++c) update(t[c], b.ff->eta, &layer->slope[p][c], &s, layer->offset[p][c]);
    }
  }
  return z;
}

}  // namespace interpcert::checker
