// Lemma numbers refer to proofs/float-bound.md. Per token: the exact value (rational) and, per
// coordinate, an upper bound on the deviation of any float evaluation; upper bounds are MPFR
// numbers rounded toward +infinity.
#include "float.hpp"

#include "workers.hpp"

#include <mpfr.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace interpcert::checker {
namespace {

// A nonnegative real rounded upward.
class Hi {
 public:
  Hi() { mpfr_init2(x_, 64), mpfr_set_zero(x_, 1); }
  Hi(const Hi& o) { mpfr_init2(x_, 64), mpfr_set(x_, o.x_, MPFR_RNDU); }
  Hi& operator=(const Hi& o) { return mpfr_set(x_, o.x_, MPFR_RNDU), *this; }
  ~Hi() { mpfr_clear(x_); }
  static Hi of_abs(const Rational& q) {  // >= |q|
    Hi h;
    Rational a = q < 0 ? Rational(-q) : q;
    mpfr_set_q(h.x_, a.backend().data(), MPFR_RNDU);
    return h;
  }
  static Hi pow2(long e) {
    Hi h;
    mpfr_set_si_2exp(h.x_, 1, e, MPFR_RNDU);
    return h;
  }
  friend Hi operator+(const Hi& a, const Hi& b) {
    Hi h;
    mpfr_add(h.x_, a.x_, b.x_, MPFR_RNDU);
    return h;
  }
  friend Hi operator*(const Hi& a, const Hi& b) {
    Hi h;
    mpfr_mul(h.x_, a.x_, b.x_, MPFR_RNDU);
    return h;
  }
  Hi times(unsigned long n) const {
    Hi h;
    mpfr_mul_ui(h.x_, x_, n, MPFR_RNDU);
    return h;
  }
  bool is_zero() const { return mpfr_zero_p(x_); }
  bool operator<(const Hi& o) const { return mpfr_less_p(x_, o.x_); }
  bool below(const Rational& q) const { return mpfr_cmp_q(x_, q.backend().data()) < 0; }  // this < q
  bool at_most(const Rational& q) const { return mpfr_cmp_q(x_, q.backend().data()) <= 0; }  // this <= q
  Rational exact() const {
    Rational r;
    mpfr_get_q(r.backend().data(), x_);
    return r;
  }
  mpfr_ptr raw() { return x_; }

 private:
  mpfr_t x_;
};

struct Fmt {
  long p, emin, emax;
  Rational omega_q;  // largest finite float, exact
  Hi u, eta, omega;
};

// Round to nearest, ties to even, p bits, subnormals below 2^emin; nullopt on overflow.
std::optional<Rational> round_to(const Rational& x, const Fmt& f) {
  if (x == 0) return Rational(0);
  Rational a = x < 0 ? Rational(-x) : x;
  // The exponent: the largest e with 2^e <= a (found with MPFR at a precision that keeps it exact).
  mpfr_t t;
  mpfr_init2(t, 64);
  mpfr_set_q(t, a.backend().data(), MPFR_RNDZ);
  long e = mpfr_get_exp(t) - 1;  // mpfr: t = m 2^exp with 1/2 <= m < 1
  mpfr_clear(t);
  long q = std::max(e, f.emin) - (f.p - 1);  // the spacing 2^q of floats near a
  Rational scaled = q >= 0 ? a / Rational(Integer(1) << q) : a * Rational(Integer(1) << -q);
  Integer lo = numerator(scaled) / denominator(scaled);
  Rational rest = scaled - Rational(lo);
  Integer n = lo;
  if (rest * 2 > 1 || (rest * 2 == 1 && (lo % 2) == 1)) n = lo + 1;
  Rational r = q >= 0 ? Rational(n * (Integer(1) << q)) : Rational(n) / Rational(Integer(1) << -q);
  if (r > f.omega_q) return std::nullopt;
  return x < 0 ? Rational(-r) : r;
}

struct Overflow {
  std::string what;
};

Hi gamma(const Fmt& f, std::size_t n) {  // n u / (1 - n u), rounded up
  Hi nu = f.u.times(n), den, g;
  mpfr_ui_sub(den.raw(), 1, nu.raw(), MPFR_RNDD);
  if (mpfr_sgn(den.raw()) <= 0) throw Overflow{"n u >= 1: too few bits for the analysis"};
  mpfr_div(g.raw(), nu.raw(), den.raw(), MPFR_RNDU);
  return g;
}

// One dot-product term: exact factors x, y; deviation bounds ex, ey; `exact_product`: the float
// product is exact (x rounds to +-1, or an added bias).
struct Term {
  Rational x, y;
  Hi ex, ey;
  bool exact_product;
};

// If q is a nonzero dyadic rational m 2^v (m odd), v; else nullopt.
std::optional<long> two_adic(const Rational& q) {
  Integer num = numerator(q), den = denominator(q);
  if ((den & (den - 1)) != 0) return std::nullopt;
  long v = -static_cast<long>(msb(den));
  for (; (num & 1) == 0; num >>= 1) ++v;
  return v;
}

// Lemma R: if y is a float, half its distance to the nearest other float (the gap below a power of
// two 2^e, e > emin, is the smaller one); nullopt if y is not a float.
std::optional<Rational> half_gap(const Rational& y, const Fmt& f) {
  auto p2 = [](long k) { return k >= 0 ? Rational(Integer(1) << k) : Rational(1) / Rational(Integer(1) << -k); };
  auto r = round_to(y, f);
  if (!r || *r != y) return std::nullopt;
  if (y == 0) return p2(f.emin - f.p);
  Rational a = y < 0 ? Rational(-y) : y;
  long e = static_cast<long>(msb(numerator(a))) - static_cast<long>(msb(denominator(a)));  // 2^e <= a < 2^(e+1)
  while (p2(e) > a) --e;
  while (p2(e + 1) <= a) ++e;
  long spacing = std::max(e, f.emin) - f.p + 1;
  return p2(e > f.emin && a == p2(e) ? spacing - 2 : spacing - 1);
}

// Lemma R: at most two terms, all but (at most) one exact with a float product c: any evaluation
// is one rounding of v + c, v within `alone` of the other term's exact product (v its float
// product, or its unrounded product under an FMA). A single term is snapped only if its product is
// rounded. True if that rounding must return the exact value.
bool snaps(const Fmt& f, const std::vector<const Term*>& live, const Rational& value) {
  auto exact_float = [&](const Term* k) {
    if (!k->ex.is_zero() || !k->ey.is_zero()) return false;
    auto r = round_to(k->x * k->y, f);
    return r && *r == k->x * k->y;
  };
  const Term* w = nullptr;
  if (live.size() == 1 && !live[0]->exact_product) w = live[0];
  if (live.size() == 2) w = exact_float(live[1]) ? live[0] : exact_float(live[0]) ? live[1] : nullptr;
  if (!w) return false;
  auto radius = half_gap(value, f);
  if (!radius) return false;
  Hi ax = Hi::of_abs(w->x), ay = Hi::of_abs(w->y);
  Hi alone = ax * w->ey + w->ex * ay + w->ex * w->ey;  // |xhat yhat - x y|
  if (live.size() == 2 && !w->exact_product) alone = alone + gamma(f, 1) * ((ax + w->ex) * (ay + w->ey)) + f.eta;
  return alone.below(*radius);
}

// Lemma D: the deviation of any evaluation of sum xhat yhat from sum x y. Returns {value, bound}.
// Lemma E: terms all exact, dyadic products (least valuation q >= emin - p + 1) whose positive
// part and negative part each sum to at most 2^(p + q) in magnitude: no operation rounds.
std::pair<Rational, Hi> dot(const Fmt& f, const std::vector<Term>& terms, const char* what, Hi* own = nullptr) {
  Rational value(0), positive(0), negative(0);
  Hi s1, s2;
  std::size_t t = 0, inexact = 0;
  bool all_exact = true;
  std::optional<long> least;
  std::vector<const Term*> live;  // the terms that may be nonzero (Lemma R)
  for (const Term& k : terms) {
    value += k.x * k.y;
    Hi ax = Hi::of_abs(k.x), ay = Hi::of_abs(k.y);
    Hi mx = ax + k.ex, my = ay + k.ey;
    if (mx.is_zero() || my.is_zero()) continue;
    ++t;
    live.push_back(&k);
    inexact += k.exact_product ? 0 : 1;
    s1 = s1 + mx * my;
    s2 = s2 + ax * k.ey + k.ex * ay + k.ex * k.ey;
    if (all_exact) {
      Rational xy = k.x * k.y;
      std::optional<long> v;
      if (k.ex.is_zero() && k.ey.is_zero() && xy != 0 && (v = two_adic(xy))) {
        least = least ? std::min(*least, *v) : *v;
        (xy < 0 ? negative : positive) += xy < 0 ? Rational(-xy) : xy;
      } else {
        all_exact = false;
      }
    }
  }
  if (own) *own = Hi();
  if (t == 0) return {value, Hi()};
  Hi one = Hi::pow2(0), gt = gamma(f, t), under = f.eta.times(inexact) * (one + gt);
  if (f.omega < (one + gt) * s1 + under + s2) throw Overflow{std::string("a ") + what + " may overflow"};
  if (all_exact && *least >= f.emin - f.p + 1) {
    long e = f.p + *least;  // every partial sum lies in [-negative, positive]: both <= 2^e ?
    Rational limit = e >= 0 ? Rational(Integer(1) << e) : Rational(1) / Rational(Integer(1) << -e);
    if (positive <= limit && negative <= limit) return {value, Hi()};
  }
  Hi rounding = gamma(f, inexact ? t : t - 1) * s1 + under;
  if (own) *own = rounding;  // Lemma S needs the rounding part even where Lemma R applies
  if (t <= 2 && snaps(f, live, value)) return {value, Hi()};
  return {value, rounding + s2};
}

// A rounded model number: exact x, |fl(x) - x|, fl(x) = +-1.
struct Num {
  Rational x, rounded;
  Hi err;
  bool unit;
};
// The model's numbers are rounded once per run (keyed by their address in the model; the checker
// runs one analysis at a time).
std::unordered_map<const Rational*, Num> rounded_model;
const Num& num(const Fmt& f, const Rational& x) {
  auto it = rounded_model.find(&x);
  if (it != rounded_model.end()) return it->second;
  auto r = round_to(x, f);
  if (!r) throw Overflow{"a number of the model overflows when rounded"};
  return rounded_model.emplace(&x, Num{x, *r, Hi::of_abs(*r - x), *r == 1 || *r == -1}).first->second;
}

struct Token {
  Vec z;
  std::vector<Hi> e;
};

// y = M x (+ b): Lemma D per row.
Token apply(const Fmt& f, const Matrix& M, const Token& x, const Vec* b, const char* what,
            std::vector<Hi>* own = nullptr) {
  Token y;
  for (std::size_t i = 0; i < M.rows; ++i) {
    std::vector<Term> ts;
    for (std::size_t k = 0; k < M.cols; ++k) {
      const Num& w = num(f, M(i, k));
      ts.push_back({w.x, x.z[k], w.err, x.e[k], w.unit});
    }
    if (b) {
      const Num& w = num(f, (*b)[i]);
      ts.push_back({w.x, Rational(1), w.err, Hi(), true});
    }
    Hi r;
    auto [v, err] = dot(f, ts, what, &r);
    y.z.push_back(v);
    y.e.push_back(err);
    if (own) own->push_back(r);
  }
  return y;
}

Token values(const Fmt& f, const SelfAttention& sa, const Token& x) {
  if (!sa.factored) return apply(f, sa.V, x, nullptr, "value");
  return apply(f, sa.Vleft, apply(f, sa.Vright, x, nullptr, "value"), nullptr, "value");
}

// Lemmas H and A; returns false (why set) on an unstable selection.
bool attention(const Fmt& f, const SelfAttention& sa, std::vector<Token>& toks, std::size_t block, std::size_t j,
               std::string& why) {
  const std::size_t n = toks.size();
  std::vector<Token> q, k, v;
  for (const Token& t : toks) {
    q.push_back(apply(f, sa.Q, t, nullptr, "query"));
    k.push_back(apply(f, sa.K, t, nullptr, "key"));
    v.push_back(values(f, sa, t));
  }
  const Num& rho = num(f, sa.rho);
  std::vector<Token> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<Rational> s(n);
    std::vector<Hi> sig(n);
    for (std::size_t l = 0; l < n; ++l) {
      std::vector<Term> ts;
      for (std::size_t r = 0; r < q[i].z.size(); ++r) ts.push_back({q[i].z[r], k[l].z[r], q[i].e[r], k[l].e[r], false});
      std::tie(s[l], sig[l]) = dot(f, ts, "score");
    }
    Rational top = *std::max_element(s.begin(), s.end());
    std::vector<std::size_t> C;
    for (std::size_t l = 0; l < n; ++l)
      if (s[l] == top) C.push_back(l);
    Hi least = sig[C[0]];
    for (std::size_t c : C) least = sig[c] < least ? sig[c] : least;
    for (std::size_t l = 0; l < n; ++l)
      if (s[l] != top && !(sig[l] + least).below(top - s[l])) {
        why = "block " + std::to_string(block) + ", sequence " + std::to_string(j) + ", token " + std::to_string(i) +
              ": token " + std::to_string(l) + " is within the score error of the exact selection";
        return false;
      }
    for (std::size_t c : C)
      if (v[c].z != v[C[0]].z) {
        why = "block " + std::to_string(block) + ", sequence " + std::to_string(j) + ", token " + std::to_string(i) +
              ": an exact tie between tokens with different values V z";
        return false;
      }
    Token att{v[C[0]].z, {}};
    for (std::size_t c = 0; c < att.z.size(); ++c) {
      Hi worst_e, worst_a;
      for (std::size_t l : C) {
        worst_e = worst_e < v[l].e[c] ? v[l].e[c] : worst_e;
        Hi a = Hi::of_abs(v[l].z[c]) + v[l].e[c];
        worst_a = worst_a < a ? a : worst_a;
      }
      if (C.size() > 1) {
        Hi g = gamma(f, C.size() + 1), one = Hi::pow2(0);
        // Sum then divide: the partial sums of up to |C| values reach (1 + g) |C| A before the division.
        if (f.omega < (one + g) * worst_a.times(C.size())) throw Overflow{"an attention average may overflow"};
        worst_e = worst_e + g * worst_a + f.eta.times(C.size()) * (one + g);
      }
      att.e.push_back(worst_e);
    }
    for (std::size_t c = 0; c < att.z.size(); ++c) {
      std::vector<Term> ts = {{rho.x, toks[i].z[c], rho.err, toks[i].e[c], rho.unit},
                              {Rational(1), att.z[c], Hi(), att.e[c], true}};
      auto [val, err] = dot(f, ts, "attention output");
      out[i].z.push_back(val);
      out[i].e.push_back(err);
    }
  }
  toks = std::move(out);
  return true;
}

// Lemma F, and Lemma S when every neuron's sign is known on the float state.
Token feed_forward(const Fmt& f, const FeedForward& ff, const Token& x) {
  std::vector<Hi> own;
  Token h = apply(f, ff.U, x, &ff.b, "pre-activation", &own);
  std::vector<bool> on(h.z.size(), false);
  bool known = true, any_on = false;
  for (std::size_t r = 0; r < h.z.size(); ++r) {
    bool up = h.z[r] >= 0 && h.e[r].at_most(h.z[r]);       // fl pre-activation >= 0: relu is identity
    bool down = h.z[r] <= 0 && h.e[r].at_most(-h.z[r]);    // fl pre-activation <= 0: relu is 0
    on[r] = up;
    any_on = any_on || up;
    known = known && (up || down);
    if (h.z[r] < 0) {
      if (h.e[r].below(-h.z[r])) h.e[r] = Hi();  // provably negative in floating point too
      h.z[r] = 0;
    }
  }
  const Num& eta = num(f, ff.eta);
  Token out;
  for (std::size_t c = 0; c < x.z.size(); ++c) {
    std::vector<Term> ts = {{eta.x, x.z[c], eta.err, x.e[c], eta.unit}};
    for (std::size_t r = 0; r < h.z.size(); ++r) {
      const Num& w = num(f, ff.W(c, r));
      ts.push_back({w.x, h.z[r], w.err, h.e[r], w.unit});
    }
    Hi rounding;
    auto [val, err] = dot(f, ts, "feed-forward output", &rounding);
    if (known && any_on) {
      // The float output is L.xhat + c0 (rounded weights, active neurons) plus roundings.
      Vec L(x.z.size(), Rational(0));
      L[c] = eta.rounded;
      Rational c0(0);
      Hi alt = rounding;
      for (std::size_t r = 0; r < h.z.size(); ++r) {
        if (!on[r]) continue;
        const Num& w = num(f, ff.W(c, r));
        for (std::size_t k = 0; k < L.size(); ++k) L[k] += w.rounded * num(f, ff.U(r, k)).rounded;
        c0 += w.rounded * num(f, ff.b[r]).rounded;
        alt = alt + (Hi::of_abs(w.x) + w.err) * own[r];
      }
      Rational off = c0 - val;
      for (std::size_t k = 0; k < L.size(); ++k) {
        off += L[k] * x.z[k];
        alt = alt + Hi::of_abs(L[k]) * x.e[k];
      }
      alt = alt + Hi::of_abs(off);
      if (alt < err) err = alt;
    }
    out.z.push_back(val);
    out.e.push_back(err);
  }
  return out;
}

}  // namespace

std::optional<Rational> round_to_format(const Rational& x, long p, long emin, long emax) {
  Fmt f{p, emin, emax, Rational((Integer(1) << p) - 1) * Rational(Integer(1) << (emax - p + 1)), Hi(), Hi(), Hi()};
  return round_to(x, f);
}

std::optional<Rational> float_error_bound(const Model& m, const Dataset& ds, long p, long emin, long emax,
                                          std::size_t shard, std::size_t shards, std::string& why,
                                          std::size_t* checked) {
  if (m.attention != AttentionKind::Hardmax) {
    why = "the float analysis covers hardmax models only";
    return std::nullopt;
  }
  if (m.mask != MaskKind::None) {
    why = "the float analysis covers unmasked (non-causal) models only";
    return std::nullopt;
  }
  Fmt f{p, emin, emax, Rational((Integer(1) << p) - 1) * Rational(Integer(1) << (emax - p + 1)), Hi::pow2(-p),
        Hi::pow2(emin - p), Hi()};
  mpfr_set_q(f.omega.raw(), f.omega_q.backend().data(), MPFR_RNDD);
  // The range of the other checks (workers.hpp): no bound of a valid input reaches its end.
  widen_exponent_range();
  Hi worst;
  if (checked) *checked = 0;
  rounded_model.clear();
  try {
    for (std::size_t j = shard; j < ds.sequences.size(); j += shards) {
      const Sequence& s = ds.sequences[j];
      std::vector<Token> toks;
      for (const Vec& x : s.input) {
        Token t{x, {}};
        for (const Rational& c : x) {
          auto r = round_to(c, f);
          if (!r) throw Overflow{"an input coordinate overflows when rounded"};
          t.e.push_back(Hi::of_abs(*r - c));
        }
        toks.push_back(std::move(t));
      }
      for (std::size_t b = 0; b < m.blocks.size(); ++b) {
        if (m.blocks[b].sa && !attention(f, *m.blocks[b].sa, toks, b, j, why)) return std::nullopt;
        if (m.blocks[b].ff)
          for (Token& t : toks) t = feed_forward(f, *m.blocks[b].ff, t);
      }
      if (checked) *checked += s.output.size();
      for (std::size_t k = 0; k < s.output.size(); ++k) {
        const Token& t = toks[s.positions[k]];
        for (std::size_t c = 0; c < t.z.size(); ++c) {
          Hi e = Hi::of_abs(t.z[c] - s.output[k][c]) + t.e[c];
          worst = worst < e ? e : worst;
        }
      }
    }
  } catch (const Overflow& o) {
    why = o.what;
    return std::nullopt;
  }
  mpfr_free_cache();
  if (!mpfr_number_p(worst.raw())) {  // +inf would read back as 0 (mpfr_get_q)
    why = "the bound is beyond MPFR's exponent range";
    return std::nullopt;
  }
  return worst.exact();
}

}  // namespace interpcert::checker
