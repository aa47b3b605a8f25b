#include "feed_forward_plan.hpp"
#include "machine_rational.hpp"
#include "machine_wide_sum.hpp"
#include "matrix_walk.hpp"

#include <gmp.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <numeric>

namespace interpcert {

namespace {

// U(i, j) == U(i, p) u_j, in machine fractions when all three fit (the product unreduced: cmp
// cross-multiplies), else in GMP. `uq` is u_j as a machine fraction when `u_fits`.
bool entry_matches(const Rational& x, const Rational& pivot, const Rational& u, const machine::Q& uq, bool u_fits) {
  machine::Q xq, pq, product;
  int order;
  if (u_fits && machine::q_of(x, xq) && machine::q_of(pivot, pq) && machine::checked_mul(pq.n, uq.n, product.n) &&
      machine::checked_mul(pq.d, uq.d, product.d) && machine::checked_cmp(xq, product, order))
    return order == 0;
  return x == pivot * u;
}

}  // namespace

std::optional<Vec> rank_one_direction(const Matrix& U, bool gmp_only) {
  const std::size_t d = U.cols;
  std::size_t r0 = U.rows, p = d;
  for (std::size_t i = 0; i < U.rows && r0 == U.rows; ++i)
    for (std::size_t j = 0; j < d; ++j)
      if (U(i, j) != 0) {
        r0 = i;
        p = j;
        break;
      }
  if (r0 == U.rows) return Vec{};
  Vec u(d);
  for (std::size_t j = 0; j < d; ++j) u[j] = U(r0, j) / U(r0, p);
  if (gmp_only) {
    for (std::size_t i = 0; i < U.rows; ++i)
      for (std::size_t j = 0; j < d; ++j)
        if (U(i, j) != U(i, p) * u[j]) return std::nullopt;
    return u;
  }
  std::vector<machine::Q> uq(d);
  std::vector<char> u_fits(d);
  for (std::size_t j = 0; j < d; ++j) u_fits[j] = machine::q_of(u[j], uq[j]);
  for (std::size_t i = 0; i < U.rows; ++i)
    for (std::size_t j = 0; j < d; ++j)
      if (!entry_matches(U(i, j), U(i, p), u[j], uq[j], u_fits[j])) return std::nullopt;
  return u;
}

namespace {

bool is_zero(const Vec& v) {
  for (const auto& x : v)
    if (x != 0) return false;
  return true;
}

void add_column(Vec& acc, const Matrix& W, std::size_t j, const Rational& s, int sign) {
  if (s == 0) return;
  for (std::size_t c = 0; c < acc.size(); ++c) {
    if (sign > 0) acc[c] += W(c, j) * s;
    else acc[c] -= W(c, j) * s;
  }
}

// An entry of W as n/d in lowest terms when both fit in int64; d == 0 when they do not.
struct SmallFraction {
  std::int64_t n = 0, d = 0;
};

// One coordinate of a running sum A or B of the pieces: a machine fraction while it and its terms
// fit in __int128 (hat layers: ~20- to 120-bit numbers), a GMP rational otherwise. Either way the
// exact value, in lowest terms, so a piece reads the same from both (tests/evaluate_fast_test.cpp).
// The sums change at every breakpoint (d coordinates, twice): in GMP each change was a
// multiplication and an addition of rationals (two gcds and allocations), half of the exact
// verification at 10^6 tokens. A sum whose cross products leave __int128 while the sum fits
// (~2% of the changes at 10^7 tokens) is added in 256 bits (machine_wide_sum.hpp); only a sum
// that itself leaves the range goes to GMP, and comes back when it fits again.
struct RunningSum {
  machine::Q q;
  bool big = false;  // the value is r, not q
  Rational r;

  bool is_zero() const { return big ? r == 0 : q.n == 0; }
  Rational value() const {
    if (big) return r;
    if (q.d == 1 && machine::fits64(q.n)) return Rational(static_cast<long>(q.n));  // zero, mostly
    return machine::to_rational_reduced(q);  // q is in lowest terms: every operation on it reduces
  }
  // += sign * w * s; sq is s as a machine fraction when `s_fits`; wf is w when wf.d != 0
  // (column_table), else w is read from the matrix.
  void add_product(const SmallFraction& wf, const Rational& w, const Rational& s, const machine::Q& sq, bool s_fits,
                   int sign) {
    if (!big && s_fits) {
      machine::Q wq;
      if (wf.d != 0) wq = machine::Q{wf.n, wf.d};
      // w s unreduced (the sum is reduced: one gcd per term, not two).
      machine::Q term, sum;
      if ((wf.d != 0 || machine::q_of(w, wq)) && machine::checked_mul(wq.n, sq.n, term.n) &&
          machine::checked_mul(wq.d, sq.d, term.d)) {
        if (sign < 0) term.n = -term.n;  // never -2^127: the checked operations refuse it
        if (machine::checked_add(q, term, sum) || machine::add_wide(q, term, sum)) {
          q = sum;
          return;
        }
      }
    }
    if (!big) r = machine::to_rational(q), big = true;
    if (sign > 0) r += w * s;
    else r -= w * s;
    if (machine::q_of(r, q)) big = false;  // back to machine arithmetic once it fits again
  }
};

// W's columns as fractions of int64, column after column (d entries each, in W's own lowest
// terms). The sweep below visits W's columns in breakpoint order, i.e. at random: in the row-major
// W a column is d struct lines w entries apart (19 MB at 10^7 tokens: a cache and a TLB miss
// each) plus their limbs; here it is d * 16 contiguous bytes, built by one pass over W in address
// order (matrix_walk.hpp). d == 0 marks an entry that is no such fraction: the sweep reads it from W.
std::vector<SmallFraction> column_table(const Matrix& W) {
  std::vector<SmallFraction> table(W.rows * W.cols);
  walk::column_blocks(
      W,
      [&](std::size_t i, std::size_t j, const Rational& x) {
        mpq_srcptr q = x.backend().data();
        if (mpz_fits_slong_p(mpq_numref(q)) && mpz_fits_slong_p(mpq_denref(q)))
          table[j * W.rows + i] = SmallFraction{mpz_get_si(mpq_numref(q)), mpz_get_si(mpq_denref(q))};
      },
      [](std::size_t, std::size_t) {});
  return table;
}

void add_column_machine(std::vector<RunningSum>& acc, const Matrix& W, const SmallFraction* column, std::size_t j,
                        const Rational& s, int sign) {
  if (s == 0) return;
  machine::Q sq;
  const bool s_fits = machine::q_of(s, sq);
  for (std::size_t c = 0; c < acc.size(); ++c) acc[c].add_product(column[c], W(c, j), s, sq, s_fits, sign);
}

// --- the pieces' compact rows ------------------------------------------------------------------

// An integer of at most 127 bits (|z| <= 2^127 - 1: any __int128 but -2^127, which the checked
// operations of machine_rational.hpp refuse) as an __int128.
bool i128_of(mpz_srcptr z, machine::i128& out) { return machine::int_of(z, out, 127); }

// The plain conversion (the tests' reference): a piece's canonical GMP coordinates over their least
// common denominator (mpz_lcm), kept as a row when den and every numerator fit (i128_of).
void push_values(FeedForwardPlan& plan, const Vec& A, const Vec& B) {
  const std::size_t d = A.size();
  Integer den(1), num;
  for (const Vec* v : {&A, &B})
    for (const auto& x : *v) mpz_lcm(den.backend().data(), den.backend().data(), mpq_denref(x.backend().data()));
  std::vector<machine::i128> row(1 + 2 * d);
  bool fits = i128_of(den.backend().data(), row[0]);
  for (std::size_t c = 0; c < 2 * d && fits; ++c) {
    mpq_srcptr x = (c < d ? A[c] : B[c - d]).backend().data();
    mpz_divexact(num.backend().data(), den.backend().data(), mpq_denref(x));
    mpz_mul(num.backend().data(), num.backend().data(), mpq_numref(x));
    fits = i128_of(num.backend().data(), row[1 + c]);
  }
  if (fits) plan.push_machine(row[0], &row[1], &row[1 + d]);
  else plan.push_gmp(A, B);
}

// The machine conversion, from the running sums (each a lowest-terms fraction): the same row as
// push_values gives, or false exactly when push_values would not find one (a number beyond 127 bits:
// the lcm only grows, and each numerator is n (den / d) with |n| >= 1). Checked builtins, not
// machine::Overflow: a piece that does not fit is an ordinary outcome here, not an exception.
bool machine_row_of(const std::vector<RunningSum>& A, const std::vector<RunningSum>& B, machine::i128* row) {
  using machine::i128;
  using machine::u128;
  const std::size_t d = A.size();
  auto fraction = [&](std::size_t c, i128& n, i128& den) {
    const RunningSum& x = c < d ? A[c] : B[c - d];
    if (!x.big) {
      n = x.q.n, den = x.q.d;
      return true;
    }
    mpq_srcptr r = x.r.backend().data();
    return i128_of(mpq_numref(r), n) && i128_of(mpq_denref(r), den);
  };
  constexpr u128 kMax = (static_cast<u128>(1) << 127) - 1;
  u128 den = 1;
  for (std::size_t c = 0; c < 2 * d; ++c) {
    i128 n, q;
    if (!fraction(c, n, q)) return false;
    row[1 + c] = n;  // scaled below
    // Mostly one denominator per piece (a hat's): no 128-bit division once den is it.
    if (q == 1 || static_cast<u128>(q) == den || den % static_cast<u128>(q) == 0) continue;
    const u128 m = den / machine::gcd128(den, static_cast<u128>(q));
    if (__builtin_mul_overflow(m, static_cast<u128>(q), &den) || den > kMax) return false;
  }
  row[0] = static_cast<i128>(den);
  if (den == 1) return true;
  for (std::size_t c = 0; c < 2 * d; ++c) {
    i128 n = 0, q = 1;
    fraction(c, n, q);  // succeeded in the first pass
    if (n == 0) continue;
    const auto f = static_cast<u128>(q) == den ? i128{1} : static_cast<i128>(den / static_cast<u128>(q));
    if (__builtin_mul_overflow(n, f, &row[1 + c]) || row[1 + c] == machine::kMin128) return false;
  }
  return true;
}

// Sorts the neurons `order` by their breakpoints beta (equal ones in any order: a piece's values are
// exact sums, the same in any order). `plain` (the tests' reference): a comparison sort of the GMP
// rationals. Otherwise, when every beta is a fraction of int64s (the construction's are integers
// of ~50 bits), a sort of machine keys compared by cross-multiplication in __int128: the GMP sort
// was 5.0 G instructions at 10^7 tokens, x17 its 10^6 count for x10 the neurons.
void sort_by_breakpoint(std::vector<std::size_t>& order, const std::vector<Rational>& beta, bool plain) {
  struct Key {
    std::int64_t n, d;  // beta = n / d, d >= 1
    std::size_t j;
  };
  std::vector<Key> keys;
  if (!plain) {
    keys.reserve(order.size());
    for (std::size_t j : order) {
      mpq_srcptr q = beta[j].backend().data();
      if (!mpz_fits_slong_p(mpq_numref(q)) || !mpz_fits_slong_p(mpq_denref(q))) break;
      keys.push_back(Key{mpz_get_si(mpq_numref(q)), mpz_get_si(mpq_denref(q)), j});
    }
  }
  if (plain || keys.size() < order.size()) {
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return beta[x] < beta[y]; });
    return;
  }
  std::sort(keys.begin(), keys.end(), [](const Key& x, const Key& y) {
    if (x.d == y.d) return x.n < y.n;
    return static_cast<machine::i128>(x.n) * y.d < static_cast<machine::i128>(y.n) * x.d;
  });
  for (std::size_t k = 0; k < keys.size(); ++k) order[k] = keys[k].j;
}

}  // namespace

FeedForwardPlan plan_feed_forward(const FeedForward& ff, bool gmp_sums) {
  FeedForwardPlan plan;
  auto dir = rank_one_direction(ff.U);
  if (!dir) return plan;
  plan.rank_one = true;
  plan.u = std::move(*dir);
  const std::size_t w = ff.U.rows, d = ff.W.rows;
  // Neuron j computes relu(c_j t + b_j) with c_j = U(j, p) for the pivot column p of u.
  std::vector<Rational> c(w);
  if (!plan.u.empty()) {
    std::size_t p = 0;
    while (plan.u[p] == 0) ++p;
    for (std::size_t j = 0; j < w; ++j) c[j] = ff.U(j, p);
  }
  std::vector<Rational> beta(w);
  std::vector<std::size_t> order;
  for (std::size_t j = 0; j < w; ++j)
    if (c[j] != 0) {
      beta[j] = -ff.b[j] / c[j];
      order.push_back(j);
    }
  sort_by_breakpoint(order, beta, gmp_sums);
  for (auto j : order)
    if (plan.breaks.empty() || plan.breaks.back() != beta[j]) plan.breaks.push_back(beta[j]);

  // Leftmost piece (t -> -inf): neurons with c_j < 0 are active, and constant ones with b_j > 0.
  // Then, crossing a breakpoint left to right: c_j > 0 neurons switch on, c_j < 0 switch off.
  auto sweep = [&](auto& A, auto& B, auto add, auto push) {
    for (std::size_t j = 0; j < w; ++j) {
      if (c[j] < 0 || (c[j] == 0 && ff.b[j] > 0)) {
        add(A, ff.W, j, c[j], +1);
        add(B, ff.W, j, ff.b[j], +1);
      }
    }
    push();
    std::size_t at = 0;
    for (const auto& bp : plan.breaks) {
      while (at < order.size() && beta[order[at]] == bp) {
        std::size_t j = order[at++];
        int sgn = c[j] > 0 ? +1 : -1;
        add(A, ff.W, j, c[j], sgn);
        add(B, ff.W, j, ff.b[j], sgn);
      }
      push();
    }
  };
  plan.start(d, plan.breaks.size() + 1);
  if (gmp_sums) {
    Vec A(d), B(d);
    sweep(A, B, add_column, [&] {
      if (is_zero(A) && is_zero(B)) plan.push_zero();
      else push_values(plan, A, B);
    });
  } else {
    std::vector<RunningSum> A(d), B(d);
    auto zero = [](const std::vector<RunningSum>& v) {
      for (const auto& x : v)
        if (!x.is_zero()) return false;
      return true;
    };
    auto values = [](const std::vector<RunningSum>& v) {
      Vec out(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i].value();
      return out;
    };
    const std::vector<SmallFraction> table = column_table(ff.W);
    auto add = [&](std::vector<RunningSum>& acc, const Matrix& W, std::size_t j, const Rational& s, int sign) {
      add_column_machine(acc, W, table.data() + j * d, j, s, sign);
    };
    std::vector<machine::i128> row(1 + 2 * d);
    sweep(A, B, add, [&] {
      if (zero(A) && zero(B)) plan.push_zero();
      else if (machine_row_of(A, B, row.data())) plan.push_machine(row[0], &row[1], &row[1 + d]);
      else plan.push_gmp(values(A), values(B));
    });
  }
  return plan;
}

std::size_t FeedForwardPlan::piece_of(const Rational& t) const {
  return static_cast<std::size_t>(std::lower_bound(breaks.begin(), breaks.end(), t) - breaks.begin());
}

void FeedForwardPlan::start(std::size_t d, std::size_t pieces) {
  d_ = d;
  rows_.reserve(pieces * (1 + 2 * d));
}

void FeedForwardPlan::push_zero() { rows_.resize(rows_.size() + 1 + 2 * d_); }

void FeedForwardPlan::push_machine(__int128 den, const __int128* a, const __int128* b) {
  rows_.push_back(den);
  rows_.insert(rows_.end(), a, a + d_);
  rows_.insert(rows_.end(), b, b + d_);
}

void FeedForwardPlan::push_gmp(Vec A, Vec B) {
  const std::size_t at = rows_.size();
  push_zero();
  rows_[at] = -1 - static_cast<__int128>(gmp_.size() / 2);
  gmp_.push_back(std::move(A));
  gmp_.push_back(std::move(B));
}

void FeedForwardPlan::values(std::size_t k, Vec& A, Vec& B) const {
  switch (kind(k)) {
    case PieceKind::Zero:
      A.assign(d_, Rational(0));
      B.assign(d_, Rational(0));
      return;
    case PieceKind::Gmp:
      A = gmp_a(k);
      B = gmp_b(k);
      return;
    case PieceKind::Machine: {
      const __int128* row = machine_row(k);
      A.resize(d_);
      B.resize(d_);
      for (std::size_t c = 0; c < 2 * d_; ++c) {
        machine::Q x{row[1 + c], row[0]};
        machine::reduce(x);
        (c < d_ ? A[c] : B[c - d_]) = machine::to_rational_reduced(x);
      }
      return;
    }
  }
}

namespace {

inline bool integral(const Rational& q) { return mpz_cmp_ui(mpq_denref(q.backend().data()), 1) == 0; }

// z + (a t + b) / den for one coordinate of a Machine piece, in GMP. Integers (den = 1, t and z
// integral: hat layers' common case) take numerators only, in __int128 when everything fits a word.
// An integer mpq is canonical, and the general line canonicalizes: the same mpq as the plain
// z + A t + B (tests/evaluate_fast_test.cpp).
void add_machine_coordinate(machine::i128 a, machine::i128 b, machine::i128 den, const Rational& t, bool t_int,
                            bool t_word, long tv, Rational& z, Integer& x, Integer& y) {
  using machine::fits64;
  mpq_ptr zq = z.backend().data();
  mpz_ptr zn = mpq_numref(zq);
  if (den == 1 && t_int && integral(z)) {
    if (t_word && fits64(a) && fits64(b) && mpz_fits_slong_p(zn)) {
      // |z + a t + b| < 2^127: no overflow. Stored in place when it fits in a word (mpz_add would
      // grow z to two limbs for a possible carry on every call).
      const __int128 r = static_cast<__int128>(mpz_get_si(zn)) + a * tv + b;
      if (r >= LONG_MIN && r <= LONG_MAX) {
        mpz_set_si(zn, static_cast<long>(r));
        return;
      }
    }
    machine::set_mpz(x.backend().data(), a);
    mpz_addmul(zn, x.backend().data(), mpq_numref(t.backend().data()));
    machine::set_mpz(x.backend().data(), b);
    mpz_add(zn, zn, x.backend().data());
    return;
  }
  // s = (a tn + b td) / (den td), then z + s.
  mpq_srcptr tq = t.backend().data();
  Rational s;
  mpq_ptr sq = s.backend().data();
  machine::set_mpz(x.backend().data(), a);
  mpz_mul(mpq_numref(sq), x.backend().data(), mpq_numref(tq));
  machine::set_mpz(y.backend().data(), b);
  mpz_addmul(mpq_numref(sq), y.backend().data(), mpq_denref(tq));
  machine::set_mpz(x.backend().data(), den);
  mpz_mul(mpq_denref(sq), x.backend().data(), mpq_denref(tq));
  mpq_canonicalize(sq);
  mpq_add(zq, zq, sq);
}

}  // namespace

void add_piece(const FeedForwardPlan& plan, std::size_t k, const Rational& t, Vec& z) {
  if (plan.piece_is_zero(k)) return;
  const bool t_int = integral(t);
  const bool t_word = t_int && mpz_fits_slong_p(mpq_numref(t.backend().data()));
  const long tv = t_word ? mpz_get_si(mpq_numref(t.backend().data())) : 0;
  if (plan.kind(k) == FeedForwardPlan::PieceKind::Machine) {
    const __int128* row = plan.machine_row(k);
    const std::size_t d = z.size();
    Integer x, y;
    for (std::size_t c = 0; c < d; ++c)
      add_machine_coordinate(row[1 + c], row[1 + d + c], row[0], t, t_int, t_word, tv, z[c], x, y);
    return;
  }
  const Vec &A = plan.gmp_a(k), &B = plan.gmp_b(k);
  Rational s;
  for (std::size_t c = 0; c < z.size(); ++c) {
    const Rational &a = A[c], &b = B[c];
    if (t_int && integral(a) && integral(b) && integral(z[c])) {
      mpz_ptr zn = mpq_numref(z[c].backend().data());
      mpz_addmul(zn, mpq_numref(a.backend().data()), mpq_numref(t.backend().data()));
      mpz_add(zn, zn, mpq_numref(b.backend().data()));
      continue;
    }
    mpq_mul(s.backend().data(), a.backend().data(), t.backend().data());
    mpq_add(z[c].backend().data(), z[c].backend().data(), s.backend().data());
    mpq_add(z[c].backend().data(), z[c].backend().data(), b.backend().data());
  }
}

void apply_feed_forward_in_place(const FeedForward& ff, const FeedForwardPlan& plan, Vec& z) {
  if (plan.rank_one) {
    Rational t = plan.u.empty() ? Rational(0) : dot(plan.u, z);
    std::size_t k = plan.u.empty() ? 0 : plan.piece_of(t);
    if (ff.eta != 1)
      for (auto& x : z) x *= ff.eta;
    add_piece(plan, k, t, z);
    return;
  }
  std::vector<Rational> h(ff.U.rows);
  for (std::size_t j = 0; j < ff.U.rows; ++j) h[j] = row_dot(ff.U, j, z) + ff.b[j];
  if (ff.eta != 1)
    for (auto& x : z) x *= ff.eta;
  for (std::size_t j = 0; j < ff.U.rows; ++j) {
    if (h[j] <= 0) continue;
    for (std::size_t c = 0; c < z.size(); ++c) z[c] += ff.W(c, j) * h[j];
  }
}

}  // namespace interpcert
