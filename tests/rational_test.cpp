#include "interpcert/gmp_pool.hpp"
#include "interpcert/rational.hpp"

#include <boost/multiprecision/gmp.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>

#include <random>
#include <thread>
#include <vector>

using namespace interpcert;

TEST_CASE("rational::parse accepts the forms of proofs/formats-v1.md, exactly") {
  CHECK(*rational_parse("3") == Rational(3));
  CHECK(*rational_parse("-3/6") == Rational(-1, 2));
  CHECK(*rational_parse("0.1") == Rational(1, 10));
  CHECK(*rational_parse("1.25") == Rational(5, 4));
  CHECK(*rational_parse("-3e-2") == Rational(-3, 100));
  CHECK(*rational_parse("2E3") == Rational(2000));
  CHECK(*rational_parse("1e+2") == Rational(100));
  CHECK(*rational_parse(".5") == Rational(1, 2));
  CHECK(*rational_parse("0") == Rational(0));
  CHECK(*rational_parse("-0") == Rational(0));
  // A 300-digit integer survives exactly.
  std::string big(300, '7');
  CHECK(rational_to_string(*rational_parse(big)) == big);
  CHECK(rational_to_string(*rational_parse("123456789012345678901234567890/3")) == "41152263004115226300411522630");
}

TEST_CASE("rational::parse rejects everything else with a reason") {
  for (const char* bad : {"", "NaN", "nan", "Infinity", "-Infinity", "inf", "1/0", "-", "1/", "/2", "1 /2", " 1",
                          "1.2.3", "e5", "1e", "0x10", "1/-2", "+1", "1e1000000", "--1", "1/2/3", "."}) {
    std::string why;
    CHECK_MESSAGE(!rational_parse(bad, &why).has_value(), bad);
    CHECK_MESSAGE(!why.empty(), bad);
  }
}

TEST_CASE("rational::to_string prints lowest terms and round-trips on random values") {
  CHECK(rational_to_string(Rational(-6, 4)) == "-3/2");
  CHECK(rational_to_string(Rational(10, 5)) == "2");
  std::uint64_t seed = 20261128;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int i = 0; i < 2000; ++i) {
    long p = static_cast<long>(rng() % 2000001) - 1000000;
    long q = static_cast<long>(rng() % 1000) + 1;
    Rational r(p, q);
    std::string s = rational_to_string(r);
    CHECK(*rational_parse(s) == r);
    CHECK(rational_hash(*rational_parse(s)) == rational_hash(r));
  }
}

TEST_CASE("rational::bits") {
  CHECK(rational_bits(Rational(0)) == 0);
  CHECK(rational_bits(Rational(1, 8)) == 4);
  CHECK(rational_bits(Rational(255, 2)) == 8);
}

TEST_CASE("rational::approx and short forms") {
  CHECK(rational_approx(Rational(12345)) == "~1.23e+4");
  CHECK(rational_approx(Rational(-1, 3)) == "~-3.33e-1");
  CHECK(rational_approx(Rational(1000)) == "~1.00e+3");
  CHECK(rational_approx(*rational_parse("1e400") * 7) == "~7.00e+400");
  CHECK(rational_approx(*rational_parse("2.5e-500")) == "~2.50e-500");
  CHECK(rational_short(Rational(5, 4)) == "5/4");
  CHECK(rational_short(*rational_parse("1e100") / 3).find("~3.33e+99 (exact value: ") == 0);
}

TEST_CASE("rational::parse small-number fast path agrees with GMP's own parser on random text") {
  // parse_small handles up to 18 digits; compare with mpq_set_str (via Boost) on seeded forms,
  // including the boundaries around 18 and 19 digits where the general path takes over.
  std::uint64_t seed = 1311;
  std::mt19937_64 rng(seed);
  CAPTURE(seed);
  auto digits = [&](std::size_t k) {
    std::string s;
    for (std::size_t i = 0; i < k; ++i) s += static_cast<char>('0' + rng() % 10);
    return s;
  };
  for (int trial = 0; trial < 20000; ++trial) {
    std::string sign = rng() % 2 ? "-" : "";
    std::string p = digits(1 + rng() % 20), q = digits(1 + rng() % 20);
    CAPTURE(p);
    CAPTURE(q);
    // p/q
    bool zero_q = q.find_first_not_of('0') == std::string::npos;
    auto r = rational_parse(sign + p + "/" + q);
    REQUIRE(r.has_value() == !zero_q);
    if (!zero_q) CHECK(*r == Rational(sign + p + "/" + q));
    // integer
    CHECK(*rational_parse(sign + p) == Rational(sign + p));
    // decimal p.q = pq / 10^|q|
    std::string den = "1" + std::string(q.size(), '0');
    CHECK(*rational_parse(sign + p + "." + q) == Rational(sign + p + q + "/" + den));
    CHECK(*rational_parse(sign + "." + q) == Rational(sign + q + "/" + den));
    CHECK(*rational_parse(sign + p + ".") == Rational(sign + p));
  }
  CHECK_FALSE(rational_parse("-").has_value());
  CHECK_FALSE(rational_parse(".").has_value());
  CHECK_FALSE(rational_parse("1/0").has_value());
  CHECK_FALSE(rational_parse("1.5/2").has_value());
  CHECK_FALSE(rational_parse("--5").has_value());
  CHECK_FALSE(rational_parse("+5").has_value());
}

TEST_CASE("gmp_pool: arithmetic is unchanged under the limb pool, across threads, for numbers made before it") {
  std::uint64_t seed = 77;
  std::mt19937_64 rng(seed);
  CAPTURE(seed);
  auto draw = [&] {
    Integer p(static_cast<long>(rng() % 2000001) - 1000000), q(static_cast<long>(rng() % 1000) + 1);
    if (rng() % 4 == 0) p *= Integer(static_cast<long>(rng() >> 1)) * Integer(static_cast<long>(rng() >> 1));  // multi-limb
    return Rational(p, q);
  };
  std::vector<Rational> xs;
  for (int i = 0; i < 2000; ++i) xs.push_back(draw());
  auto fold = [&](const std::vector<Rational>& v) {
    Rational s = 0, t = 1;
    std::string out;
    for (std::size_t i = 0; i + 1 < v.size(); ++i) {
      s += v[i] * v[i + 1];
      t = t * (v[i] + 1) / (v[i + 1] == 0 ? Rational(1) : v[i + 1]);
      if (i % 100 == 0) out += rational_to_string(s) + " " + rational_to_string(t) + "\n";
    }
    return out;
  };
  std::string before = fold(xs);  // with malloc
  const char* big = "-123456789012345678901234567890/11";
  std::string big_before = rational_to_string(*rational_parse(big));
  install_gmp_limb_pool();
  CHECK(fold(xs) == before);  // numbers made before the pool, freed into it
  // Several generations of threads: later ones adopt the cells and slab rests of ended ones.
  for (int generation = 0; generation < 3; ++generation) {
    std::vector<std::string> got(4);
    std::vector<std::thread> ts;
    for (int k = 0; k < 4; ++k) ts.emplace_back([&, k] { got[k] = fold(xs); });
    for (auto& t : ts) t.join();
    for (const auto& g : got) CHECK(g == before);
  }
  xs.clear();  // freed on this thread, some allocated elsewhere
  CHECK(rational_to_string(*rational_parse(big)) == big_before);
}

TEST_CASE("gmp_pool: cells a worker allocates and another thread frees are reused, not stranded") {
  // Exact verification's pattern: worker threads grow numbers to two limbs, the main thread frees
  // them and allocates only one-limb numbers. The pool must hand those cells on: the slab count
  // stops growing although every round's numbers are fresh.
  install_gmp_limb_pool();
  const Integer two64 = Integer(1) << 64;
  std::size_t after_warmup = 0;
  for (int round = 0; round < 40; ++round) {
    // Two workers at once (as parallel_for runs them): each must find spare cells, not only the
    // first to ask.
    std::vector<Rational> xs[2];
    std::vector<std::thread> workers;
    for (int w = 0; w < 2; ++w)
      workers.emplace_back([&, w] {
        for (long i = 0; i < 100000; ++i) xs[w].emplace_back(two64 + Integer(i + round));  // two limbs
      });
    for (auto& t : workers) t.join();
    for (auto& v : xs) {
      CHECK(v[7] == Rational(two64 + Integer(7 + round)));
      v.clear();  // freed on this thread
      v.shrink_to_fit();
    }
    if (round == 10) after_warmup = gmp_limb_pool_slabs();
  }
  // Stranded cells would take about four fresh slabs a round (120 over the last 30 rounds).
  CHECK(gmp_limb_pool_slabs() <= after_warmup + 3);
}

TEST_CASE("rational: append_rational's one-limb integer path gives mpz_get_str's digits") {
  std::uint64_t seed = 78;
  std::mt19937_64 rng(seed);
  CAPTURE(seed);
  auto gmp_text = [](const Rational& q) {  // the general path, written out
    const mpq_t& v = q.backend().data();
    std::string s(mpz_sizeinbase(mpq_numref(v), 10) + 2, '\0');
    mpz_get_str(s.data(), 10, mpq_numref(v));
    s.resize(std::char_traits<char>::length(s.data()));
    if (mpz_cmp_ui(mpq_denref(v), 1) != 0) {
      std::string d(mpz_sizeinbase(mpq_denref(v), 10) + 2, '\0');
      mpz_get_str(d.data(), 10, mpq_denref(v));
      s += "/" + std::string(d.c_str());
    }
    return s;
  };
  const Integer two64 = Integer(1) << 64;
  std::vector<Rational> edge = {Rational(0), Rational(1), Rational(-1), Rational(two64 - 1), Rational(-(two64 - 1)),
                                Rational(two64), Rational(-two64), Rational(1, 3), Rational(-7, 2),
                                Rational(INT64_MAX), Rational(INT64_MIN)};
  for (int i = 0; i < 20000; ++i) {
    Integer n(static_cast<unsigned long>(rng() >> (rng() % 64)));
    if (rng() % 2) n = -n;
    if (rng() % 8 == 0) n *= two64;  // two limbs
    edge.push_back(rng() % 5 == 0 ? Rational(n, Integer(static_cast<long>(rng() % 9 + 2))) : Rational(n));
  }
  for (const auto& q : edge) {
    std::string out = "x";
    append_rational(out, q);
    REQUIRE(out == "x" + gmp_text(q));
  }
}

// The number types are thin GMP wrappers with Boost.Multiprecision's interface (rational.hpp):
// every operation must give what Boost's number<gmp_int> / number<gmp_rational> gives, including
// the signs of truncating division and remainder, shifts of negatives, conversions and text.
TEST_CASE("rational: Integer and Rational agree with Boost.Multiprecision on random values") {
  using BI = boost::multiprecision::number<boost::multiprecision::gmp_int, boost::multiprecision::et_off>;
  using BQ = boost::multiprecision::number<boost::multiprecision::gmp_rational, boost::multiprecision::et_off>;
  const unsigned seed = 20261129;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  // Values of 0 to ~190 bits, both signs, zero and +-1 often.
  auto random_text = [&] {
    switch (rng() % 6) {
      case 0: return std::to_string(static_cast<long>(rng() % 5) - 2);
      case 1: return std::to_string(static_cast<std::int64_t>(rng()));
      default: {
        std::string s = rng() % 2 ? "-" : "";
        s += std::to_string(1 + rng() % 9);
        for (unsigned k = rng() % 57; k; --k) s += static_cast<char>('0' + rng() % 10);
        return s;
      }
    }
  };
  auto same_z = [](const Integer& a, const BI& b) { return mpz_cmp(a.backend().data(), b.backend().data()) == 0; };
  auto same_q = [](const Rational& a, const BQ& b) { return mpq_equal(a.backend().data(), b.backend().data()) != 0; };
  for (int trial = 0; trial < 3000; ++trial) {
    const std::string ta = random_text(), tb = random_text(), tc = random_text(), td = random_text();
    CAPTURE(ta);
    CAPTURE(tb);
    Integer x, y;
    mpz_set_str(x.backend().data(), ta.c_str(), 10);
    mpz_set_str(y.backend().data(), tb.c_str(), 10);
    const BI bx(ta), by(tb);
    REQUIRE(same_z(x, bx));
    CHECK(same_z(x + y, bx + by));
    CHECK(same_z(x - y, bx - by));
    CHECK(same_z(x * y, bx * by));
    CHECK(same_z(-x, BI(-bx)));
    CHECK(same_z(abs(x), BI(abs(bx))));
    if (!y.is_zero()) {
      CHECK(same_z(x / y, bx / by));
      CHECK(same_z(x % y, bx % by));
    } else {
      CHECK_THROWS_AS(x / y, std::overflow_error);
      CHECK_THROWS_AS(x % y, std::overflow_error);
    }
    const unsigned shift = rng() % 70;
    CHECK(same_z(x << shift, BI(bx << shift)));
    CHECK(same_z(x >> shift, BI(bx >> shift)));
    if (x.sign() >= 0 && y.sign() >= 0) {  // Boost's bitwise operators on negatives are not ours to copy
      CHECK(same_z(x & y, BI(bx & by)));
      CHECK(same_z(x | y, BI(bx | by)));
    }
    CHECK(same_z(gcd(x, y), BI(gcd(bx, by))));
    CHECK(same_z(lcm(x, y), BI(lcm(bx, by))));
    CHECK(same_z(pow(x, shift % 5), BI(boost::multiprecision::pow(bx, shift % 5))));
    if (x.sign() > 0) {
      CHECK(msb(x) == boost::multiprecision::msb(bx));
      CHECK(lsb(x) == boost::multiprecision::lsb(bx));
      CHECK(bit_test(x, shift) == boost::multiprecision::bit_test(bx, shift));
      CHECK(same_z(sqrt(x), BI(boost::multiprecision::sqrt(bx))));
    }
    CHECK((x < y) == (bx < by));
    CHECK((x == y) == (bx == by));
    CHECK(x.sign() == bx.sign());
    CHECK(x.str() == bx.str());
    CHECK(x.convert_to<double>() == bx.convert_to<double>());
    CHECK(x.convert_to<long>() == bx.convert_to<long>());
    if (x.sign() >= 0) CHECK(x.convert_to<unsigned long long>() == bx.convert_to<unsigned long long>());
    else CHECK_THROWS(x.convert_to<unsigned long long>());
    std::ostringstream os1, os2;
    os1 << x;
    os2 << bx;
    CHECK(os1.str() == os2.str());

    // Rationals p/q from the same texts (q = 0 replaced by 7).
    Integer den;
    mpz_set_str(den.backend().data(), td.c_str(), 10);
    if (den.is_zero()) den = 7;
    Integer num;
    mpz_set_str(num.backend().data(), tc.c_str(), 10);
    const Rational p(x, den.sign() ? den : Integer(7)), q(num, y.is_zero() ? Integer(3) : y);
    const BQ bp(bx, BI(den.str())), bq(BI(tc), y.is_zero() ? BI(3) : by);
    REQUIRE(same_q(p, bp));
    REQUIRE(same_q(q, bq));
    CHECK(same_q(p + q, bp + bq));
    CHECK(same_q(p - q, bp - bq));
    CHECK(same_q(p * q, bp * bq));
    CHECK(same_q(-p, BQ(-bp)));
    CHECK(same_q(abs(p), BQ(abs(bp))));
    if (!q.is_zero()) CHECK(same_q(p / q, bp / bq));
    else CHECK_THROWS_AS(p / q, std::overflow_error);
    Rational acc = p;
    acc += q;
    acc *= p;
    acc -= Integer(3);
    BQ bacc = bp;
    bacc += bq;
    bacc *= bp;
    bacc -= 3;
    CHECK(same_q(acc, bacc));
    CHECK(same_z(numerator(p), numerator(bp)));
    CHECK(same_z(denominator(p), denominator(bp)));
    CHECK((p < q) == (bp < bq));
    CHECK((p <= q) == (bp <= bq));
    CHECK((p == q) == (bp == bq));
    CHECK((p > 0) == (bp > 0));
    CHECK(p.sign() == bp.sign());
    CHECK(p.str() == bp.str());
    CHECK(p.convert_to<double>() == bp.convert_to<double>());
    CHECK(p.convert_to<long>() == bp.convert_to<long>());
    std::ostringstream os3, os4;
    os3 << p;
    os4 << bp;
    CHECK(os3.str() == os4.str());
    const double dbl = std::ldexp(static_cast<double>(static_cast<std::int64_t>(rng() >> 11)), static_cast<int>(rng() % 200) - 100);
    CHECK(same_q(Rational(dbl), BQ(dbl)));
    CHECK(same_q(Rational(p.str()), BQ(p.str())));
  }
  // Moves leave a number that can be assigned to and destroyed.
  Rational m(Integer(5), Integer(3));
  Rational moved = std::move(m);
  m = Rational(2);  // move assignment
  CHECK(m == 2);
  Rational m2(Integer(7), Integer(4));
  Rational moved2 = std::move(m2);
  const Rational two(2);
  m2 = two;  // copy assignment to a moved-from number
  CHECK(m2 == 2);
  CHECK(moved2 == Rational(Integer(7), Integer(4)));
  CHECK(moved == Rational(Integer(5), Integer(3)));
  Integer z(9);
  Integer zmoved = std::move(z);
  z = zmoved;
  CHECK(z == 9);
}
