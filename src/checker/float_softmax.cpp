// The checker's own IEEE analysis of softmax models (proofs/float-bound.md, "Softmax models":
// Lemmas T, W, AV, FI), written independently of the producer's (which uses Arb balls): MPFI
// intervals, each containing the value of EVERY float evaluation of that quantity. Every float
// operation's exact result on the intervals is widened by the operation's rounding bound.
#include "float.hpp"

#include <mpfi.h>
#include <mpfr.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace interpcert::checker {
namespace {

struct Overflow {
  std::string what;
};

// An MPFI interval with value semantics.
class Iv {
 public:
  explicit Iv(long prec) { mpfi_init2(v, prec), mpfi_set_ui(v, 0); }
  Iv(const Iv& o) { mpfi_init2(v, mpfi_get_prec(o.v)), mpfi_set(v, o.v); }
  Iv& operator=(const Iv& o) { return mpfi_set(v, o.v), *this; }
  ~Iv() { mpfi_clear(v); }
  mpfi_t v;
};

struct Env {
  long p, prec, K;
  mpfr_t omega;  // the largest float (exact)
  Iv u, eta, one;
  std::vector<Iv> gam;  // gam[n] contains n u / (1 - n u)
  Env(long p_, long emin, long emax, long K_, std::size_t nmax)
      : p(p_), prec(2 * p_ + 64), K(K_), u(prec), eta(prec), one(prec) {
    mpfi_set_ui(one.v, 1);
    mpfi_set_ui(u.v, 1);
    mpfi_mul_2si(u.v, u.v, -p);
    mpfi_set_ui(eta.v, 1);
    mpfi_mul_2si(eta.v, eta.v, emin - p);
    for (std::size_t n = 0; n <= nmax; ++n) {
      Iv nu(prec), den(prec), g(prec);
      mpfi_mul_ui(nu.v, u.v, n);
      mpfi_ui_sub(den.v, 1, nu.v);
      if (!mpfi_is_strictly_pos(den.v)) throw Overflow{"n u >= 1: too few bits for the analysis"};
      mpfi_div(g.v, nu.v, den.v);
      gam.push_back(g);
    }
    mpfr_init2(omega, p + 8);  // after the last throw: the destructor clears it
    mpfr_set_ui_2exp(omega, 1, p, MPFR_RNDN);
    mpfr_sub_ui(omega, omega, 1, MPFR_RNDN);  // exact at p + 8 bits
    mpfr_mul_2si(omega, omega, emax - p + 1, MPFR_RNDN);
  }
  ~Env() { mpfr_clear(omega); }
  const Iv& g(std::size_t n) const {
    if (n >= gam.size()) throw std::logic_error("float_softmax (checker): gamma table too small");
    return gam[n];
  }
  void bounded(const Iv& x, const char* what) const {
    mpfr_t m;
    mpfr_init2(m, prec);
    mpfi_mag(m, x.v);
    bool bad = !mpfr_number_p(m) || mpfr_cmp(m, omega) > 0;
    mpfr_clear(m);
    if (bad) throw Overflow{std::string(what) + " may overflow"};
  }
};

// [0-point] intervals holding an upper end: max |x|, sup x, inf x.
Iv mag_of(const Iv& x, long prec) {
  Iv out(prec);
  mpfr_t m;
  mpfr_init2(m, prec);
  mpfi_mag(m, x.v);
  mpfi_set_fr(out.v, m);
  mpfr_clear(m);
  return out;
}
Iv right_of(const Iv& x, long prec) {
  Iv out(prec);
  mpfr_t m;
  mpfr_init2(m, prec);
  mpfi_get_right(m, x.v);
  mpfi_set_fr(out.v, m);
  mpfr_clear(m);
  return out;
}
Iv left_of(const Iv& x, long prec) {
  Iv out(prec);
  mpfr_t m;
  mpfr_init2(m, prec);
  mpfi_get_left(m, x.v);
  mpfi_set_fr(out.v, m);
  mpfr_clear(m);
  return out;
}
// x := x + [-r, r] for r >= 0 (its upper end is used).
void widen(Iv& x, const Iv& r, long prec) {
  mpfr_t m, mm;
  mpfr_init2(m, prec);
  mpfr_init2(mm, prec);
  mpfi_mag(m, r.v);
  mpfr_neg(mm, m, MPFR_RNDD);
  Iv e(prec);
  mpfi_interv_fr(e.v, mm, m);
  mpfi_add(x.v, x.v, e.v);
  mpfr_clear(m);
  mpfr_clear(mm);
}
// min of two nonnegative upper bounds (as point intervals: the smaller right end).
Iv min_up(const Iv& a, const Iv& b, long prec) {
  Iv ra = right_of(a, prec), rb = right_of(b, prec);
  return mpfi_cmp(ra.v, rb.v) <= 0 ? ra : rb;
}

// A model number rounded to the format: the float, and whether it is +-1.
struct Fw {
  Iv x;
  bool unit;
};
Fw rounded(const Env& e, const Rational& w, long emin, long emax) {
  auto r = round_to_format(w, e.p, emin, emax);
  if (!r) throw Overflow{"a number of the model overflows when rounded"};
  Fw out{Iv(e.prec), *r == 1 || *r == -1};
  mpfi_set_q(out.x.v, r->backend().data());
  return out;
}

// Lemma D with one side exactly known or both as intervals: any order, FMA or not.
struct Acc {
  const Env& e;
  Iv sum, s1;
  std::size_t t = 0, inexact = 0;
  explicit Acc(const Env& env) : e(env), sum(env.prec), s1(env.prec) {}
  void add(const Iv& x, const Iv& y, bool exact) {
    if (mpfi_is_zero(x.v) || mpfi_is_zero(y.v)) return;
    ++t;
    inexact += exact ? 0 : 1;
    Iv pr(e.prec);
    mpfi_mul(pr.v, x.v, y.v);
    mpfi_add(sum.v, sum.v, pr.v);
    Iv mx = mag_of(x, e.prec), my = mag_of(y, e.prec);
    mpfi_mul(pr.v, mx.v, my.v);
    mpfi_add(s1.v, s1.v, pr.v);
  }
  Iv done(const char* what, Iv* own = nullptr) {
    Iv r(e.prec);
    if (t > 0) {
      Iv one_g(e.prec), under(e.prec), big(e.prec);
      mpfi_add(one_g.v, e.one.v, e.g(t).v);
      mpfi_mul_ui(under.v, e.eta.v, inexact);
      mpfi_mul(under.v, under.v, one_g.v);
      mpfi_mul(big.v, one_g.v, s1.v);
      mpfi_add(big.v, big.v, under.v);
      e.bounded(big, what);
      mpfi_mul(r.v, e.g(inexact ? t : t - 1).v, s1.v);
      mpfi_add(r.v, r.v, under.v);
      r = mag_of(r, e.prec);
      widen(sum, r, e.prec);
    }
    if (own) *own = r;
    return sum;
  }
};

using IvVec = std::vector<Iv>;

struct Run {
  const Model& m;
  const Env& e;
  long emin, emax;
  Iv scale;
  bool scale_one = true;

  Fw w(const Rational& x) const { return rounded(e, x, emin, emax); }

  IvVec apply(const Matrix& M, const IvVec& x, const char* what) const {
    IvVec y;
    for (std::size_t i = 0; i < M.rows; ++i) {
      Acc acc(e);
      for (std::size_t k = 0; k < M.cols; ++k) {
        Fw f = w(M(i, k));
        acc.add(f.x, x[k], f.unit);
      }
      y.push_back(acc.done(what));
    }
    return y;
  }

  std::vector<IvVec> attention(const SelfAttention& sa, const std::vector<IvVec>& z) const {
    const long P = e.prec;
    const std::size_t n = z.size(), d = z[0].size();
    std::vector<IvVec> q, k, v, out;
    for (const IvVec& x : z) {
      q.push_back(apply(sa.Q, x, "query"));
      k.push_back(apply(sa.K, x, "key"));
      v.push_back(sa.factored ? apply(sa.Vleft, apply(sa.Vright, x, "value"), "value") : apply(sa.V, x, "value"));
    }
    Fw rho = w(sa.rho);
    Iv k2u(P), k2eta(P), onek(P), gs(P), onegs(P), tmp(P), tmp2(P);
    mpfi_mul_ui(k2u.v, e.u.v, 2 * e.K);
    mpfi_mul_ui(k2eta.v, e.eta.v, 2 * e.K);
    mpfi_add(onek.v, e.one.v, k2u.v);
    gs = e.g(n - 1);
    mpfi_add(onegs.v, e.one.v, gs.v);
    for (std::size_t i = 0; i < n; ++i) {
      // Lemma T: the scaled float scores.
      IvVec t;
      std::size_t p = 0;
      for (std::size_t l = 0; l < n; ++l) {
        Acc acc(e);
        for (std::size_t r = 0; r < q[i].size(); ++r) acc.add(q[i][r], k[l][r], false);
        Iv s = acc.done("score");
        if (!scale_one) {
          mpfi_mul(s.v, s.v, scale.v);
          Iv err = mag_of(s, P);
          mpfi_mul(err.v, err.v, e.u.v);
          mpfi_add(err.v, err.v, e.eta.v);
          widen(s, err, P);
        }
        e.bounded(s, "scaled score");
        t.push_back(s);
      }
      mpfr_t a1, a2;
      mpfr_init2(a1, P);
      mpfr_init2(a2, P);
      for (std::size_t l = 1; l < n; ++l) {
        mpfi_mid(a1, t[l].v);
        mpfi_mid(a2, t[p].v);
        if (mpfr_cmp(a1, a2) > 0) p = l;
      }
      mpfr_clear(a1);
      mpfr_clear(a2);
      // The exact softmax of the float scores around the pivot p.
      Iv S(P);
      mpfi_set_ui(S.v, 1);
      IvVec a(n, Iv(P));
      for (std::size_t l = 0; l < n; ++l) {
        if (l == p) continue;
        mpfi_sub(tmp.v, t[l].v, t[p].v);
        mpfi_exp(a[l].v, tmp.v);
        mpfi_add(S.v, S.v, a[l].v);
      }
      for (std::size_t l = 0; l < n; ++l) {
        if (l == p) mpfi_inv(a[l].v, S.v);
        else mpfi_div(a[l].v, a[l].v, S.v);
      }
      Iv Mup = right_of(t[0], P), Mlow = left_of(t[0], P);
      for (std::size_t l = 1; l < n; ++l) {
        Iv r = right_of(t[l], P), lo = left_of(t[l], P);
        if (mpfi_cmp(r.v, Mup.v) > 0) Mup = r;
        if (mpfi_cmp(lo.v, Mlow.v) > 0) Mlow = lo;
      }
      std::vector<bool> cand(n);
      std::size_t ncand = 0;
      for (std::size_t l = 0; l < n; ++l) {
        Iv r = right_of(t[l], P);
        cand[l] = mpfi_cmp(r.v, Mlow.v) >= 0;
        ncand += cand[l];
      }
      // Lemma W.
      Iv DD(P), one_mu(P);
      mpfi_sub(one_mu.v, e.one.v, e.u.v);
      IvVec cN(n, Iv(P)), asup(n, Iv(P)), caps(n, Iv(P));
      for (std::size_t l = 0; l < n; ++l) {
        Iv yup(P);
        if (!(ncand == 1 && cand[l])) {
          Iv lo = left_of(t[l], P);
          mpfi_sub(yup.v, Mup.v, lo.v);
        }
        {
          Iv span(P), lo = left_of(t[l], P);
          mpfi_sub(span.v, Mup.v, lo.v);
          e.bounded(span, "a shifted score t_l - max");
        }
        Iv g(P);
        mpfi_mul(g.v, yup.v, e.u.v);
        mpfi_exp(g.v, g.v);
        mpfi_mul(g.v, g.v, onek.v);
        mpfi_sub(g.v, g.v, e.one.v);
        g = mag_of(g, P);
        asup[l] = right_of(a[l], P);
        if (mpfi_cmp_ui(asup[l].v, 1) > 0) mpfi_set_ui(asup[l].v, 1);
        Iv ylow(P), cap(P);
        mpfi_sub(ylow.v, Mlow.v, right_of(t[l], P).v);
        ylow = left_of(ylow, P);  // a lower bound of |y_l|
        if (mpfi_is_strictly_neg(ylow.v)) mpfi_set_ui(ylow.v, 0);
        mpfi_mul(cap.v, ylow.v, one_mu.v);
        mpfi_neg(cap.v, cap.v);
        mpfi_exp(cap.v, cap.v);
        mpfi_mul(cap.v, cap.v, onek.v);
        caps[l] = cap;
        Iv c1(P), c2(P);
        mpfi_mul(c1.v, asup[l].v, g.v);
        mpfi_add(c2.v, asup[l].v, cap.v);
        cN[l] = min_up(c1, c2, P);
        mpfi_add(c1.v, e.one.v, g.v);
        mpfi_mul(c1.v, c1.v, onegs.v);
        mpfi_sub(c1.v, c1.v, e.one.v);
        mpfi_mul(c1.v, c1.v, asup[l].v);
        mpfi_mul(c2.v, cap.v, onegs.v);
        mpfi_add(c2.v, c2.v, asup[l].v);
        Iv cD = min_up(c1, c2, P);
        mpfi_add(DD.v, DD.v, cD.v);
      }
      mpfi_mul_ui(tmp.v, k2eta.v, n);
      mpfi_mul(tmp.v, tmp.v, onegs.v);
      mpfi_add(DD.v, DD.v, tmp.v);
      DD = right_of(DD, P);
      Iv smin(P);  // fl(sum e) >= (1 - 2Ku)(1 - gamma_{n-1})
      mpfi_sub(smin.v, e.one.v, k2u.v);
      mpfi_sub(tmp.v, e.one.v, gs.v);
      mpfi_mul(smin.v, smin.v, tmp.v);
      if (!mpfi_is_strictly_pos(smin.v)) throw Overflow{"the softmax denominator may vanish"};
      smin = left_of(smin, P);
      Iv oneDD(P);
      mpfi_sub(oneDD.v, e.one.v, DD.v);
      const bool dd_ok = mpfi_is_strictly_pos(oneDD.v);
      if (dd_ok) oneDD = left_of(oneDD, P);
      IvVec W(n, Iv(P));
      for (std::size_t l = 0; l < n; ++l) {
        // 0 <= w_l <= (cap_l + 2K eta) / smin, always.
        mpfi_add(tmp.v, caps[l].v, k2eta.v);
        mpfi_div(tmp.v, tmp.v, smin.v);
        mpfr_t zr, hr;
        mpfr_init2(zr, P);
        mpfr_init2(hr, P);
        mpfr_set_zero(zr, 1);
        mpfi_get_right(hr, tmp.v);
        mpfi_interv_fr(W[l].v, zr, hr);
        mpfr_clear(zr);
        mpfr_clear(hr);
        if (!dd_ok) continue;
        Iv D = a[l];
        mpfi_add(tmp.v, cN[l].v, k2eta.v);
        mpfi_mul(tmp2.v, asup[l].v, DD.v);
        mpfi_add(tmp.v, tmp.v, tmp2.v);
        mpfi_div(tmp.v, tmp.v, oneDD.v);
        widen(D, tmp, P);
        Iv both(P);
        mpfi_intersect(both.v, D.v, W[l].v);
        if (!mpfi_is_empty(both.v)) W[l] = both;
      }
      Iv sw(P);
      mpfi_set_ui(sw.v, 1);
      mpfi_sub(tmp.v, e.one.v, gs.v);
      mpfi_div(tmp.v, gs.v, tmp.v);
      widen(sw, tmp, P);
      // Lemma AV.
      Iv emaxv(P), ogn(P), og2(P);
      mpfi_add(emaxv.v, onek.v, k2eta.v);
      mpfi_add(ogn.v, e.one.v, e.g(n).v);
      mpfi_add(og2.v, e.one.v, e.g(2).v);
      IvVec o;
      for (std::size_t c = 0; c < d; ++c) {
        Iv att(P), rel(P), vsum(P), dv(P);
        mpfi_mul(att.v, sw.v, v[p][c].v);
        for (std::size_t l = 0; l < n; ++l) {
          Iv mv = mag_of(v[l][c], P), mw = mag_of(W[l], P);
          mpfi_mul(tmp.v, mw.v, mv.v);
          mpfi_add(rel.v, rel.v, tmp.v);
          mpfi_add(vsum.v, vsum.v, mv.v);
          if (l == p) continue;
          mpfi_sub(dv.v, v[l][c].v, v[p][c].v);
          mpfi_mul(dv.v, dv.v, W[l].v);
          mpfi_add(att.v, att.v, dv.v);
        }
        Iv err(P), neta(P), nmax(P);
        mpfi_mul(err.v, e.g(n + 2).v, rel.v);
        mpfi_add(tmp.v, e.one.v, e.u.v);
        mpfi_mul(tmp.v, tmp.v, emaxv.v);
        mpfi_add(tmp.v, tmp.v, e.one.v);
        mpfi_mul(tmp.v, tmp.v, e.eta.v);
        mpfi_mul(tmp.v, tmp.v, ogn.v);
        mpfi_mul(tmp.v, tmp.v, vsum.v);
        mpfi_add(err.v, err.v, tmp.v);
        mpfi_mul_ui(neta.v, e.eta.v, n);
        mpfi_mul(neta.v, neta.v, ogn.v);
        mpfi_add(err.v, err.v, neta.v);
        mpfi_mul(tmp.v, neta.v, og2.v);
        mpfi_div(tmp.v, tmp.v, smin.v);
        mpfi_add(err.v, err.v, tmp.v);
        mpfi_mul(nmax.v, ogn.v, emaxv.v);
        mpfi_mul(nmax.v, nmax.v, vsum.v);
        mpfi_add(nmax.v, nmax.v, neta.v);
        e.bounded(nmax, "attention numerator");
        mpfi_add(tmp.v, e.one.v, e.u.v);
        mpfi_mul(tmp.v, tmp.v, nmax.v);
        mpfi_add(tmp.v, tmp.v, e.one.v);
        mpfi_mul(tmp.v, tmp.v, e.eta.v);
        mpfi_add(err.v, err.v, tmp.v);
        widen(att, err, P);
        mpfi_mul(tmp.v, att.v, og2.v);
        e.bounded(tmp, "attention average");
        Acc acc(e);
        acc.add(rho.x, z[i][c], rho.unit);
        acc.add(e.one, att, true);
        o.push_back(acc.done("attention output"));
      }
      out.push_back(o);
    }
    return out;
  }

  IvVec feed_forward(const FeedForward& ff, const IvVec& x) const {
    const long P = e.prec;
    const std::size_t wd = ff.U.rows, d = x.size();
    IvVec h;
    std::vector<Iv> own;
    std::vector<bool> on(wd, false);
    bool known = true, any_on = false;
    for (std::size_t r = 0; r < wd; ++r) {
      Acc acc(e);
      for (std::size_t k = 0; k < d; ++k) {
        Fw f = w(ff.U(r, k));
        acc.add(f.x, x[k], f.unit);
      }
      acc.add(w(ff.b[r]).x, e.one, true);
      Iv rr(P);
      Iv a = acc.done("pre-activation", &rr);
      own.push_back(rr);
      if (mpfi_is_nonneg(a.v)) {
        on[r] = any_on = true;
      } else if (mpfi_is_nonpos(a.v)) {
        mpfi_set_ui(a.v, 0);
      } else {
        known = false;
        mpfr_t hi;
        mpfr_init2(hi, P);
        mpfi_get_right(hi, a.v);
        mpfr_t lo;
        mpfr_init2(lo, P);
        mpfr_set_zero(lo, 1);
        mpfi_interv_fr(a.v, lo, hi);  // relu over the interval
        mpfr_clear(lo);
        mpfr_clear(hi);
      }
      h.push_back(a);
    }
    IvVec out;
    for (std::size_t c = 0; c < d; ++c) {
      Acc acc(e);
      Fw eta = w(ff.eta);
      acc.add(eta.x, x[c], eta.unit);
      for (std::size_t r = 0; r < wd; ++r) {
        Fw f = w(ff.W(c, r));
        acc.add(f.x, h[r], f.unit);
      }
      Iv rout(P);
      Iv y = acc.done("feed-forward output", &rout);
      if (known && any_on) {
        // Lemma S on intervals: L.x + c0 (rounded weights, active neurons) plus roundings.
        Vec L(d, Rational(0));
        L[c] = *round_to_format(ff.eta, e.p, emin, emax);
        Rational c0(0);
        Iv err = rout, tmp(P);
        for (std::size_t r = 0; r < wd; ++r) {
          if (!on[r]) continue;
          Rational wr = *round_to_format(ff.W(c, r), e.p, emin, emax);
          for (std::size_t k = 0; k < d; ++k) L[k] += wr * *round_to_format(ff.U(r, k), e.p, emin, emax);
          c0 += wr * *round_to_format(ff.b[r], e.p, emin, emax);
          Rational aw = wr < 0 ? Rational(-wr) : wr;
          mpfi_set_q(tmp.v, aw.backend().data());
          mpfi_mul(tmp.v, tmp.v, own[r].v);
          mpfi_add(err.v, err.v, tmp.v);
        }
        Iv alt(P);
        mpfi_set_q(alt.v, c0.backend().data());
        for (std::size_t k = 0; k < d; ++k) {
          if (L[k] == 0) continue;
          mpfi_set_q(tmp.v, L[k].backend().data());
          mpfi_mul(tmp.v, tmp.v, x[k].v);
          mpfi_add(alt.v, alt.v, tmp.v);
        }
        widen(alt, err, P);
        Iv both(P);
        mpfi_intersect(both.v, y.v, alt.v);
        if (!mpfi_is_empty(both.v)) y = both;
      }
      out.push_back(y);
    }
    return out;
  }
};

}  // namespace

std::optional<Rational> float_softmax_error_bound(const Model& m, const Dataset& ds, long p, long emin, long emax,
                                                  long exp_ulps, std::size_t shard, std::size_t shards,
                                                  std::string& why, std::size_t* checked) {
  if (checked) *checked = 0;
  if (m.attention != AttentionKind::Softmax || !m.beta) {
    why = "not a softmax model";
    return std::nullopt;
  }
  if (m.mask != MaskKind::None) {
    why = "the float analysis covers unmasked (non-causal) models only";
    return std::nullopt;
  }
  const mpfr_exp_t old_emin = mpfr_get_emin(), old_emax = mpfr_get_emax();
  mpfr_set_emin(mpfr_get_emin_min());
  mpfr_set_emax(mpfr_get_emax_max());
  struct Restore {
    mpfr_exp_t a, b;
    ~Restore() {
      mpfr_set_emin(a);
      mpfr_set_emax(b);
      mpfr_free_cache();
    }
  } restore{old_emin, old_emax};
  std::size_t nmax = m.d + 8;
  for (const auto& s : ds.sequences) nmax = std::max(nmax, s.input.size() + 8);
  for (const auto& b : m.blocks) {
    if (b.ff) nmax = std::max(nmax, b.ff->W.cols + 3);
    if (b.sa) nmax = std::max({nmax, b.sa->Q.rows + 3, b.sa->factored ? b.sa->Vright.rows + 3 : std::size_t(0)});
  }
  try {
    Env e(p, emin, emax, exp_ulps, nmax);
    const long P = e.prec;
    Run run{m, e, emin, emax, Iv(P)};
    // The scale: fl(beta), or 1 / fl(1/beta) (a temperature), directly or through binary64 first.
    bool first = true, all_same = true, first_c = true;
    Rational cfirst;
    for (int inv = 0; inv < 2; ++inv)
      for (int via64 = 0; via64 < 2; ++via64) {
        Rational x = inv ? Rational(1) / *m.beta : *m.beta;
        std::optional<Rational> r = via64 ? round_to_format(x, 53, -1022, 1023) : std::optional<Rational>(x);
        if (r) r = round_to_format(*r, p, emin, emax);
        if (!r || *r == 0) throw Overflow{"beta or 1/beta overflows or underflows when rounded"};
        Rational c = inv ? Rational(1) / *r : *r;
        Iv ci(P);
        mpfi_set_q(ci.v, c.backend().data());
        if (first) run.scale = ci;
        else mpfi_union(run.scale.v, run.scale.v, ci.v);
        first = false;
        run.scale_one = run.scale_one && c == 1;
        all_same = all_same && (first_c ? (first_c = false, cfirst = c, true) : c == cfirst);
      }
    if (!all_same) {  // any constant within relative 4u (a computed reciprocal of tau, say)
      Iv r = mag_of(run.scale, P);
      mpfi_mul(r.v, r.v, e.u.v);
      mpfi_mul_ui(r.v, r.v, 4);
      widen(run.scale, r, P);
    }
    struct Fr {
      mpfr_t x;
      explicit Fr(long prec) { mpfr_init2(x, prec), mpfr_set_zero(x, 1); }
      ~Fr() { mpfr_clear(x); }
    } worst_(64), mg_(P);
    mpfr_ptr worst = worst_.x, mg = mg_.x;
    for (std::size_t j = shard; j < ds.sequences.size(); j += shards) {
      const Sequence& s = ds.sequences[j];
      std::vector<IvVec> z;
      for (const Vec& x : s.input) {
        IvVec t;
        for (const Rational& c : x) {
          auto r = round_to_format(c, p, emin, emax);
          if (!r) throw Overflow{"an input coordinate overflows when rounded"};
          Iv iv(P);
          mpfi_set_q(iv.v, r->backend().data());
          t.push_back(iv);
        }
        z.push_back(t);
      }
      for (const Block& b : m.blocks) {
        if (b.sa) z = run.attention(*b.sa, z);
        if (b.ff)
          for (IvVec& t : z) t = run.feed_forward(*b.ff, t);
      }
      if (checked) *checked += s.output.size();
      for (std::size_t k = 0; k < s.output.size(); ++k)
        for (std::size_t c = 0; c < s.output[k].size(); ++c) {
          Iv dlt(P);
          mpfi_sub_q(dlt.v, z[s.positions[k]][c].v, s.output[k][c].backend().data());
          mpfi_mag(mg, dlt.v);
          if (!mpfr_number_p(mg)) throw Overflow{"an output enclosure is unbounded"};
          if (mpfr_cmp(mg, worst) > 0) mpfr_set(worst, mg, MPFR_RNDU);
        }
    }
    Rational out;
    mpfr_get_q(out.backend().data(), worst);
    return out;
  } catch (const Overflow& o) {
    why = o.what;
    return std::nullopt;
  }
}

}  // namespace interpcert::checker
