// Exact rationals in machine integers, for the checker's structured forward pass (--fast): a
// Frac is num/den with __int128 parts. Every operation either returns the exact result or throws
// Frac::Overflow; it never returns a wrong value. The caller then redoes the sequence with GMP
// rationals (forward_fast.cpp). Integers (den = 1), the common case of integer datasets, take
// one checked machine operation and no gcd.
//
// Invariant of every Frac: den > 0, gcd(num, den) = 1 (lowest terms, so equal values have equal
// parts, as mpq), and neither part is INT128_MIN (so -x and |x| never overflow). Tested against
// Rational at the int128 edges in tests/checker_fast_test.cpp.
#pragma once

#include "interpcert/rational.hpp"

#include <cstdint>
#include <gmp.h>
#include <numeric>

namespace interpcert::checker {

struct Frac {
  using i128 = __int128;
  using u128 = unsigned __int128;
  struct Overflow {};

  i128 num = 0, den = 1;

  Frac() = default;
  Frac(std::int64_t v) : num(v) {}  // NOLINT: implicit, an integer token coordinate

  /// The exact value of q; throws Overflow if a part of q (lowest terms) needs more than 127 bits.
  static Frac of(const Rational& q) {
    mpq_srcptr v = q.backend().data();
    return {part(mpq_numref(v)), part(mpq_denref(v))};  // mpq is already in lowest terms, den > 0
  }
  /// The same value as a GMP rational.
  Rational to_rational() const {
    Rational r;
    mpq_ptr v = r.backend().data();
    set(mpq_numref(v), num);
    set(mpq_denref(v), den);  // lowest terms, den > 0: canonical as it stands
    return r;
  }

  int sign() const { return (num > 0) - (num < 0); }

  friend bool operator==(const Frac& a, const Frac& b) { return a.num == b.num && a.den == b.den; }
  friend bool operator!=(const Frac& a, const Frac& b) { return !(a == b); }
  friend Frac operator-(const Frac& a) { return {-a.num, a.den}; }
  // Integers inline (the common case); the general case out of line, to keep the hot loops small.
  friend Frac operator*(const Frac& a, const Frac& b) {
    if (a.den == 1 && b.den == 1) [[likely]] return {mul(a.num, b.num), 1};
    return product(a, b);
  }
  friend Frac operator+(const Frac& a, const Frac& b) {
    if (a.den == 1 && b.den == 1) [[likely]] return {add(a.num, b.num), 1};
    return sum(a, b);
  }
  friend Frac operator-(const Frac& a, const Frac& b) { return a + -b; }
  Frac& operator+=(const Frac& b) { return *this = *this + b; }
  Frac& operator-=(const Frac& b) { return *this = *this - b; }
  /// a / b for b != 0: a times b's inverse (b in lowest terms, so its inverse is too).
  friend Frac operator/(const Frac& a, const Frac& b) { return a * (b.num < 0 ? Frac{-b.den, -b.num} : Frac{b.den, b.num}); }
  /// this / c for an integer c >= 1 (a mean over c tokens).
  Frac divided_by(std::int64_t c) const {
    i128 g = gcd(num, c);
    return {num / g, mul(den, c / g)};
  }
  friend bool operator<(const Frac& a, const Frac& b) {
    if (a.den == b.den) [[likely]] return a.num < b.num;
    return mul(a.num, b.den) < mul(b.num, a.den);  // dens > 0
  }
  friend bool operator>(const Frac& a, const Frac& b) { return b < a; }

  /// a * b and a + b, or Overflow when the exact result is not strictly inside (-2^127, 2^127).
  static i128 mul(i128 a, i128 b) {
    i128 r;
    if (__builtin_mul_overflow(a, b, &r) || r == kMin) [[unlikely]] overflow();
    return r;
  }
  static i128 add(i128 a, i128 b) {
    i128 r;
    if (__builtin_add_overflow(a, b, &r) || r == kMin) [[unlikely]] overflow();
    return r;
  }
  /// gcd(|a|, |b|); gcd(0, b) = |b|. Operands are never INT128_MIN (the invariant).
  [[gnu::noinline]] static i128 gcd(i128 a, i128 b) {
    u128 x = a < 0 ? -static_cast<u128>(a) : a, y = b < 0 ? -static_cast<u128>(b) : b;
    while (y >> 64) {  // Euclid in 128 bits until one operand fits in 64, then the 64-bit gcd
      x %= y;
      std::swap(x, y);
    }
    if (y == 0) return static_cast<i128>(x);
    x %= y;  // now both fit in 64 bits
    return std::gcd(static_cast<std::uint64_t>(x), static_cast<std::uint64_t>(y));
  }

  static constexpr i128 kMin = static_cast<i128>(static_cast<u128>(1) << 127);  // INT128_MIN

 private:
  Frac(i128 n, i128 d) : num(n), den(d) {}

  [[noreturn, gnu::noinline, gnu::cold]] static void overflow() { throw Overflow{}; }
  [[gnu::noinline]] static Frac product(const Frac& a, const Frac& b) {
    // Cancel across before multiplying: with a and b in lowest terms the result is too.
    i128 g1 = gcd(a.num, b.den), g2 = gcd(b.num, a.den);
    return {mul(a.num / g1, b.num / g2), mul(a.den / g2, b.den / g1)};
  }
  [[gnu::noinline]] static Frac sum(const Frac& a, const Frac& b) {
    // As mpq_add (Knuth 4.5.1): with g = gcd(a.den, b.den), t = a.num (b.den/g) + b.num (a.den/g),
    // the only common factor t can share with (a.den/g) b.den divides g: so h = gcd(t, g).
    i128 g = gcd(a.den, b.den);
    i128 t = add(mul(a.num, b.den / g), mul(b.num, a.den / g));
    i128 h = g == 1 ? 1 : gcd(t, g);  // >= 1: g >= 1
    return {t / h, mul(a.den / g, b.den / h)};
  }

  static i128 part(mpz_srcptr z) {
    // |z| < 2^127 (so never INT128_MIN): at most two limbs, the top bit of the second clear.
    const std::size_t limbs = mpz_size(z);
    if (limbs > 2 || (limbs == 2 && mpz_getlimbn(z, 1) >> 63)) overflow();
    u128 m = limbs ? static_cast<u128>(mpz_getlimbn(z, 0)) : 0;
    if (limbs == 2) m |= static_cast<u128>(mpz_getlimbn(z, 1)) << 64;
    return mpz_sgn(z) < 0 ? -static_cast<i128>(m) : static_cast<i128>(m);
  }
  static void set(mpz_ptr z, i128 v) {
    u128 m = v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v);
    mpz_set_ui(z, static_cast<unsigned long>(m >> 64));
    mpz_mul_2exp(z, z, 64);
    mpz_add_ui(z, z, static_cast<unsigned long>(m & ~std::uint64_t{0}));
    if (v < 0) mpz_neg(z, z);
  }
};

static_assert(sizeof(mp_limb_t) == 8 && sizeof(unsigned long) == 8, "Frac assumes 64-bit limbs");

}  // namespace interpcert::checker
