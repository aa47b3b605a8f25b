#include "interpcert/float_bits.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cstring>
#include <iostream>
#include <random>

using namespace interpcert;

namespace {

Rational exact_of_double(double x) {  // GMP converts a double exactly
  Rational r;
  mpq_set_d(r.backend().data(), x);
  return r;
}

const FloatEncoding kFormats[] = {kEncodingF64, kEncodingF32, kEncodingF16, kEncodingBF16};

std::uint64_t mask(FloatEncoding f) { return f.bytes() == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * f.bytes())) - 1; }

// A random rational that is often near a float, a tie, subnormal, or huge.
Rational random_rational(std::mt19937_64& rng) {
  Integer num(static_cast<long long>(rng() >> (rng() % 64)));
  Integer den(static_cast<long long>((rng() >> (rng() % 64)) | 1));
  Rational q(num, den);
  long shift = static_cast<long>(rng() % 400) - 200;
  if (shift >= 0) mpq_mul_2exp(q.backend().data(), q.backend().data(), shift);
  else mpq_div_2exp(q.backend().data(), q.backend().data(), -shift);
  return rng() % 2 ? q : Rational(-q);
}

// Neighbouring finite values of the float with these bits (toward +inf and -inf); nullopt past the ends.
std::optional<Rational> step(std::uint64_t bits, FloatEncoding f, bool up) {
  const std::uint64_t sign = std::uint64_t{1} << (f.exp_bits + f.frac_bits);
  Rational v = *float_decode(bits, f);
  std::uint64_t next;
  bool negative = bits & sign;
  if (v == 0) next = up ? 1 : (sign | 1);
  else if (up != negative) next = bits + 1;
  else next = bits - 1;
  return float_decode(next, f);
}

}  // namespace

TEST_CASE("float_bits::decode agrees with the hardware on binary64 and binary32") {
  std::uint64_t seed = 20261128;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t b = rng();
    if (i % 4 == 0) b &= 0x800FFFFFFFFFFFFFull;  // subnormals and zeros
    double x = std::bit_cast<double>(b);
    auto q = float_decode(b, kEncodingF64);
    REQUIRE(q.has_value() == std::isfinite(x));
    if (q) CHECK(*q == exact_of_double(x));
    std::uint32_t b32 = static_cast<std::uint32_t>(b);
    float y = std::bit_cast<float>(b32);
    auto r = float_decode(b32, kEncodingF32);
    REQUIRE(r.has_value() == std::isfinite(y));
    if (r) CHECK(*r == exact_of_double(static_cast<double>(y)));
  }
}

TEST_CASE("float_bits::decode edge cases of the narrow formats, by hand") {
  CHECK(*float_decode(0x3C00, kEncodingF16) == 1);
  CHECK(*float_decode(0xC000, kEncodingF16) == -2);
  CHECK(*float_decode(0x7BFF, kEncodingF16) == 65504);
  CHECK(*float_decode(0x0001, kEncodingF16) == Rational(1, Integer(1) << 24));  // least subnormal 2^-24
  CHECK(*float_decode(0x03FF, kEncodingF16) == Rational(1023, Integer(1) << 24));  // largest subnormal
  CHECK(*float_decode(0x0400, kEncodingF16) == Rational(1, Integer(1) << 14));  // least normal
  CHECK(*float_decode(0x8000, kEncodingF16) == 0);  // -0 is the rational 0
  CHECK(!float_decode(0x7C00, kEncodingF16));  // +inf
  CHECK(!float_decode(0xFC00, kEncodingF16));  // -inf
  CHECK(!float_decode(0x7E00, kEncodingF16));  // NaN
  CHECK(*float_decode(0x3F80, kEncodingBF16) == 1);
  CHECK(*float_decode(0x4049, kEncodingBF16) == Rational(201, 64));  // 3.140625
  CHECK(*float_decode(0x0001, kEncodingBF16) == Rational(1, Integer(1) << 133));  // least subnormal 2^-133
  CHECK(*float_decode(0x7F7F, kEncodingBF16) == Rational(Integer(255) << 120));  // largest finite
  CHECK(!float_decode(0x7F80, kEncodingBF16));
  CHECK(!float_decode(0xFFC1, kEncodingBF16));
}

TEST_CASE("float_bits::round_nearest matches the hardware's rounding of doubles to float") {
  std::uint64_t seed = 7;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int i = 0; i < 20000; ++i) {
    double x = std::bit_cast<double>(rng());
    if (!std::isfinite(x)) continue;
    float y = static_cast<float>(x);  // IEEE round to nearest even (default mode)
    auto bits = float_round_nearest(exact_of_double(x), kEncodingF32);
    if (!std::isfinite(y)) {
      CHECK(!bits);
      continue;
    }
    REQUIRE(bits);
    if (x == 0) continue;  // the sign of zero: x = -0 is the rational 0, written +0
    CHECK(*bits == std::bit_cast<std::uint32_t>(y));
    CHECK(*float_round_nearest(exact_of_double(x), kEncodingF64) == std::bit_cast<std::uint64_t>(x));  // exact
  }
}

TEST_CASE("float_bits::round_nearest is the nearest float, ties to even, in every format") {
  std::uint64_t seed = 11;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (FloatEncoding f : kFormats) {
    for (int i = 0; i < 4000; ++i) {
      Rational q = random_rational(rng);
      if (i % 5 == 0) {  // exactly halfway between two floats: a tie
        std::uint64_t b = rng() & mask(f);
        auto lo = float_decode(b, f);
        if (!lo) continue;
        auto hi = step(b, f, true);
        if (!hi) continue;
        q = (*lo + *hi) / 2;
      }
      INFO("q = " << rational_to_string(q) << ", format " << f.exp_bits << "/" << f.frac_bits);
      auto bits = float_round_nearest(q, f);
      if (!bits) {  // overflow: beyond the largest finite float plus half an ulp
        std::uint64_t max_bits = ((std::uint64_t{1} << f.exp_bits) - 2) << f.frac_bits | ((std::uint64_t{1} << f.frac_bits) - 1);
        Rational max = *float_decode(max_bits, f);
        Rational half_ulp = (max - *float_decode(max_bits - 1, f)) / 2;
        CHECK(abs(q) >= max + half_ulp);
        continue;
      }
      Rational x = *float_decode(*bits, f);
      // No float is strictly nearer: both neighbours are at least as far.
      for (bool up : {true, false}) {
        auto nb = step(*bits, f, up);
        if (!nb) continue;
        CHECK(abs(*nb - q) >= abs(x - q));
        if (abs(*nb - q) == abs(x - q) && q != x) CHECK((*bits & 1) == 0);  // tie: the even significand
      }
      CHECK(*float_round_nearest(x, f) == (x == 0 ? std::uint64_t{0} : *bits));  // floats are fixed points
    }
  }
}

TEST_CASE("float_bits::round_nearest at the edges: subnormals, the carry into the next binade, overflow") {
  const Rational tiny(1, Integer(1) << 24);  // least binary16 subnormal
  CHECK(*float_round_nearest(tiny, kEncodingF16) == 0x0001);
  CHECK(*float_round_nearest(tiny / 2, kEncodingF16) == 0x0000);   // a tie with 0: ties to even (0)
  CHECK(*float_round_nearest(-tiny / 2, kEncodingF16) == 0x8000);  // -0
  CHECK(*float_round_nearest(tiny * 3 / 4, kEncodingF16) == 0x0001);
  CHECK(*float_round_nearest(Rational(2047, 2048), kEncodingF16) == 0x3BFF);  // 1 - 2^-11: representable
  CHECK(*float_round_nearest(Rational(4095, 4096), kEncodingF16) == 0x3C00);  // a tie: to even, carries into 1
  CHECK(*float_round_nearest(Rational(65504), kEncodingF16) == 0x7BFF);
  CHECK(*float_round_nearest(Rational(65519), kEncodingF16) == 0x7BFF);  // below the overflow threshold 65520
  CHECK(!float_round_nearest(Rational(65520), kEncodingF16));            // the tie at the top overflows
  CHECK(*float_round_nearest(Rational(1, 3), kEncodingBF16) == 0x3EAB);
  CHECK(float_relative_error(Rational(1, 3), *float_decode(0x3EAB, kEncodingBF16)) == Rational(1, 512));  // 171/512 - 1/3 = 1/1536
}
