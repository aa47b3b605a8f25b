// The checker's hypotheses H1-H4 (src/checker/hypotheses.cpp, by sorting) against the engine's
// (src/engine/preconditions.cpp, by hashing) on seeded random datasets built to violate them:
// tiny token alphabets (repeated tokens: H3), permuted and resampled copies of sequences with
// changed targets (same token set: H4), d = 1 (H1). Two independent implementations must agree
// on every dataset, and both kinds of answer must occur often.
#include "../src/checker/hypotheses.hpp"
#include "interpcert/preconditions.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

using namespace interpcert;

namespace {

Dataset random_dataset(std::mt19937_64& rng) {
  Dataset ds;
  ds.d = 1 + rng() % 3;
  const long alphabet = 1 + static_cast<long>(rng() % 4);  // few distinct coordinates: many repeats
  auto token = [&] {
    Vec v(ds.d);
    for (auto& x : v) x = Rational(static_cast<long>(rng() % alphabet), 1 + static_cast<long>(rng() % 2));
    return v;
  };
  std::size_t N = 1 + rng() % 5;
  for (std::size_t j = 0; j < N; ++j) {
    Sequence s;
    if (j > 0 && rng() % 2) {
      // A copy of an earlier sequence, permuted, sometimes with a token repeated: the same set.
      std::vector<Vec> in = ds.sequences[rng() % j].input;
      std::shuffle(in.begin(), in.end(), rng);
      s.input = in;
      if (rng() % 3 == 0) s.input.push_back(s.input[rng() % s.input.size()]);
    } else {
      std::size_t n = 1 + rng() % 4;
      for (std::size_t i = 0; i < n; ++i) s.input.push_back(token());
    }
    std::size_t n = s.input.size(), m = 1 + rng() % n;
    std::vector<std::size_t> pos(n);
    for (std::size_t i = 0; i < n; ++i) pos[i] = i;
    std::shuffle(pos.begin(), pos.end(), rng);
    for (std::size_t k = 0; k < m; ++k) {
      s.positions.push_back(pos[k]);
      // Targets from a tiny set, so that equal tokens often get equal and sometimes different ones.
      s.output.push_back(Vec(ds.d, Rational(static_cast<long>(rng() % 2))));
    }
    ds.sequences.push_back(std::move(s));
  }
  return ds;
}

}  // namespace

TEST_CASE("checker_hypotheses::agree with the engine's preconditions on random violating datasets") {
  const std::uint64_t seed = 151515;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  std::size_t holds[4] = {0, 0, 0, 0}, fails[4] = {0, 0, 0, 0};
  for (int trial = 0; trial < 3000; ++trial) {
    Dataset ds = random_dataset(rng);
    PreconditionReport rep = check_preconditions(ds);
    REQUIRE(rep.hypotheses.size() == 4);
    for (int h = 0; h < 4; ++h) {
      std::string why;
      bool checker_says = checker::hypothesis_holds(ds, rep.hypotheses[h].id, why);
      INFO("trial " << trial << " " << rep.hypotheses[h].id << ": " << why);
      CHECK(checker_says == rep.hypotheses[h].holds);
      if (!checker_says) CHECK_FALSE(why.empty());
      (checker_says ? holds : fails)[h] += 1;
    }
  }
  MESSAGE("H1..H4 hold/fail: " << holds[0] << "/" << fails[0] << " " << holds[1] << "/" << fails[1] << " "
                               << holds[2] << "/" << fails[2] << " " << holds[3] << "/" << fails[3]);
  // The generator must exercise both answers of H1, H3 and H4 (H2 is enforced by the reader).
  for (int h : {0, 2, 3}) {
    CHECK(holds[h] > 300);
    CHECK(fails[h] > 300);
  }
}

TEST_CASE("checker_hypotheses::H2 fails on datasets the reader would refuse") {
  Vec a{Rational(1), Rational(0)}, b{Rational(0), Rational(1)};
  std::string why;
  Dataset none{2, {Sequence{{a, b}, {}, {}}}};
  CHECK_FALSE(checker::hypothesis_holds(none, "H2", why));
  Dataset too_many{2, {Sequence{{a}, {a, b}, {0, 0}}}};
  CHECK_FALSE(checker::hypothesis_holds(too_many, "H2", why));
  Dataset fine{2, {Sequence{{a, b}, {b, a}, {0, 1}}}};
  CHECK(checker::hypothesis_holds(fine, "H2", why));
  CHECK_FALSE(checker::hypothesis_holds(fine, "H5", why));
  CHECK(why == "unknown hypothesis");
}

TEST_CASE("checker_hypotheses::H4 compares token sets, not multisets, and the token at each position") {
  Vec a{Rational(1), Rational(0)}, b{Rational(0), Rational(1)}, y{Rational(7), Rational(7)}, z{Rational(8), Rational(8)};
  std::string why;
  // (a, b) and (b, a, a): the same set; a's targets differ: H4 fails.
  Dataset conflict{2, {Sequence{{a, b}, {y}, {0}}, Sequence{{b, a, a}, {z}, {1}}}};
  CHECK_FALSE(checker::hypothesis_holds(conflict, "H4", why));
  // The same, but the second target belongs to b: no conflict.
  Dataset other_token{2, {Sequence{{a, b}, {y}, {0}}, Sequence{{b, a, a}, {z}, {0}}}};
  CHECK(checker::hypothesis_holds(other_token, "H4", why));
  // Different sets (a, b) and (a): no conflict.
  Dataset different{2, {Sequence{{a, b}, {y}, {0}}, Sequence{{a}, {z}, {0}}}};
  CHECK(checker::hypothesis_holds(different, "H4", why));
}

// Tokens stores a sequence as int64 or as rationals; H3/H4 compare tokens across sequences, so a
// wrong int64-against-rational order or equality would split equal contexts (a missed H4
// violation: a false certificate accepted). Forcing random sequences to the rational storage
// (the same values) must not change any answer; int64 extremes make the mixed compares tight.
TEST_CASE("checker_hypotheses::H3 and H4 do not depend on how each sequence stores its tokens") {
  const std::uint64_t seed = 202020;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  const long long big[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
  std::size_t mixed_fails = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    Dataset ds = random_dataset(rng);
    if (trial % 2) {  // int64 extremes instead of small values: same repeat structure
      for (auto& s : ds.sequences) {
        std::vector<Vec> in = s.input;
        for (auto& z : in)
          for (auto& x : z)
            if (denominator(x) == 1) x = Rational(big[static_cast<long>(numerator(x)) % 7]);
        s.input = in;
      }
    }
    Dataset mixed = ds;
    for (auto& s : mixed.sequences)
      if (const auto r = rng() % 4; r % 2) s.input.store_as_rationals();
      else if (r == 2) s.input.store_as(Tokens::Storage::int64);  // the same values, the wider ints
    for (const char* h : {"H3", "H4"}) {
      std::string why1, why2;
      const bool a = checker::hypothesis_holds(ds, h, why1), b = checker::hypothesis_holds(mixed, h, why2);
      INFO("trial " << trial << " " << h);
      CHECK(a == b);
      CHECK(why1 == why2);
      if (!b) ++mixed_fails;
    }
  }
  CHECK(mixed_fails > 300);
}
