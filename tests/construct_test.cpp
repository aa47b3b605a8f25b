#include "dataset_families.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/preconditions.hpp"
#include "../src/engine/hat.hpp"

#include <doctest/doctest.h>

#include <iostream>
#include <random>

using namespace interpcert;
using testing::Family;

namespace {

// Constructs, then verifies with the reference evaluator, the block bound, determinism.
void expect_interpolates(const Dataset& ds, std::size_t cap, const std::string& label) {
  INFO(label);
  REQUIRE(check_preconditions(ds).verdict() == Applicability::Applies);
  Construction c = construct_model(ds, {cap});
  auto out = evaluate_dataset(c.model, ds, Evaluator::Reference, 1);
  auto bad = first_mismatch(ds, out);
  if (bad) std::cerr << label << ": mismatch at sequence " << bad->sequence << "\n" << dataset_to_json_text(ds);
  REQUIRE_FALSE(bad.has_value());
  CHECK(c.model.blocks.size() <= construction_block_bound(ds));
  ModelStats st = model_stats(c.model);
  if (cap) CHECK(st.max_ff_width <= cap);
  CHECK(st.max_heads <= 1);
  CHECK(st.max_score_rank <= 1);
  CHECK(st.max_value_rank <= 1);
  // Determinism: the same dataset gives the same model text.
  CHECK(model_to_json_text(construct_model(ds, {cap}).model) == model_to_json_text(c.model));
}

}  // namespace

TEST_CASE("construct::every family interpolates exactly, uncapped and with width 4") {
  std::uint64_t seed = 7;
  std::mt19937_64 rng(seed);
  for (Family f : testing::kAllFamilies)
    for (std::size_t d : {2, 3, 5})
      for (int rep = 0; rep < 6; ++rep) {
        std::size_t nseq = 2 + rng() % 7, len = 3 + rng() % 5;
        Dataset ds = testing::make_family(f, rng, d, nseq, len);
        std::string label = "seed " + std::to_string(seed) + " family " + testing::family_name(f) + " d " +
                            std::to_string(d) + " rep " + std::to_string(rep);
        expect_interpolates(ds, 0, label + " uncapped");
        expect_interpolates(ds, 4, label + " width 4");
      }
}

TEST_CASE("construct::conflicts force promotions and the classes split") {
  // Five sequences share the top token (9, 9) and the output token (0, 0) with five targets.
  Dataset ds;
  ds.d = 2;
  for (long j = 0; j < 5; ++j) {
    Sequence s;
    s.input = {{Rational(9), Rational(9)}, {Rational(0), Rational(0)}, {Rational(j + 1), Rational(-j)}};
    s.output = {{Rational(j), Rational(j * j)}};
    s.positions = {1};
    ds.sequences.push_back(s);
  }
  Construction c = construct_model(ds);
  CHECK(c.trace.uses_attention);
  CHECK(c.trace.promotions.size() >= 1);
  CHECK(c.trace.rounds.back().classes == 5);
  CHECK(c.trace.rounds.back().conflicted_classes == 0);
  CHECK(c.trace.rounds.size() <= 5);  // R <= G - 1 promotion rounds, plus the first code layer
  CHECK_FALSE(first_mismatch(ds, evaluate_dataset(c.model, ds, Evaluator::Reference, 1)).has_value());
  // With the width capped at 4, the same holds with one hat per layer.
  Construction c4 = construct_model(ds, {4});
  CHECK(model_stats(c4.model).max_ff_width <= 4);
  CHECK_FALSE(first_mismatch(ds, evaluate_dataset(c4.model, ds, Evaluator::Reference, 1)).has_value());
}

TEST_CASE("construct::a swap of two tokens under a width cap takes the attention route") {
  Dataset ds;
  ds.d = 2;
  Sequence s;
  Vec a = {Rational(1), Rational(2)}, b = {Rational(3), Rational(-1)};
  s.input = {a, b};
  s.output = {b, a};
  s.positions = {0, 1};
  ds.sequences.push_back(s);
  Construction free = construct_model(ds);
  CHECK_FALSE(free.trace.uses_attention);  // one layer of two hats swaps them
  CHECK(free.model.blocks.size() == 1);
  Construction capped = construct_model(ds, {4});
  CHECK(capped.trace.uses_attention);  // a cycle of targets: code shifts break it
  CHECK_FALSE(first_mismatch(ds, evaluate_dataset(capped.model, ds, Evaluator::Reference, 1)).has_value());
  CHECK(capped.model.blocks.size() <= construction_block_bound(ds));
}

TEST_CASE("construct::wide tokens (d = 64) and the fast evaluator agree") {
  std::mt19937_64 rng(64);
  Dataset ds = testing::make_family(Family::SharedTop, rng, 64, 6, 5);
  expect_interpolates(ds, 0, "d 64");
  Construction c = construct_model(ds);
  CHECK(evaluate_dataset(c.model, ds, Evaluator::Fast, 2) == evaluate_dataset(c.model, ds, Evaluator::Reference, 1));
}

TEST_CASE("construct::refuses impossible datasets and bad widths; d = 1 goes to the extension") {
  Dataset ds;
  ds.d = 1;
  ds.sequences.push_back({{{Rational(1)}}, {{Rational(2)}}, {0}});
  // d = 1 (H1 fails) is decided by proofs/repeated-and-causal.md: feed-forward only here.
  Construction one = construct_model(ds);
  CHECK(one.trace.extended);
  CHECK(evaluate_reference(one.model, ds.sequences[0].input)[0] == ds.sequences[0].output[0]);
  Dataset impossible = ds;
  impossible.sequences.push_back({{{Rational(1)}}, {{Rational(3)}}, {0}});
  CHECK_THROWS_AS(construct_model(impossible), ConstructionError);
  ds.d = 2;
  ds.sequences[0] = {{{Rational(1), Rational(0)}}, {{Rational(2), Rational(0)}}, {0}};
  CHECK_THROWS_AS(construct_model(ds, {2}), ConstructionError);
  CHECK_NOTHROW(construct_model(ds, {3}));
}

TEST_CASE("construct::lambda_candidate enumerates 1, 2, 1/2, 3, 1/3") {
  CHECK(lambda_candidate(0) == 1);
  CHECK(lambda_candidate(1) == 2);
  CHECK(lambda_candidate(2) == Rational(1, 2));
  CHECK(lambda_candidate(3) == 3);
  CHECK(lambda_candidate(4) == Rational(1, 3));
}

TEST_CASE("construct::the token ids of check_preconditions, reused, give the model hashing them again gives") {
  // construct_model(ds, options, report) numbers the distinct tokens with report.token_ids instead
  // of hashing them again; without them (or with ids of another shape) it hashes. Same model, byte
  // for byte, on every family (repeated tokens across sequences included).
  const std::uint64_t seed = 25;
  MESSAGE("construct token ids: seed " << seed);
  std::mt19937_64 rng(seed);
  for (Family f : testing::kAllFamilies) {
    for (int trial = 0; trial < 3; ++trial) {
      Dataset ds = testing::make_family(f, rng, 2 + rng() % 4, 12, 6);
      PreconditionReport pre = check_preconditions(ds);
      if (pre.verdict() != Applicability::Applies) continue;
      INFO(testing::family_name(f) << " trial " << trial);
      REQUIRE(pre.token_ids);
      REQUIRE(pre.token_ids->size() == ds.sequences.size());
      Construction reused = construct_model(ds, {}, pre);
      PreconditionReport without = pre;
      without.token_ids.reset();
      Construction hashed = construct_model(ds, {}, without);
      CHECK(model_to_json_text(reused.model) == model_to_json_text(hashed.model));
      CHECK(reused.trace.contexts == hashed.trace.contexts);
      REQUIRE(reused.trace.tokens.size() == hashed.trace.tokens.size());
      for (std::size_t t = 0; t < reused.trace.tokens.size(); ++t) CHECK(reused.trace.tokens[t] == hashed.trace.tokens[t]);
      // Ids of another shape are not used.
      PreconditionReport other = pre;
      auto ids = *pre.token_ids;
      ids.pop_back();
      other.token_ids = std::make_shared<const std::vector<std::vector<std::size_t>>>(ids);
      CHECK(model_to_json_text(construct_model(ds, {}, other).model) == model_to_json_text(hashed.model));
    }
  }
}

TEST_CASE("construct::projections in machine integers give the model exact rationals give") {
  // Integer tokens take the machine path (k.x and w.x as __int128, a radix distinctness check);
  // the same tokens stored as rationals take the mpq path. Same model and trace, byte for byte.
  const std::uint64_t seed = 20261129;
  MESSAGE("construct machine projections: seed " << seed);
  std::mt19937_64 rng(seed);
  int machine = 0, compared = 0;
  for (Family f : testing::kAllFamilies) {
    for (int trial = 0; trial < 4; ++trial) {
      Dataset ds = testing::make_family(f, rng, 2 + rng() % 4, 4 + rng() % 30, 3 + rng() % 6);
      if (trial % 2 == 0) {  // scaled by the common denominator: integer tokens (the machine path)
        Integer l(1);
        for (const auto& s : ds.sequences)
          for (const Vec& z : s.input.to_vecs())
            for (const Rational& x : z) l = lcm(l, denominator(x));
        for (auto& s : ds.sequences) {
          std::vector<Vec> in = s.input;
          for (auto& z : in)
            for (auto& x : z) x *= Rational(l);
          s.input = in;
          for (auto& y : s.output)
            for (auto& x : y) x *= Rational(l);
        }
      }
      PreconditionReport pre = check_preconditions(ds);
      if (pre.verdict() != Applicability::Applies) continue;
      INFO(testing::family_name(f) << " trial " << trial);
      bool integer = true;
      for (const auto& s : ds.sequences) integer = integer && s.input.is_integer();
      machine += integer;
      Dataset rats = ds;
      for (auto& s : rats.sequences) s.input.store_as_rationals();
      for (std::size_t cap : {std::size_t{0}, std::size_t{4}}) {
        Construction a = construct_model(ds, {cap}, pre);
        Construction b = construct_model(rats, {cap}, check_preconditions(rats));
        CHECK(model_to_json_text(a.model) == model_to_json_text(b.model));
        CHECK(a.trace.contexts == b.trace.contexts);
        CHECK(a.trace.translation == b.trace.translation);
        CHECK(a.trace.key_t == b.trace.key_t);
        REQUIRE(a.trace.rounds.size() == b.trace.rounds.size());
        for (std::size_t r = 0; r < a.trace.rounds.size(); ++r) {
          CHECK(a.trace.rounds[r].leader == b.trace.rounds[r].leader);
          CHECK(a.trace.rounds[r].leader_height == b.trace.rounds[r].leader_height);
          CHECK(a.trace.rounds[r].code == b.trace.rounds[r].code);
        }
        ++compared;
      }
    }
  }
  MESSAGE(compared << " constructions compared, " << machine << " datasets on the machine path");
  CHECK(machine > 5);
  CHECK(compared > 20);
}

TEST_CASE("construct::hats_layer equals the plain formula U = u, b = (delta - t0, -t0, -delta - t0), W = D (1, -2, 1) / delta") {
  // hats_layer's fast path (one division per coordinate, the -2 multiple by a shift) against the
  // per-entry product and quotient, on random hats with integer and fractional entries.
  const std::uint64_t seed = 20261202;
  std::mt19937_64 rng(seed);
  MESSAGE("hats_layer: seed " << seed);
  auto entry = [&]() {
    Rational x(Integer(static_cast<long>(rng() % 2000001) - 1000000));
    if (rng() % 2) x /= Rational(Integer(static_cast<long>(1 + rng() % 1000)));
    if (rng() % 8 == 0) x /= Rational(Integer(rng() | 1));
    return x;
  };
  // Small layers, then a few larger ones (U is built by appending rows: its size is checked too).
  const std::size_t around[] = {255, 256, 257, 517};
  for (int it = 0; it < 64; ++it) {
    const std::size_t d = 1 + rng() % 6, count = it < 60 ? 1 + rng() % 12 : around[it - 60];
    std::vector<Hat> hats;
    for (std::size_t h = 0; h < count; ++h) {
      Hat hat{Vec(d), entry(), entry(), Vec(d)};
      if (hat.delta == 0) hat.delta = 1;
      if (hat.delta < 0) hat.delta = -hat.delta;
      for (std::size_t c = 0; c < d; ++c) hat.u[c] = entry(), hat.displacement[c] = rng() % 5 == 0 ? Rational(0) : entry();
      hats.push_back(hat);
    }
    const FeedForward ff = hats_layer(hats);
    REQUIRE(ff.U.rows == 3 * count);
    REQUIRE(ff.U.cols == d);
    REQUIRE(ff.U.a.size() == 3 * count * d);
    REQUIRE(ff.W.cols == 3 * count);
    CHECK(ff.eta == 1);
    const Rational weight[3] = {Rational(1), Rational(-2), Rational(1)};
    for (std::size_t h = 0; h < count; ++h) {
      const Hat& hat = hats[h];
      const Rational offset[3] = {hat.delta - hat.t0, -hat.t0, -hat.delta - hat.t0};
      for (std::size_t r = 0; r < 3; ++r) {
        const std::size_t j = 3 * h + r;
        CHECK(ff.b[j] == offset[r]);
        for (std::size_t c = 0; c < d; ++c) {
          CHECK(ff.U(j, c) == hat.u[c]);
          CHECK(ff.W(c, j) == hat.displacement[c] * weight[r] / hat.delta);
        }
      }
    }
  }
}

TEST_CASE("construct::a key rejected on the first eighth of the tokens is the key the full test chooses") {
  // From 2^16 distinct tokens, choose_key rejects a key whose projections repeat among the first
  // eighth of the tokens before testing all of them (integer tokens only). The same tokens stored
  // as rationals take the mpq path, which tests every key on all tokens: same key, same model.
  // Two sequences of 33,000 tokens in d = 8 with coordinates in [-2^12, 2^12]: the keys
  // (1, t, ..., t^7) repeat for small t (t = 1, 2 already on the first eighth), distinct from t ~ 7;
  // the last tokens are equal with different targets, so the attention route chooses a key.
  const std::uint64_t seed = 20261130;
  MESSAGE("construct key prefix: seed " << seed);
  std::mt19937_64 rng(seed);
  const std::size_t d = 8, n = 33000;
  std::uniform_int_distribution<long> coordinate(-(1L << 12), 1L << 12);
  Dataset ds;
  ds.d = d;
  Vec last(d);
  for (auto& x : last) x = Rational(coordinate(rng));
  for (int j = 0; j < 2; ++j) {
    Sequence s;
    std::vector<Vec> in;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      Vec z(d);
      for (auto& x : z) x = Rational(coordinate(rng));
      in.push_back(z);
    }
    in.push_back(last);
    s.input = in;
    s.output = {Vec(d, Rational(j))};
    s.positions = {n - 1};
    ds.sequences.push_back(std::move(s));
  }
  PreconditionReport pre = check_preconditions(ds);
  REQUIRE(pre.verdict() == Applicability::Applies);
  Dataset rats = ds;
  for (auto& s : rats.sequences) s.input.store_as_rationals();
  Construction a = construct_model(ds, {}, pre);
  Construction b = construct_model(rats, {}, check_preconditions(rats));
  REQUIRE(a.trace.uses_attention);
  MESSAGE("key t = " << a.trace.key_t);
  CHECK(a.trace.key_t > 2);
  CHECK(a.trace.key_t == b.trace.key_t);
  CHECK(model_to_json_text(a.model) == model_to_json_text(b.model));
}
