#include "interpcert/gmp_pool.hpp"
#include "interpcert/linalg.hpp"

#include <doctest/doctest.h>
#include <gmp.h>

#include <algorithm>
#include <random>
#include <type_traits>
#include <vector>

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

TEST_CASE("linalg::integer_projections equal dot, or decline, on seeded random vectors") {
  install_gmp_limb_pool();
  const std::uint64_t seed = 20261129;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  // Entries near the 63-bit edge (so sums overflow __int128 only with many of them), small ones,
  // 64-bit and multi-limb ones and fractions (which must make it decline).
  auto entry = [&](int mode) -> Rational {
    switch (rng() % (mode == 0 ? 3 : 6)) {
      case 0: return Rational(static_cast<long>(rng() % 2000001) - 1000000);
      case 1: return Rational(static_cast<long long>(rng() >> 1)) * (rng() % 2 ? 1 : -1);
      case 2: return Rational(INT64_MAX - static_cast<long long>(rng() % 3)) * (rng() % 2 ? 1 : -1);
      case 3: return Rational(static_cast<long long>(rng() >> 1)) + Rational(INT64_MAX);  // 64 bits
      case 4: return Rational(static_cast<long>(rng() % 1000) + 1, 7);
      default: return Rational(static_cast<long long>(rng() >> 1)) * Rational(static_cast<long long>(rng() >> 1));
    }
  };
  int fast = 0, declined = 0, wide = 0;
  for (int it = 0; it < 4000; ++it) {
    const int mode = it % 3 ? 0 : 1;
    const std::size_t d = 1 + rng() % 40, n = rng() % 8;
    Vec k(d);
    for (auto& x : k) x = entry(mode);
    std::vector<Vec> xs(n, Vec(d));
    std::vector<const Vec*> ptrs;
    for (auto& x : xs) {
      for (auto& c : x) c = entry(mode);
      ptrs.push_back(&x);
    }
    auto got = integer_projections(k, ptrs);
    bool representable = true;  // every entry an integer of <= 63 bits
    for (const Vec* v : ptrs)
      for (const auto& c : *v) representable = representable && denominator(c) == 1 && abs(c) <= INT64_MAX;
    for (const auto& c : k) representable = representable && denominator(c) == 1 && abs(c) <= INT64_MAX;
    if (!got) {
      ++declined;
      // Declines only for a non-representable entry or a sum outside __int128.
      if (representable) {
        bool out_of_range = false;
        const Rational lim = Rational(Integer(1) << 127);
        for (const Vec* v : ptrs) {
          Rational partial(0);
          for (std::size_t i = 0; i < d; ++i) {
            partial += k[i] * (*v)[i];
            out_of_range = out_of_range || partial >= lim || partial < -lim;
          }
        }
        CHECK(out_of_range);
      }
      continue;
    }
    CHECK(representable);
    ++fast;
    REQUIRE(got->size() == n);
    for (std::size_t j = 0; j < n; ++j) {
      const Rational want = dot(k, *ptrs[j]);
      CHECK(same_mpq(rational_from_int128((*got)[j]), want));
      wide += abs(want) > INT64_MAX;
    }
  }
  CHECK(fast > 500);
  CHECK(declined > 500);
  CHECK(wide > 500);  // values beyond 64 bits went through the two-limb conversion
}

TEST_CASE("linalg::rational_from_int128 at the edges") {
  const __int128 max = static_cast<__int128>((~static_cast<unsigned __int128>(0)) >> 1);
  const __int128 min = -max - 1;
  const Rational two64 = Rational(Integer(1) << 64), two127 = Rational(Integer(1) << 127);
  CHECK(rational_from_int128(0) == 0);
  CHECK(rational_from_int128(-1) == -1);
  CHECK(rational_from_int128(INT64_MAX) == Rational(INT64_MAX));
  CHECK(rational_from_int128(static_cast<__int128>(INT64_MAX) + 1) == Rational(INT64_MAX) + 1);
  CHECK(rational_from_int128(INT64_MIN) == Rational(INT64_MIN));
  CHECK(rational_from_int128(static_cast<__int128>(INT64_MIN) - 1) == Rational(INT64_MIN) - 1);
  CHECK(rational_from_int128(static_cast<__int128>(1) << 64) == two64);
  CHECK(rational_from_int128(-(static_cast<__int128>(1) << 64) - 5) == -two64 - 5);
  CHECK(rational_from_int128(max) == two127 - 1);
  CHECK(rational_from_int128(min) == -two127);
}

TEST_CASE("linalg::SquareSum equals the plain running sum of squares") {
  const std::uint64_t seed = 20261130;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int it = 0; it < 300; ++it) {
    const std::size_t n = rng() % 200;
    const long dens = 1 + static_cast<long>(rng() % 20);  // few distinct denominators: groups
    Rational plain(0);
    SquareSum fast;
    for (std::size_t i = 0; i < n; ++i) {
      Rational x = random_entry(rng, 0.0);
      if (rng() % 2) x /= Rational(1 + static_cast<long>(rng() % dens));
      plain += x * x;
      fast.add(x);
    }
    CHECK(same_mpq(fast.total(), plain));
  }
  CHECK(SquareSum{}.total() == 0);
  // It points into its own table (the group used last): a copy would add to the original's.
  static_assert(!std::is_copy_constructible_v<SquareSum> && !std::is_copy_assignable_v<SquareSum>);
}

TEST_CASE("linalg::SquareSum::add_strided (a column over its shared denominator) equals the running sum") {
  // Random matrices whose columns share one denominator (1, small, near 2^64, beyond 2^64), or mix
  // denominators (the per-entry fallback), added column by column, against the plain running sum.
  const std::uint64_t seed = 20261201;
  std::mt19937_64 rng(seed);
  MESSAGE("SquareSum::add_strided: seed " << seed);
  auto denominator = [&](unsigned kind) -> Integer {
    switch (kind) {
      case 0: return Integer(1);
      case 1: return Integer(static_cast<long>(2 + rng() % 60));
      case 2: return Integer(rng() | 1);
      default: return (Integer(1) << (64 + rng() % 20)) + Integer(static_cast<long>(1 + rng() % 7));
    }
  };
  for (int it = 0; it < 200; ++it) {
    const std::size_t rows = rng() % 20, cols = 1 + rng() % 30;
    Matrix m(rows, cols);
    for (std::size_t j = 0; j < cols; ++j) {
      const bool mixed = rng() % 4 == 0;
      const Integer shared = denominator(rng() % 4);
      for (std::size_t i = 0; i < rows; ++i) {
        const Integer q = mixed ? denominator(rng() % 4) : shared;
        // numerators coprime to q or not: lowest terms may leave a smaller denominator
        Rational x(Integer(static_cast<long>(rng() % 2000001) - 1000000));
        if (rng() % 3 == 0) x *= Rational(q);
        m(i, j) = x / Rational(q);
      }
    }
    Rational plain(0);
    for (const Rational& x : m.a) plain += x * x;
    SquareSum by_columns, by_entries;
    for (std::size_t j = 0; j < cols; ++j) by_columns.add_strided(m.a.data() + j, rows, cols);
    for (const Rational& x : m.a) by_entries.add(x);
    CHECK(same_mpq(by_columns.total(), plain));
    CHECK(same_mpq(by_entries.total(), plain));
  }
}

TEST_CASE("linalg::SquareSum over word denominators that share prime factors (the lcm tree) equals the running sum") {
  // total() sums the word-size groups in a tree of lcms, reducing only at the root: denominators
  // built from shared small and medium primes (shared gcds, equal rough parts in different groups),
  // word edges (2^63, 3^40, 2^64 - 1 = 3 5 17 257 641 65537 6700417, the prime 2^64 - 59), group
  // counts around powers of two (an odd node at every level), numerators sharing factors with q.
  const std::uint64_t seed = 20261202;
  std::mt19937_64 rng(seed);
  MESSAGE("SquareSum lcm tree: seed " << seed);
  const unsigned long small[] = {2, 3, 5, 7, 11, 13, 17};
  const unsigned long medium[] = {1, 1, 10007, 10009, 65537, 1000003, 2147483647};
  const unsigned long edges[] = {1UL << 63, 12157665459056928801UL, ~0UL, 18446744073709551557UL};
  auto denominator = [&]() -> unsigned long {
    if (rng() % 40 == 0) return edges[rng() % 4];
    unsigned long q = medium[rng() % 7];
    if (rng() % 3 == 0 && q < (1UL << 31)) q *= medium[rng() % 5];
    for (int k = 0; k < 4; ++k)
      if (rng() % 2 && q < (1UL << 56)) q *= small[rng() % 7];
    return q;
  };
  const std::size_t counts[] = {1, 2, 3, 7, 8, 9, 31, 33, 64, 65, 600};
  for (int it = 0; it < 60; ++it) {
    const std::size_t n = counts[it % 11];
    Rational plain(0);
    SquareSum fast;
    std::size_t distinct = 0;
    std::vector<unsigned long> seen;
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned long q = denominator();
      Rational x(static_cast<long>(rng() % 2000001) - 1000000);
      if (rng() % 4 == 0) x *= Rational(Integer(static_cast<unsigned long>(small[rng() % 7])));
      x /= Rational(Integer(q));
      plain += x * x;
      fast.add(x);
      if (std::find(seen.begin(), seen.end(), q) == seen.end()) seen.push_back(q), ++distinct;
    }
    INFO("iteration " << it << ": " << n << " terms, " << distinct << " denominators");
    CHECK(same_mpq(fast.total(), plain));
  }
  // By hand: 1/2^2 + 1/2^2 = 1/2 (the root's reduction), 1/6^2 + 1/10^2 = 34/900 = 17/450 (the
  // lcm 30, not the product 60), and 1/3^2 + 1/5^2 + 1/15^2 = 35/225 = 7/45.
  SquareSum halves, shared, three;
  halves.add(Rational(1, 2));
  halves.add(Rational(-1, 2));
  CHECK(same_mpq(halves.total(), Rational(1, 2)));
  shared.add(Rational(1, 6));
  shared.add(Rational(1, 10));
  CHECK(same_mpq(shared.total(), Rational(17, 450)));
  three.add(Rational(1, 3));
  three.add(Rational(1, 5));
  three.add(Rational(1, 15));
  CHECK(same_mpq(three.total(), Rational(7, 45)));
}

TEST_CASE("linalg::SquareSum with hashed word denominators and ordered large ones equals the running sum") {
  // Many distinct denominators below 2^64 (the hashed groups), some beyond (the ordered map), and
  // repeats of each: every group kind, against the plain running sum.
  const std::uint64_t seed = 20261131;
  std::mt19937_64 rng(seed);
  MESSAGE("SquareSum groups: seed " << seed);
  for (int it = 0; it < 40; ++it) {
    const std::size_t n = 50 + rng() % 400;
    Rational plain(0);
    SquareSum fast;
    for (std::size_t i = 0; i < n; ++i) {
      Rational x(static_cast<long>(rng() % 2000001) - 1000000);
      switch (rng() % 4) {
        case 0: break;  // an integer
        case 1: x /= Rational(static_cast<long>(1 + rng() % 50)); break;  // repeated small denominators
        case 2: x /= Rational(Integer(rng() | 1)); break;  // word-size denominators near 2^64
        default: x /= Rational((Integer(1) << (64 + rng() % 20)) + Integer(static_cast<long>(rng() % 7))); break;
      }
      plain += x * x;
      fast.add(x);
    }
    CHECK(same_mpq(fast.total(), plain));
  }
}
