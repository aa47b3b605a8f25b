#include "interpcert/gmp_pool.hpp"
#include "interpcert/linalg.hpp"

#include <doctest/doctest.h>
#include <gmp.h>

#include <random>

using namespace interpcert;

namespace {

// Integers from one limb to several, and (with probability `frac`) proper fractions.
Rational random_entry(std::mt19937_64& rng, double frac) {
  Rational q;
  switch (rng() % 4) {
    case 0: q = Rational(0); break;
    case 1: q = Rational(static_cast<long>(rng() % 2000001) - 1000000); break;
    case 2: q = Rational(static_cast<long long>(rng() >> 1)) * static_cast<long long>(rng() >> 2); break;
    default: q = Rational(static_cast<long>(rng() >> 20)) * Rational(static_cast<long>(rng() >> 20)) * -1; break;
  }
  if (std::uniform_real_distribution<double>(0, 1)(rng) < frac)
    q /= Rational(static_cast<long>(rng() % 1000) + 2);
  return q;
}

// The same mpq, limb for limb (GMP keeps rationals canonical, so equality is identity).
bool same_mpq(const Rational& a, const Rational& b) {
  return mpq_equal(a.backend().data(), b.backend().data()) &&
         mpz_cmp_ui(mpq_denref(a.backend().data()), 0) > 0 && a == b;
}

}  // namespace

TEST_CASE("linalg::dot integer fast path equals the plain mpq loop on seeded random vectors") {
  install_gmp_limb_pool();
  const std::uint64_t seed = 20261128;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  int integer_cases = 0, rational_cases = 0;
  for (int it = 0; it < 20000; ++it) {
    const std::size_t n = rng() % 20;
    // Half of the cases all-integer (the fast path), the rest with some fractions (the fallback).
    const double frac = it % 2 ? 0.0 : 0.2;
    Vec x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = random_entry(rng, frac);
      y[i] = random_entry(rng, frac);
    }
    const Rational plain = plain_dot(x, y);
    CHECK(same_mpq(dot(x, y), plain));
    Matrix m(1, n);
    for (std::size_t i = 0; i < n; ++i) m(0, i) = x[i];
    CHECK(same_mpq(row_dot(m, 0, y), plain));
    bool all_int = true;
    for (std::size_t i = 0; i < n; ++i)
      all_int = all_int && denominator(x[i]) == 1 && denominator(y[i]) == 1;
    (all_int ? integer_cases : rational_cases)++;
  }
  // Both paths were exercised.
  CHECK(integer_cases > 5000);
  CHECK(rational_cases > 5000);
}

TEST_CASE("linalg::dot on hand-checked values") {
  CHECK(dot(Vec{Rational(2), Rational(-3)}, Vec{Rational(5), Rational(7)}) == Rational(-11));
  CHECK(dot(Vec{Rational(1, 2), Rational(3)}, Vec{Rational(1, 3), Rational(1)}) == Rational(19, 6));
  CHECK(dot(Vec{}, Vec{}) == Rational(0));
  Rational big = Rational(1);
  for (int i = 0; i < 10; ++i) big *= Rational(1000000007);
  CHECK(dot(Vec{big, big}, Vec{Rational(1), Rational(-1)}) == Rational(0));
}
