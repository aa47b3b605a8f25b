#include "feed_forward_plan.hpp"
#include "machine_rational.hpp"
#include "machine_wide_sum.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/evaluate_fast.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "dataset_families.hpp"
#include "random_model.hpp"

#include <gmp.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <climits>
#include <iostream>

using namespace interpcert;

namespace {

std::string show(const std::vector<Vec>& seq) {
  std::string s;
  for (const auto& z : seq) {
    s += "(";
    for (std::size_t i = 0; i < z.size(); ++i) s += (i ? " " : "") + rational_to_string(z[i]);
    s += ") ";
  }
  return s;
}

void expect_agreement(std::uint64_t seed, std::size_t models, std::size_t max_d, std::size_t max_L,
                      unsigned threads, MaskKind mask = MaskKind::None) {
  std::mt19937_64 rng(seed);
  for (std::size_t t = 0; t < models; ++t) {
    std::size_t d = 1 + rng() % max_d, L = 1 + rng() % max_L;
    Model m = testing::random_model(rng, d, L);
    m.mask = mask;
    auto seqs = testing::random_sequences(rng, d, 1 + rng() % 4, 6);
    auto fast = evaluate_fast(m, seqs, threads);
    for (std::size_t s = 0; s < seqs.size(); ++s) {
      auto ref = evaluate_reference(m, seqs[s]);
      if (ref != fast[s]) {
        std::cerr << "seed " << seed << " model " << t << " sequence " << s << "\ninput " << show(seqs[s])
                  << "\nreference " << show(ref) << "\nfast " << show(fast[s]) << "\nmodel:\n"
                  << model_to_json_text(m);
      }
      REQUIRE(ref == fast[s]);
    }
  }
}

void expect_integer_agreement(std::uint64_t seed, std::size_t models, unsigned threads) {
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (std::size_t t = 0; t < models; ++t) {
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 5;
    Model m = testing::random_model(rng, d, L);
    testing::integerize(m, rng);
    auto seqs = testing::random_sequences(rng, d, 1 + rng() % 4, 6);
    testing::integerize(seqs, rng);
    auto fast = evaluate_fast(m, seqs, threads);
    for (std::size_t s = 0; s < seqs.size(); ++s) {
      auto ref = evaluate_reference(m, seqs[s]);
      if (ref != fast[s]) std::cerr << "seed " << seed << " model " << t << " sequence " << s << "\n";
      REQUIRE(ref == fast[s]);
    }
  }
}

}  // namespace

TEST_CASE("evaluate_fast::integer models and tokens (the integer fast paths) equal the reference") {
  MESSAGE("evaluate_fast integer models: seeds 11, 12");
  expect_integer_agreement(11, 2000, 1);
  expect_integer_agreement(12, 200, 2);
}

TEST_CASE("evaluate_fast::equals the reference on thousands of random models") {
  expect_agreement(1, 3000, 4, 5, 1);
}

TEST_CASE("evaluate_fast::equals the reference with several threads and deeper models") {
  expect_agreement(2, 300, 3, 12, 2);
}

TEST_CASE("evaluate_fast::causal mask: equals the reference on random models (repeated tokens, ties)") {
  // random_sequences draws tokens from a 10-point grid per coordinate: repeats and score ties are
  // frequent, which is what the running argmax/argmin must get right.
  expect_agreement(4, 3000, 4, 5, 1, MaskKind::Causal);
  expect_agreement(5, 300, 3, 12, 2, MaskKind::Causal);
}

TEST_CASE("evaluate_fast::causal mask by hand: position i sees 0 ... i") {
  // One uniform attention layer (Q = 0), rho = 0, V = I: position i becomes the mean of z_0..z_i.
  Model m;
  m.d = 1;
  m.mask = MaskKind::Causal;
  SelfAttention sa;
  sa.rho = 0;
  sa.Q = Matrix(1, 1);
  sa.K = Matrix(1, 1);
  sa.V = Matrix(1, 1);
  sa.V(0, 0) = 1;
  m.blocks.push_back(Block{sa, std::nullopt});
  std::vector<Vec> z{{Rational(3)}, {Rational(1)}, {Rational(2)}, {Rational(6)}};
  std::vector<Vec> want{{Rational(3)}, {Rational(2)}, {Rational(2)}, {Rational(3)}};
  CHECK(evaluate_reference(m, z) == want);
  CHECK(evaluate_fast(m, {z}, 1)[0] == want);
  // Argmax (Q = K = 1, positive queries): position i takes the running maximum.
  m.blocks[0].sa->Q(0, 0) = 1;
  m.blocks[0].sa->K(0, 0) = 1;
  std::vector<Vec> top{{Rational(3)}, {Rational(3)}, {Rational(3)}, {Rational(6)}};
  CHECK(evaluate_reference(m, z) == top);
  CHECK(evaluate_fast(m, {z}, 1)[0] == top);
  m.mask = MaskKind::None;
  std::vector<Vec> all_top(4, Vec{Rational(6)});
  CHECK(evaluate_reference(m, z) == all_top);
}

TEST_CASE("evaluate_fast::stacks of hats along one direction use the index and agree") {
  // Many eta = 1 layers, each one hat along u = (1, 1): the indexed path.
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    Model m;
    m.d = 2;
    for (int l = 0; l < 20; ++l) {
      FeedForward ff;
      ff.eta = 1;
      Rational t0(static_cast<long>(rng() % 9) - 4, 2), delta(1 + static_cast<long>(rng() % 3), 2);
      ff.U = Matrix(3, 2);
      for (std::size_t j = 0; j < 3; ++j) ff.U(j, 0) = ff.U(j, 1) = 1;
      ff.b = {delta - t0, -t0, -delta - t0};
      ff.W = Matrix(2, 3);
      Rational dx = testing::random_small(rng), dy = testing::random_small(rng);
      Rational cs[] = {Rational(1), Rational(-2), Rational(1)};
      for (std::size_t j = 0; j < 3; ++j) {
        ff.W(0, j) = dx * cs[j] / delta;
        ff.W(1, j) = dy * cs[j] / delta;
      }
      m.blocks.push_back(Block{std::nullopt, ff});
    }
    auto seqs = testing::random_sequences(rng, 2, 5, 8);
    auto fast = evaluate_fast(m, seqs, 1);
    for (std::size_t s = 0; s < seqs.size(); ++s) REQUIRE(evaluate_reference(m, seqs[s]) == fast[s]);
  }
}

TEST_CASE("evaluate_fast::rank-one layers on integers at the int64 edges (the machine-word path) equal the reference") {
  // add_piece computes z + a t + b in __int128 when all four fit in a word and stores it when the
  // result does; sums just inside and just outside the int64 range take both branches.
  const std::uint64_t seed = 14;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  auto edge = [&]() -> Rational {
    static const Integer top = (Integer(1) << 63) - 1;
    switch (rng() % 6) {
      case 0: return Rational(static_cast<long>(rng() % 21) - 10);
      case 1: return Rational(Integer(static_cast<long>(rng() >> 33)) * (rng() % 2 ? 1 : -1));
      case 2: return Rational(Integer(static_cast<long>(rng() >> 2)) * (rng() % 2 ? 1 : -1));  // ~2^62
      case 3: return Rational(top - Integer(static_cast<long>(rng() % 1000)));
      case 4: return Rational(-top - 1 + Integer(static_cast<long>(rng() % 1000)));
      default: return Rational(top + Integer(static_cast<long>(rng() % 1000)));  // beyond a word
    }
  };
  // Exactly at the edges: z + a relu(c z + b) = 2^63 - 1, 2^63, -2^63 and -2^63 - 1.
  const Integer two62 = Integer(1) << 62;
  struct Edge { Integer z; long c, a, b; };
  for (const Edge& e : {Edge{two62, 1, 1, -1}, Edge{two62, 1, 1, 0}, Edge{-two62, -1, -1, 0}, Edge{-two62, -1, -1, 1}}) {
    Model m;
    m.d = 1;
    FeedForward ff;
    ff.eta = 1;
    ff.U = Matrix(1, 1);
    ff.U(0, 0) = e.c;
    ff.b = {Rational(e.b)};
    ff.W = Matrix(1, 1);
    ff.W(0, 0) = e.a;
    m.blocks.push_back(Block{std::nullopt, ff});
    std::vector<std::vector<Vec>> seqs{{Vec{Rational(e.z)}}};
    auto fast = evaluate_fast(m, seqs, 1);
    REQUIRE(evaluate_reference(m, seqs[0]) == fast[0]);
    CHECK(fast[0][0][0] == Rational(e.z + e.a * (e.c * e.z + e.b)));
  }
  for (int trial = 0; trial < 400; ++trial) {
    Model m;
    m.d = 2;
    for (int l = 0; l < 3; ++l) {
      FeedForward ff;
      ff.eta = 1;
      const std::size_t w = 1 + rng() % 3;
      ff.U = Matrix(w, 2);
      ff.b.resize(w);
      ff.W = Matrix(2, w);
      const Rational slope(static_cast<long>(rng() % 3));  // u = (1, 0), (1, 1) or (1, 2)
      for (std::size_t j = 0; j < w; ++j) {
        const Rational cj(static_cast<long>(rng() % 5) - 2);
        ff.U(j, 0) = cj;
        ff.U(j, 1) = cj * slope;
        ff.b[j] = rng() % 2 ? edge() : Rational(static_cast<long>(rng() % 7) - 3);
        ff.W(0, j) = rng() % 2 ? edge() : Rational(static_cast<long>(rng() % 7) - 3);
        ff.W(1, j) = rng() % 3 ? Rational(static_cast<long>(rng() % 7) - 3) : edge();
      }
      m.blocks.push_back(Block{std::nullopt, ff});
    }
    std::vector<std::vector<Vec>> seqs(2);
    for (auto& seq : seqs)
      for (int i = 0; i < 4; ++i) seq.push_back(rng() % 2 ? Vec{edge(), edge()} : Vec{edge(), Rational(static_cast<long>(rng() % 5))});
    for (unsigned threads : {1u, 2u}) {
      auto fast = evaluate_fast(m, seqs, threads);
      for (std::size_t q = 0; q < seqs.size(); ++q) REQUIRE(evaluate_reference(m, seqs[q]) == fast[q]);
    }
  }
}

TEST_CASE("evaluate_fast::one evaluator over many batches (pooled, then token by token, then pooled again) equals the reference") {
  // FastEvaluator::run skips the pool of distinct values for later batches when a batch has few
  // repeats, and looks again after a while: batches of distinct tokens then batches full of
  // repeats, through one evaluator, every one against the reference.
  const std::uint64_t seed = 15;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int trial = 0; trial < 30; ++trial) {
    const std::size_t d = 1 + rng() % 3;
    Model m = testing::random_model(rng, d, 1 + rng() % 4);
    if (trial % 2) testing::integerize(m, rng);
    FastEvaluator fast(m);
    for (int batch = 0; batch < 40; ++batch) {
      std::vector<std::vector<Vec>> seqs = testing::random_sequences(rng, d, 1 + rng() % 4, 6);
      if (batch >= 20 && batch % 3 != 0)  // repeats: every sequence a copy of the first
        for (auto& q : seqs) q = seqs[0];
      auto out = fast.run(seqs, 1 + batch % 2);
      for (std::size_t q = 0; q < seqs.size(); ++q) REQUIRE(evaluate_reference(m, seqs[q]) == out[q]);
    }
  }
}

TEST_CASE("evaluate_fast::refuses softmax") {
  Model m;
  m.d = 1;
  m.attention = AttentionKind::Softmax;
  m.beta = Rational(1);
  CHECK_THROWS_AS(evaluate_fast(m, {}), std::invalid_argument);
  CHECK_THROWS_AS(evaluate_reference(m, {}), std::invalid_argument);
}

// --- feed_forward_plan.cpp: the pieces' running sums in machine fractions against GMP ----------

namespace {

// A rational from one of several magnitudes: small (ties and cancellations), near the int64 and
// __int128 edges (the machine sums overflow there and must hand over to GMP, and come back), and
// far beyond them.
Rational plan_value(std::mt19937_64& rng) {
  const Rational small = testing::random_small(rng);
  switch (rng() % 8) {
    case 0: return Rational(0);
    case 1: {  // around 2^62 .. 2^64 over a small denominator
      Integer big = (Integer(1) << (62 + static_cast<unsigned>(rng() % 3))) - Integer(static_cast<long>(rng() % 5));
      return Rational(rng() % 2 ? big : Integer(-big)) / Rational(static_cast<long>(1 + rng() % 7));
    }
    case 2: {  // around 2^120 .. 2^127
      Integer big = (Integer(1) << (120 + static_cast<unsigned>(rng() % 8))) + Integer(static_cast<long>(rng() % 3));
      return Rational(big) / Rational(static_cast<long>(1 + rng() % 11)) * (rng() % 2 ? 1 : -1);
    }
    case 3: return Rational(Integer(1) << 200) * small;
    case 4: return small / Rational(Integer(1) << (40 + static_cast<unsigned>(rng() % 30)));
    default: return small;
  }
}

// A rank-one layer U = c u^T (d x w), with repeated breakpoints, zero slopes, and bias columns.
bool is_zero_vec(const Vec& v) {
  for (const auto& x : v)
    if (x != 0) return false;
  return true;
}

FeedForward random_rank_one_layer(std::mt19937_64& rng, std::size_t d, std::size_t w, bool edges) {
  auto value = [&] { return edges ? plan_value(rng) : testing::random_small(rng); };
  FeedForward ff;
  ff.eta = 1;
  Vec u(d);
  for (auto& x : u) x = testing::random_small(rng);
  ff.U = Matrix(w, d);
  ff.b.resize(w);
  ff.W = Matrix(d, w);
  std::vector<Rational> betas = {value(), value(), value()};  // few distinct breakpoints: shared ones
  for (std::size_t j = 0; j < w; ++j) {
    Rational c = rng() % 6 == 0 ? Rational(0) : value();
    for (std::size_t i = 0; i < d; ++i) ff.U(j, i) = c * u[i];
    ff.b[j] = rng() % 2 ? -betas[rng() % betas.size()] * c : value();
    for (std::size_t i = 0; i < d; ++i) ff.W(i, j) = rng() % 5 == 0 ? Rational(0) : value();
    if (j > 0 && rng() % 3 == 0)  // a neuron undoing the previous one: the sums return to zero
      for (std::size_t i = 0; i < d; ++i) {
        ff.U(j, i) = ff.U(j - 1, i);
        ff.b[j] = ff.b[j - 1];
        ff.W(i, j) = -ff.W(i, j - 1);
      }
  }
  return ff;
}

// The plans of the machine sweep and of the plain GMP sweep: the same pieces, stored the same way
// (a piece is a Machine row exactly when its least common denominator and numerators fit), and
// values() gives canonical GMP rationals. Returns how many pieces of each kind the plan has.
std::array<std::size_t, 3> expect_same_plan(const FeedForward& ff, const std::string& what) {
  const FeedForwardPlan fast = plan_feed_forward(ff), plain = plan_feed_forward(ff, /*gmp_sums=*/true);
  std::array<std::size_t, 3> kinds{};
  REQUIRE(fast.rank_one == plain.rank_one);
  CHECK(fast.u == plain.u);
  REQUIRE(fast.breaks == plain.breaks);
  REQUIRE(fast.pieces() == plain.pieces());
  if (fast.rank_one) REQUIRE(fast.pieces() == fast.breaks.size() + 1);
  const std::size_t d = ff.W.rows;
  for (std::size_t k = 0; k < fast.pieces(); ++k) {
    INFO(what << ", piece " << k);
    REQUIRE(fast.kind(k) == plain.kind(k));
    ++kinds[static_cast<std::size_t>(fast.kind(k))];
    if (fast.kind(k) == FeedForwardPlan::PieceKind::Machine) {
      const __int128 *x = fast.machine_row(k), *y = plain.machine_row(k);
      for (std::size_t c = 0; c < 1 + 2 * d; ++c) REQUIRE(x[c] == y[c]);
      CHECK(x[0] >= 1);
    }
    if (fast.kind(k) == FeedForwardPlan::PieceKind::Gmp) {
      CHECK(fast.gmp_a(k) == plain.gmp_a(k));
      CHECK(fast.gmp_b(k) == plain.gmp_b(k));
    }
    Vec fa, fb, pa, pb;
    fast.values(k, fa, fb);
    plain.values(k, pa, pb);
    REQUIRE(fa.size() == d);
    REQUIRE(fb.size() == d);
    REQUIRE(fa == pa);
    REQUIRE(fb == pb);
    CHECK((fast.kind(k) == FeedForwardPlan::PieceKind::Zero) == (is_zero_vec(fa) && is_zero_vec(fb)));
    // Canonical GMP values (what the writers print): lowest terms, positive denominators.
    for (const Vec* v : {&fa, &fb})
      for (const auto& x : *v) {
        mpq_t copy;
        mpq_init(copy);
        mpq_set(copy, x.backend().data());
        mpq_canonicalize(copy);
        CHECK(mpq_equal(copy, x.backend().data()) != 0);
        CHECK(mpz_cmp(mpq_denref(copy), mpq_denref(x.backend().data())) == 0);
        mpq_clear(copy);
      }
  }
  return kinds;
}

}  // namespace

TEST_CASE("feed_forward_plan::machine running sums equal the GMP ones (seeded random layers, int64/int128 edges)") {
  const std::uint64_t seed = 20261129;
  MESSAGE("feed_forward_plan: seed " << seed);
  std::mt19937_64 rng(seed);
  for (int t = 0; t < 400; ++t) {
    const std::size_t d = 1 + rng() % 4, w = 1 + rng() % 30;
    const bool edges = t % 2 == 1;
    expect_same_plan(random_rank_one_layer(rng, d, w, edges), "layer " + std::to_string(t));
  }
}

TEST_CASE("feed_forward_plan::the breakpoint order by machine keys (int64 edges, equal values, ties) equals the GMP sort") {
  const std::uint64_t seed = 20261201;
  MESSAGE("feed_forward_plan breakpoint order: seed " << seed);
  std::mt19937_64 rng(seed);
  // Breakpoints -b_j / c_j: many distinct fractions with numerators and denominators up to int64's
  // extremes (the keys' cross products near 2^126), the same value reached from different (b_j, c_j),
  // integers like the construction's, and in some layers one breakpoint just beyond int64 (the
  // GMP sort for that layer).
  auto beta = [&]() -> Rational {
    const Integer top(LONG_MAX), bottom(LONG_MIN);
    switch (rng() % 7) {
      case 0: return Rational(top - Integer(static_cast<long>(rng() % 3))) / Rational(static_cast<long>(1 + rng() % 4));
      case 1: return Rational(bottom + Integer(static_cast<long>(rng() % 3))) / Rational(static_cast<long>(1 + rng() % 4));
      case 2: return Rational(static_cast<long>(rng() % 7) - 3) / Rational(top - Integer(static_cast<long>(rng() % 4)));
      case 3: return Rational(static_cast<long>(rng() >> 14) - (1L << 49));  // ~50-bit integers
      case 4: return Rational(static_cast<long>(rng() % 5) - 2, static_cast<long>(1 + rng() % 6));
      default: return testing::random_small(rng);
    }
  };
  std::size_t machine_layers = 0, gmp_layers = 0;
  for (int t = 0; t < 300; ++t) {
    const std::size_t d = 1 + rng() % 3, w = 1 + rng() % 60;
    FeedForward ff = random_rank_one_layer(rng, d, w, /*edges=*/false);
    Vec u(d);
    u[0] = 1;
    for (std::size_t i = 1; i < d; ++i) u[i] = testing::random_small(rng);
    const bool beyond = t % 5 == 0;
    std::vector<Rational> used;
    for (std::size_t j = 0; j < w; ++j) {
      const Rational c = Rational(static_cast<long>(1 + rng() % 9)) * (rng() % 2 ? 1 : -1);
      Rational b = !used.empty() && rng() % 4 == 0 ? used[rng() % used.size()] : beta();
      if (beyond && j == w / 2) b = Rational(Integer(LONG_MAX) + Integer(1)) / Rational(static_cast<long>(1 + 2 * (rng() % 3)));
      used.push_back(b);
      for (std::size_t i = 0; i < d; ++i) ff.U(j, i) = c * u[i];
      ff.b[j] = -b * c;
    }
    bool all_fit = true;
    for (const auto& b : used)
      all_fit = all_fit && mpz_fits_slong_p(mpq_numref(b.backend().data())) && mpz_fits_slong_p(mpq_denref(b.backend().data()));
    ++(all_fit ? machine_layers : gmp_layers);
    expect_same_plan(ff, "layer " + std::to_string(t));
    const FeedForwardPlan plan = plan_feed_forward(ff);
    REQUIRE(std::is_sorted(plan.breaks.begin(), plan.breaks.end()));
    REQUIRE(std::adjacent_find(plan.breaks.begin(), plan.breaks.end()) == plan.breaks.end());
  }
  MESSAGE("breakpoint order: " << machine_layers << " layers by machine keys, " << gmp_layers << " by GMP");
  CHECK(machine_layers >= 200);
  CHECK(gmp_layers >= 40);
}

TEST_CASE("feed_forward_plan::the sweep's column table of W (blocks of 32 columns, int64 edges) gives the GMP plan") {
  const std::uint64_t seed = 20261130;
  MESSAGE("feed_forward_plan column table: seed " << seed);
  std::mt19937_64 rng(seed);
  // W's entries at the table's edges: numerators and denominators of exactly int64's extremes (a
  // fraction of int64 in the table), one past them (read from W instead), shared and distinct
  // denominators, zero columns; widths around the blocks of 32 columns the table is built in.
  auto edge = [&]() -> Rational {
    const Integer top(LONG_MAX), bottom(LONG_MIN);
    switch (rng() % 8) {
      case 0: return Rational(top) / Rational(static_cast<long>(1 + rng() % 5));
      case 1: return Rational(bottom) / Rational(static_cast<long>(1 + 2 * (rng() % 3)));
      case 2: return Rational(top + Integer(1)) / Rational(static_cast<long>(1 + 2 * (rng() % 3)));
      case 3: return Rational(static_cast<long>(1 + rng() % 9)) / Rational(top);
      case 4: return Rational(static_cast<long>(1 + rng() % 9)) / Rational(top + Integer(2 + 2 * (rng() % 2)));
      case 5: return Rational(0);
      default: return testing::random_small(rng);
    }
  };
  const std::size_t widths[] = {1, 31, 32, 33, 64, 65, 100};
  int t = 0;
  for (std::size_t w : widths)
    for (int rep = 0; rep < 6; ++rep, ++t) {
      const std::size_t d = 1 + rng() % 17;
      FeedForward ff = random_rank_one_layer(rng, d, w, /*edges=*/rep % 2 == 1);
      const Rational shared = Rational(1) / Rational(static_cast<long>(1 + rng() % 40));
      for (std::size_t j = 0; j < w; ++j) {
        const auto kind = rng() % 4;
        for (std::size_t i = 0; i < d; ++i) {
          if (kind == 0) ff.W(i, j) = 0;                                                 // a zero column
          else if (kind == 1) ff.W(i, j) = edge();                                      // edges, distinct denominators
          else if (kind == 2) ff.W(i, j) = Rational(static_cast<long>(rng() % 99) - 49) * shared;  // one denominator
        }
      }
      expect_same_plan(ff, "layer " + std::to_string(t) + ": d = " + std::to_string(d) + ", w = " + std::to_string(w));
    }
}

TEST_CASE("feed_forward_plan::machine running sums on the construction's hat layers") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 3; ++trial) {
    Dataset ds = testing::make_random(rng, 2 + trial * 3, 30, 8, 2);
    Construction c = construct_model(ds);
    std::size_t rank_one = 0;
    for (const Block& b : c.model.blocks)
      if (b.ff) {
        expect_same_plan(*b.ff, "trial " + std::to_string(trial));
        rank_one += plan_feed_forward(*b.ff).rank_one;
      }
    CHECK(rank_one > 0);
  }
}

namespace {

// A hat layer shaped like the construction's at 10^7 tokens: t -> sum_k v_k (relu(t - m_k + h_k)
// - 2 relu(t - m_k) + relu(t - m_k - h_k)), hats overlapping, each v_k's coordinates ~2^50-2^62
// over ~2^12-2^22 (its own denominator), centres m_k ~2^61 apart from each other by up to
// ~2^50: the offsets' terms w b_j have ~120-bit numerators, so the running sums B leave __int128's
// cross products (add_wide), and while several hats overlap leave __int128 itself (GMP), and come
// back when hats close. Every breakpoint distinct: piece k is piece k-1 plus neuron order[k-1].
FeedForward overlapping_hats(std::mt19937_64& rng, std::size_t d, std::size_t hats) {
  auto big = [&](unsigned lo, unsigned hi) {
    const unsigned bits = lo + static_cast<unsigned>(rng() % (hi - lo + 1));
    return (Integer(1) << (bits - 1)) + Integer(static_cast<unsigned long>(rng() >> (65 - std::min(bits, 64u))));
  };
  FeedForward ff;
  ff.eta = 1;
  Vec u(d);
  u[0] = 1;
  for (std::size_t i = 1; i < d; ++i) u[i] = testing::random_small(rng);
  const std::size_t w = 3 * hats;
  ff.U = Matrix(w, d);
  ff.b.resize(w);
  ff.W = Matrix(d, w);
  const Integer base = rng() % 2 ? big(60, 62) : Integer(-big(60, 62));
  for (std::size_t k = 0; k < hats; ++k) {
    const Integer m = base + big(40, 50), h = big(30, 48);
    const Integer den = big(12, 22);
    Vec v(d);
    for (auto& x : v) x = Rational(rng() % 2 ? big(50, 62) : Integer(-big(50, 62)), den);
    const Integer betas[3] = {m - h, m, m + h};
    const long scale[3] = {1, -2, 1};
    for (std::size_t n = 0; n < 3; ++n) {
      const std::size_t j = 3 * k + n;
      for (std::size_t i = 0; i < d; ++i) ff.U(j, i) = u[i];
      ff.b[j] = Rational(Integer(-betas[n]));
      for (std::size_t i = 0; i < d; ++i) ff.W(i, j) = v[i] * scale[n];
    }
  }
  return ff;
}

}  // namespace

TEST_CASE("feed_forward_plan::running sums through 256-bit sums and GMP and back (overlapping hats at 10^7 sizes)") {
  const std::uint64_t seed = 20261131;
  MESSAGE("feed_forward_plan hats: seed " << seed);
  std::mt19937_64 rng(seed);
  // Which path each change of an offset sum B takes, read off the plain plan's pieces with the
  // machine operations themselves (so the test knows the paths were exercised): a sum that fits
  // q_of is held in machine fractions; one beyond 127 bits can only be in GMP.
  std::size_t narrow = 0, wide = 0, to_gmp = 0, back = 0;
  for (int t = 0; t < 40; ++t) {
    const std::size_t d = 1 + rng() % 3;
    const FeedForward ff = overlapping_hats(rng, d, 2 + rng() % 30);
    expect_same_plan(ff, "layer " + std::to_string(t));
    const FeedForwardPlan plain = plan_feed_forward(ff, /*gmp_sums=*/true);
    REQUIRE(plain.breaks.size() == ff.b.size());  // distinct breakpoints
    Vec A0, B0, A1, B1;
    for (std::size_t k = 1; k < plain.pieces(); ++k) {
      std::size_t j = 0;
      while (-ff.b[j] != plain.breaks[k - 1]) ++j;
      plain.values(k - 1, A0, B0);  // zero pieces: zeros
      plain.values(k, A1, B1);
      for (std::size_t i = 0; i < d; ++i) {
        const Rational before = B0[i];
        const Rational after = B1[i];
        REQUIRE(after == before + ff.W(i, j) * ff.b[j]);
        machine::Q q, w, s, term, sum;
        if (machine::q_of(before, q)) {
          REQUIRE(machine::q_of(ff.W(i, j), w));
          REQUIRE(machine::q_of(ff.b[j], s));
          REQUIRE(machine::checked_mul(w.n, s.n, term.n));
          REQUIRE(machine::checked_mul(w.d, s.d, term.d));
          if (machine::checked_add(q, term, sum)) ++narrow;
          else if (machine::add_wide(q, term, sum)) ++wide;
          else ++to_gmp;
        } else if (mpz_sizeinbase(mpq_numref(before.backend().data()), 2) > 127 ||
                   mpz_sizeinbase(mpq_denref(before.backend().data()), 2) > 127) {
          back += machine::q_of(after, q);
        }
      }
    }
  }
  MESSAGE("offset sums' changes: " << narrow << " in __int128, " << wide << " through 256 bits, " << to_gmp
                                   << " into GMP, " << back << " back from GMP");
  CHECK(narrow > 100);
  CHECK(wide > 100);
  CHECK(to_gmp > 20);
  CHECK(back > 20);
}

TEST_CASE("feed_forward_plan::rank_one_direction in machine fractions equals the GMP test (seeded, int64/int128 edges)") {
  const std::uint64_t seed = 1129;
  MESSAGE("rank_one_direction: seed " << seed);
  std::mt19937_64 rng(seed);
  std::size_t rank_one = 0, refused = 0;
  for (int t = 0; t < 600; ++t) {
    const std::size_t d = 1 + rng() % 4, w = 1 + rng() % 12;
    const bool edges = t % 2 == 1;
    auto value = [&] { return edges ? plan_value(rng) : testing::random_small(rng); };
    Vec u(d);
    for (auto& x : u) x = value();
    Matrix U(w, d);
    for (std::size_t i = 0; i < w; ++i) {
      const Rational c = rng() % 4 == 0 ? Rational(0) : value();
      for (std::size_t j = 0; j < d; ++j) U(i, j) = c * u[j];
    }
    switch (rng() % 4) {  // break the rank one: by a large, a tiny, or a value-sized change
      case 0: U(rng() % w, rng() % d) += Rational(1); break;
      case 1: U(rng() % w, rng() % d) += Rational(1) / Rational(Integer(1) << 130); break;
      case 2: U(rng() % w, rng() % d) = value(); break;
      default: break;
    }
    const auto fast = rank_one_direction(U), plain = rank_one_direction(U, /*gmp_only=*/true);
    INFO("matrix " << t);
    REQUIRE(fast.has_value() == plain.has_value());
    if (fast) {
      CHECK(*fast == *plain);
      ++rank_one;
    } else {
      ++refused;
    }
  }
  CHECK(rank_one > 100);  // both outcomes are exercised
  CHECK(refused > 100);
}

// --- feed_forward_plan.cpp: the compact pieces (den, a, b in __int128) and their readers ----------

namespace {

// A layer in dimension A.size() whose piece 1 is g(t) = A t + B and piece 0 is g(t) = B: neuron 0
// relu(t) with column A, neuron 1 a constant relu(1) with column B (u = e_0).
FeedForward layer_with_piece(const Vec& A, const Vec& B) {
  const std::size_t d = A.size();
  FeedForward ff;
  ff.eta = 1;
  ff.U = Matrix(2, d);
  ff.U(0, 0) = 1;
  ff.b = {Rational(0), Rational(1)};
  ff.W = Matrix(d, 2);
  for (std::size_t i = 0; i < d; ++i) {
    ff.W(i, 0) = A[i];
    ff.W(i, 1) = B[i];
  }
  return ff;
}

}  // namespace

TEST_CASE("feed_forward_plan::compact rows at the __int128 edges (by hand): row exactly when den and numerators fit") {
  using Kind = FeedForwardPlan::PieceKind;
  const Integer one(1);
  const Rational max127((one << 127) - 1), p127(one << 127), inv100 = Rational(1) / Rational(one << 100);
  auto pow3 = [](unsigned e) {
    Integer x(1);
    for (unsigned i = 0; i < e; ++i) x *= 3;
    return x;
  };
  struct Case {
    Vec A, B;
    Kind kind;  // of piece 1
    std::string what;
  };
  const std::vector<Case> cases = {
      {{max127, 0}, {0, 0}, Kind::Machine, "2^127 - 1"},
      {{p127, 0}, {0, 0}, Kind::Gmp, "2^127"},
      {{-max127, 1}, {0, 0}, Kind::Machine, "-(2^127 - 1)"},
      {{-p127, 1}, {0, 0}, Kind::Gmp, "-2^127 (refused by the checked operations)"},
      {{0, 0}, {max127, -max127}, Kind::Machine, "offsets at the edge"},
      {{0, 0}, {p127 + 1, 0}, Kind::Gmp, "offset beyond the edge"},
      {{Rational(1) / max127, 0}, {0, 0}, Kind::Machine, "denominator 2^127 - 1"},
      {{Rational(1) / p127, 0}, {0, 0}, Kind::Gmp, "denominator 2^127"},
      {{inv100, Rational(one << 26)}, {0, 0}, Kind::Machine, "scaled numerator 2^126"},
      {{inv100, Rational((one << 27) - 1)}, {0, 0}, Kind::Machine, "scaled numerator 2^127 - 2^100"},
      {{inv100, Rational(one << 27)}, {0, 0}, Kind::Gmp, "scaled numerator 2^127"},
      {{inv100, -Rational(one << 27)}, {0, 0}, Kind::Gmp, "scaled numerator -2^127"},
      {{Rational(1) / Rational(one << 63), Rational(1) / Rational(pow3(40))}, {0, 0}, Kind::Machine,
       "lcm 2^63 3^40 (~2^126.4)"},
      {{Rational(1) / Rational(one << 64), Rational(1) / Rational(pow3(40))}, {0, 0}, Kind::Gmp,
       "lcm 2^64 3^40 (~2^127.4)"},
      {{Rational(5, 6), Rational(7, 10)}, {Rational(1, 15), 0}, Kind::Machine, "lcm 30 of 6, 10, 15"},
      {{Rational(1, 3), 0}, {Rational(one << 125), 0}, Kind::Machine, "3 * 2^125 < 2^127"},
      {{Rational(1, 3), 0}, {Rational(one << 126), 0}, Kind::Gmp, "3 * 2^126 > 2^127"},
      {{Rational(one << 200), 0}, {Rational(1, 7), 0}, Kind::Gmp, "far beyond"},
      {{0, 0}, {0, 0}, Kind::Zero, "zero"},
  };
  for (const Case& e : cases) {
    INFO(e.what);
    const FeedForward ff = layer_with_piece(e.A, e.B);
    expect_same_plan(ff, e.what);
    const FeedForwardPlan plan = plan_feed_forward(ff);
    REQUIRE(plan.pieces() == 2);
    CHECK(plan.kind(1) == e.kind);
    Vec A, B;
    plan.values(1, A, B);
    CHECK(A == e.A);
    CHECK(B == e.B);
    if (e.kind == Kind::Machine) {  // the row is the least common denominator form
      const __int128* row = plan.machine_row(1);
      Integer den(1);
      for (const Vec* v : {&e.A, &e.B})
        for (const auto& x : *v) den = lcm(den, Integer(denominator(x)));
      CHECK(Rational(den) == machine::to_rational(machine::Q{row[0], 1}));
    }
  }
}

TEST_CASE("feed_forward_plan::add_piece and apply_feed_forward_in_place equal the plain formulas (seeded)") {
  const std::uint64_t seed = 20261131;
  MESSAGE("add_piece: seed " << seed);
  std::mt19937_64 rng(seed);
  const Integer one(1);
  // Integers around a machine word's edge (the word shortcut and its way out), larger ones, and
  // fractions: for z and t, and for W in integer layers (den = 1 rows).
  auto number = [&](bool integer) -> Rational {
    switch (rng() % (integer ? 5 : 7)) {
      case 0: return Rational(static_cast<long>(rng() % 11) - 5);
      case 1: return Rational((one << 62) + Integer(static_cast<long>(rng() % 5)) - 2) * (rng() % 2 ? 1 : -1);
      case 2: return Rational((one << 63) - Integer(static_cast<long>(rng() % 3))) * (rng() % 2 ? 1 : -1);
      case 3: return Rational(one << (64 + static_cast<unsigned>(rng() % 70)));
      case 4: return Rational(static_cast<long>(rng() % 1000));
      case 5: return Rational(static_cast<long>(rng() % 21) - 10, 1 + static_cast<long>(rng() % 12));
      default: return plan_value(rng);
    }
  };
  std::array<std::size_t, 3> kinds{};
  std::size_t integer_rows = 0, fraction_rows = 0;
  for (int layer = 0; layer < 300; ++layer) {
    const std::size_t d = 1 + rng() % 4, w = 1 + rng() % 12;
    const bool integer = layer % 3 == 0;
    FeedForward ff = random_rank_one_layer(rng, d, w, /*edges=*/layer % 3 == 1);
    if (integer)
      for (auto& x : ff.W.a) x = number(true);
    const Rational etas[] = {Rational(1), Rational(2), Rational(-1, 3)};
    ff.eta = etas[rng() % 3];
    const FeedForwardPlan plan = plan_feed_forward(ff);
    REQUIRE(plan.rank_one);
    for (std::size_t k = 0; k < plan.pieces(); ++k) {
      ++kinds[static_cast<std::size_t>(plan.kind(k))];
      if (plan.kind(k) == FeedForwardPlan::PieceKind::Machine) ++(plan.machine_row(k)[0] == 1 ? integer_rows : fraction_rows);
    }
    for (int trial = 0; trial < 12; ++trial) {
      INFO("layer " << layer << ", trial " << trial);
      const bool ints = trial % 2 == 0;
      Vec z(d);
      for (auto& x : z) x = number(ints);
      // add_piece on any piece and any t: z + A t + B.
      const std::size_t k = rng() % plan.pieces();
      const Rational t = number(trial % 4 < 2);
      Vec A, B;
      plan.values(k, A, B);
      Vec want = z, got = z;
      for (std::size_t c = 0; c < d; ++c) want[c] += A[c] * t + B[c];
      add_piece(plan, k, t, got);
      REQUIRE(got == want);
      // The whole layer: eta z + W relu(U z + b).
      Vec full = z;
      apply_feed_forward_in_place(ff, plan, full);
      Vec ref(d);
      for (std::size_t c = 0; c < d; ++c) ref[c] = ff.eta * z[c];
      for (std::size_t j = 0; j < ff.U.rows; ++j) {
        const Rational h = row_dot(ff.U, j, z) + ff.b[j];
        if (h > 0)
          for (std::size_t c = 0; c < d; ++c) ref[c] += ff.W(c, j) * h;
      }
      REQUIRE(full == ref);
    }
  }
  MESSAGE("pieces: " << kinds[0] << " zero, " << kinds[1] << " machine rows (" << integer_rows << " with den = 1), "
                     << kinds[2] << " GMP");
  CHECK(kinds[0] > 50);  // every storage is exercised
  CHECK(kinds[2] > 50);
  CHECK(integer_rows > 50);
  CHECK(fraction_rows > 50);
}
