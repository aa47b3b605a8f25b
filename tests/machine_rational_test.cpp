// The engine's machine fractions (src/engine/machine_rational.hpp: checked and throwing forms;
// src/engine/machine_wide_sum.hpp: sums through 256-bit numerators) against GMP on seeded random
// operands at every size up to 127 bits, shared denominator factors, near-cancelling sums and
// unreduced operands (plan_feed_forward's terms w s), and on the range's edges by hand. Each
// operation's outcome (a value or a refusal) is predicted exactly from GMP's values.
#include "machine_rational.hpp"
#include "machine_wide_sum.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace interpcert;
using machine::i128;
using machine::Q;
using machine::u128;

namespace {

Integer integer(i128 v) {
  Integer z;
  machine::set_mpz(z.backend().data(), v);
  return z;
}

Rational value(const Q& x) { return Rational(integer(x.n), integer(x.d)); }  // canonicalizes: x may be unreduced

const Integer kTop = (Integer(1) << 127) - Integer(1);  // the largest magnitude a Q's parts may have

bool in_range(const Integer& z) { return abs(z) <= kTop; }

// A magnitude of exactly `bits` bits (0: zero).
u128 random_bits(std::mt19937_64& rng, int bits) {
  if (bits == 0) return 0;
  u128 m = (static_cast<u128>(rng()) << 64) | rng();
  if (bits < 128) m &= (static_cast<u128>(1) << bits) - 1;
  return m | (static_cast<u128>(1) << (bits - 1));
}

i128 random_signed(std::mt19937_64& rng, int bits) {
  const auto m = static_cast<i128>(random_bits(rng, bits));
  return rng() % 2 ? -m : m;
}

// Operands a (lowest terms, as every running sum) and b (lowest terms or not, as the terms), of
// one of several shapes.
std::pair<Q, Q> random_pair(std::mt19937_64& rng) {
  auto bits = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)); };
  Q a, b;
  switch (rng() % 4) {
    case 0:  // independent sizes
      a = {random_signed(rng, bits(0, 127)), static_cast<i128>(random_bits(rng, bits(1, 127)))};
      b = {random_signed(rng, bits(0, 127)), static_cast<i128>(random_bits(rng, bits(1, 127)))};
      break;
    case 1: {  // a shared factor of the denominators (the hat denominators of a running sum)
      const int f = bits(1, 90);
      const u128 common = random_bits(rng, f);
      a = {random_signed(rng, bits(0, 127)), static_cast<i128>(common * random_bits(rng, bits(1, 126 - f)))};
      b = {random_signed(rng, bits(0, 127)), static_cast<i128>(common * random_bits(rng, bits(1, 126 - f)))};
      break;
    }
    default: {  // b = e - a, or a scaled copy of it (unreduced): the sum cancels down to e
      a = {random_signed(rng, bits(40, 126)), static_cast<i128>(random_bits(rng, bits(1, 60)))};
      machine::reduce(a);
      const Q e{random_signed(rng, bits(0, 90)), static_cast<i128>(random_bits(rng, bits(1, 40)))};
      const Rational bv = value(e) - value(a);
      const Integer k(static_cast<long>(1 + rng() % 1000000));
      const bool scale = rng() % 2;
      if (!machine::int_of(numerator(bv).backend().data(), b.n) ||
          !machine::int_of(denominator(bv).backend().data(), b.d))
        return random_pair(rng);
      if (scale && in_range(integer(b.n) * k) && in_range(integer(b.d) * k)) {
        b.n *= static_cast<i128>(k.convert_to<long>());
        b.d *= static_cast<i128>(k.convert_to<long>());
      }
      break;
    }
  }
  machine::reduce(a);
  if (rng() % 2) machine::reduce(b);
  if (rng() % 2) std::swap(a, b);
  return {a, b};
}

// r is x in lowest terms with positive denominator, both parts within the range.
void expect_is(const Q& r, const Rational& x) {
  CHECK(r.d >= 1);
  CHECK(integer(r.n) == numerator(x));
  CHECK(integer(r.d) == denominator(x));
}

// What checked_add computes, in GMP: the products and sums it forms, each within the range.
bool add_fits(const Q& a, const Q& b) {
  const Integer an = integer(a.n), ad = integer(a.d), bn = integer(b.n), bd = integer(b.d);
  if (a.d == b.d) return in_range(an + bn);
  return in_range(an * bd) && in_range(bn * ad) && in_range(an * bd + bn * ad) && in_range(ad * bd);
}

}  // namespace

TEST_CASE("machine_rational::checked and throwing sums, products and comparisons equal GMP (seeded, 1 to 127 bits)") {
  const std::uint64_t seed = 20261129;
  MESSAGE("machine_rational: seed " << seed);
  std::mt19937_64 rng(seed);
  std::size_t added = 0, refused = 0;
  for (int t = 0; t < 20000; ++t) {
    const auto [a, b] = random_pair(rng);
    INFO("case " << t);
    const Rational exact = value(a) + value(b);
    Q r{12345, 7};
    const bool fits = add_fits(a, b);
    REQUIRE(machine::checked_add(a, b, r) == fits);
    if (fits) {
      expect_is(r, exact);
      CHECK(machine::add(a, b).n == r.n);
      ++added;
    } else {
      CHECK(r.n == 12345);  // untouched
      CHECK(r.d == 7);
      CHECK_THROWS_AS(machine::add(a, b), machine::Overflow);
      ++refused;
    }
    const Integer pn = integer(a.n) * integer(b.n), pd = integer(a.d) * integer(b.d);
    const bool product_fits = in_range(pn) && (a.d == 1 && b.d == 1 ? true : in_range(pd));
    Q p;
    REQUIRE(machine::checked_mul(a, b, p) == product_fits);
    if (product_fits) expect_is(p, value(a) * value(b));
    else CHECK_THROWS_AS(machine::mul(a, b), machine::Overflow);
    const bool cmp_fits = a.d == b.d || (in_range(integer(a.n) * integer(b.d)) && in_range(integer(b.n) * integer(a.d)));
    int order = 2;
    REQUIRE(machine::checked_cmp(a, b, order) == cmp_fits);
    if (cmp_fits) CHECK(order == (value(a) < value(b) ? -1 : value(a) > value(b)));
    else CHECK_THROWS_AS(machine::cmp(a, b), machine::Overflow);
  }
  CHECK(added > 2000);  // both outcomes are exercised
  CHECK(refused > 2000);
}

TEST_CASE("machine_wide_sum::add_wide equals GMP: a value exactly when the lcm and the reduced numerator fit") {
  const std::uint64_t seed = 1130;
  MESSAGE("machine_wide_sum: seed " << seed);
  std::mt19937_64 rng(seed);
  std::size_t wide_only = 0, refused = 0, narrow = 0;
  for (int t = 0; t < 20000; ++t) {
    const auto [a, b] = random_pair(rng);
    INFO("case " << t);
    const Rational exact = value(a) + value(b);
    Integer lcm;
    mpz_lcm(lcm.backend().data(), integer(a.d).backend().data(), integer(b.d).backend().data());
    const bool fits = lcm <= kTop && in_range(numerator(exact));
    Q r{12345, 7};
    REQUIRE(machine::add_wide(a, b, r) == fits);
    if (fits) {
      expect_is(r, exact);
      Q narrow_sum;
      if (machine::checked_add(a, b, narrow_sum)) ++narrow;
      else ++wide_only;  // what the running sums use it for
    } else {
      CHECK(r.n == 12345);
      CHECK(r.d == 7);
      ++refused;
    }
  }
  MESSAGE("add_wide: " << wide_only << " sums only it carries, " << narrow << " checked_add carries too, "
                       << refused << " refused");
  CHECK(wide_only > 2000);
  CHECK(refused > 2000);
  CHECK(narrow > 500);
}

TEST_CASE("machine_wide_sum::add_wide at the range's edges by hand") {
  const i128 top = static_cast<i128>((static_cast<u128>(1) << 127) - 1), half = static_cast<i128>(1) << 126;
  struct Case {
    Q a, b;
    bool fits;
  };
  const i128 m127 = top;  // 2^127 - 1, a (Mersenne) prime
  for (const Case& c : {
           Case{{half, 1}, {half - 1, 1}, true},            // 2^127 - 1
           Case{{half, 1}, {half, 1}, false},               // 2^127
           Case{{-half, 1}, {-(half - 1), 1}, true},        // -(2^127 - 1)
           Case{{-half, 1}, {-half, 1}, false},             // -2^127, refused as everywhere
           Case{{1, m127}, {1, 1}, false},                  // (2^127) / (2^127 - 1): the numerator
           Case{{1, m127}, {-1, 1}, true},                  // (2 - 2^127) / (2^127 - 1)
           Case{{1, half}, {1, 3}, false},                  // lcm 3 2^126
           Case{{1, half}, {1, 4}, true},                   // lcm 2^126
           Case{{top, 3}, {top, 5}, false},                 // 8 (2^127 - 1) / 15
           Case{{top, 3}, {-top, 5}, false},                // 2 (2^127 - 1) / 15
           Case{{top, 3}, {-top, 4}, true},                 // (2^127 - 1) / 12: cross products beyond 2^128
           Case{{top, half}, {-top, half}, true},           // zero over the same denominator
           Case{{top, 6}, {-(top - 1), 4}, true},           // (3 - top) / 12 = (1 - 2^125) / 3, b unreduced
           Case{{0, 1}, {0, 1}, true},
           Case{{0, 1}, {-top, m127 - 2}, true},
       }) {
    INFO("a = " << value(c.a) << ", b = " << value(c.b));
    Q r;
    REQUIRE(machine::add_wide(c.a, c.b, r) == c.fits);
    if (c.fits) expect_is(r, value(c.a) + value(c.b));
  }
}
