#include "interpcert/preconditions.hpp"

#include <doctest/doctest.h>

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
