#include "interpcert/preconditions.hpp"

#include "interpcert/linalg.hpp"

#include <doctest/doctest.h>

#include <iostream>
#include <random>
#include <unordered_map>

using namespace interpcert;

namespace {
Vec v2(long a, long b) { return {Rational(a), Rational(b)}; }
Sequence seq(std::vector<Vec> in, std::vector<Vec> out, std::vector<std::size_t> pos) { return {in, out, pos}; }
}  // namespace

TEST_CASE("preconditions::a clean dataset satisfies H1-H4") {
  Dataset ds{2, {seq({v2(0, 1), v2(1, 3)}, {v2(5, 5)}, {1}), seq({v2(1, 3), v2(0, 1)}, {v2(5, 5)}, {0})}};
  PreconditionReport r = check_preconditions(ds);
  CHECK(r.verdict() == Applicability::Applies);
  for (const auto& h : r.hypotheses) CHECK(h.holds);
}

TEST_CASE("preconditions::O1 is found with its witness and proof") {
  // Token (2, 2) twice in one sequence, both outputs, different targets.
  Dataset ds{2, {seq({v2(1, 0), v2(2, 2), v2(2, 2)}, {v2(0, 0), v2(1, 1)}, {1, 2})}};
  PreconditionReport r = check_preconditions(ds);
  CHECK(r.verdict() == Applicability::Impossible);
  CHECK_FALSE(r.hypotheses[2].holds);  // H3
  const auto& o1 = r.obstructions[0];
  REQUIRE(o1.found);
  CHECK(o1.witness.sequences == std::vector<std::size_t>{0, 0});
  CHECK(o1.witness.positions == std::vector<std::size_t>{1, 2});
  CHECK(o1.witness.token == v2(2, 2));
  CHECK(o1.witness.targets == std::vector<Vec>{v2(0, 0), v2(1, 1)});
  CHECK_FALSE(o1.proof.empty());
}

TEST_CASE("preconditions::O2 needs the same empirical distribution, not just the same set") {
  // (a, a, b) and (a, b, a, b, a, a): the distributions are (2/3, 1/3) and (4/6, 2/6): equal.
  Vec a = v2(1, 0), b = v2(0, 1);
  Dataset same{2, {seq({a, a, b}, {v2(7, 7)}, {2}), seq({a, b, a, b, a, a}, {v2(8, 8)}, {1})}};
  PreconditionReport r = check_preconditions(same);
  CHECK(r.verdict() == Applicability::Impossible);
  CHECK(r.obstructions[1].found);
  CHECK(r.obstructions[1].witness.sequences == std::vector<std::size_t>{0, 1});
  CHECK(r.obstructions[1].witness.token == b);
  // (a, a, b) and (a, b): same set, different distributions: H3 fails, no obstruction, so
  // proofs/repeated-and-causal.md (Theorem 1) decides it interpolable.
  Dataset differ{2, {seq({a, a, b}, {v2(7, 7)}, {2}), seq({a, b}, {v2(8, 8)}, {1})}};
  PreconditionReport r2 = check_preconditions(differ);
  CHECK(r2.verdict() == Applicability::Extended);
  CHECK_FALSE(r2.obstructions[1].found);
}

TEST_CASE("preconditions::O2 across sequences is found even behind an O1 in the first") {
  Vec a = v2(1, 0), b = v2(0, 1);
  // Sequence 0: (b, b, a) with b -> two targets (O1); sequence 1: (b, a) ... distribution differs.
  // Sequence 2: (b, b, a) again with b -> (9, 9): O2 with sequence 0's position giving (7, 7).
  Dataset ds{2, {seq({b, b, a}, {v2(7, 7), v2(8, 8)}, {0, 1}), seq({b, b, a}, {v2(7, 7)}, {1})}};
  PreconditionReport r = check_preconditions(ds);
  CHECK(r.obstructions[0].found);
  CHECK(r.obstructions[1].found);
  const auto& w = r.obstructions[1].witness;
  CHECK(w.sequences[0] != w.sequences[1]);
  CHECK(w.targets[0] != w.targets[1]);
}

TEST_CASE("preconditions::H4 conflict between equal sets is O2 when tokens are distinct") {
  Dataset ds{2, {seq({v2(0, 1), v2(1, 3)}, {v2(5, 5)}, {1}), seq({v2(1, 3), v2(0, 1)}, {v2(6, 6)}, {0})}};
  PreconditionReport r = check_preconditions(ds);
  CHECK_FALSE(r.hypotheses[3].holds);
  CHECK(r.hypotheses[3].witness.sequences == std::vector<std::size_t>{0, 1});
  CHECK(r.obstructions[1].found);
  CHECK(r.verdict() == Applicability::Impossible);
}

TEST_CASE("preconditions::d = 1 is outside the paper's theorem, decided by the extension") {
  Dataset ds{1, {seq({{Rational(1)}}, {{Rational(2)}}, {0})}};
  PreconditionReport r = check_preconditions(ds);
  CHECK_FALSE(r.hypotheses[0].holds);
  CHECK(r.verdict() == Applicability::Extended);
}

TEST_CASE("preconditions::token ids (hash partitions) equal a hash map's, first appearance first") {
  // The ids check_preconditions gives (partitioned by hash, compared within equal hashes) against
  // the plain way: one hash map by exact value over every token in file order. Tokens drawn from
  // a small pool (many repeats, in and across sequences), some sequences stored as rationals (the
  // same values in the other representation), sizes from one part to many.
  const std::uint64_t seed = 4242;
  MESSAGE("token ids: seed " << seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 12; ++round) {
    const std::size_t d = 1 + rng() % 4, N = 1 + rng() % 400, pool = 1 + rng() % (round < 6 ? 50 : 40000);
    const bool wide = round % 3 == 2;  // some values beyond int64, some fractions
    std::vector<Vec> values(pool);
    for (auto& z : values)
      for (std::size_t c = 0; c < d; ++c) {
        Rational x(static_cast<long>(rng() % 7) - 3);
        if (wide && rng() % 3 == 0) x = Rational(Integer(1) << 70) * Rational(static_cast<long>(rng() % 5) - 2);
        if (wide && rng() % 4 == 0) x = Rational(static_cast<long>(rng() % 9) - 4, 3);
        z.push_back(x);
      }
    Dataset ds;
    ds.d = d;
    for (std::size_t j = 0; j < N; ++j) {
      Sequence s;
      const std::size_t n = 1 + rng() % 120;
      std::vector<Vec> in;
      for (std::size_t i = 0; i < n; ++i) in.push_back(values[rng() % pool]);
      s.input = in;
      // Stored three ways: as read (int32 for these small values), widened to int64, rationals.
      const auto storage = rng() % 3;
      if (storage == 0) s.input.store_as_rationals();
      else if (storage == 1) s.input.store_as(Tokens::Storage::int64);
      s.output = {in[0]};
      s.positions = {0};
      ds.sequences.push_back(std::move(s));
    }
    PreconditionReport rep = check_preconditions(ds);
    REQUIRE(rep.token_ids);
    std::unordered_map<Vec, std::size_t, VecHash> plain;
    std::size_t mismatches = 0, tokens = 0;
    for (std::size_t j = 0; j < N; ++j)
      for (std::size_t i = 0; i < ds.sequences[j].input.size(); ++i, ++tokens) {
        const std::size_t want = plain.try_emplace(ds.sequences[j].input[i], plain.size()).first->second;
        mismatches += (*rep.token_ids)[j][i] != want;
      }
    INFO("round " << round << ": " << tokens << " tokens, " << plain.size() << " distinct");
    CHECK(mismatches == 0);
  }
}
