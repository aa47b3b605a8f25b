// Private to the exact machine-integer paths of the engine (machine_forward.cpp,
// feed_forward_plan.cpp): a rational as n/d of two __int128 in lowest terms, d >= 1, with checked
// arithmetic. Where a value would leave that range an operation says so and the caller takes its
// GMP path instead: the same exact values either way, never a rounding. Two forms: checked_*
// return false (a branch: plan_feed_forward's running sums overflow ~400,000 times at 10^7
// tokens, where an exception's unwinding cost more than the arithmetic), the plain ones throw
// Overflow (machine_forward.cpp: one throw abandons a whole pass).
#pragma once

#include "interpcert/rational.hpp"

#include <gmp.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace interpcert::machine {

using i128 = __int128;
using u128 = unsigned __int128;
constexpr i128 kMin128 = static_cast<i128>(static_cast<u128>(1) << 127);

// Thrown where a value leaves the range; caught in run(), which then returns false.
struct Overflow {};

inline bool fits64(i128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

// Checked int128 arithmetic: false where the result leaves the range (r is then unspecified).
// -2^127 is refused too, so that negation (in gcd) never overflows.
inline bool checked_add(i128 a, i128 b, i128& r) { return !__builtin_add_overflow(a, b, &r) && r != kMin128; }
inline bool checked_mul(i128 a, i128 b, i128& r) {
  if (fits64(a) && fits64(b)) {  // |a b| <= 2^126: no overflow
    r = a * b;
    return true;
  }
  return !__builtin_mul_overflow(a, b, &r) && r != kMin128;
}
inline i128 add(i128 a, i128 b) {
  i128 r;
  if (!checked_add(a, b, r)) throw Overflow{};
  return r;
}
inline i128 mul(i128 a, i128 b) {
  i128 r;
  if (!checked_mul(a, b, r)) throw Overflow{};
  return r;
}

inline std::uint64_t gcd64(std::uint64_t a, std::uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  const int shift = __builtin_ctzll(a | b);
  a >>= __builtin_ctzll(a);
  do {
    b >>= __builtin_ctzll(b);
    if (a > b) std::swap(a, b);
    b -= a;
  } while (b != 0);
  return a << shift;
}

inline int ctz128(u128 x) {
  const auto lo = static_cast<std::uint64_t>(x);
  return lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll(static_cast<std::uint64_t>(x >> 64));
}

inline u128 gcd128(u128 a, u128 b) {
  // One Euclid step first: b is usually a denominator of a word or less (often tiny: a hardmax
  // mean over 2 tokens halves), so the binary loop then runs on numbers below it; a hat's
  // ~100-bit numerator over its ~21-bit denominator costs one division.
  if (b != 0 && (b >> 64) == 0) {
    const auto w = static_cast<std::uint64_t>(b);
    return gcd64(w, (a >> 64) == 0 ? static_cast<std::uint64_t>(a) % w : static_cast<std::uint64_t>(a % w));
  }
  if (a != 0 && (a >> 64) == 0) {
    const auto w = static_cast<std::uint64_t>(a);
    return gcd64(w, static_cast<std::uint64_t>(b % w));
  }
  if (a == 0) return b;
  if (b == 0) return a;
  const int shift = ctz128(a | b);
  a >>= ctz128(a);
  do {
    b >>= ctz128(b);
    if (a > b) std::swap(a, b);
    b -= a;
  } while (b != 0);
  return a << shift;
}

// A value: n/d with d >= 1 (lowest terms after every operation below, so integers keep d = 1).
struct Q {
  i128 n = 0, d = 1;
};

inline void reduce(Q& x) {
  if (x.d == 1) return;
  if (x.n == 0) {
    x.d = 1;
    return;
  }
  const u128 g = gcd128(x.n < 0 ? -static_cast<u128>(x.n) : static_cast<u128>(x.n), static_cast<u128>(x.d));
  if (g != 1) {
    x.n /= static_cast<i128>(g);
    x.d /= static_cast<i128>(g);
  }
}

// a + b in lowest terms (a and b need not be); false, and r untouched, where a cross product or
// the result leaves the range (machine_wide_sum.hpp takes over the first case).
inline bool checked_add(const Q& a, const Q& b, Q& r) {
  Q s;
  if (a.d == b.d) {
    if (!checked_add(a.n, b.n, s.n)) return false;
    s.d = a.d;
  } else {
    i128 x, y;
    if (!checked_mul(a.n, b.d, x) || !checked_mul(b.n, a.d, y) || !checked_add(x, y, s.n) ||
        !checked_mul(a.d, b.d, s.d))
      return false;
  }
  reduce(s);
  r = s;
  return true;
}

inline bool checked_mul(const Q& a, const Q& b, Q& r) {
  Q p{0, 1};
  if (!checked_mul(a.n, b.n, p.n)) return false;
  if (a.d != 1 || b.d != 1) {
    if (!checked_mul(a.d, b.d, p.d)) return false;
    reduce(p);
  }
  r = p;
  return true;
}

// The sign of a - b in `out`; false where a cross product leaves the range.
inline bool checked_cmp(const Q& a, const Q& b, int& out) {
  if (a.d == b.d) {
    out = a.n < b.n ? -1 : a.n > b.n;
    return true;
  }
  i128 x, y;
  if (!checked_mul(a.n, b.d, x) || !checked_mul(b.n, a.d, y)) return false;
  out = x < y ? -1 : x > y;
  return true;
}

inline Q add(const Q& a, const Q& b) {
  Q r;
  if (!checked_add(a, b, r)) throw Overflow{};
  return r;
}

inline Q mul(const Q& a, const Q& b) {
  Q r;
  if (!checked_mul(a, b, r)) throw Overflow{};
  return r;
}

inline int cmp(const Q& a, const Q& b) {
  int r;
  if (!checked_cmp(a, b, r)) throw Overflow{};
  return r;
}

inline int sign(const Q& a) { return a.n < 0 ? -1 : a.n > 0; }

// --- conversions ------------------------------------------------------------------------------

// An integer of at most `max_bits` bits (<= 127) as an __int128: 126 by default (q_of's values),
// 127 for feed_forward_plan.cpp's rows (|z| <= 2^127 - 1: any __int128 but -2^127).
inline bool int_of(mpz_srcptr z, i128& out, std::size_t max_bits = 126) {
  if (mpz_fits_slong_p(z)) {
    out = mpz_get_si(z);
    return true;
  }
  if (mpz_sizeinbase(z, 2) > max_bits) return false;
  std::uint64_t limbs[2] = {0, 0};
  std::size_t count = 0;
  mpz_export(limbs, &count, -1, sizeof(std::uint64_t), 0, 0, z);
  const i128 m = static_cast<i128>((static_cast<u128>(limbs[1]) << 64) | limbs[0]);
  out = mpz_sgn(z) < 0 ? -m : m;
  return true;
}

inline bool q_of(const Rational& q, Q& out) {
  mpq_srcptr p = q.backend().data();
  return int_of(mpq_numref(p), out.n) && int_of(mpq_denref(p), out.d);
}

inline void set_mpz(mpz_ptr z, i128 v) {
  if (fits64(v)) {
    mpz_set_si(z, static_cast<long>(v));
    return;
  }
  const u128 m = v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v);
  mpz_set_ui(z, static_cast<unsigned long>(m >> 64));
  mpz_mul_2exp(z, z, 64);
  mpz_add_ui(z, z, static_cast<unsigned long>(m));
  if (v < 0) mpz_neg(z, z);
}

inline Rational to_rational(const Q& x) {
  Rational r;
  mpq_ptr p = r.backend().data();
  set_mpz(mpq_numref(p), x.n);
  set_mpz(mpq_denref(p), x.d);
  mpq_canonicalize(p);  // already in lowest terms; kept so the mpq is canonical whatever happens above
  return r;
}

// x as a GMP rational without mpq_canonicalize's gcd, for a Q known to be in lowest terms with
// d >= 1: every Q that add, mul (checked or not) and q_of above and add_wide
// (machine_wide_sum.hpp) return (plan_feed_forward's running sums: ~19 M values at 10^7
// tokens). tests/evaluate_fast_test.cpp checks those outputs are canonical.
inline Rational to_rational_reduced(const Q& x) {
  Rational r;
  mpq_ptr p = r.backend().data();
  set_mpz(mpq_numref(p), x.n);
  set_mpz(mpq_denref(p), x.d);
  return r;
}

}  // namespace interpcert::machine
