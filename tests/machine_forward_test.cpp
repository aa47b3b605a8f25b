// The forward pass in machine integers (src/engine/machine_forward.cpp, reached through
// FastEvaluator::run_outputs) against the plain rational reference: the same exact tokens on seeded
// random models and sequences, on values at the int64 and __int128 edges (where it must give up and
// leave the sequence to the GMP path), and on the construction's own models.
#include "interpcert/construct.hpp"
#include "interpcert/evaluate_fast.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "interpcert/interpolation.hpp"
#include "dataset_families.hpp"
#include "random_model.hpp"

#include <doctest/doctest.h>

#include <iostream>
#include <numeric>

using namespace interpcert;

namespace {

// The storage round t of a loop tries: rationals once every `period` rounds, int64 once, else
// the narrowest that holds the values (int32 for small integers).
Tokens::Storage storage_of_round(std::size_t t, std::size_t period) {
  if (t % period == period - 1) return Tokens::Storage::rational;
  if (t % period == period - 2) return Tokens::Storage::int64;
  return Tokens::Storage::int32;
}

struct Counts {
  std::size_t machine = 0, total = 0;
};

// Every token of every sequence through run_outputs (positions: all of them, or every other one),
// each against evaluate_reference. Returns how many sequences the machine path finished.
Counts expect_outputs_agree(const Model& m, const std::vector<std::vector<Vec>>& seqs, std::uint64_t seed,
                            std::size_t model_no, unsigned threads,
                            Tokens::Storage storage = Tokens::Storage::int32) {
  std::vector<Sequence> ds(seqs.size());
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    ds[s].input = seqs[s];
    ds[s].input.store_as(storage);  // at least as wide as the values need
    for (std::size_t i = 0; i < seqs[s].size(); i += 1 + (s + model_no) % 2) ds[s].positions.push_back(i);
  }
  FastEvaluator fast(m);
  Counts c;
  c.total = seqs.size();
  auto out = fast.run_outputs(ds.data(), ds.size(), threads, &c.machine);
  REQUIRE(out.size() == seqs.size());
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    auto ref = evaluate_reference(m, seqs[s]);
    REQUIRE(out[s].size() == ds[s].positions.size());
    for (std::size_t k = 0; k < ds[s].positions.size(); ++k) {
      if (out[s][k] != ref[ds[s].positions[k]])
        std::cerr << "seed " << seed << " model " << model_no << " sequence " << s << " position "
                  << ds[s].positions[k] << ": machine/fallback output differs from the reference\nmodel:\n"
                  << model_to_json_text(m);
      REQUIRE(out[s][k] == ref[ds[s].positions[k]]);
    }
  }
  return c;
}

// A number near an edge of the machine range, or a small one.
Rational edge(std::mt19937_64& rng) {
  const Integer one(1);
  const Integer jitter(static_cast<long>(rng() % 5) - 2);
  const Integer sign(rng() % 2 ? 1 : -1);
  switch (rng() % 10) {
    case 0: return Rational(static_cast<long>(rng() % 9) - 4);
    case 1: return Rational(static_cast<long>(rng() % 9) - 4, 1 + static_cast<long>(rng() % 3));
    case 2: return Rational(sign * ((one << 63) + jitter));              // int64's edge
    case 3: return Rational(sign * ((one << 62) + jitter));              // sums of two overflow int64
    case 4: return Rational(sign * ((one << 64) + jitter));              // products of two near 2^127
    case 5: return Rational(sign * ((one << 126) + jitter));             // the largest machine numbers
    case 6: return Rational(sign * ((one << 127) + jitter));             // beyond them
    case 7: return Rational(sign * ((one << 63) + jitter), (one << 63) - 1);  // fractions near the edge
    case 8: return Rational(sign * Integer(static_cast<long>(rng() >> 1)));   // any int64
    default: return Rational(sign * (one << static_cast<unsigned>(rng() % 127)));
  }
}

}  // namespace

TEST_CASE("machine_forward::equals the reference on thousands of random models (rational and integer)") {
  for (std::uint64_t seed : {21u, 22u}) {
    MESSAGE("machine_forward random models: seed " << seed);
    std::mt19937_64 rng(seed);
    Counts all, small;
    for (std::size_t t = 0; t < 1500; ++t) {
      const std::size_t d = 1 + rng() % 4, L = 1 + rng() % 5;
      Model m = testing::random_model(rng, d, L);
      if (t % 3 == 1) m.mask = MaskKind::Causal;
      auto seqs = testing::random_sequences(rng, d, 1 + rng() % 4, 7);
      if (t % 2) {  // integer weights up to 2^40 and tokens up to 2^50: some sequences overflow
        testing::integerize(m, rng);
        testing::integerize(seqs, rng);
      }
      Counts c = expect_outputs_agree(m, seqs, seed, t, 1 + t % 2, storage_of_round(t, 5));
      all.machine += c.machine;
      all.total += c.total;
      if (t % 2 == 0) small.machine += c.machine, small.total += c.total;
    }
    MESSAGE("machine path finished " << all.machine << " of " << all.total << " sequences (" << small.machine
                                     << " of the " << small.total << " with small rational numbers)");
    // Both routes are exercised, so a wrong machine pass or a wrong fallback would be seen; small
    // numbers (up to 5 layers) nearly never leave the machine range.
    CHECK(small.machine * 100 >= small.total * 99);
    CHECK(all.machine > all.total / 2);
    CHECK(all.machine < all.total);
  }
}

TEST_CASE("machine_forward::values at the int64 and __int128 edges: exact, or left to the GMP path") {
  const std::uint64_t seed = 23;
  MESSAGE("machine_forward edges: seed " << seed);
  std::mt19937_64 rng(seed);
  Counts all;
  for (std::size_t t = 0; t < 1500; ++t) {
    const std::size_t d = 1 + rng() % 3;
    Model m = testing::random_model(rng, d, 1 + rng() % 3);
    if (t % 4 == 3) m.mask = MaskKind::Causal;
    // A few model numbers at the edges (most stay small, so the model stays machine-usable).
    for (auto& b : m.blocks) {
      if (b.ff && rng() % 2) {
        auto& x = b.ff->b[rng() % b.ff->b.size()];
        x = edge(rng);
      }
      if (b.ff && rng() % 3 == 0) b.ff->W.a[rng() % b.ff->W.a.size()] = edge(rng);
      if (b.sa && rng() % 3 == 0) {
        Matrix& V = b.sa->factored ? b.sa->Vleft : b.sa->V;
        V.a[rng() % V.a.size()] = edge(rng);
      }
    }
    auto seqs = testing::random_sequences(rng, d, 1 + rng() % 3, 5);
    for (auto& s : seqs)
      for (auto& z : s)
        for (auto& x : z)
          if (rng() % 3 == 0) x = edge(rng);
    Counts c = expect_outputs_agree(m, seqs, seed, t, 1 + t % 2, storage_of_round(t, 7));
    all.machine += c.machine;
    all.total += c.total;
  }
  MESSAGE("machine path finished " << all.machine << " of " << all.total << " sequences at the edges");
  CHECK(all.machine > all.total / 5);
  CHECK(all.machine < all.total);
}

TEST_CASE("machine_forward::sums and products exactly at the edges by hand") {
  // z -> z + w relu(c z + b) in d = 1, rank one: (c z + b) and w (c z + b) straddle 2^63 and 2^127.
  const Integer one(1);
  struct Case {
    Integer z, c, b, w;
  };
  const Integer i63 = (one << 63) - 1, i127 = (one << 127) - 1;
  for (const Case& e : {Case{i63, 1, 0, 1}, Case{i63, 1, 1, 1}, Case{-i63, -1, 0, -1}, Case{-i63, -1, 1, -1},
                        Case{one << 62, 1, 0, one << 64}, Case{one << 62, 1, 0, (one << 64) - 1},
                        Case{one << 63, 1, 0, one << 63}, Case{i127 - 1, 1, 0, 1}, Case{i127, 1, 0, 0},
                        Case{one << 126, 1, 0, 1}, Case{(one << 126) - 1, 1, 0, 1}}) {
    Model m;
    m.d = 1;
    FeedForward ff;
    ff.eta = 1;
    ff.U = Matrix(1, 1);
    ff.U(0, 0) = Rational(e.c);
    ff.b = {Rational(e.b)};
    ff.W = Matrix(1, 1);
    ff.W(0, 0) = Rational(e.w);
    m.blocks.push_back(Block{std::nullopt, ff});
    const Integer h = e.c * e.z + e.b;
    const Integer want = e.z + (h > 0 ? e.w * h : Integer(0));
    std::vector<std::vector<Vec>> seqs{{Vec{Rational(e.z)}}};
    Counts c = expect_outputs_agree(m, seqs, 0, 0, 1);
    std::vector<Sequence> ds(1);
    ds[0].input = seqs[0];
    ds[0].positions = {0};
    auto out = FastEvaluator(m).run_outputs(ds.data(), 1, 1);
    CHECK(out[0][0][0] == Rational(want));
    // Within 2^127 - 1 (and no intermediate beyond it) the machine path finishes; beyond, it must not.
    const bool fits = abs(want) < (one << 127) - 1 && abs(e.w * h) < (one << 127) - 1 && abs(e.z) < (one << 126);
    if (!fits) CHECK(c.machine == 0);
  }
}

TEST_CASE("machine_forward::carries the construction's models (every sequence, same verdict as the reference)") {
  const std::uint64_t seed = 24;
  MESSAGE("machine_forward construction: seed " << seed);
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 6; ++trial) {
    Dataset ds = testing::make_random(rng, 2 + trial * 3, 30, 8, 2);
    Construction c = construct_model(ds);
    std::size_t machine = 0;
    auto out = FastEvaluator(c.model).run_outputs(ds.sequences.data(), ds.sequences.size(), 2, &machine);
    CHECK(machine == ds.sequences.size());
    for (std::size_t s = 0; s < ds.sequences.size(); ++s) {
      auto ref = evaluate_reference(c.model, ds.sequences[s].input);
      for (std::size_t k = 0; k < ds.sequences[s].positions.size(); ++k) {
        REQUIRE(out[s][k] == ref[ds.sequences[s].positions[k]]);
        CHECK(out[s][k] == ds.sequences[s].output[k]);
      }
    }
    CHECK(check_interpolation(c.model, ds, Evaluator::Fast).mismatches == 0);
    // A target moved: the fast check finds exactly the one mismatch, as the reference does.
    ds.sequences[3].output[1][0] += Rational(1);
    InterpolationCheck fast = check_interpolation(c.model, ds, Evaluator::Fast);
    InterpolationCheck ref = check_interpolation(c.model, ds, Evaluator::Reference);
    CHECK(fast.mismatches == 1);
    CHECK(ref.mismatches == 1);
    REQUIRE(fast.first);
    CHECK(fast.first->sequence == 3);
    CHECK(fast.first->value == ref.first->value);
  }
}

TEST_CASE("machine_forward::rank-one layers whose pieces are machine rows, GMP vectors or zero (seeded)") {
  // The pass reads the plan's compact rows as they are; a token landing on a piece kept in GMP
  // (a number beyond __int128) leaves its sequence to the GMP path, one landing on a zero piece
  // keeps its value (times eta).
  const std::uint64_t seed = 26;
  MESSAGE("machine_forward compact pieces: seed " << seed);
  std::mt19937_64 rng(seed);
  const Integer one(1);
  auto number = [&]() -> Rational {
    switch (rng() % 8) {
      case 0: return Rational(0);
      case 1: return Rational(static_cast<long>(rng() % 9) - 4, 1 + static_cast<long>(rng() % 6));
      case 2: return Rational((one << 126) - 1) / Rational(static_cast<long>(1 + 2 * (rng() % 3)));  // at the edge
      case 3: return Rational(one << 127) * (rng() % 2 ? 1 : -1);                                     // past it
      case 4: return Rational(1) / Rational(one << (60 + static_cast<unsigned>(rng() % 8)));        // large den
      default: return Rational(static_cast<long>(rng() % 21) - 10);
    }
  };
  Counts all;
  for (std::size_t t = 0; t < 600; ++t) {
    const std::size_t d = 1 + rng() % 3, w = 1 + rng() % 6;
    Model m;
    m.d = d;
    // attention first (sometimes), then one or two rank-one layers sharing u (eta = 1: the GMP
    // path indexes them) or not.
    if (rng() % 2) m.blocks.push_back(Block{testing::random_model(rng, d, 1).blocks[0].sa, std::nullopt});
    Vec u(d);
    for (auto& x : u) x = Rational(static_cast<long>(rng() % 5) - 2);
    for (std::size_t layer = 0, layers = 1 + rng() % 2; layer < layers; ++layer) {
      FeedForward ff;
      ff.eta = rng() % 3 ? Rational(1) : Rational(2);
      ff.U = Matrix(w, d);
      ff.W = Matrix(d, w);
      ff.b.resize(w);
      for (std::size_t j = 0; j < w; ++j) {
        const Rational c(static_cast<long>(rng() % 5) - 2);
        for (std::size_t i = 0; i < d; ++i) ff.U(j, i) = c * u[i];
        ff.b[j] = Rational(static_cast<long>(rng() % 9) - 4);
        for (std::size_t i = 0; i < d; ++i) ff.W(i, j) = rng() % 3 ? Rational(static_cast<long>(rng() % 7) - 3) : number();
      }
      m.blocks.push_back(Block{std::nullopt, ff});
    }
    auto seqs = testing::random_sequences(rng, d, 1 + rng() % 3, 5);
    Counts c = expect_outputs_agree(m, seqs, seed, t, 1 + t % 2, storage_of_round(t, 5));
    all.machine += c.machine;
    all.total += c.total;
  }
  MESSAGE("machine path finished " << all.machine << " of " << all.total << " sequences");
  CHECK(all.machine > all.total / 3);
  CHECK(all.machine < all.total * 9 / 10);
}
