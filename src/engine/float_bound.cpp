// The analysis of proofs/float-bound.md, written to follow it lemma by lemma. Per token we carry
// the exact value z (rational, the model as written on the exact input) and an upper bound e on
// |fl-state - z| per coordinate; every bound is an MPFR number rounded upward.
#include "interpcert/float_bound.hpp"

#include "float_softmax.hpp"

#include "interpcert/parallel.hpp"
#include "interpcert/text_util.hpp"

#include <mpfr.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace interpcert {

std::optional<FloatFormat> float_format(std::string_view name) {
  if (name == "binary64") return FloatFormat{"binary64", 53, -1022, 1023};
  if (name == "binary32") return FloatFormat{"binary32", 24, -126, 127};
  return std::nullopt;
}

namespace {

Integer pow2(long k) { return Integer(1) << k; }
Rational scale2(const Rational& x, long k) {  // x 2^k, exact
  return k >= 0 ? x * Rational(pow2(k)) : x / Rational(pow2(-k));
}
long bit_length(const Integer& n) { return n == 0 ? 0 : static_cast<long>(msb(n)) + 1; }

}  // namespace

std::optional<Rational> float_round(const Rational& x, long p, const FloatFormat& f) {
  if (x == 0) return Rational(0);
  Rational a = abs(x);
  // e = floor(log2 a): 2^e <= a < 2^(e+1).
  long e = bit_length(numerator(a)) - bit_length(denominator(a));
  if (a < scale2(Rational(1), e)) --e;
  long k = std::max(e, f.emin) - p + 1;  // the spacing of floats around a is 2^k
  Rational scaled = scale2(a, -k);
  Integer n = numerator(scaled) / denominator(scaled);
  Rational frac = scaled - Rational(n);
  if (frac > Rational(1, 2) || (frac == Rational(1, 2) && bit_test(n, 0))) n += 1;
  Rational r = scale2(Rational(n), k);
  // Largest finite number: (2 - 2^(1-p)) 2^emax. Round to nearest overflows exactly when the
  // rounded value (with unbounded exponent) exceeds it.
  Rational omega = scale2(Rational(pow2(p) - 1), f.emax - p + 1);
  if (r > omega) return std::nullopt;
  return x < 0 ? -r : r;
}

namespace {

constexpr mpfr_prec_t kBits = 64;  // precision of the upper bounds themselves

/// A nonnegative upper bound; every operation on it rounds up.
/// Its one-limb significand lives inside the object (MPFR's custom interface): the analysis makes
/// and drops millions of these, and mpfr_init2/mpfr_clear were a malloc and a free each. The values
/// are those of an mpfr_init2(v, kBits) variable (same precision, same roundings).
struct Up {
  static constexpr std::size_t kLimbs = (kBits + GMP_NUMB_BITS - 1) / GMP_NUMB_BITS;
  mpfr_t v;
  mp_limb_t limbs[kLimbs];
  Up() {
    mpfr_custom_init(limbs, kBits);
    mpfr_custom_init_set(v, MPFR_ZERO_KIND, 0, kBits, limbs);  // +0, as mpfr_set_zero(v, 1)
  }
  Up(const Up& o) : Up() { mpfr_set(v, o.v, MPFR_RNDU); }
  Up& operator=(const Up& o) {
    mpfr_set(v, o.v, MPFR_RNDU);
    return *this;
  }
  ~Up() = default;  // nothing to free (never mpfr_clear a custom variable)
  bool zero() const { return mpfr_zero_p(v); }
};

/// out >= |q|.
void abs_up(Up& out, const Rational& q) {
  if (q < 0) {
    Rational m = -q;
    mpfr_set_q(out.v, m.backend().data(), MPFR_RNDU);
  } else {
    mpfr_set_q(out.v, q.backend().data(), MPFR_RNDU);
  }
}
void add_to(Up& a, const Up& b) { mpfr_add(a.v, a.v, b.v, MPFR_RNDU); }
/// a += b c
void add_mul(Up& a, const Up& b, const Up& c, Up& tmp) {
  mpfr_mul(tmp.v, b.v, c.v, MPFR_RNDU);
  mpfr_add(a.v, a.v, tmp.v, MPFR_RNDU);
}
void max_to(Up& a, const Up& b) {
  if (mpfr_cmp(b.v, a.v) > 0) mpfr_set(a.v, b.v, MPFR_RNDU);
}
/// Is the exact rational q strictly greater than the bound b?
bool rational_gt(const Rational& q, const Up& b) { return mpfr_cmp_q(b.v, q.backend().data()) < 0; }
Rational up_to_rational(const Up& b) {
  Rational r;
  mpfr_get_q(r.backend().data(), b.v);
  return r;
}

/// The constants of the arithmetic model at precision p (proofs/float-bound.md, "Model").
struct Arith {
  long p, emin;
  const FloatFormat* format;
  Up u;      ///< unit roundoff 2^-p
  Up eta;    ///< underflow: 2^(emin - p), half the smallest subnormal
  Up omega;  ///< the largest finite number
  std::vector<Up> gamma;  ///< gamma[n] >= n u / (1 - n u)
  std::vector<Up> gamma1; ///< gamma1[n] >= 1 + gamma[n]
  Arith(long p_, const FloatFormat& f, std::size_t max_n) : p(p_), emin(f.emin), format(&f) {
    mpfr_set_ui_2exp(u.v, 1, -p, MPFR_RNDU);
    mpfr_set_ui_2exp(eta.v, 1, f.emin - p, MPFR_RNDU);
    // (2 - 2^(1-p)) 2^emax, rounded DOWN (it is an upper limit quantities must stay below).
    mpfr_set_ui_2exp(omega.v, 2, 0, MPFR_RNDD);
    Up t;
    mpfr_set_ui_2exp(t.v, 1, 1 - p, MPFR_RNDU);
    mpfr_sub(omega.v, omega.v, t.v, MPFR_RNDD);
    mpfr_mul_2si(omega.v, omega.v, f.emax, MPFR_RNDD);
    gamma.resize(max_n + 1);
    gamma1.resize(max_n + 1);
    for (std::size_t n = 0; n <= max_n; ++n) {
      Up num, den;
      mpfr_mul_ui(num.v, u.v, n, MPFR_RNDU);
      mpfr_ui_sub(den.v, 1, num.v, MPFR_RNDD);
      if (mpfr_sgn(den.v) <= 0) throw std::overflow_error("n u >= 1: precision too small for this analysis");
      mpfr_div(gamma[n].v, num.v, den.v, MPFR_RNDU);
      mpfr_add_ui(gamma1[n].v, gamma[n].v, 1, MPFR_RNDU);
    }
  }
};

/// One number of the model: exact w, |w|, |fl(w) - w|, and whether fl(w) is 0 or +-1.
struct Weight {
  const Rational* w;
  Rational hat;  ///< fl(w)
  Up abs, err;
  bool unit = false;   ///< fl(w) = +-1: products with it are exact
  bool zero = false;   ///< w = fl(w) = 0: its products are exactly zero
  int exact_sign_unit = 0;  ///< w itself is +1 or -1 (then w x is x or -x: no multiplication)
};
struct WMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<Weight> a;
  /// same_as[i]: the first row of the run of equal consecutive rows that row i belongs to (i itself
  /// if row i differs from row i - 1). Equal rows (a hat's U = 1 u^T) have equal dot products with
  /// a token up to the bias, so apply_matrix computes that part once per run.
  std::vector<std::size_t> same_as;
  const Weight& operator()(std::size_t i, std::size_t j) const { return a[i * cols + j]; }
};

struct Overflow : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Weight make_weight(const Rational& w, long p, const FloatFormat& f, const std::string& where) {
  Weight out;
  out.w = &w;
  auto r = float_round(w, p, f);
  if (!r) throw Overflow("the model's number at " + where + " overflows when rounded");
  abs_up(out.abs, w);
  abs_up(out.err, *r - w);
  out.hat = *r;
  out.unit = (*r == 1 || *r == -1);
  out.zero = (w == 0 && *r == 0);
  out.exact_sign_unit = w == 1 ? 1 : w == -1 ? -1 : 0;
  return out;
}
WMatrix make_matrix(const Matrix& m, long p, const FloatFormat& f, const std::string& where) {
  WMatrix out;
  out.rows = m.rows;
  out.cols = m.cols;
  out.a.reserve(m.a.size());
  for (std::size_t i = 0; i < m.rows; ++i)
    for (std::size_t j = 0; j < m.cols; ++j)
      out.a.push_back(make_weight(m(i, j), p, f, where + "/" + std::to_string(i) + "/" + std::to_string(j)));
  out.same_as.resize(m.rows);
  for (std::size_t i = 0; i < m.rows; ++i) {
    bool equal = i > 0;
    for (std::size_t j = 0; equal && j < m.cols; ++j) equal = m(i, j) == m(i - 1, j);
    out.same_as[i] = equal ? out.same_as[i - 1] : i;  // a weight's fields are functions of its exact value
  }
  return out;
}

/// Lemma S's linear part of a feed-forward layer for one set of active neurons: per output
/// coordinate c, the nonzero entries of L_c (with |L_ck| rounded up) and c0_c. A function of the
/// layer and the set only, so it is formed once per set rather than once per token.
struct LinearPart {
  struct Coord {
    std::vector<std::size_t> k;  ///< the k with L_ck != 0, increasing
    Vec L;                       ///< L_ck for those k
    std::vector<Up> abs_L;       ///< |L_ck| rounded up (abs_up)
    Rational c0;
  };
  std::vector<Coord> coord;
};
/// The linear parts met so far in one layer, keyed by the active set (one char per neuron).
/// Shared by the workers (one lock per look-up; the parts themselves are immutable).
struct LinearCache {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const LinearPart>> parts;
};
/// Bounds a layer's cache (each part holds d^2 rationals at most); a layer meets few sets (a hat:
/// none, all, and the few tokens on its slopes).
constexpr std::size_t kMaxCachedSets = 64;

struct PreparedBlock {
  bool has_sa = false, has_ff = false, factored = false;
  Weight rho, eta;
  WMatrix Q, K, V, VL, VR, U, W;
  std::vector<Weight> b;
  // Feed-forward, for Lemma S: per output coordinate c the r with What_cr != 0, and
  // |W_cr| + |What_cr - W_cr| rounded up (index c * width + r).
  std::vector<std::vector<std::size_t>> W_hat_nonzero;
  std::vector<Up> W_abs_err;
  Vec Wb_hat;  ///< What_cr bhat_r (index c * width + r), exact

  std::unique_ptr<LinearCache> linear = std::make_unique<LinearCache>();
};

/// A quantity of the evaluation: its exact value, an upper bound of |value|, an upper bound of
/// |float - value|.
struct Tracked {
  Vec z;
  std::vector<Up> az, e;
  void refresh_abs() {
    az.resize(z.size());
    for (std::size_t c = 0; c < z.size(); ++c) abs_up(az[c], z[c]);
  }
};

/// v with x = (odd integer) 2^v, if x != 0 is a dyadic rational; nullopt otherwise.
std::optional<long> dyadic_valuation(const Rational& x) {
  mpz_srcptr num = mpq_numref(x.backend().data()), den = mpq_denref(x.backend().data());
  long dv = static_cast<long>(mpz_scan1(den, 0));
  if (static_cast<long>(mpz_sizeinbase(den, 2)) - 1 != dv) return std::nullopt;  // not a power of 2
  return static_cast<long>(mpz_scan1(num, 0)) - dv;
}

/// Lemma R (rounding snap): half the distance from the float y to its nearest neighbouring float
/// (the smaller gap: below a power of two 2^e > 2^emin the floats are twice as dense), if y is a
/// float of the format at precision p; nullopt if y is not a float. Any real within less than this
/// of y rounds to y (round to nearest, whatever the tie rule). Exact.
std::optional<Rational> snap_radius(const Rational& y, long p, const FloatFormat& f) {
  if (y == 0) return scale2(Rational(1), f.emin - p);  // the subnormal spacing 2^(emin-p+1), halved
  Rational a = abs(y);
  long e = bit_length(numerator(a)) - bit_length(denominator(a));
  if (a < scale2(Rational(1), e)) --e;  // 2^e <= a < 2^(e+1)
  if (e > f.emax) return std::nullopt;
  long k = std::max(e, f.emin) - p + 1;  // the spacing of floats around a is 2^k
  if (denominator(scale2(a, -k)) != 1) return std::nullopt;
  bool binade_bottom = e > f.emin && a == scale2(Rational(1), e);
  return scale2(Rational(1), binade_bottom ? k - 2 : k - 1);
}

const Rational& rational_one() {
  static const Rational one(1);
  return one;
}

/// Lemma D (proofs/float-bound.md): any round-to-nearest evaluation of sum_k xhat_k yhat_k
/// against the exact sum_k x_k y_k, where |xhat_k - x_k| <= ex_k, |yhat_k - y_k| <= ey_k.
/// Lemma E: when every term is known exactly (ex = ey = 0, `x`/`y` given) and dyadic, and the sums
/// of the positive products and of the |negative products| are both <= 2^(p + q), q the least
/// 2-adic valuation of the products, every product and partial sum is a float, so the evaluation
/// is exact in any order.
class DotBound {
 public:
  explicit DotBound(const Arith& a) : a_(a) {}
  /// A term; `exact_product`: xhat_k = +-1 or yhat_k = 1 exactly (an addition, no product).
  /// x, y (optional): the floats xhat_k, yhat_k themselves, for Lemma E.
  void term(const Up& ax, const Up& ex, const Up& ay, const Up& ey, bool exact_product, const Rational* x = nullptr,
            const Rational* y = nullptr) {
    mpfr_add(xs_.v, ax.v, ex.v, MPFR_RNDU);
    if (mpfr_zero_p(xs_.v)) return;  // x = xhat = 0: the term is exactly 0 in both
    mpfr_add(ys_.v, ay.v, ey.v, MPFR_RNDU);
    if (mpfr_zero_p(ys_.v)) return;
    ++t_;
    if (!exact_product) ++inexact_;
    if (t_ <= 2) {  // Lemma R looks at dot products of at most two terms
      Solo& so = solo_[t_ - 1];
      so.exact = x && y && ex.zero() && ey.zero();
      so.x = x;  // the product x y is formed only if Lemma R asks (is_float)
      so.y = y;
      so.rounded = !exact_product;
      mpfr_mul(so.s1.v, xs_.v, ys_.v, MPFR_RNDU);
      mpfr_mul(so.s2.v, ax.v, ey.v, MPFR_RNDU);
      add_mul(so.s2, ex, ay, tmp_);
      add_mul(so.s2, ex, ey, tmp_);
    }
    if (exact_terms_) {
      std::optional<long> vx, vy;
      if (x && y && ex.zero() && ey.zero() && *x != 0 && *y != 0 && (vx = dyadic_valuation(*x)) &&
          (vy = dyadic_valuation(*y))) {
        long v = *vx + *vy;
        if (t_ == 1 || v < min_valuation_) min_valuation_ = v;
        add_mul((*x < 0) != (*y < 0) ? neg_ : pos_, xs_, ys_, tmp_);
      } else {
        exact_terms_ = false;
      }
    }
    add_mul(s1_, xs_, ys_, tmp_);
    add_mul(s2_, ax, ey, tmp_);
    add_mul(s2_, ex, ay, tmp_);
    add_mul(s2_, ex, ey, tmp_);
  }
  /// The bound on |computed - exact|; throws Overflow if a partial result may overflow.
  /// `rounding` (optional) receives the part due to this dot product's own roundings.
  /// `exact` (optional): the exact value sum_k x_k y_k, for Lemma R.
  void finish(Up& err, const char* what, Up* rounding = nullptr, const Rational* exact = nullptr) {
    mpfr_set_zero(err.v, 1);
    if (rounding) mpfr_set_zero(rounding->v, 1);
    if (t_ == 0) return;
    if (t_ >= a_.gamma.size()) throw std::logic_error("float_bound: gamma table too small");
    std::size_t g = inexact_ ? t_ : t_ - 1;
    // |partial sums|, |products| <= (1 + gamma_t) S1 + inexact * eta <= omega
    Up big;
    mpfr_mul(big.v, a_.gamma1[t_].v, s1_.v, MPFR_RNDU);
    Up under;
    mpfr_mul_ui(under.v, a_.eta.v, inexact_, MPFR_RNDU);
    mpfr_mul(under.v, under.v, a_.gamma1[t_].v, MPFR_RNDU);
    add_to(big, under);
    add_to(big, s2_);
    if (mpfr_cmp(big.v, a_.omega.v) > 0) throw Overflow(std::string("a ") + what + " may overflow");
    // Lemma E: multiples of 2^q in [-neg, pos], both <= 2^(p + q), q above the subnormal spacing.
    if (exact_terms_ && min_valuation_ >= a_.emin - a_.p + 1 &&
        mpfr_cmp_si_2exp(pos_.v, 1, a_.p + min_valuation_) <= 0 &&
        mpfr_cmp_si_2exp(neg_.v, 1, a_.p + min_valuation_) <= 0)
      return;  // err, rounding: 0
    mpfr_mul(err.v, a_.gamma[g].v, s1_.v, MPFR_RNDU);
    add_to(err, under);
    if (rounding) *rounding = err;
    add_to(err, s2_);
    // Lemma R: the result is exact (err 0; the rounding part, used by Lemma S, is unchanged).
    if (exact && snaps(*exact)) mpfr_set_zero(err.v, 1);
  }

 private:
  struct Solo {
    bool exact = false, rounded = false;
    const Rational *x = nullptr, *y = nullptr;  // exact: the product is *x * *y
    Up s1, s2;
  };
  // Lemma R (proofs/float-bound.md): a dot product of one term w (any) and at most one exact term c
  // (known exactly, its float product exactly c) is computed as ONE rounding of v + c, where v is
  // fl(xhat yhat) or xhat yhat, within e_w of the exact product (e_w: Lemma D for that term alone).
  // If the exact value y is a float and e_w is below half the gap from y to its neighbours, the
  // rounding returns y.
  bool snaps(const Rational& y) const {
    std::size_t other;  // the index of the term w
    if (t_ == 1) {
      if (!solo_[0].rounded) return false;  // an exact product (x 1, +-1 y) is not rounded at all
      other = 0;
    } else if (t_ == 2) {
      if (is_float(solo_[1])) other = 0;
      else if (is_float(solo_[0])) other = 1;
      else return false;
    } else {
      return false;
    }
    auto radius = snap_radius(y, a_.p, *a_.format);
    if (!radius) return false;
    const Solo& w = solo_[other];
    Up e = w.s2, tmp;
    if (t_ == 2 && w.rounded) {  // v = fl(xhat yhat): |v - xhat yhat| <= u |xhat yhat| + eta <= gamma_1 S1 + eta
      add_mul(e, a_.gamma[1], w.s1, tmp);
      add_to(e, a_.eta);
    }
    return rational_gt(*radius, e);
  }
  bool is_float(const Solo& so) const {
    if (!so.exact) return false;
    const Rational product = *so.x * *so.y;
    auto r = float_round(product, a_.p, *a_.format);
    return r && *r == product;
  }

  const Arith& a_;
  Solo solo_[2];
  Up s1_, s2_, xs_, ys_, tmp_;
  std::size_t t_ = 0, inexact_ = 0;
  bool exact_terms_ = true;
  long min_valuation_ = 0;
  Up pos_, neg_;  // Lemma E: sums of the positive products and of |negative products|
};

const Up& up_zero() {
  static thread_local Up z;
  return z;
}
const Up& up_one() {
  static thread_local Up o = [] {
    Up x;
    mpfr_set_ui(x.v, 1, MPFR_RNDU);
    return x;
  }();
  return o;
}

/// s += w x, exact: a weight +-1 is an addition or a subtraction, and the product goes through
/// one reused scratch number instead of a fresh Rational (an allocation and a free per product).
void add_product(Rational& s, const Weight& w, const Rational& x) {
  if (w.exact_sign_unit > 0) {
    s += x;
  } else if (w.exact_sign_unit < 0) {
    s -= x;
  } else {
    static thread_local Rational product;
    mpq_mul(product.backend().data(), w.w->backend().data(), x.backend().data());
    s += product;
  }
}

/// y = M x (+ b), exact value and error bound per coordinate.
/// `plain`: every row on its own, every product a fresh Rational (the reference for the
/// differential test). Otherwise a run of equal rows (WMatrix::same_as) shares the dot product's
/// state before the bias term (a copy of the DotBound: the same MPFR values, as every one of
/// its operations would be repeated on the same operands in the same order) and the exact partial
/// sum (exact, so the way it is formed does not matter).
Tracked apply_matrix(const Arith& ar, const Matrix& M, const WMatrix& WM, const Tracked& x, const Vec* b,
                     const std::vector<Weight>* wb, const char* what, std::vector<Up>* rounding = nullptr,
                     bool plain = false) {
  Tracked y;
  y.z.assign(M.rows, Rational(0));
  y.e.resize(M.rows);
  if (rounding) rounding->resize(M.rows);
  std::optional<DotBound> run_db;  // the state of the current run's first row before its bias
  Rational run_sum;
  for (std::size_t i = 0; i < M.rows; ++i) {
    if (!plain && WM.same_as[i] != i) {
      DotBound db = *run_db;
      Rational s = run_sum;
      if (b) {
        s += (*b)[i];
        db.term((*wb)[i].abs, (*wb)[i].err, up_one(), up_zero(), true, &(*wb)[i].hat, &rational_one());
      }
      y.z[i] = std::move(s);
      db.finish(y.e[i], what, rounding ? &(*rounding)[i] : nullptr, &y.z[i]);
      continue;
    }
    DotBound db(ar);
    Rational s(0);
    for (std::size_t k = 0; k < M.cols; ++k) {
      const Weight& w = WM(i, k);
      if (w.zero) continue;
      if (plain) {
        if (*w.w != 0 && x.z[k] != 0) s += *w.w * x.z[k];
      } else if (*w.w != 0 && x.z[k] != 0) {
        add_product(s, w, x.z[k]);
      }
      db.term(w.abs, w.err, x.az[k], x.e[k], w.unit, &w.hat, &x.z[k]);
    }
    if (!plain && i + 1 < M.rows && WM.same_as[i + 1] == i) {
      run_db.emplace(db);
      run_sum = s;
    }
    if (b) {
      s += (*b)[i];
      db.term((*wb)[i].abs, (*wb)[i].err, up_one(), up_zero(), true, &(*wb)[i].hat, &rational_one());
    }
    y.z[i] = std::move(s);
    db.finish(y.e[i], what, rounding ? &(*rounding)[i] : nullptr, &y.z[i]);
  }
  y.refresh_abs();
  return y;
}

struct SequenceResult {
  std::vector<Up> token_err;  // per output token: max coordinate bound
  Up abs_err, rel_err;
  Rational exact_err;
  std::string unstable;
};

std::string list_text(const std::vector<std::size_t>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

class Analysis {
 public:
  /// plain: without the shortcuts (shared runs of equal rows, cached linear parts, add_product),
  /// for the differential test; the same results.
  Analysis(const Model& m, const FloatFormat& f, long p, std::size_t max_len, bool plain = false)
      : m_(m), f_(f), plain_(plain) {
    std::size_t max_n = std::max<std::size_t>(m.d, max_len) + 3;
    for (std::size_t bi = 0; bi < m.blocks.size(); ++bi) {
      const Block& bl = m.blocks[bi];
      std::string at = "/blocks/" + std::to_string(bi);
      PreparedBlock pb;
      if (bl.sa) {
        pb.has_sa = true;
        pb.rho = make_weight(bl.sa->rho, p, f, at + "/sa/rho");
        pb.Q = make_matrix(bl.sa->Q, p, f, at + "/sa/Q");
        pb.K = make_matrix(bl.sa->K, p, f, at + "/sa/K");
        max_n = std::max(max_n, bl.sa->Q.rows + 3);
        pb.factored = bl.sa->factored;
        if (pb.factored) {
          pb.VL = make_matrix(bl.sa->Vleft, p, f, at + "/sa/V/left");
          pb.VR = make_matrix(bl.sa->Vright, p, f, at + "/sa/V/right");
          max_n = std::max(max_n, bl.sa->Vright.rows + 3);
        } else {
          pb.V = make_matrix(bl.sa->V, p, f, at + "/sa/V");
        }
      }
      if (bl.ff) {
        pb.has_ff = true;
        pb.eta = make_weight(bl.ff->eta, p, f, at + "/ff/eta");
        pb.U = make_matrix(bl.ff->U, p, f, at + "/ff/U");
        pb.W = make_matrix(bl.ff->W, p, f, at + "/ff/W");
        for (std::size_t j = 0; j < bl.ff->b.size(); ++j)
          pb.b.push_back(make_weight(bl.ff->b[j], p, f, at + "/ff/b/" + std::to_string(j)));
        max_n = std::max(max_n, bl.ff->W.cols + 3);
        pb.W_hat_nonzero.resize(pb.W.rows);
        pb.W_abs_err.resize(pb.W.rows * pb.W.cols);
        pb.Wb_hat.resize(pb.W.rows * pb.W.cols);
        for (std::size_t c = 0; c < pb.W.rows; ++c)
          for (std::size_t r = 0; r < pb.W.cols; ++r) {
            const Weight& wt = pb.W(c, r);
            if (wt.hat != 0) pb.W_hat_nonzero[c].push_back(r);
            mpfr_add(pb.W_abs_err[c * pb.W.cols + r].v, wt.abs.v, wt.err.v, MPFR_RNDU);
            pb.Wb_hat[c * pb.W.cols + r] = wt.hat * pb.b[r].hat;
          }
      }
      blocks_.push_back(std::move(pb));
    }
    arith_ = std::make_unique<Arith>(p, f, max_n);
  }

  SequenceResult run(const Sequence& seq, std::size_t j) const {
    const Arith& ar = *arith_;
    std::vector<Tracked> toks(seq.input.size());
    for (std::size_t i = 0; i < toks.size(); ++i) {
      Tracked& t = toks[i];
      t.z = seq.input[i];
      t.e.resize(t.z.size());
      for (std::size_t c = 0; c < t.z.size(); ++c) {
        auto r = float_round(t.z[c], ar.p, f_);
        if (!r) throw Overflow("input token " + std::to_string(i) + " of sequence " + std::to_string(j) + " overflows");
        abs_up(t.e[c], *r - t.z[c]);
      }
      t.refresh_abs();
    }
    SequenceResult res;
    for (std::size_t bi = 0; bi < m_.blocks.size(); ++bi) {
      const Block& bl = m_.blocks[bi];
      const PreparedBlock& pb = blocks_[bi];
      try {  // an overflow names its block (the layer to look at)
        if (pb.has_sa) {
          attention(*bl.sa, pb, toks, bi, j, res.unstable);
          if (!res.unstable.empty()) return res;
        }
        if (pb.has_ff)
          for (auto& t : toks) t = feed_forward(*bl.ff, pb, t);
      } catch (const Overflow& e) {
        throw Overflow("block " + std::to_string(bi) + ": " + e.what());
      }
    }
    // Output error against the targets.
    Up tmp;
    res.exact_err = 0;
    for (std::size_t k = 0; k < seq.output.size(); ++k) {
      const Tracked& t = toks[seq.positions[k]];
      const Vec& target = seq.output[k];
      Up tok;
      Rational tmax(1);
      for (std::size_t c = 0; c < target.size(); ++c) {
        Rational diff = abs(t.z[c] - target[c]);
        res.exact_err = std::max(res.exact_err, diff);
        abs_up(tmp, diff);
        add_to(tmp, t.e[c]);
        max_to(tok, tmp);
        tmax = std::max(tmax, abs(target[c]));
      }
      max_to(res.abs_err, tok);
      Up den;
      mpfr_set_q(den.v, tmax.backend().data(), MPFR_RNDD);
      mpfr_div(tmp.v, tok.v, den.v, MPFR_RNDU);
      max_to(res.rel_err, tmp);
    }
    return res;
  }

 private:
  // Lemma H (hardmax) and Lemma A (the average and the residual).
  void attention(const SelfAttention& sa, const PreparedBlock& pb, std::vector<Tracked>& toks, std::size_t bi,
                 std::size_t j, std::string& unstable) const {
    const Arith& ar = *arith_;
    const std::size_t n = toks.size();
    std::vector<Tracked> q(n), k(n), v(n);
    for (std::size_t l = 0; l < n; ++l) {
      q[l] = apply_matrix(ar, sa.Q, pb.Q, toks[l], nullptr, nullptr, "query", nullptr, plain_);
      k[l] = apply_matrix(ar, sa.K, pb.K, toks[l], nullptr, nullptr, "key", nullptr, plain_);
      if (pb.factored) {
        Tracked r = apply_matrix(ar, sa.Vright, pb.VR, toks[l], nullptr, nullptr, "value", nullptr, plain_);
        v[l] = apply_matrix(ar, sa.Vleft, pb.VL, r, nullptr, nullptr, "value", nullptr, plain_);
      } else {
        v[l] = apply_matrix(ar, sa.V, pb.V, toks[l], nullptr, nullptr, "value", nullptr, plain_);
      }
    }
    std::vector<Tracked> out(n);
    std::vector<Rational> s(n);
    std::vector<Up> sigma(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t l = 0; l < n; ++l) {
        DotBound db(ar);
        Rational sum(0);
        for (std::size_t c = 0; c < q[i].z.size(); ++c) {
          sum += q[i].z[c] * k[l].z[c];
          db.term(q[i].az[c], q[i].e[c], k[l].az[c], k[l].e[c], false, &q[i].z[c], &k[l].z[c]);
        }
        s[l] = std::move(sum);
        db.finish(sigma[l], "score", nullptr, &s[l]);
      }
      Rational best = *std::max_element(s.begin(), s.end());
      std::vector<std::size_t> C;
      Up min_sigma_c;
      for (std::size_t l = 0; l < n; ++l)
        if (s[l] == best) {
          if (C.empty() || mpfr_cmp(sigma[l].v, min_sigma_c.v) < 0) mpfr_set(min_sigma_c.v, sigma[l].v, MPFR_RNDU);
          C.push_back(l);
        }
      // Every rival must lose in floating point: gap > sigma_l + min_{c in C} sigma_c.
      Up need;
      for (std::size_t l = 0; l < n; ++l) {
        if (s[l] == best) continue;
        mpfr_add(need.v, sigma[l].v, min_sigma_c.v, MPFR_RNDU);
        if (!rational_gt(best - s[l], need)) {
          std::ostringstream os;
          os << "block " << bi << ", sequence " << j << ", token " << i << ": exact selection {" << list_text(C)
             << "} but token " << l << " is within the score error (gap " << rational_approx(best - s[l])
             << " <= " << rational_approx(up_to_rational(need)) << ")";
          unstable = os.str();
          return;
        }
      }
      // A tie is harmless only if every tied token carries the same exact value V z_l.
      for (std::size_t c = 1; c < C.size(); ++c)
        if (v[C[c]].z != v[C[0]].z) {
          std::ostringstream os;
          os << "block " << bi << ", sequence " << j << ", token " << i << ": exact tie between tokens "
             << list_text(C) << " whose values V z differ (tokens " << C[0] << " and " << C[c]
             << "); floating point may select any subset";
          unstable = os.str();
          return;
        }
      // The average over the float selection (a subset of C): Lemma A.
      const std::size_t d = toks[i].z.size();
      Tracked att;
      att.z = v[C[0]].z;
      att.e.resize(d);
      att.refresh_abs();
      for (std::size_t c = 0; c < d; ++c) {
        Up emax, amax, tmp;
        for (std::size_t l : C) {
          max_to(emax, v[l].e[c]);
          mpfr_add(tmp.v, v[l].az[c].v, v[l].e[c].v, MPFR_RNDU);
          max_to(amax, tmp);
        }
        att.e[c] = emax;
        if (C.size() > 1) {
          std::size_t cc = C.size();
          add_mul(att.e[c], ar.gamma[cc + 1], amax, tmp);
          mpfr_mul_ui(tmp.v, ar.eta.v, cc, MPFR_RNDU);
          mpfr_mul(tmp.v, tmp.v, ar.gamma1[cc + 1].v, MPFR_RNDU);
          add_to(att.e[c], tmp);
          mpfr_mul(tmp.v, amax.v, ar.gamma1[cc + 1].v, MPFR_RNDU);
          mpfr_mul_ui(tmp.v, tmp.v, cc, MPFR_RNDU);  // sum then divide: partial sums of cc values
          if (mpfr_cmp(tmp.v, ar.omega.v) > 0) throw Overflow("an attention average may overflow");
        }
      }
      // out_i = rho z_i + att.
      Tracked& o = out[i];
      o.z.resize(d);
      o.e.resize(d);
      for (std::size_t c = 0; c < d; ++c) {
        DotBound db(ar);
        db.term(pb.rho.abs, pb.rho.err, toks[i].az[c], toks[i].e[c], pb.rho.unit, &pb.rho.hat, &toks[i].z[c]);
        db.term(up_one(), up_zero(), att.az[c], att.e[c], true, &rational_one(), &att.z[c]);
        o.z[c] = sa.rho * toks[i].z[c] + att.z[c];
        db.finish(o.e[c], "attention output", nullptr, &o.z[c]);
      }
      o.refresh_abs();
    }
    toks = std::move(out);
  }

  // The ReLU on the pre-activations h (both feed_forward paths): active[r] = 1 where the float
  // pre-activation is surely >= 0 (e <= a, a >= 0); signs_known false where a sign is not decided;
  // negative exact values become 0, and their error too when e < -a (the float is negative as well).
  static void rectify(Tracked& h, std::string& active, bool& signs_known, std::size_t& n_active) {
    for (std::size_t r = 0; r < h.z.size(); ++r) {
      if (h.z[r] >= 0 && mpfr_cmp_q(h.e[r].v, h.z[r].backend().data()) <= 0) {
        active[r] = 1;
        ++n_active;
      } else {
        Rational neg = -h.z[r];
        if (mpfr_cmp_q(h.e[r].v, neg.backend().data()) > 0) signs_known = false;
      }
      if (h.z[r] < 0) {
        if (rational_gt(-h.z[r], h.e[r])) mpfr_set_zero(h.e[r].v, 1);
        h.z[r] = 0;
      }
    }
    h.refresh_abs();
  }

  // Lemma F: out = eta z + W relu(U z + b); ReLU: exact zero when provably negative, else
  // 1-Lipschitz. Lemma S: when every neuron's sign is known, the layer is one affine map of the
  // float state, and the input error enters only through its (rounded) linear part.
  // The same operations as feed_forward_plain, in the same order on the same operands, except that
  // Lemma S's L_c, c0_c and |L_ck| (functions of the block and the set of active neurons only) come
  // from the block's LinearCache instead of d w d products per token, and exact sums are formed
  // without a temporary per product (add_product).
  Tracked feed_forward(const FeedForward& ff, const PreparedBlock& pb, const Tracked& x) const {
    if (plain_) return feed_forward_plain(ff, pb, x);
    const Arith& ar = *arith_;
    std::vector<Up> rnd;
    Tracked h = apply_matrix(ar, ff.U, pb.U, x, &ff.b, &pb.b, "pre-activation", &rnd);
    const std::size_t w = h.z.size();
    std::string active(w, '\0');  // also the LinearCache key
    bool signs_known = true;
    std::size_t n_active = 0;
    rectify(h, active, signs_known, n_active);
    const std::size_t d = x.z.size();
    Tracked out;
    out.z.assign(d, Rational(0));
    out.e.resize(d);
    Up own_rounding, tmp;
    std::shared_ptr<const LinearPart> lin;
    for (std::size_t c = 0; c < d; ++c) {
      DotBound db(ar);
      Rational s(0);
      if (!pb.eta.zero) {
        add_product(s, pb.eta, x.z[c]);
        db.term(pb.eta.abs, pb.eta.err, x.az[c], x.e[c], pb.eta.unit, &pb.eta.hat, &x.z[c]);
      }
      for (std::size_t r = 0; r < w; ++r) {
        const Weight& wt = pb.W(c, r);
        if (wt.zero) continue;
        if (h.z[r] != 0) add_product(s, wt, h.z[r]);
        db.term(wt.abs, wt.err, h.az[r], h.e[r], wt.unit, &wt.hat, &h.z[r]);
      }
      out.z[c] = std::move(s);
      db.finish(out.e[c], "feed-forward output", &own_rounding, &out.z[c]);
      if (!signs_known || n_active == 0) continue;
      // Lemma S: float out_c = L.zhat + c0 + sum_active What_cr rho_r + (rounding of this dot).
      if (!lin) lin = linear_part(pb, active);
      const LinearPart::Coord& lc = lin->coord[c];
      Up alt = own_rounding;
      for (std::size_t r : pb.W_hat_nonzero[c]) {
        if (!active[r]) continue;
        mpfr_mul(tmp.v, pb.W_abs_err[c * w + r].v, rnd[r].v, MPFR_RNDU);
        add_to(alt, tmp);
      }
      Rational dev = lc.c0 - out.z[c];
      Up t2;
      for (std::size_t i = 0; i < lc.k.size(); ++i) {
        const std::size_t k = lc.k[i];
        dev += lc.L[i] * x.z[k];
        mpfr_mul(t2.v, lc.abs_L[i].v, x.e[k].v, MPFR_RNDU);
        add_to(alt, t2);
      }
      abs_up(tmp, dev);
      add_to(alt, tmp);
      if (mpfr_cmp(alt.v, out.e[c].v) < 0) out.e[c] = alt;
    }
    out.refresh_abs();
    return out;
  }

  // Lemma S's linear part of block pb for the active set `active` (1 = active): per output
  // coordinate c, L_c = eta_hat e_c + sum_{r active, What_cr != 0} What_cr Uhat_r and
  // c0_c = sum What_cr bhat_r: the exact values feed_forward_plain forms, formed with less work.
  // A run of equal rows of U (WMatrix::same_as; a hat's U = 1 u^T) contributes
  // (sum over its active r of What_cr) Uhat_run: by distributivity the same rationals, with d
  // products per run instead of d per neuron; and What_cr bhat_r comes from
  // PreparedBlock::Wb_hat. Cached per block (the first kMaxCachedSets sets met; a later one is
  // formed for the token and dropped).
  std::shared_ptr<const LinearPart> linear_part(const PreparedBlock& pb, const std::string& active) const {
    LinearCache& cache = *pb.linear;
    {
      std::lock_guard<std::mutex> lock(cache.mu);
      auto it = cache.parts.find(active);
      if (it != cache.parts.end()) return it->second;
    }
    const std::size_t d = pb.W.rows, w = pb.W.cols;
    auto part = std::make_shared<LinearPart>();
    part->coord.resize(d);
    Rational run_weight;  // 0 at the start of every run
    for (std::size_t c = 0; c < d; ++c) {
      Vec L(d, Rational(0));
      L[c] = pb.eta.hat;
      Rational c0(0);
      for (std::size_t r = 0; r < w; ++r) {
        if (active[r] && pb.W(c, r).hat != 0) {
          run_weight += pb.W(c, r).hat;
          c0 += pb.Wb_hat[c * w + r];
        }
        if (r + 1 < w && pb.U.same_as[r + 1] != r + 1) continue;  // the run goes on
        if (run_weight == 0) continue;
        const std::size_t first = pb.U.same_as[r];
        for (std::size_t k = 0; k < d; ++k)
          if (pb.U(first, k).hat != 0) L[k] += run_weight * pb.U(first, k).hat;
        run_weight = 0;
      }
      LinearPart::Coord& lc = part->coord[c];
      lc.c0 = std::move(c0);
      for (std::size_t k = 0; k < d; ++k) {
        if (L[k] == 0) continue;
        lc.k.push_back(k);
        lc.abs_L.emplace_back();
        abs_up(lc.abs_L.back(), L[k]);
        lc.L.push_back(std::move(L[k]));
      }
    }
    std::lock_guard<std::mutex> lock(cache.mu);
    if (cache.parts.size() < kMaxCachedSets) cache.parts.emplace(active, part);  // a racing twin is equal
    return part;
  }

  // feed_forward as first written: Lemma S's linear part formed anew for every token. The
  // reference of the differential test (tests/float_bound_test.cpp).
  Tracked feed_forward_plain(const FeedForward& ff, const PreparedBlock& pb, const Tracked& x) const {
    const Arith& ar = *arith_;
    std::vector<Up> rnd;
    Tracked h = apply_matrix(ar, ff.U, pb.U, x, &ff.b, &pb.b, "pre-activation", &rnd, true);
    const std::size_t w = h.z.size();
    std::string active(w, '\0');
    bool signs_known = true;
    std::size_t n_active = 0;
    rectify(h, active, signs_known, n_active);
    const std::size_t d = x.z.size();
    Tracked out;
    out.z.assign(d, Rational(0));
    out.e.resize(d);
    Up own_rounding, tmp;
    for (std::size_t c = 0; c < d; ++c) {
      DotBound db(ar);
      Rational s(0);
      if (!pb.eta.zero) {
        s += ff.eta * x.z[c];
        db.term(pb.eta.abs, pb.eta.err, x.az[c], x.e[c], pb.eta.unit, &pb.eta.hat, &x.z[c]);
      }
      for (std::size_t r = 0; r < w; ++r) {
        const Weight& wt = pb.W(c, r);
        if (wt.zero) continue;
        if (h.z[r] != 0) s += *wt.w * h.z[r];
        db.term(wt.abs, wt.err, h.az[r], h.e[r], wt.unit, &wt.hat, &h.z[r]);
      }
      out.z[c] = std::move(s);
      db.finish(out.e[c], "feed-forward output", &own_rounding, &out.z[c]);
      if (!signs_known || n_active == 0) continue;
      // Lemma S: float out_c = L.zhat + c0 + sum_active What_cr rho_r + (rounding of this dot).
      Vec L(d, Rational(0));
      L[c] = pb.eta.hat;
      Rational c0(0);
      Up alt = own_rounding;
      for (std::size_t r = 0; r < w; ++r) {
        if (!active[r]) continue;
        const Weight& wt = pb.W(c, r);
        if (wt.hat == 0) continue;
        for (std::size_t k = 0; k < d; ++k)
          if (pb.U(r, k).hat != 0) L[k] += wt.hat * pb.U(r, k).hat;
        c0 += wt.hat * pb.b[r].hat;
        mpfr_add(tmp.v, wt.abs.v, wt.err.v, MPFR_RNDU);
        add_mul(alt, tmp, rnd[r], tmp);
      }
      Rational dev = c0 - out.z[c];
      for (std::size_t k = 0; k < d; ++k) {
        if (L[k] == 0) continue;
        dev += L[k] * x.z[k];
        abs_up(tmp, L[k]);
        Up t2;
        mpfr_mul(t2.v, tmp.v, x.e[k].v, MPFR_RNDU);
        add_to(alt, t2);
      }
      abs_up(tmp, dev);
      add_to(alt, tmp);
      if (mpfr_cmp(alt.v, out.e[c].v) < 0) out.e[c] = alt;
    }
    out.refresh_abs();
    return out;
  }

  const Model& m_;
  const FloatFormat& f_;
  bool plain_ = false;
  std::vector<PreparedBlock> blocks_;
  std::unique_ptr<Arith> arith_;
};

}  // namespace

namespace {

FloatBound hardmax_or_softmax_bound(const Model& model, const Dataset& ds, const FloatFormat& format, long p,
                                    unsigned threads, long exp_ulps, bool plain) {
  if (p < 2) throw std::invalid_argument("float_error_bound: precision must be >= 2 bits");
  FloatBound out;
  out.precision = p;
  if (model.mask != MaskKind::None) {
    out.status = FloatBound::Status::Unsupported;
    out.why = "causal (masked) models: the floating-point analysis covers unmasked attention only";
    return out;
  }
  if (model.attention == AttentionKind::Softmax) return float_softmax_bound(model, ds, format, p, exp_ulps, threads);
  std::size_t max_len = 1;
  for (const auto& s : ds.sequences) max_len = std::max(max_len, s.input.size());
  std::unique_ptr<Analysis> an;
  try {
    an = std::make_unique<Analysis>(model, format, p, max_len, plain);
  } catch (const Overflow& e) {
    out.status = FloatBound::Status::Overflow;
    out.why = e.what();
    return out;
  } catch (const std::overflow_error& e) {
    out.status = FloatBound::Status::Overflow;
    out.why = e.what();
    return out;
  }
  std::vector<SequenceResult> res(ds.sequences.size());
  std::vector<std::string> overflow(ds.sequences.size());
  parallel_for(
      ds.sequences.size(), threads,
      [&](std::size_t j) {
        try {
          res[j] = an->run(ds.sequences[j], j);
        } catch (const Overflow& e) {
          overflow[j] = "sequence " + std::to_string(j) + ": " + e.what();
        }
      },
      [] { mpfr_free_cache(); });
  Up abs_err, rel_err;
  out.exact_error = 0;
  for (std::size_t j = 0; j < res.size(); ++j) {
    if (!overflow[j].empty()) {
      out.status = FloatBound::Status::Overflow;
      out.why = overflow[j];
      return out;
    }
    if (!res[j].unstable.empty()) {
      out.status = FloatBound::Status::Unstable;
      out.why = res[j].unstable;
      return out;
    }
    max_to(abs_err, res[j].abs_err);
    max_to(rel_err, res[j].rel_err);
    out.exact_error = std::max(out.exact_error, res[j].exact_err);
  }
  out.bound = up_to_rational(abs_err);
  out.relative = up_to_rational(rel_err);
  return out;
}

}  // namespace

FloatBound float_error_bound(const Model& model, const Dataset& ds, const FloatFormat& format, long p,
                             unsigned threads, long exp_ulps) {
  return hardmax_or_softmax_bound(model, ds, format, p, threads, exp_ulps, false);
}

FloatBound float_error_bound_plain(const Model& model, const Dataset& ds, const FloatFormat& format, long p,
                                   unsigned threads) {
  return hardmax_or_softmax_bound(model, ds, format, p, threads, 2, true);
}

namespace {

// The precision search's question only: does float_error_bound(p) give ok() and a bound <= epsilon?
// Hardmax models: the same per-sequence analysis, but the workers stop at the first sequence that
// overflows, is unstable or exceeds epsilon (a "no" usually costs a few sequences, not all). The
// answer equals the plain one: the plain bound is the max over sequences (up_to_rational is exact,
// so monotone) and ok() iff no sequence overflows or is unstable. nullopt: not decided here (causal
// or softmax models, or the analysis' own set-up overflows): ask float_error_bound.
std::optional<bool> certifies_early(const Model& model, const Dataset& ds, const FloatFormat& format, long p,
                                    const Rational& epsilon, bool relative, unsigned threads) {
  if (model.mask != MaskKind::None || model.attention == AttentionKind::Softmax || p < 2) return std::nullopt;
  std::size_t max_len = 1;
  for (const auto& s : ds.sequences) max_len = std::max(max_len, s.input.size());
  std::unique_ptr<Analysis> an;
  try {
    an = std::make_unique<Analysis>(model, format, p, max_len);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::atomic<bool> no{false};
  parallel_for(
      ds.sequences.size(), threads,
      [&](std::size_t j) {
        if (no.load(std::memory_order_relaxed)) return;
        try {
          SequenceResult r = an->run(ds.sequences[j], j);
          if (!r.unstable.empty() || up_to_rational(relative ? r.rel_err : r.abs_err) > epsilon) no = true;
        } catch (const Overflow&) {
          no = true;
        }
      },
      [] { mpfr_free_cache(); });
  return !no.load();
}

}  // namespace

PrecisionNeeded float_precision_needed(const Model& model, const Dataset& ds, const FloatFormat& format,
                                       const Rational& epsilon, bool relative, unsigned threads, long max_bits,
                                       long exp_ulps, const FloatBound* known, const PrecisionProbe& probe) {
  return float_precision_search(model, ds, format, epsilon, relative, threads, max_bits, exp_ulps, true, known, probe);
}

PrecisionNeeded float_precision_search(const Model& model, const Dataset& ds, const FloatFormat& format,
                                       const Rational& epsilon, bool relative, unsigned threads, long max_bits,
                                       long exp_ulps, bool early_exit, const FloatBound* known,
                                       const PrecisionProbe& probe) {
  PrecisionNeeded out;
  out.max_bits = max_bits;
  std::string last_why;
  bool why_pending = false;  // last_why not known yet: the last "no" came from certifies_early
  auto decide = [&](long p, bool plain) {
    if (early_exit && !plain && !(known && known->precision == p))
      if (auto yes = certifies_early(model, ds, format, p, epsilon, relative, threads)) {
        why_pending = !*yes;
        return *yes;
      }
    why_pending = false;
    // The caller's float_error_bound at this precision is the plain search's own question.
    FloatBound computed = known && known->precision == p ? FloatBound{}
                                                         : float_error_bound(model, ds, format, p, threads, exp_ulps);
    const FloatBound& b = known && known->precision == p ? *known : computed;
    if (!b.ok()) {
      last_why = b.why;
      return false;
    }
    bool ok = (relative ? b.relative : b.bound) <= epsilon;
    if (!ok) last_why = "bound " + rational_approx(relative ? b.relative : b.bound) + " > epsilon";
    return ok;
  };
  auto certifies = [&](long p, bool plain = false) {
    bool yes = decide(p, plain);
    if (probe) probe(p, yes);
    return yes;
  };
  long lo = 1, hi = format.p;  // lo: not certified (or below the minimum), hi: certified
  if (!certifies(hi)) {
    for (;;) {
      lo = hi;
      if (hi >= max_bits) {
        if (why_pending) certifies(hi, true);  // the reason, as the plain search gives it
        out.why_not = last_why;
        return out;
      }
      hi = std::min(2 * hi, max_bits);
      if (certifies(hi)) break;
    }
  }
  while (hi - lo > 1) {
    long mid = lo + (hi - lo) / 2;
    if (mid >= 2 && certifies(mid)) hi = mid;
    else lo = mid;
  }
  out.bits = hi;
  return out;
}

std::optional<std::string> float_data_obstruction(const Dataset& ds, const FloatFormat& f, bool causal) {
  // Rounding is applied coordinate-wise. An unmasked float model sees only the rounded token and the
  // multiset of rounded tokens of the sequence; a causal one the rounded prefix up to the token.
  std::map<std::pair<std::vector<Vec>, Vec>, std::pair<Vec, std::string>> need;
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    const Sequence& s = ds.sequences[j];
    std::vector<Vec> r(s.input.size());
    for (std::size_t i = 0; i < s.input.size(); ++i)
      for (const auto& x : s.input[i]) {
        auto y = float_round(x, f.p, f);
        if (!y) return "sequence " + std::to_string(j) + ", token " + std::to_string(i) + " overflows in " + f.name;
        r[i].push_back(*y);
      }
    std::vector<Vec> ctx = r;
    std::sort(ctx.begin(), ctx.end(), lex_less);
    for (std::size_t k = 0; k < s.output.size(); ++k) {
      const std::size_t pos = s.positions[k];
      auto key = causal ? std::make_pair(std::vector<Vec>(r.begin(), r.begin() + pos + 1), r[pos])
                        : std::make_pair(ctx, r[pos]);
      std::string where = "sequence " + std::to_string(j) + " position " + std::to_string(pos) + " (token " +
                          vec_text(s.input[pos]) + ")";
      auto [it, fresh] = need.emplace(key, std::make_pair(s.output[k], where));
      if (!fresh && it->second.first != s.output[k])
        return it->second.second + " and " + where + " hold the same token in the same " +
               (causal ? "prefix" : "context") + " after rounding to " + f.name + " but need different targets " +
               vec_text(it->second.first) + " and " + vec_text(s.output[k]);
    }
  }
  return std::nullopt;
}

}  // namespace interpcert
