#include "attention_plan.hpp"

#include <gmp.h>

namespace interpcert {

AttentionPlan plan_attention(const SelfAttention& sa) {
  const std::size_t d = sa.Q.cols;
  Matrix M = matmul(transpose(sa.Q), sa.K);  // s_il = z_i^T M z_l
  AttentionPlan plan;
  std::size_t pi = d, pj = d;
  for (std::size_t i = 0; i < d && pi == d; ++i)
    for (std::size_t j = 0; j < d; ++j)
      if (M(i, j) != 0) {
        pi = i;
        pj = j;
        break;
      }
  plan.a.assign(d, Rational(0));
  plan.b.assign(d, Rational(0));
  if (pi == d) {  // M = 0: every score is 0, every token attends to all
    plan.rank_one = true;
    return plan;
  }
  for (std::size_t j = 0; j < d; ++j) plan.b[j] = M(pi, j);
  for (std::size_t i = 0; i < d; ++i) plan.a[i] = M(i, pj) / M(pi, pj);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j)
      if (M(i, j) != plan.a[i] * plan.b[j]) return AttentionPlan{};
  plan.rank_one = true;
  return plan;
}

Vec apply_value(const SelfAttention& sa, const Vec& x) {
  return sa.factored ? matvec(sa.Vleft, matvec(sa.Vright, x)) : matvec(sa.V, x);
}

namespace {

Vec mean_of(const std::vector<Vec>& z, const std::vector<std::size_t>& idx) {
  Vec m(z[0].size());
  for (auto l : idx)
    for (std::size_t c = 0; c < m.size(); ++c) m[c] += z[l][c];
  Rational inv(1, static_cast<long>(idx.size()));
  for (auto& x : m) x *= inv;
  return m;
}

void finish(const SelfAttention& sa, std::vector<Vec>& z, const std::vector<const Vec*>& shift) {
  for (std::size_t i = 0; i < z.size(); ++i) {
    if (sa.rho != 1)
      for (auto& x : z[i]) x *= sa.rho;
    for (std::size_t c = 0; c < z[i].size(); ++c) {
      mpq_ptr y = z[i][c].backend().data();
      mpq_srcptr x = (*shift[i])[c].backend().data();
      // Integers: add numerators (no gcd); the result is the same canonical mpq as mpq_add's.
      if (mpz_cmp_ui(mpq_denref(y), 1) == 0 && mpz_cmp_ui(mpq_denref(x), 1) == 0) mpz_add(mpq_numref(y), mpq_numref(y), mpq_numref(x));
      else mpq_add(y, y, x);
    }
  }
}

// A running extremum of the keys over a growing prefix: its value, and the sum and count of the
// tokens attaining it (hardmax averages them).
struct RunningExtremum {
  const Rational* key = nullptr;
  Vec sum;
  std::size_t count = 0;
  // dir > 0: maximum, dir < 0: minimum, 0: every token (the uniform average).
  void add(const Rational& k, const Vec& zl, int dir) {
    int c = (key == nullptr || dir == 0) ? 1 : mpq_cmp(k.backend().data(), key->backend().data()) * dir;
    if (c < 0 && dir != 0) return;
    if (dir != 0 && (key == nullptr || c > 0)) {
      key = &k;
      sum = zl;
      count = 1;
      return;
    }
    if (sum.empty()) sum.assign(zl.size(), Rational(0));
    for (std::size_t c2 = 0; c2 < sum.size(); ++c2) sum[c2] += zl[c2];
    ++count;
  }
  Vec value(const SelfAttention& sa) const {
    Vec m = sum;
    Rational inv(1, static_cast<long>(count));
    for (auto& x : m) x *= inv;
    return apply_value(sa, m);
  }
};

// The rank-one causal layer: query i attends to argmax (q_i > 0), argmin (q_i < 0) or all (q_i = 0)
// of k over the prefix 0 ... i, kept as running sums: O(n) layer cost, as without a mask.
void apply_rank_one_causal(const SelfAttention& sa, const AttentionPlan& plan, std::vector<Vec>& z) {
  const std::size_t n = z.size();
  std::vector<Rational> k(n);
  for (std::size_t i = 0; i < n; ++i) k[i] = dot(plan.b, z[i]);
  RunningExtremum mx, mn, all;
  std::vector<Vec> v(n);
  std::vector<const Vec*> shift(n);
  for (std::size_t i = 0; i < n; ++i) {
    mx.add(k[i], z[i], 1);
    mn.add(k[i], z[i], -1);
    all.add(k[i], z[i], 0);
    int sign = dot(plan.a, z[i]).sign();
    v[i] = (sign > 0 ? mx : sign < 0 ? mn : all).value(sa);
    shift[i] = &v[i];
  }
  finish(sa, z, shift);
}

}  // namespace

void apply_attention_fast(const SelfAttention& sa, const AttentionPlan& plan, std::vector<Vec>& z, bool causal) {
  const std::size_t n = z.size();
  std::vector<const Vec*> shift(n);
  if (plan.rank_one && causal) {
    apply_rank_one_causal(sa, plan, z);
    return;
  }
  if (plan.rank_one) {
    std::vector<Rational> q(n), k(n);
    for (std::size_t i = 0; i < n; ++i) {
      q[i] = dot(plan.a, z[i]);
      k[i] = dot(plan.b, z[i]);
    }
    std::vector<std::size_t> argmax{0}, argmin{0}, all;
    for (std::size_t l = 1; l < n; ++l) {
      int cmax = mpq_cmp(k[l].backend().data(), k[argmax[0]].backend().data());
      if (cmax > 0) argmax.assign(1, l);
      else if (cmax == 0) argmax.push_back(l);
      int cmin = mpq_cmp(k[l].backend().data(), k[argmin[0]].backend().data());
      if (cmin < 0) argmin.assign(1, l);
      else if (cmin == 0) argmin.push_back(l);
    }
    // V applied to the mean of each attended set; only the sets some query uses are computed.
    Vec vmax, vmin, vall;
    for (std::size_t i = 0; i < n; ++i) {
      int sign = q[i].sign();
      if (sign > 0) {
        if (vmax.empty()) vmax = apply_value(sa, mean_of(z, argmax));
        shift[i] = &vmax;
      } else if (sign < 0) {
        if (vmin.empty()) vmin = apply_value(sa, mean_of(z, argmin));
        shift[i] = &vmin;
      } else {
        if (vall.empty()) {
          all.resize(n);
          for (std::size_t l = 0; l < n; ++l) all[l] = l;
          vall = apply_value(sa, mean_of(z, all));
        }
        shift[i] = &vall;
      }
    }
    finish(sa, z, shift);
    return;
  }
  std::vector<Vec> qz(n), kz(n), v(n);
  for (std::size_t i = 0; i < n; ++i) {
    qz[i] = matvec(sa.Q, z[i]);
    kz[i] = matvec(sa.K, z[i]);
  }
  std::vector<std::size_t> best;
  for (std::size_t i = 0; i < n; ++i) {
    Rational top = dot(qz[i], kz[0]);
    best.assign(1, 0);
    const std::size_t seen = causal ? i + 1 : n;
    for (std::size_t l = 1; l < seen; ++l) {
      Rational s = dot(qz[i], kz[l]);
      int c = mpq_cmp(s.backend().data(), top.backend().data());
      if (c > 0) {
        top = s;
        best.assign(1, l);
      } else if (c == 0) {
        best.push_back(l);
      }
    }
    v[i] = apply_value(sa, mean_of(z, best));
    shift[i] = &v[i];
  }
  finish(sa, z, shift);
}

}  // namespace interpcert
