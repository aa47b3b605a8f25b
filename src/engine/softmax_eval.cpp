#include "interpcert/softmax_eval.hpp"

#include "arb_ball.hpp"

#include "interpcert/parallel.hpp"
#include "interpcert/staircase.hpp"

#include <arb.h>
#include <flint/fmpq.h>
#include <mpfr.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace interpcert {
namespace {

using BallVec = std::vector<Ball>;

void set_rational(arb_t out, const Rational& q, long prec) { Ball::set(out, q, prec); }

Rational rational_of(const arf_t x) {
  fmpq_t f;
  fmpq_init(f);
  arf_get_fmpq(f, x);
  Rational r;
  fmpq_get_mpq(r.backend().data(), f);
  fmpq_clear(f);
  return r;
}

struct BallMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<Ball> a;
  BallMatrix() = default;
  BallMatrix(const Matrix& m, long prec) : rows(m.rows), cols(m.cols), a(m.a.size()) {
    for (std::size_t i = 0; i < m.a.size(); ++i) set_rational(a[i].v, m.a[i], prec);
  }
  BallVec apply(const BallVec& x, long prec) const {
    BallVec y(rows);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) arb_addmul(y[i].v, a[i * cols + j].v, x[j].v, prec);
    return y;
  }
};

struct AttentionBalls {
  Ball rho;
  BallMatrix Q, K, V, Vl, Vr;
  bool factored;
  BallVec value(const BallVec& x, long prec) const { return factored ? Vl.apply(Vr.apply(x, prec), prec) : V.apply(x, prec); }
};
struct FeedForwardBalls {
  Ball eta;
  BallMatrix U, W;
  BallVec b;
};

// out_i = rho z_i + sum_l a_il V z_l, written as V z_p + sum_{l != p} a_il V (z_l - z_p) around a
// pivot p (largest midpoint score): sum_l a_il = 1 exactly, and the small weights a_il =
// E_l / S, E_l = exp(beta (s_il - s_ip)), S = 1 + sum_{l != p} E_l, carry their own small radii
// instead of 1 - (tiny) inflating the pivot's term.
// Causal: query i sees l <= i only (the sums below run over that prefix).
std::vector<BallVec> attention(const AttentionBalls& sa, const Ball& beta, const std::vector<BallVec>& z, long prec,
                               bool causal) {
  const std::size_t n = z.size(), d = z[0].size();
  std::vector<BallVec> q(n), k(n), vz(n), out(n);
  for (std::size_t l = 0; l < n; ++l) {
    q[l] = sa.Q.apply(z[l], prec);
    k[l] = sa.K.apply(z[l], prec);
    vz[l] = sa.value(z[l], prec);
  }
  Ball s_p, diff, sum, t;
  BallVec s(n), e(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t p = 0;
    const std::size_t seen = causal ? i + 1 : n;
    for (std::size_t l = 0; l < seen; ++l) {
      arb_zero(s[l].v);
      for (std::size_t r = 0; r < q[i].size(); ++r) arb_addmul(s[l].v, q[i][r].v, k[l][r].v, prec);
      if (arf_cmp(arb_midref(s[l].v), arb_midref(s[p].v)) > 0) p = l;
    }
    arb_one(sum.v);
    for (std::size_t l = 0; l < seen; ++l) {
      if (l == p) continue;
      arb_sub(diff.v, s[l].v, s[p].v, prec);
      arb_mul(diff.v, diff.v, beta.v, prec);
      arb_exp(e[l].v, diff.v, prec);
      arb_add(sum.v, sum.v, e[l].v, prec);
    }
    out[i].resize(d);
    for (std::size_t c = 0; c < d; ++c) {
      arb_mul(out[i][c].v, sa.rho.v, z[i][c].v, prec);
      arb_add(out[i][c].v, out[i][c].v, vz[p][c].v, prec);
    }
    for (std::size_t l = 0; l < seen; ++l) {
      if (l == p) continue;
      arb_div(t.v, e[l].v, sum.v, prec);  // a_il
      for (std::size_t c = 0; c < d; ++c) {
        arb_sub(diff.v, vz[l][c].v, vz[p][c].v, prec);
        arb_addmul(out[i][c].v, t.v, diff.v, prec);
      }
    }
  }
  return out;
}

void feed_forward(const FeedForwardBalls& ff, BallVec& z, long prec) {
  BallVec h = ff.U.apply(z, prec);
  for (std::size_t j = 0; j < h.size(); ++j) {
    arb_add(h[j].v, h[j].v, ff.b[j].v, prec);
    arb_nonnegative_part(h[j].v, h[j].v);  // relu, for every point of the ball
  }
  BallVec out = ff.W.apply(h, prec);
  for (std::size_t c = 0; c < z.size(); ++c) arb_addmul(out[c].v, ff.eta.v, z[c].v, prec);
  z = std::move(out);
}

// The model's parameters as balls, once.
struct PreparedModel {
  Ball beta;
  std::vector<AttentionBalls> sas;
  std::vector<FeedForwardBalls> ffs;
  PreparedModel(const Model& model, long prec) : sas(model.blocks.size()), ffs(model.blocks.size()) {
    set_rational(beta.v, *model.beta, prec);
    for (std::size_t i = 0; i < model.blocks.size(); ++i) {
      if (const auto& sa = model.blocks[i].sa) {
        set_rational(sas[i].rho.v, sa->rho, prec);
        sas[i].Q = BallMatrix(sa->Q, prec);
        sas[i].K = BallMatrix(sa->K, prec);
        sas[i].factored = sa->factored;
        if (sa->factored) {
          sas[i].Vl = BallMatrix(sa->Vleft, prec);
          sas[i].Vr = BallMatrix(sa->Vright, prec);
        } else {
          sas[i].V = BallMatrix(sa->V, prec);
        }
      }
      if (const auto& ff = model.blocks[i].ff) {
        set_rational(ffs[i].eta.v, ff->eta, prec);
        ffs[i].U = BallMatrix(ff->U, prec);
        ffs[i].W = BallMatrix(ff->W, prec);
        ffs[i].b.resize(ff->b.size());
        for (std::size_t j = 0; j < ff->b.size(); ++j) set_rational(ffs[i].b[j].v, ff->b[j], prec);
      }
    }
  }
  // Encloses the tokens of one sequence after the first `blocks` blocks (all: model.blocks.size()).
  std::vector<BallVec> run(const Model& model, const Sequence& seq, std::size_t blocks, long prec) const {
    const std::size_t d = model.d;
    std::vector<BallVec> z(seq.input.size(), BallVec(d));
    for (std::size_t i = 0; i < z.size(); ++i)
      for (std::size_t c = 0; c < d; ++c) set_rational(z[i][c].v, seq.input[i][c], prec);
    for (std::size_t b = 0; b < blocks; ++b) {
      if (model.blocks[b].sa) z = attention(sas[b], beta, z, prec, model.mask == MaskKind::Causal);
      if (model.blocks[b].ff)
        for (auto& t : z) feed_forward(ffs[b], t, prec);
    }
    return z;
  }
};

// Arb and MPFR keep per-thread caches (exp, constants); free them before a thread ends, and after
// a computation in the calling thread, so that nothing outlives its use.
void free_thread_caches() {
  flint_cleanup();
  mpfr_free_cache();
}

void require_softmax(const Model& model) {
  if (model.attention != AttentionKind::Softmax || !model.beta)
    throw std::invalid_argument("certified softmax evaluation needs a softmax model with beta");
}

}  // namespace

Rational round_up_3_digits(const Rational& x) {
  if (x <= 0) return Rational(0);
  // Find e with 100 <= x / 10^e < 1000, then take ceil(x / 10^e) * 10^e.
  Integer ten(10);
  Rational scale(1);
  Rational y = x;
  while (y >= 1000) y /= 10, scale *= 10;
  while (y < 100) y *= 10, scale /= 10;
  Integer m = numerator(y) / denominator(y);
  if (Rational(m) < y) m += 1;
  return Rational(m) * scale;
}

void softmax_exp_enclosure(const Rational& x, long precision, Rational& lo, Rational& hi) {
  struct Cleanup {
    ~Cleanup() { free_thread_caches(); }
  } cleanup;
  Ball b, e;
  set_rational(b.v, x, precision);
  arb_exp(e.v, b.v, precision);
  arf_t a;
  arf_init(a);
  arb_get_lbound_arf(a, e.v, precision);
  lo = rational_of(a);
  arb_get_ubound_arf(a, e.v, precision);
  hi = rational_of(a);
  arf_clear(a);
}

SoftmaxBound certify_softmax_error(const Model& model, const Dataset& ds, long prec, unsigned threads) {
  require_softmax(model);
  PreparedModel pm(model, prec);
  SoftmaxBound result;
  result.precision = prec;
  result.outputs = ds.total_outputs();
  std::mutex mu;
  Rational worst(0);
  bool finite = true;
  parallel_for(ds.sequences.size(), threads, [&](std::size_t s) {
    const Sequence& seq = ds.sequences[s];
    std::vector<BallVec> z = pm.run(model, seq, model.blocks.size(), prec);
    Rational local(0);
    bool ok = true;
    Ball target, diff;
    arf_t u;
    arf_init(u);
    for (std::size_t k = 0; k < seq.output.size(); ++k)
      for (std::size_t c = 0; c < ds.d; ++c) {
        set_rational(target.v, seq.output[k][c], prec);
        arb_sub(diff.v, z[seq.positions[k]][c].v, target.v, prec);
        if (!arb_is_finite(diff.v)) {
          ok = false;
          continue;
        }
        arb_get_abs_ubound_arf(u, diff.v, prec);
        auto r = arf_upper_rational(u);
        if (!r) {  // infinite or astronomically large: no useful bound
          ok = false;
          continue;
        }
        if (*r > local) local = *r;
      }
    arf_clear(u);
    std::lock_guard<std::mutex> g(mu);
    if (local > worst) worst = local;
    finite = finite && ok;
  }, free_thread_caches);
  free_thread_caches();
  result.finite = finite;
  result.bound = round_up_3_digits(worst);
  return result;
}

}  // namespace interpcert

namespace interpcert {

SoftmaxExactness certify_softmax_exact(const Model& model, const Dataset& ds, long prec, unsigned threads) {
  require_softmax(model);
  if (model.blocks.empty() || model.blocks.back().sa || !model.blocks.back().ff || model.blocks.back().ff->eta != 0)
    throw std::invalid_argument("exactness under softmax needs a last block that is one feed-forward layer with eta = 0");
  PreparedModel pm(model, prec);
  const FeedForward& last = *model.blocks.back().ff;
  const FeedForwardBalls& last_balls = pm.ffs.back();
  SoftmaxExactness out;
  out.precision = prec;
  std::mutex mu;
  parallel_for(ds.sequences.size(), threads, [&](std::size_t s) {
    const Sequence& seq = ds.sequences[s];
    std::vector<BallVec> z = pm.run(model, seq, model.blocks.size() - 1, prec);
    std::size_t undecided = 0, wrong = 0;
    for (std::size_t k = 0; k < seq.output.size(); ++k) {
      BallVec h = last_balls.U.apply(z[seq.positions[k]], prec);
      std::vector<bool> active(h.size());
      bool known = true;
      for (std::size_t j = 0; j < h.size(); ++j) {
        arb_add(h[j].v, h[j].v, last_balls.b[j].v, prec);
        if (arb_is_positive(h[j].v)) active[j] = true;
        else if (arb_is_nonpositive(h[j].v)) active[j] = false;
        else known = false;
      }
      if (!known) {
        ++undecided;
        continue;
      }
      auto y = constant_output(last, active);
      if (!y || *y != seq.output[k]) ++wrong;
    }
    std::lock_guard<std::mutex> g(mu);
    out.undecided += undecided;
    out.wrong += wrong;
  }, free_thread_caches);
  free_thread_caches();
  out.exact = out.undecided == 0 && out.wrong == 0;
  return out;
}

}  // namespace interpcert
