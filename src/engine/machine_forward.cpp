#include "machine_forward.hpp"
#include "machine_rational.hpp"

#include <gmp.h>

#include <climits>
#include <cstdlib>
#include <type_traits>

namespace interpcert {
namespace {

using namespace machine;

// sum_c u_c x_c (len terms).
Q dot(const Q* u, const Q* x, std::size_t len) {
  Q acc;
  for (std::size_t c = 0; c < len; ++c) {
    if (u[c].n == 0) continue;
    if (u[c].d == 1 && x[c].d == 1 && acc.d == 1) acc.n = add(acc.n, mul(u[c].n, x[c].n));  // integers: no gcd
    else acc = add(acc, mul(u[c], x[c]));
  }
  return acc;
}

struct QMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<Q> a;
};

// y = M x.
void matvec(const QMatrix& M, const Q* x, Q* y) {
  for (std::size_t i = 0; i < M.rows; ++i) y[i] = dot(&M.a[i * M.cols], x, M.cols);
}

// --- conversions ------------------------------------------------------------------------------


bool q_vec(const Vec& v, std::vector<Q>& out) {
  out.resize(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!q_of(v[i], out[i])) return false;
  return true;
}

bool q_matrix(const Matrix& m, QMatrix& out) {
  out.rows = m.rows;
  out.cols = m.cols;
  return q_vec(m.a, out.a);
}

// --- layers (each the formula of attention_plan.cpp / feed_forward_plan.cpp) ------------------

struct AttentionLayer {
  Q rho;
  bool rank_one = false;
  std::vector<Q> a, b;  // rank one: s_il = (a.z_i)(b.z_l)
  QMatrix Q_, K;        // otherwise
  bool factored = false;
  QMatrix V, Vleft, Vright;
};

struct FeedForwardLayer {
  Q eta;
  bool rank_one = false;
  std::vector<Q> u;  // rank one (empty: U = 0)
  std::vector<Q> breaks;
  // Its pieces as the plan stores them: a piece over one common denominator, den, a and b in
  // __int128 (a hat's slope and offset share the hat's denominator, while their numerators alone
  // can exceed int64: 10^6-token hubs have offsets of ~100 bits over ~21-bit denominators). The
  // plan outlives this pass (FastEvaluator owns both).
  const FeedForwardPlan* plan = nullptr;
  QMatrix U, W;               // otherwise
  std::vector<Q> b;
};

// z is n x d, row-major. A mean of rows `idx` of z, then V applied, into v (d values).
struct Scratch {
  std::vector<Q> z, q, k, mean, mid, shift, sum;
  std::vector<std::size_t> argmax, argmin, best;
  std::vector<Q> qz, kz, scores;
  std::vector<char> wanted;  // token i is at one of the positions asked for
};

void value_of_mean(const AttentionLayer& sa, const Q* sum, std::size_t count, std::size_t d, Scratch& s,
                   Q* v) {
  s.mean.resize(d);
  const Q inv{1, static_cast<i128>(count)};
  for (std::size_t c = 0; c < d; ++c) s.mean[c] = count == 1 ? sum[c] : mul(sum[c], inv);
  if (sa.factored) {
    s.mid.resize(sa.Vright.rows);
    matvec(sa.Vright, s.mean.data(), s.mid.data());
    matvec(sa.Vleft, s.mid.data(), v);
  } else {
    matvec(sa.V, s.mean.data(), v);
  }
}

void sum_rows(const std::vector<Q>& z, const std::vector<std::size_t>& idx, std::size_t d, Q* out) {
  for (std::size_t c = 0; c < d; ++c) out[c] = Q{};
  for (auto l : idx)
    for (std::size_t c = 0; c < d; ++c) out[c] = add(out[c], z[l * d + c]);
}

// z_i <- rho z_i + shift_i.
void finish(const AttentionLayer& sa, std::vector<Q>& z, const std::vector<const Q*>& shift, std::size_t d) {
  const bool scale = !(sa.rho.n == 1 && sa.rho.d == 1);
  const Q& rho = sa.rho;
  for (std::size_t i = 0; i < shift.size(); ++i)
    for (std::size_t c = 0; c < d; ++c) {
      Q& x = z[i * d + c];
      if (scale) x = mul(x, rho);
      const Q& y = shift[i][c];
      if (x.d == 1 && y.d == 1) x.n = add(x.n, y.n);
      else x = add(x, y);
    }
}

void attention(const AttentionLayer& sa, bool causal, std::size_t n, std::size_t d, Scratch& s) {
  std::vector<Q>& z = s.z;
  std::vector<const Q*> shift(n);
  if (sa.rank_one) {
    s.q.resize(n);
    s.k.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      s.q[i] = dot(sa.a.data(), &z[i * d], d);
      s.k[i] = dot(sa.b.data(), &z[i * d], d);
    }
    if (causal) {
      // Running argmax / argmin / all over the prefix 0 ... i: their sums and counts.
      s.shift.resize(n * d);
      std::vector<Q> smax(d), smin(d), sall(d);
      std::size_t kmax = 0, kmin = 0, cmax = 0, cmin = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const Q* zi = &z[i * d];
        const int up = i == 0 ? 1 : cmp(s.k[i], s.k[kmax]);
        if (up > 0) {
          kmax = i;
          cmax = 1;
          for (std::size_t c = 0; c < d; ++c) smax[c] = zi[c];
        } else if (up == 0) {
          ++cmax;
          for (std::size_t c = 0; c < d; ++c) smax[c] = add(smax[c], zi[c]);
        }
        const int down = i == 0 ? -1 : cmp(s.k[i], s.k[kmin]);
        if (down < 0) {
          kmin = i;
          cmin = 1;
          for (std::size_t c = 0; c < d; ++c) smin[c] = zi[c];
        } else if (down == 0) {
          ++cmin;
          for (std::size_t c = 0; c < d; ++c) smin[c] = add(smin[c], zi[c]);
        }
        for (std::size_t c = 0; c < d; ++c) sall[c] = add(sall[c], zi[c]);
        const int sg = sign(s.q[i]);
        Q* v = &s.shift[i * d];
        if (sg > 0) value_of_mean(sa, smax.data(), cmax, d, s, v);
        else if (sg < 0) value_of_mean(sa, smin.data(), cmin, d, s, v);
        else value_of_mean(sa, sall.data(), i + 1, d, s, v);
        shift[i] = v;
      }
      finish(sa, z, shift, d);
      return;
    }
    s.argmax.assign(1, 0);
    s.argmin.assign(1, 0);
    for (std::size_t l = 1; l < n; ++l) {
      const int up = cmp(s.k[l], s.k[s.argmax[0]]);
      if (up > 0) s.argmax.assign(1, l);
      else if (up == 0) s.argmax.push_back(l);
      const int down = cmp(s.k[l], s.k[s.argmin[0]]);
      if (down < 0) s.argmin.assign(1, l);
      else if (down == 0) s.argmin.push_back(l);
    }
    // V of the mean of each attended set, computed only if some query uses it.
    s.shift.resize(3 * d);
    s.sum.resize(d);
    bool have[3] = {false, false, false};
    for (std::size_t i = 0; i < n; ++i) {
      const int sg = sign(s.q[i]);
      const std::size_t which = sg > 0 ? 0 : sg < 0 ? 1 : 2;
      Q* v = &s.shift[which * d];
      if (!have[which]) {
        if (which == 2) {
          s.best.resize(n);
          for (std::size_t l = 0; l < n; ++l) s.best[l] = l;
        }
        const std::vector<std::size_t>& set = which == 0 ? s.argmax : which == 1 ? s.argmin : s.best;
        sum_rows(z, set, d, s.sum.data());
        value_of_mean(sa, s.sum.data(), set.size(), d, s, v);
        have[which] = true;
      }
      shift[i] = v;
    }
    finish(sa, z, shift, d);
    return;
  }
  // General scores s_il = (Q z_i).(K z_l).
  const std::size_t h = sa.Q_.rows;
  s.qz.resize(n * h);
  s.kz.resize(n * h);
  for (std::size_t i = 0; i < n; ++i) {
    matvec(sa.Q_, &z[i * d], &s.qz[i * h]);
    matvec(sa.K, &z[i * d], &s.kz[i * h]);
  }
  auto score = [&](std::size_t i, std::size_t l) {
    Q acc;
    for (std::size_t r = 0; r < h; ++r) acc = add(acc, mul(s.qz[i * h + r], s.kz[l * h + r]));
    return acc;
  };
  s.shift.resize(n * d);
  s.sum.resize(d);
  for (std::size_t i = 0; i < n; ++i) {
    Q top = score(i, 0);
    s.best.assign(1, 0);
    const std::size_t seen = causal ? i + 1 : n;
    for (std::size_t l = 1; l < seen; ++l) {
      Q sc = score(i, l);
      const int c = cmp(sc, top);
      if (c > 0) {
        top = sc;
        s.best.assign(1, l);
      } else if (c == 0) {
        s.best.push_back(l);
      }
    }
    sum_rows(z, s.best, d, s.sum.data());
    value_of_mean(sa, s.sum.data(), s.best.size(), d, s, &s.shift[i * d]);
    shift[i] = &s.shift[i * d];
  }
  finish(sa, z, shift, d);
}

// Index of the first break >= t (FeedForwardPlan::piece_of).
std::size_t piece_of(const std::vector<Q>& breaks, const Q& t) {
  std::size_t lo = 0, hi = breaks.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const int c = cmp(breaks[mid], t);
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

void feed_forward(const FeedForwardLayer& ff, Q* z, std::size_t d) {
  const bool scale = !(ff.eta.n == 1 && ff.eta.d == 1);
  const Q& eta = ff.eta;
  if (ff.rank_one) {
    const Q t = ff.u.empty() ? Q{} : dot(ff.u.data(), z, d);
    const std::size_t k = ff.u.empty() ? 0 : piece_of(ff.breaks, t);
    if (scale)
      for (std::size_t c = 0; c < d; ++c) z[c] = mul(z[c], eta);
    const i128* row = ff.plan->machine_row(k);
    const i128 den = row[0];
    if (den == 0) return;           // a zero piece
    if (den < 0) throw Overflow{};  // a piece beyond __int128 (FeedForwardPlan::Gmp): the GMP path
    const i128 *a = row + 1, *b = row + 1 + d;
    for (std::size_t c = 0; c < d; ++c) {
      // z + (a t + b) / den, t = t.n / t.d.
      if (t.d == 1 && z[c].d == 1) {
        // Integers: (z den + a t + b) / den, one gcd (none when den = 1).
        Q r{add(add(mul(z[c].n, den), mul(a[c], t.n)), b[c]), den};
        reduce(r);
        z[c] = r;
      } else {
        Q g{add(mul(a[c], t.n), mul(b[c], t.d)), mul(den, t.d)};
        reduce(g);
        z[c] = add(z[c], g);
      }
    }
    return;
  }
  const std::size_t w = ff.U.rows;
  thread_local std::vector<Q> h;
  h.resize(w);
  matvec(ff.U, z, h.data());
  for (std::size_t j = 0; j < w; ++j) h[j] = add(h[j], ff.b[j]);
  if (scale)
    for (std::size_t c = 0; c < d; ++c) z[c] = mul(z[c], eta);
  for (std::size_t j = 0; j < w; ++j) {
    if (sign(h[j]) <= 0) continue;
    for (std::size_t c = 0; c < d; ++c) z[c] = add(z[c], mul(ff.W.a[c * w + j], h[j]));
  }
}

}  // namespace

struct MachineForward::Layer {
  bool has_attention = false, has_feed_forward = false;
  AttentionLayer sa;
  FeedForwardLayer ff;
};

MachineForward::MachineForward(const Model& model, const std::vector<AttentionPlan>& attention,
                               const std::vector<FeedForwardPlan>& feed_forward)
    : causal_(model.mask == MaskKind::Causal), d_(model.d) {
  layers_.resize(model.blocks.size());
  for (std::size_t i = 0; i < model.blocks.size() && usable_; ++i) {
    const Block& blk = model.blocks[i];
    Layer& L = layers_[i];
    if (blk.sa) {
      L.has_attention = true;
      const SelfAttention& sa = *blk.sa;
      AttentionLayer& a = L.sa;
      a.rank_one = attention[i].rank_one;
      a.factored = sa.factored;
      usable_ = q_of(sa.rho, a.rho) &&
                (a.rank_one ? q_vec(attention[i].a, a.a) && q_vec(attention[i].b, a.b)
                            : q_matrix(sa.Q, a.Q_) && q_matrix(sa.K, a.K)) &&
                (sa.factored ? q_matrix(sa.Vleft, a.Vleft) && q_matrix(sa.Vright, a.Vright) : q_matrix(sa.V, a.V));
    }
    if (blk.ff && usable_) {
      L.has_feed_forward = true;
      const FeedForward& ff = *blk.ff;
      const FeedForwardPlan& plan = feed_forward[i];
      FeedForwardLayer& f = L.ff;
      f.rank_one = plan.rank_one;
      usable_ = q_of(ff.eta, f.eta);
      if (f.rank_one) {
        usable_ = usable_ && q_vec(plan.u, f.u) && q_vec(plan.breaks, f.breaks);
        f.plan = &plan;
      } else {
        usable_ = usable_ && q_matrix(ff.U, f.U) && q_matrix(ff.W, f.W) && q_vec(ff.b, f.b);
      }
    }
  }
  if (!usable_) layers_.clear();
}

MachineForward::~MachineForward() = default;

bool MachineForward::run(const Tokens& input, const std::vector<std::size_t>& positions, std::vector<Vec>& out) const {
  if (!usable_) return false;
  const std::size_t n = input.size(), d = d_;
  if (n == 0 || input.dim() != d) return false;
  thread_local Scratch s;
  s.z.resize(n * d);
  const bool exact = input.visit_rows([&](const auto* data) {
    for (std::size_t k = 0; k < n * d; ++k) {
      if constexpr (std::is_integral_v<std::remove_cv_t<std::remove_pointer_t<decltype(data)>>>) {
        s.z[k] = Q{data[k], 1};
      } else if (!q_of(data[k], s.z[k])) {
        return false;
      }
    }
    return true;
  });
  if (!exact) return false;
  // After the last attention layer tokens evolve independently: only those at `positions` are
  // carried on (10^6-token hubs: 2 of 100 per sequence through the hat layer).
  std::size_t last_attention = 0;
  for (std::size_t l = 0; l < layers_.size(); ++l)
    if (layers_[l].has_attention) last_attention = l;
  s.wanted.assign(n, 0);
  for (auto i : positions) s.wanted[i] = 1;
  try {
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Layer& L = layers_[l];
      if (L.has_attention) attention(L.sa, causal_, n, d, s);
      if (L.has_feed_forward)
        for (std::size_t i = 0; i < n; ++i)
          if (l < last_attention || s.wanted[i]) feed_forward(L.ff, &s.z[i * d], d);
    }
  } catch (const Overflow&) {
    return false;
  }
  out.resize(positions.size());
  for (std::size_t k = 0; k < positions.size(); ++k) {
    Vec& v = out[k];
    v.resize(d);
    for (std::size_t c = 0; c < d; ++c) v[c] = to_rational(s.z[positions[k] * d + c]);
  }
  return true;
}

}  // namespace interpcert
