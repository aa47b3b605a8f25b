// The IEEE analysis of softmax models (proofs/float-bound.md, "Softmax models"). Unlike the hardmax
// analysis, which tracks an exact rational state plus an error, this one tracks, per token
// coordinate, an Arb ball that contains the value of EVERY float evaluation (Lemma FI): each
// operation's exact result on the ball is widened by that operation's rounding bound. The softmax
// weights are not computed by naive interval arithmetic (which would lose the shift invariance and
// the sum to 1): Lemma W bounds the float weights against the exact softmax of the float scores.
#include "float_softmax.hpp"

#include "arb_ball.hpp"

#include "interpcert/parallel.hpp"

#include <arb.h>
#include <mpfr.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace interpcert {
namespace {

struct Overflow : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using BallVec = std::vector<Ball>;

/// The constants of the arithmetic model (u, eta, Omega, gamma_n), as balls.
struct Arith {
  long p, prec, K;
  Ball u, eta, one;
  arf_t omega;
  std::vector<Ball> gamma;  // gamma[n] >= n u / (1 - n u)
  Arith(long p_, const FloatFormat& f, long K_, std::size_t max_n) : p(p_), prec(2 * p_ + 64), K(K_) {
    arb_one(one.v);
    arb_one(u.v);
    arb_mul_2exp_si(u.v, u.v, -p);
    arb_one(eta.v);
    arb_mul_2exp_si(eta.v, eta.v, f.emin - p);
    arf_init(omega);  // (2^p - 1) 2^(emax - p + 1), exact
    arf_set_ui(omega, 1);
    arf_mul_2exp_si(omega, omega, p);
    arf_sub_ui(omega, omega, 1, ARF_PREC_EXACT, ARF_RND_DOWN);
    arf_mul_2exp_si(omega, omega, f.emax - p + 1);
    gamma.resize(max_n + 1);
    Ball nu, den;
    for (std::size_t n = 0; n <= max_n; ++n) {
      arb_mul_ui(nu.v, u.v, n, prec);
      arb_sub(den.v, one.v, nu.v, prec);
      if (!arb_is_positive(den.v)) throw Overflow("n u >= 1: precision too small for this analysis");
      arb_div(gamma[n].v, nu.v, den.v, prec);
    }
  }
  ~Arith() { arf_clear(omega); }
  Arith(const Arith&) = delete;
  Arith& operator=(const Arith&) = delete;
  const Ball& g(std::size_t n) const {
    if (n >= gamma.size()) throw std::logic_error("float_softmax: gamma table too small");
    return gamma[n];
  }
  /// Requires |x| <= Omega for every point of x.
  void no_overflow(const Ball& x, const char* what) const {
    arf_t a;
    arf_init(a);
    arb_get_abs_ubound_arf(a, x.v, prec);
    bool bad = !arf_is_finite(a) || arf_cmp(a, omega) > 0;
    arf_clear(a);
    if (bad) throw Overflow(std::string(what) + " may overflow");
  }
};

/// A ball [0, sup |x|] -- exactly the upper bound as a point (a magnitude for error sums).
Ball mag(const Ball& x, long prec) {
  Ball out;
  arf_t a;
  arf_init(a);
  arb_get_abs_ubound_arf(a, x.v, prec);
  arb_set_arf(out.v, a);
  arf_clear(a);
  return out;
}
Ball sup_of(const Ball& x, long prec) {
  Ball out;
  arf_t a;
  arf_init(a);
  arb_get_ubound_arf(a, x.v, prec);
  arb_set_arf(out.v, a);
  arf_clear(a);
  return out;
}
Ball inf_of(const Ball& x, long prec) {
  Ball out;
  arf_t a;
  arf_init(a);
  arb_get_lbound_arf(a, x.v, prec);
  arb_set_arf(out.v, a);
  arf_clear(a);
  return out;
}

/// A number of the model, rounded to the format (exact), as a ball (exact at prec >= p).
struct FWeight {
  Rational hat;
  Ball b;
  bool zero = false, unit = false;
};
FWeight make_weight(const Rational& w, long p, const FloatFormat& f, long prec, const std::string& where) {
  auto r = float_round(w, p, f);
  if (!r) throw Overflow("the model's number at " + where + " overflows when rounded");
  FWeight out;
  out.hat = *r;
  Ball::set(out.b.v, *r, prec);
  out.zero = *r == 0;
  out.unit = *r == 1 || *r == -1;
  return out;
}
struct FMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<FWeight> a;
  const FWeight& operator()(std::size_t i, std::size_t j) const { return a[i * cols + j]; }
};
FMatrix make_matrix(const Matrix& m, long p, const FloatFormat& f, long prec, const std::string& where) {
  FMatrix out;
  out.rows = m.rows;
  out.cols = m.cols;
  for (std::size_t i = 0; i < m.rows; ++i)
    for (std::size_t j = 0; j < m.cols; ++j)
      out.a.push_back(make_weight(m(i, j), p, f, prec, where + "/" + std::to_string(i) + "/" + std::to_string(j)));
  return out;
}

/// Lemma D with exactly known float operands on one side (ex = 0) applied to a ball of the other:
/// a dot product sum_k xhat_k yhat_k, any order, FMA or not. Accumulates terms; finish() returns
/// the ball containing every float result, and `rounding` the widening (Lemma D's rounding part).
class Dot {
 public:
  explicit Dot(const Arith& a) : a_(a) {}
  /// xhat ball (a known float or a ball of floats); exact: the product is exact (xhat = +-1, or 1*bias).
  void term(const Ball& x, const Ball& y, bool exact) {
    if (arb_is_zero(x.v) || arb_is_zero(y.v)) return;  // an exact zero term: exact in any evaluation
    ++t_;
    if (!exact) ++inexact_;
    arb_addmul(sum_.v, x.v, y.v, a_.prec);
    Ball mx = mag(x, a_.prec), my = mag(y, a_.prec);
    arb_addmul(s1_.v, mx.v, my.v, a_.prec);
  }
  Ball finish(const char* what, Ball* rounding = nullptr) {
    Ball err;
    if (t_ > 0) {
      std::size_t g = inexact_ ? t_ : t_ - 1;
      Ball under, big, one_g;
      arb_add(one_g.v, a_.one.v, a_.g(t_).v, a_.prec);
      arb_mul_ui(under.v, a_.eta.v, inexact_, a_.prec);
      arb_mul(under.v, under.v, one_g.v, a_.prec);
      arb_mul(big.v, one_g.v, s1_.v, a_.prec);
      arb_add(big.v, big.v, under.v, a_.prec);
      a_.no_overflow(big, what);
      arb_mul(err.v, a_.g(g).v, s1_.v, a_.prec);
      arb_add(err.v, err.v, under.v, a_.prec);
      err = mag(err, a_.prec);
      arb_add_error(sum_.v, err.v);
    }
    if (rounding) *rounding = err;
    return sum_;
  }

 private:
  const Arith& a_;
  Ball sum_, s1_;
  std::size_t t_ = 0, inexact_ = 0;
};

struct PreparedBlock {
  bool has_sa = false, has_ff = false, factored = false;
  FWeight rho, eta;
  FMatrix Q, K, V, VL, VR, U, W;
  std::vector<FWeight> b;
};

class Analysis {
 public:
  Analysis(const Model& m, const FloatFormat& f, long p, long K, std::size_t max_len) : m_(m), f_(f) {
    std::size_t max_n = max_len + 8;
    for (const auto& bl : m.blocks) max_n = std::max({max_n, m.d + 3, bl.ff ? bl.ff->W.cols + 3 : 0});
    for (const auto& bl : m.blocks)
      if (bl.sa) max_n = std::max({max_n, bl.sa->Q.rows + 3, bl.sa->factored ? bl.sa->Vright.rows + 3 : 0});
    ar_ = std::make_unique<Arith>(p, f, K, max_n);
    const long prec = ar_->prec;
    // The scale: beta rounded, or 1 / fl(1/beta) (scores divided by a temperature tau = fl(1/beta),
    // as PyTorch does): the ball holds both.
    // Also through binary64 first (a binary32 tensor divided by a double tau): four candidates.
    const FloatFormat b64{"binary64", 53, -1022, 1023};
    std::vector<Rational> cands;
    for (int inverse = 0; inverse < 2; ++inverse) {
      const Rational x = inverse ? Rational(1) / *m.beta : *m.beta;
      for (int twice = 0; twice < 2; ++twice) {
        std::optional<Rational> r = twice ? float_round(x, 53, b64) : std::optional<Rational>(x);
        if (r) r = float_round(*r, p, f);
        if (!r || *r == 0) throw Overflow("beta or 1/beta overflows or underflows when rounded");
        cands.push_back(inverse ? Rational(1) / *r : *r);
      }
    }
    Ball b1(cands[0], prec);
    scale_ = b1;
    scale_exact_one_ = true;
    for (const Rational& c : cands) {
      Ball bc(c, prec);
      arb_union(scale_.v, scale_.v, bc.v, prec);
      scale_exact_one_ = scale_exact_one_ && c == 1;
    }
    // Unless beta and 1/beta are both floats (then every candidate, and any reciprocal computed from
    // one, is exactly beta), a library may also multiply by a computed reciprocal fl(1/tau): allow any
    // constant within relative 4u of the candidates.
    if (!std::all_of(cands.begin(), cands.end(), [&](const Rational& c) { return c == cands[0]; })) {
      Ball w = mag(scale_, prec);
      arb_mul(w.v, w.v, ar_->u.v, prec);
      arb_mul_ui(w.v, w.v, 4, prec);
      arb_add_error(scale_.v, w.v);
    }
    for (std::size_t bi = 0; bi < m.blocks.size(); ++bi) {
      const Block& bl = m.blocks[bi];
      PreparedBlock pb;
      const std::string at = "blocks/" + std::to_string(bi);
      if (bl.sa) {
        pb.has_sa = true;
        pb.rho = make_weight(bl.sa->rho, p, f, prec, at + "/sa/rho");
        pb.Q = make_matrix(bl.sa->Q, p, f, prec, at + "/sa/Q");
        pb.K = make_matrix(bl.sa->K, p, f, prec, at + "/sa/K");
        pb.factored = bl.sa->factored;
        if (pb.factored) {
          pb.VL = make_matrix(bl.sa->Vleft, p, f, prec, at + "/sa/V/left");
          pb.VR = make_matrix(bl.sa->Vright, p, f, prec, at + "/sa/V/right");
        } else {
          pb.V = make_matrix(bl.sa->V, p, f, prec, at + "/sa/V");
        }
      }
      if (bl.ff) {
        pb.has_ff = true;
        pb.eta = make_weight(bl.ff->eta, p, f, prec, at + "/ff/eta");
        pb.U = make_matrix(bl.ff->U, p, f, prec, at + "/ff/U");
        pb.W = make_matrix(bl.ff->W, p, f, prec, at + "/ff/W");
        for (std::size_t j = 0; j < bl.ff->b.size(); ++j)
          pb.b.push_back(make_weight(bl.ff->b[j], p, f, prec, at + "/ff/b/" + std::to_string(j)));
      }
      blocks_.push_back(std::move(pb));
    }
  }

  /// abs / rel error bounds (upper ends of balls) for one sequence.
  void run(const Sequence& seq, std::size_t j, Ball& abs_err, Ball& rel_err) const {
    const Arith& ar = *ar_;
    const long prec = ar.prec;
    std::vector<BallVec> z(seq.input.size());
    for (std::size_t i = 0; i < z.size(); ++i)
      for (const Rational& x : seq.input[i]) {
        auto r = float_round(x, ar.p, f_);
        if (!r) throw Overflow("input token " + std::to_string(i) + " of sequence " + std::to_string(j) + " overflows");
        z[i].emplace_back(*r, prec);
      }
    for (std::size_t bi = 0; bi < m_.blocks.size(); ++bi) {
      const PreparedBlock& pb = blocks_[bi];
      if (pb.has_sa) z = attention(pb, z);
      if (pb.has_ff)
        for (auto& t : z) t = feed_forward(pb, t);
    }
    Ball t, d;
    for (std::size_t k = 0; k < seq.output.size(); ++k) {
      Ball tok;
      Rational tmax(1);
      for (std::size_t c = 0; c < seq.output[k].size(); ++c) {
        Ball::set(t.v, seq.output[k][c], prec);
        arb_sub(d.v, z[seq.positions[k]][c].v, t.v, prec);
        Ball md = mag(d, prec);
        arb_max(tok.v, tok.v, md.v, prec);
        tmax = std::max(tmax, abs(seq.output[k][c]));
      }
      arb_max(abs_err.v, abs_err.v, tok.v, prec);
      Ball den(tmax, prec);
      arb_div(t.v, tok.v, den.v, prec);
      t = mag(t, prec);
      arb_max(rel_err.v, rel_err.v, t.v, prec);
    }
  }

 private:
  BallVec apply(const FMatrix& M, const BallVec& x, const char* what) const {
    BallVec y(M.rows);
    for (std::size_t i = 0; i < M.rows; ++i) {
      Dot dot(*ar_);
      for (std::size_t k = 0; k < M.cols; ++k) dot.term(M(i, k).b, x[k], M(i, k).unit);
      y[i] = dot.finish(what);
    }
    return y;
  }

  // Lemmas T (scores), X (stabilised exp), W (weights), AV (the weighted average) and the residual.
  std::vector<BallVec> attention(const PreparedBlock& pb, const std::vector<BallVec>& z) const {
    const Arith& ar = *ar_;
    const long prec = ar.prec;
    const std::size_t n = z.size(), d = z[0].size();
    std::vector<BallVec> q(n), k(n), v(n), out(n);
    for (std::size_t l = 0; l < n; ++l) {
      q[l] = apply(pb.Q, z[l], "query");
      k[l] = apply(pb.K, z[l], "key");
      v[l] = pb.factored ? apply(pb.VL, apply(pb.VR, z[l], "value"), "value") : apply(pb.V, z[l], "value");
    }
    // 2K u, 2K eta: exp_K(y) = exp(y)(1 + kappa) + alpha, |kappa| <= 2Ku, |alpha| <= 2K eta.
    Ball k2u, k2eta, tmp, tmp2;
    arb_mul_ui(k2u.v, ar.u.v, 2 * ar.K, prec);
    arb_mul_ui(k2eta.v, ar.eta.v, 2 * ar.K, prec);
    Ball one_k2u;
    arb_add(one_k2u.v, ar.one.v, k2u.v, prec);
    const Ball& gs = ar.g(n - 1);  // the sum of the n exponentials
    Ball one_gs;
    arb_add(one_gs.v, ar.one.v, gs.v, prec);
    BallVec t(n), E(n), a(n), W(n);
    std::vector<Ball> yabs(n);
    for (std::size_t i = 0; i < n; ++i) {
      // Lemma T: t_l = fl(fl(q_i . k_l) * scale).
      std::size_t p = 0;
      for (std::size_t l = 0; l < n; ++l) {
        Dot dot(ar);
        for (std::size_t c = 0; c < q[i].size(); ++c) dot.term(q[i][c], k[l][c], false);
        Ball s = dot.finish("score");
        if (scale_exact_one_) {
          t[l] = s;
        } else {
          arb_mul(t[l].v, s.v, scale_.v, prec);
          Ball err = mag(t[l], prec);
          arb_mul(err.v, err.v, ar.u.v, prec);
          arb_add(err.v, err.v, ar.eta.v, prec);
          err = mag(err, prec);
          arb_add_error(t[l].v, err.v);
        }
        ar.no_overflow(t[l], "scaled score");
        if (arf_cmp(arb_midref(t[l].v), arb_midref(t[p].v)) > 0) p = l;
      }
      // The exact softmax a(t) of the float scores, around the pivot p: a_l = E_l / (1 + sum E_r).
      Ball S;
      arb_one(S.v);
      for (std::size_t l = 0; l < n; ++l) {
        if (l == p) continue;
        arb_sub(tmp.v, t[l].v, t[p].v, prec);
        arb_exp(E[l].v, tmp.v, prec);
        arb_add(S.v, S.v, E[l].v, prec);
      }
      for (std::size_t l = 0; l < n; ++l) {
        if (l == p) arb_inv(a[l].v, S.v, prec);
        else arb_div(a[l].v, E[l].v, S.v, prec);
      }
      // Lemma X: |y_l| = M - t_l <= max_r sup t_r - inf t_l; g_l = e^{u|y_l|}(1 + 2Ku) - 1.
      Ball Mup = sup_of(t[0], prec);
      for (std::size_t l = 1; l < n; ++l) {
        Ball s = sup_of(t[l], prec);
        arb_max(Mup.v, Mup.v, s.v, prec);
      }
      Ball Mlow = inf_of(t[0], prec);
      for (std::size_t l = 1; l < n; ++l) {
        Ball s = inf_of(t[l], prec);
        arb_max(Mlow.v, Mlow.v, s.v, prec);
      }
      // The float maximum is one of the candidates l with sup t_l >= Mlow; if l is the only one,
      // M = t_l exactly.
      std::size_t candidates = 0;
      for (std::size_t l = 0; l < n; ++l) {
        Ball hi = sup_of(t[l], prec);
        if (!arb_lt(hi.v, Mlow.v)) ++candidates;
      }
      Ball one_mu;  // 1 - u
      arb_sub(one_mu.v, ar.one.v, ar.u.v, prec);
      // Lemma W: with c_l >= |a_l phi_l (1 + kappa_l) - a_l| and
      // cD_l >= |a_l phi_l (1 + kappa_l)(1 + theta_l) - a_l|, each the smaller of
      //   a_l g_l (resp. a_l ((1 + g_l)(1 + gamma_{n-1}) - 1)) and
      //   a_l + e^{-(1-u) ylow_l} (1 + 2Ku) (resp. times (1 + gamma_{n-1})), ylow_l <= |y_l|,
      // Delta_D = sum_r cD_r + 2 n K eta (1 + gamma_{n-1}).
      Ball DD;
      std::vector<Ball> cN(n), asup(n), caps(n);
      for (std::size_t l = 0; l < n; ++l) {
        const bool sole_max = candidates == 1 && !arb_lt(sup_of(t[l], prec).v, Mlow.v);
        Ball lo = inf_of(t[l], prec);
        arb_sub(tmp.v, Mup.v, lo.v, prec);
        ar.no_overflow(tmp, "a shifted score t_l - max");
        if (sole_max) arb_zero(tmp.v);  // then M = t_l: y_l = 0
        arb_mul(tmp.v, tmp.v, ar.u.v, prec);
        arb_exp(tmp.v, tmp.v, prec);
        arb_mul(tmp.v, tmp.v, one_k2u.v, prec);
        arb_sub(tmp.v, tmp.v, ar.one.v, prec);
        Ball g = mag(tmp, prec);
        asup[l] = sup_of(a[l], prec);
        if (arf_cmp_si(arb_midref(asup[l].v), 1) > 0) arb_one(asup[l].v);
        // The cap: a_l phi_l (1 + kappa_l) <= e^{-(1-u)|y_l|} (1 + 2Ku).
        Ball hi = sup_of(t[l], prec), cap;
        arb_sub(tmp.v, Mlow.v, hi.v, prec);
        tmp = inf_of(tmp, prec);  // a LOWER bound of |y_l|: the cap must be an upper bound
        if (arb_is_negative(tmp.v)) arb_zero(tmp.v);  // ylow_l = max(0, Mlow - sup t_l)
        arb_mul(tmp.v, tmp.v, one_mu.v, prec);
        arb_neg(tmp.v, tmp.v);
        arb_exp(cap.v, tmp.v, prec);
        arb_mul(cap.v, cap.v, one_k2u.v, prec);
        caps[l] = cap;
        arb_add(tmp.v, asup[l].v, cap.v, prec);
        Ball c1;
        arb_mul(c1.v, asup[l].v, g.v, prec);
        c1 = mag(c1, prec);
        tmp = mag(tmp, prec);
        arb_min(cN[l].v, c1.v, tmp.v, prec);
        // The same with (1 + theta), |theta| <= gamma_{n-1}.
        Ball cD1, cD2, cD;
        arb_add(cD1.v, ar.one.v, g.v, prec);
        arb_mul(cD1.v, cD1.v, one_gs.v, prec);
        arb_sub(cD1.v, cD1.v, ar.one.v, prec);
        arb_mul(cD1.v, cD1.v, asup[l].v, prec);
        arb_mul(cD2.v, cap.v, one_gs.v, prec);
        arb_add(cD2.v, cD2.v, asup[l].v, prec);
        cD1 = mag(cD1, prec);
        cD2 = mag(cD2, prec);
        arb_min(cD.v, cD1.v, cD2.v, prec);
        arb_add(DD.v, DD.v, cD.v, prec);
      }
      arb_mul_ui(tmp.v, k2eta.v, n, prec);
      arb_addmul(DD.v, tmp.v, one_gs.v, prec);
      DD = mag(DD, prec);
      Ball smin;  // fl(sum e) >= (1 - 2Ku)(1 - gamma_{n-1}) (the maximum's exp(0) term)
      arb_sub(smin.v, ar.one.v, k2u.v, prec);
      arb_sub(tmp.v, ar.one.v, gs.v, prec);
      arb_mul(smin.v, smin.v, tmp.v, prec);
      if (!arb_is_positive(smin.v)) throw Overflow("the softmax denominator may vanish");
      smin = inf_of(smin, prec);
      // Always: 0 <= w_l <= (cap_l + 2K eta) / smin. If Delta_D < 1 also
      // |w_l - a_l| <= (c_l + 2K eta + sup a_l Delta_D) / (1 - Delta_D), w_l = e_l / S (real).
      Ball one_dd;
      arb_sub(one_dd.v, ar.one.v, DD.v, prec);
      const bool dd_ok = arb_is_positive(one_dd.v);
      if (dd_ok) one_dd = inf_of(one_dd, prec);
      for (std::size_t l = 0; l < n; ++l) {
        Ball U;
        arb_add(tmp.v, caps[l].v, k2eta.v, prec);
        arb_div(tmp.v, tmp.v, smin.v, prec);
        arf_t zero, hi;
        arf_init(zero);
        arf_init(hi);
        arb_get_ubound_arf(hi, tmp.v, prec);
        arb_set_interval_arf(U.v, zero, hi, prec);
        arf_clear(zero);
        arf_clear(hi);
        W[l] = U;
        if (!dd_ok) continue;
        arb_add(tmp.v, cN[l].v, k2eta.v, prec);
        arb_addmul(tmp.v, asup[l].v, DD.v, prec);
        arb_div(tmp.v, tmp.v, one_dd.v, prec);
        tmp = mag(tmp, prec);
        Ball D = a[l], both;
        arb_add_error(D.v, tmp.v);
        if (arb_intersection(both.v, D.v, U.v, prec)) W[l] = both;
      }
      // sum_l w_l = (sum e_l) / fl(sum e_l) in [1/(1 + gamma_{n-1}), 1/(1 - gamma_{n-1})].
      Ball sw;
      arb_sub(tmp.v, ar.one.v, gs.v, prec);
      arb_div(tmp.v, gs.v, tmp.v, prec);
      arb_one(sw.v);
      tmp = mag(tmp, prec);
      arb_add_error(sw.v, tmp.v);
      // Lemma AV: att = (sum w) v_p + sum_{l != p} w_l (v_l - v_p) + rho, with
      // |rho_c| <= gamma_{n+2} sum_l sup W_l |v_lc| + H_c (H: underflow terms, all variants).
      Ball emax;  // e_l <= 1 + 2Ku + 2K eta (y_l <= 0)
      arb_add(emax.v, one_k2u.v, k2eta.v, prec);
      Ball one_gn, one_g2;
      arb_add(one_gn.v, ar.one.v, ar.g(n).v, prec);
      arb_add(one_g2.v, ar.one.v, ar.g(2).v, prec);
      out[i].resize(d);
      for (std::size_t c = 0; c < d; ++c) {
        Ball att, rel, vsum, dv;
        arb_mul(att.v, sw.v, v[p][c].v, prec);
        for (std::size_t l = 0; l < n; ++l) {
          Ball mv = mag(v[l][c], prec);
          Ball sW = mag(W[l], prec);
          arb_addmul(rel.v, sW.v, mv.v, prec);
          arb_add(vsum.v, vsum.v, mv.v, prec);
          if (l == p) continue;
          arb_sub(dv.v, v[l][c].v, v[p][c].v, prec);
          arb_addmul(att.v, W[l].v, dv.v, prec);
        }
        Ball err;
        arb_mul(err.v, ar.g(n + 2).v, rel.v, prec);
        // Per-weight (fl(e/S) or fl(e * fl(1/S))): eta (1 + (1+u) emax) (1 + gamma_n) sum|v| + n eta (1 + gamma_n).
        arb_add(tmp.v, ar.one.v, ar.u.v, prec);
        arb_mul(tmp.v, tmp.v, emax.v, prec);
        arb_add(tmp.v, tmp.v, ar.one.v, prec);
        arb_mul(tmp.v, tmp.v, ar.eta.v, prec);
        arb_mul(tmp.v, tmp.v, one_gn.v, prec);
        arb_mul(tmp.v, tmp.v, vsum.v, prec);
        arb_add(err.v, err.v, tmp.v, prec);
        arb_mul_ui(tmp2.v, ar.eta.v, n, prec);
        arb_mul(tmp2.v, tmp2.v, one_gn.v, prec);
        arb_add(err.v, err.v, tmp2.v, prec);
        // Divide at the end (fl(N / S) or fl(N * fl(1/S))), N = fl(sum e_l v_l):
        // n eta (1 + gamma_n)(1 + gamma_2) / Smin + eta (1 + u) Nmax + eta,
        // Nmax = (1 + gamma_n) emax sum|v| + n eta (1 + gamma_n).
        arb_mul(tmp.v, tmp2.v, one_g2.v, prec);
        arb_div(tmp.v, tmp.v, smin.v, prec);
        arb_add(err.v, err.v, tmp.v, prec);
        Ball nmax;
        arb_mul(nmax.v, one_gn.v, emax.v, prec);
        arb_mul(nmax.v, nmax.v, vsum.v, prec);
        arb_add(nmax.v, nmax.v, tmp2.v, prec);
        ar.no_overflow(nmax, "attention numerator");
        arb_add(tmp.v, ar.one.v, ar.u.v, prec);
        arb_mul(tmp.v, tmp.v, nmax.v, prec);
        arb_add(tmp.v, tmp.v, ar.one.v, prec);
        arb_addmul(err.v, tmp.v, ar.eta.v, prec);
        err = mag(err, prec);
        arb_add_error(att.v, err.v);
        Ball chk;
        arb_mul(chk.v, att.v, one_g2.v, prec);
        ar.no_overflow(chk, "attention average");
        // out = fl(rho z_i + att): Lemma D, terms (rho, z_i) and (1, att) (an exact product).
        Dot dot(ar);
        dot.term(pb.rho.b, z[i][c], pb.rho.unit);
        dot.term(ar.one, att, true);
        out[i][c] = dot.finish("attention output");
      }
    }
    return out;
  }

  // Lemma FI: Lemma F on balls (relu of a ball), with Lemma S when every neuron's sign is known.
  BallVec feed_forward(const PreparedBlock& pb, const BallVec& x) const {
    const Arith& ar = *ar_;
    const long prec = ar.prec;
    const std::size_t w = pb.U.rows, d = x.size();
    BallVec h(w);
    std::vector<Ball> R(w);
    std::vector<char> active(w, 0);
    bool known = true;
    std::size_t n_active = 0;
    for (std::size_t r = 0; r < w; ++r) {
      Dot dot(ar);
      for (std::size_t k = 0; k < d; ++k) dot.term(pb.U(r, k).b, x[k], pb.U(r, k).unit);
      dot.term(pb.b[r].b, ar.one, true);
      h[r] = dot.finish("pre-activation", &R[r]);
      if (arb_is_nonnegative(h[r].v)) {
        active[r] = 1;
        ++n_active;
      } else if (arb_is_nonpositive(h[r].v)) {
        arb_zero(h[r].v);  // relu(a) = 0 exactly for every float a <= 0
      } else {
        known = false;
        arb_nonnegative_part(h[r].v, h[r].v);
      }
    }
    BallVec out(d);
    for (std::size_t c = 0; c < d; ++c) {
      Dot dot(ar);
      dot.term(pb.eta.b, x[c], pb.eta.unit);
      for (std::size_t r = 0; r < w; ++r) dot.term(pb.W(c, r).b, h[r], pb.W(c, r).unit);
      Ball own;
      out[c] = dot.finish("feed-forward output", &own);
      if (!known || n_active == 0) continue;
      // Lemma S: the float output is L.x + c0 + sum_active What_cr rho_r + (this dot's rounding).
      Vec L(d, Rational(0));
      L[c] = pb.eta.hat;
      Rational c0(0);
      Ball alt_err = own, tmp;
      for (std::size_t r = 0; r < w; ++r) {
        if (!active[r] || pb.W(c, r).zero) continue;
        const Rational& wr = pb.W(c, r).hat;
        for (std::size_t k = 0; k < d; ++k)
          if (!pb.U(r, k).zero) L[k] += wr * pb.U(r, k).hat;
        c0 += wr * pb.b[r].hat;
        Ball mw = mag(pb.W(c, r).b, prec);
        arb_addmul(alt_err.v, mw.v, R[r].v, prec);
      }
      Ball alt(c0, prec);
      for (std::size_t k = 0; k < d; ++k) {
        if (L[k] == 0) continue;
        Ball lk(L[k], prec);
        arb_addmul(alt.v, lk.v, x[k].v, prec);
      }
      alt_err = mag(alt_err, prec);
      arb_add_error(alt.v, alt_err.v);
      Ball both;
      if (arb_intersection(both.v, out[c].v, alt.v, prec)) out[c] = both;
    }
    return out;
  }

  const Model& m_;
  const FloatFormat& f_;
  std::unique_ptr<Arith> ar_;
  Ball scale_;
  bool scale_exact_one_ = false;
  std::vector<PreparedBlock> blocks_;
};

void free_caches() {
  flint_cleanup();
  mpfr_free_cache();
}

}  // namespace

FloatBound float_softmax_bound(const Model& model, const Dataset& ds, const FloatFormat& format, long p, long exp_ulps,
                               unsigned threads) {
  FloatBound out;
  out.precision = p;
  if (exp_ulps < 0) throw std::invalid_argument("exp_ulps must be >= 0");
  std::size_t max_len = 1;
  for (const auto& s : ds.sequences) max_len = std::max(max_len, s.input.size());
  std::unique_ptr<Analysis> an;
  try {
    an = std::make_unique<Analysis>(model, format, p, exp_ulps, max_len);
  } catch (const Overflow& e) {
    out.status = FloatBound::Status::Overflow;
    out.why = e.what();
    return out;
  }
  const long prec = 2 * p + 64;
  std::vector<Ball> abs_err(ds.sequences.size()), rel_err(ds.sequences.size());
  std::vector<std::string> overflow(ds.sequences.size());
  parallel_for(
      ds.sequences.size(), threads,
      [&](std::size_t j) {
        try {
          an->run(ds.sequences[j], j, abs_err[j], rel_err[j]);
        } catch (const Overflow& e) {
          overflow[j] = "sequence " + std::to_string(j) + ": " + e.what();
        }
      },
      free_caches);
  Ball A, Rl;
  for (std::size_t j = 0; j < abs_err.size(); ++j) {
    if (!overflow[j].empty()) {
      out.status = FloatBound::Status::Overflow;
      out.why = overflow[j];
      free_caches();
      return out;
    }
    arb_max(A.v, A.v, abs_err[j].v, prec);
    arb_max(Rl.v, Rl.v, rel_err[j].v, prec);
  }
  arf_t up;
  arf_init(up);
  arb_get_abs_ubound_arf(up, A.v, prec);
  auto b = arf_upper_rational(up);
  arb_get_abs_ubound_arf(up, Rl.v, prec);
  auto r = arf_upper_rational(up);
  arf_clear(up);
  free_caches();
  if (!b || !r) {
    out.status = FloatBound::Status::Overflow;
    out.why = "the bound is not finite";
    return out;
  }
  out.bound = *b;
  out.relative = *r;
  return out;
}

}  // namespace interpcert
