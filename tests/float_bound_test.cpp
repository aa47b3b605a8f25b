// The floating-point bound against real IEEE evaluations: a plain C++ evaluation in double (and
// float for binary32), with the model's numbers and the inputs rounded to the format, in several
// summation orders (forward, reverse, pairwise, FMA), must never deviate from the exact output by
// more than the certified bound. (The double/float code here is a test oracle, not a claim.)
#include "interpcert/construct.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "interpcert/float_bound.hpp"
#include "float_families.hpp"
#include "float_oracle.hpp"
#include "random_model.hpp"
#include "../src/checker/float.hpp"

#include <doctest/doctest.h>
#include <mpfr.h>

#include <cmath>
#include <iostream>
#include <random>
#include <thread>
#include <unordered_map>

using namespace interpcert;

using namespace interpcert::testing;

namespace {

const FloatFormat kB64 = *float_format("binary64");
const FloatFormat kB32 = *float_format("binary32");

/// A dataset whose targets are the model's exact outputs at every position.
Dataset exact_dataset(const Model& m, const std::vector<std::vector<Vec>>& seqs) {
  Dataset ds;
  ds.d = m.d;
  for (const auto& s : seqs) {
    Sequence q;
    q.input = s;
    q.output = evaluate_reference(m, s);
    for (std::size_t i = 0; i < s.size(); ++i) q.positions.push_back(i);
    ds.sequences.push_back(q);
  }
  return ds;
}

/// Breaks most exact ties: small generic offsets on the query and key matrices.
void jitter(std::mt19937_64& rng, Model& m) {
  for (auto& b : m.blocks)
    if (b.sa)
      for (auto* M : {&b.sa->Q, &b.sa->K})
        for (auto& x : M->a) x += Rational(static_cast<long>(rng() % 2001) - 1000, 997);
}

template <typename F>
std::size_t check_against_oracle(const Model& m, const Dataset& ds, const FloatBound& b, const FloatFormat& fmt,
                                 std::uint64_t seed, std::size_t t) {
  std::size_t checked = 0;
  g_rounded.clear();
  for (Order o : {Order::Forward, Order::Reverse, Order::Pairwise, Order::Fma})
    for (bool by_weights : {false, true})
      for (std::size_t s = 0; s < ds.sequences.size(); ++s) {
        if (by_weights && o != Order::Forward && o != Order::Fma) continue;
        auto got = float_eval<F>(m, ds.sequences[s].input, fmt, o, by_weights);
        for (std::size_t i = 0; i < got.size(); ++i)
          for (std::size_t c = 0; c < m.d; ++c) {
            F x = got[i][c];
            REQUIRE(std::isfinite(static_cast<double>(x)));
            Rational err = abs(Rational(static_cast<double>(x)) - ds.sequences[s].output[i][c]);
            if (err > b.bound) {
              std::cerr << "seed " << seed << " model " << t << " sequence " << s << " token " << i << " order "
                        << static_cast<int>(o) << ": error " << rational_approx(err) << " > bound "
                        << rational_approx(b.bound) << " (" << fmt.name << ")\n";
            }
            CHECK(err <= b.bound);
            ++checked;
          }
      }
  return checked;
}

}  // namespace

TEST_CASE("float_bound::rounding to the format is exact round-to-nearest-even") {
  CHECK(*float_round(Rational(1, 3), 53, kB64) == Rational(1.0 / 3.0));
  CHECK(*float_round(Rational(1, 10), 24, kB32) == Rational(static_cast<double>(0.1f)));
  CHECK(*float_round(Rational(16777217), 24, kB32) == Rational(16777216));  // tie to even
  CHECK(*float_round(Rational(16777219), 24, kB32) == Rational(16777220));  // tie to even (up)
  CHECK(*float_round(Rational(-5, 4), 2, kB64) == Rational(-1));            // 1.01b -> 1.0b (tie, even)
  // Subnormals: the smallest binary32 subnormal is 2^-149; 2^-150 ties to 0, 3 2^-151 rounds up.
  Rational tiny = Rational(1) / Rational(Integer(1) << 150);
  CHECK(*float_round(tiny, 24, kB32) == 0);
  CHECK(*float_round(tiny * 3 / 2, 24, kB32) == tiny * 2);
  CHECK(*float_round(Rational(static_cast<double>(std::nextafter(0.0, 1.0))), 53, kB64) ==
        Rational(static_cast<double>(std::nextafter(0.0, 1.0))));
  // Overflow: binary32 max is (2 - 2^-23) 2^127.
  Rational fmax(static_cast<double>(3.4028234663852886e38f));
  CHECK(*float_round(fmax, 24, kB32) == fmax);
  CHECK_FALSE(float_round(fmax * 2, 24, kB32).has_value());
  // Against the hardware on seeded random rationals.
  std::uint64_t seed = 20261128;
  std::mt19937_64 rng(seed);
  for (int k = 0; k < 2000; ++k) {
    Rational x(static_cast<long>(rng() % 2000001) - 1000000, static_cast<long>(rng() % 99991) + 1);
    double hd = static_cast<double>(numerator(x).convert_to<long>()) / static_cast<double>(denominator(x).convert_to<long>());
    CHECK(*float_round(x, 53, kB64) == Rational(hd));  // one correctly rounded division
  }
}

TEST_CASE("float_bound::never below a real double/float evaluation on thousands of random models") {
  std::uint64_t seed = 1729;
  std::mt19937_64 rng(seed);
  std::size_t bounded[2] = {0, 0}, unstable = 0, values = 0;
  for (std::size_t t = 0; t < 1500; ++t) {
    std::size_t d = 1 + rng() % 3, L = 1 + rng() % 4;
    Model m = testing::random_model(rng, d, L);
    if (rng() % 4) jitter(rng, m);
    auto seqs = testing::random_sequences(rng, d, 3, 4);
    Dataset ds = exact_dataset(m, seqs);
    for (int f = 0; f < 2; ++f) {
      const FloatFormat& fmt = f ? kB32 : kB64;
      FloatBound b = float_error_bound(m, ds, fmt, fmt.p, 1);
      if (b.status == FloatBound::Status::Unstable) ++unstable;
      if (!b.ok()) continue;
      ++bounded[f];
      CHECK(b.exact_error == 0);
      values += f ? check_against_oracle<float>(m, ds, b, fmt, seed, t) : check_against_oracle<double>(m, ds, b, fmt, seed, t);
    }
  }
  std::cerr << "float_bound differential (seed " << seed << "): bounded " << bounded[0] << " binary64, " << bounded[1]
            << " binary32 models; " << unstable << " unstable; " << values << " float values checked\n";
  CHECK(bounded[0] > 500);
  CHECK(bounded[1] > 500);
}

namespace {

/// d = 2, one attention layer Q = K = (1 0), V given; the sequence's tokens given.
Model one_attention(const Matrix& V) {
  Model m;
  m.d = 2;
  SelfAttention sa;
  sa.rho = 0;
  sa.Q = Matrix(1, 2);
  sa.Q(0, 0) = 1;
  sa.K = sa.Q;
  sa.V = V;
  m.blocks.push_back(Block{sa, std::nullopt});
  return m;
}
Matrix identity2() {
  Matrix V(2, 2);
  V(0, 0) = V(1, 1) = 1;
  return V;
}

}  // namespace

TEST_CASE("float_bound::a near tie that rounding breaks is detected, and a real float evaluation does go wrong") {
  // Token 0 = (1 + 2^-60, 0) leads exactly; in binary64 it rounds to (1, 0) and ties with token 1.
  Rational delta = Rational(1) / Rational(Integer(1) << 60);
  Model m = one_attention(identity2());
  std::vector<Vec> seq = {{1 + delta, Rational(0)}, {Rational(1), Rational(5)}};
  Dataset ds = exact_dataset(m, {seq});
  FloatBound b = float_error_bound(m, ds, kB64, 53, 1);
  REQUIRE(b.status == FloatBound::Status::Unstable);
  CHECK(b.why.find("block 0, sequence 0, token 0") != std::string::npos);
  // The oracle confirms: double selects both and averages (output 2.5, exact 0).
  g_rounded.clear();
  auto got = float_eval<double>(m, seq, kB64, Order::Forward, false);
  CHECK(got[0][1] == 2.5);
  CHECK(ds.sequences[0].output[0][1] == 0);
  // With enough bits the selection is stable and the bound holds.
  FloatBound wide = float_error_bound(m, ds, kB64, 80, 1);
  CHECK(wide.ok());
  PrecisionNeeded need = float_precision_needed(m, ds, kB64, Rational(1, 1000), false, 1);
  REQUIRE(need.bits.has_value());
  CHECK(*need.bits > 60);
  CHECK(*need.bits <= 80);
}

TEST_CASE("float_bound::an exact tie is harmless only when the tied tokens carry the same value") {
  std::vector<Vec> seq = {{Rational(1), Rational(0)}, {Rational(1), Rational(5)}};
  Model differ = one_attention(identity2());
  FloatBound b = float_error_bound(differ, exact_dataset(differ, {seq}), kB64, 53, 1);
  REQUIRE(b.status == FloatBound::Status::Unstable);
  CHECK(b.why.find("exact tie") != std::string::npos);
  Matrix V(2, 2);
  V(0, 0) = Rational(1, 3);  // V z depends on the first coordinate only: equal for the tied tokens
  Model same = one_attention(V);
  FloatBound ok = float_error_bound(same, exact_dataset(same, {seq}), kB64, 53, 1);
  CHECK(ok.ok());
  CHECK(ok.bound > 0);
  CHECK(ok.bound < Rational(1, 1000000000));
}

TEST_CASE("float_bound::overflow is ruled out, not bounded") {
  Model m = one_attention(identity2());
  Rational big(Integer(1) << 100);
  std::vector<Vec> seq = {{big, Rational(0)}, {Rational(1), Rational(5)}};
  Dataset ds = exact_dataset(m, {seq});
  CHECK(float_error_bound(m, ds, kB64, 53, 1).ok());
  FloatBound b = float_error_bound(m, ds, kB32, 24, 1);  // scores ~2^200 > float max
  CHECK(b.status == FloatBound::Status::Overflow);
}

TEST_CASE("float_bound::precision needed grows with the accuracy asked for") {
  std::mt19937_64 rng(7);
  Model m = testing::random_model(rng, 2, 3);
  jitter(rng, m);
  Dataset ds = exact_dataset(m, testing::random_sequences(rng, 2, 4, 4));
  FloatBound b64 = float_error_bound(m, ds, kB64, 53, 1);
  if (!b64.ok()) return;  // this seed gave an unstable model: nothing to compare
  auto coarse = float_precision_needed(m, ds, kB64, Rational(1, 100), false, 1);
  auto fine = float_precision_needed(m, ds, kB64, Rational(1, Integer(1) << 80), false, 1);
  REQUIRE(coarse.bits);
  REQUIRE(fine.bits);
  CHECK(*coarse.bits < *fine.bits);
  // The printed p certifies and p - 1 does not.
  CHECK(float_error_bound(m, ds, kB64, *fine.bits, 1).bound <= Rational(1, Integer(1) << 80));
  auto below = float_error_bound(m, ds, kB64, *fine.bits - 1, 1);
  CHECK((!below.ok() || below.bound > Rational(1, Integer(1) << 80)));
}

TEST_CASE("float_bound::a causal model is refused by both analyses, never run as if unmasked") {
  Model m = one_attention(identity2());
  std::vector<Vec> seq = {{Rational(3), Rational(0)}, {Rational(1), Rational(5)}};
  Dataset ds = exact_dataset(m, {seq});
  REQUIRE(float_error_bound(m, ds, kB64, 53, 1).ok());
  m.mask = MaskKind::Causal;
  FloatBound b = float_error_bound(m, ds, kB64, 53, 1);
  CHECK(b.status == FloatBound::Status::Unsupported);
  CHECK(b.why.find("causal") != std::string::npos);
  std::string why;
  CHECK_FALSE(checker::float_error_bound(m, ds, 53, kB64.emin, kB64.emax, 0, 1, why).has_value());
  CHECK(why.find("unmasked") != std::string::npos);
}

TEST_CASE("float_bound::the checker's independent analysis agrees with the producer's on random models") {
  std::uint64_t seed = 99;
  std::mt19937_64 rng(seed);
  std::size_t agreed = 0;
  for (std::size_t t = 0; t < 300; ++t) {
    std::size_t d = 1 + rng() % 3;
    Model m = testing::random_model(rng, d, 1 + rng() % 4);
    if (rng() % 4) jitter(rng, m);
    Dataset ds = exact_dataset(m, testing::random_sequences(rng, d, 3, 4));
    for (const FloatFormat* f : {&kB64, &kB32}) {
      FloatBound b = float_error_bound(m, ds, *f, f->p, 1);
      std::string why;
      auto own = checker::float_error_bound(m, ds, f->p, f->emin, f->emax, 0, 1, why);
      INFO("seed " << seed << " model " << t << " " << f->name << ": " << b.why << " / " << why);
      REQUIRE(b.ok() == own.has_value());
      if (!own) continue;
      // Same lemmas, different code and rounding sequence: equal up to the bounds' own roundings.
      CHECK(*own <= b.bound * Rational(1000001, 1000000));
      CHECK(b.bound <= *own * Rational(1000001, 1000000));
      ++agreed;
    }
  }
  CHECK(agreed > 200);
}

TEST_CASE("float_bound::an attention average whose sum overflows is ruled out by both analyses (sum, then divide)") {
  // d = 1, Q = K = 0 (every score 0: both tokens tie), V = 1, rho = 0; the two tied tokens are
  // v = 1.5 2^127, a binary32 float, so each value and the weighted average (1/2) v + (1/2) v are
  // far below the float max, but the sum-then-divide average computes fl(v + v) = inf.
  Model m;
  m.d = 1;
  SelfAttention sa;
  sa.rho = 0;
  sa.Q = Matrix(1, 1);
  sa.K = Matrix(1, 1);
  sa.V = Matrix(1, 1);
  sa.V(0, 0) = 1;
  m.blocks.push_back(Block{sa, std::nullopt});
  Rational v = Rational(3) * Rational(Integer(1) << 126);
  std::vector<Vec> seq = {{v}, {v}};
  Dataset ds = exact_dataset(m, {seq});
  REQUIRE(ds.sequences[0].output[1][0] == v);
  g_rounded.clear();
  auto got = float_eval<float>(m, seq, kB32, Order::Forward, /*average_by_weights=*/false);
  CHECK(std::isinf(got[1][0]));  // the oracle: a real binary32 evaluation overflows
  std::string why;
  auto own = checker::float_error_bound(m, ds, kB32.p, kB32.emin, kB32.emax, 0, 1, why);
  CHECK_FALSE(own.has_value());  // no finite bound may be claimed
  CHECK(why.find("overflow") != std::string::npos);
  FloatBound b = float_error_bound(m, ds, kB32, kB32.p, 1);
  CHECK(b.status == FloatBound::Status::Overflow);
}

TEST_CASE("float_bound::the checker's bound is never an infinite upper bound read back as 0") {
  // No blocks: the output is the input, 0, and the target is 2^20000. The exact error 2^20000 is
  // beyond this thread's MPFR exponent range (set to 2^14 here; MPFR's default, which the CLI's
  // float check ran in, is 2^30 - 1, reached by a target of about 323 million digits): rounded up
  // it is +inf, and an infinite bound must not come back as the rational 0 (mpfr_get_q(inf) = 0).
  Model m;
  m.d = 1;
  Dataset ds;
  ds.d = 1;
  Sequence s;
  s.input = {{Rational(0)}};
  s.output = {{Rational(Integer(1) << 20000)}};
  s.positions = {0};
  ds.sequences.push_back(s);
  std::optional<Rational> own;
  std::string why;
  std::thread([&] {
    mpfr_set_emax(1 << 14);
    own = checker::float_error_bound(m, ds, kB64.p, kB64.emin, kB64.emax, 0, 1, why);
  }).join();
  CHECK((!own || *own >= Rational(Integer(1) << 20000)));
}

TEST_CASE("float_bound::the precision search with early exit equals the plain search on random models") {
  // float_precision_needed stops a probe at the first failing sequence; the plain search asks
  // float_error_bound at every probe. Same bits, same reason when none suffices.
  std::uint64_t seed = 2718;
  std::mt19937_64 rng(seed);
  std::size_t found = 0, none = 0;
  for (std::size_t t = 0; t < 150; ++t) {
    INFO("seed " << seed << ", model " << t);
    std::size_t d = 1 + rng() % 3, L = 1 + rng() % 4;
    Model m = testing::random_model(rng, d, L);
    if (rng() % 4) jitter(rng, m);
    auto seqs = testing::random_sequences(rng, d, 3, 4);
    Dataset ds = exact_dataset(m, seqs);
    if (rng() % 3 == 0)  // a target off the exact output: some epsilons are out of reach at any p
      ds.sequences[0].output[0][0] += Rational(1, 1 + static_cast<long>(rng() % 1000));
    const FloatFormat& fmt = rng() % 2 ? kB32 : kB64;
    const Rational eps(1, static_cast<long>(1) << (rng() % 40));
    const bool relative = rng() % 2;
    const long max_bits = 60 + static_cast<long>(rng() % 100);
    PrecisionNeeded fast = float_precision_search(m, ds, fmt, eps, relative, 1, max_bits, 2, true);
    PrecisionNeeded plain = float_precision_search(m, ds, fmt, eps, relative, 1, max_bits, 2, false);
    CHECK(fast.bits == plain.bits);
    CHECK(fast.why_not == plain.why_not);
    CHECK(fast.max_bits == plain.max_bits);
    (fast.bits ? found : none)++;
  }
  std::cerr << "precision search differential (seed " << seed << "): " << found << " found, " << none << " none\n";
  CHECK(found > 30);
  CHECK(none > 5);
}

namespace {

/// Every field of two analyses' results, exactly.
void check_same(const FloatBound& fast, const FloatBound& plain) {
  CHECK(static_cast<int>(fast.status) == static_cast<int>(plain.status));
  CHECK(fast.precision == plain.precision);
  CHECK(fast.bound == plain.bound);
  CHECK(fast.relative == plain.relative);
  CHECK(fast.exact_error == plain.exact_error);
  CHECK(fast.why == plain.why);
}

/// Gives a random model the structure the fast paths use: runs of equal rows in U (a hat's
/// U = 1 u^T), in Q, K and V, weights exactly +-1, and biases that put some tokens on either side.
void add_structure(std::mt19937_64& rng, Model& m) {
  auto copy_rows = [&](Matrix& M) {
    for (std::size_t i = 1; i < M.rows; ++i)
      if (rng() % 2)
        for (std::size_t j = 0; j < M.cols; ++j) M(i, j) = M(i - 1, j);
  };
  for (auto& b : m.blocks) {
    if (b.ff) {
      for (auto& x : b.ff->U.a)
        if (rng() % 3 == 0) x = rng() % 2 ? 1 : -1;
      copy_rows(b.ff->U);
      for (auto& x : b.ff->W.a)
        if (rng() % 4 == 0) x = rng() % 2 ? 1 : -1;
    }
    if (b.sa) {
      copy_rows(b.sa->Q);
      copy_rows(b.sa->K);
      copy_rows(b.sa->factored ? b.sa->Vleft : b.sa->V);
    }
  }
}

}  // namespace

TEST_CASE("float_bound::the analysis with its shortcuts equals the plain analysis on random models") {
  // float_error_bound shares a run of equal rows' dot product, caches Lemma S's linear part per
  // layer and set of active neurons, and forms products without temporaries; float_error_bound_plain
  // forms everything per token. Every field equal, at the formats' precisions and at small ones
  // (where selections become unstable, signs unknown and sums overflow).
  std::uint64_t seed = 26;
  std::mt19937_64 rng(seed);
  std::size_t bounded = 0, other = 0, shortcut_layers = 0;
  for (std::size_t t = 0; t < 300; ++t) {
    INFO("seed " << seed << ", model " << t);
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 4;
    Model m = testing::random_model(rng, d, L);
    if (rng() % 4) jitter(rng, m);
    if (rng() % 4) add_structure(rng, m);
    for (const auto& b : m.blocks)
      if (b.ff && b.ff->U.rows > 1 && b.ff->U(1, 0) == b.ff->U(0, 0)) ++shortcut_layers;
    auto seqs = testing::random_sequences(rng, d, 1 + rng() % 4, 1 + rng() % 6);
    Dataset ds = exact_dataset(m, seqs);
    if (rng() % 3 == 0) ds.sequences[0].output[0][0] += Rational(1, 1 + static_cast<long>(rng() % 1000));
    const FloatFormat& fmt = rng() % 2 ? kB32 : kB64;
    for (long p : {fmt.p, 2 + static_cast<long>(rng() % 20), 60 + static_cast<long>(rng() % 100)}) {
      INFO("p = " << p);
      FloatBound fast = float_error_bound(m, ds, fmt, p, 1 + rng() % 2);
      FloatBound plain = float_error_bound_plain(m, ds, fmt, p, 1);
      check_same(fast, plain);
      (fast.ok() ? bounded : other)++;
    }
  }
  std::cerr << "float_bound shortcuts differential (seed " << seed << "): " << bounded << " bounded, " << other
            << " not, " << shortcut_layers << " layers with a run of equal rows\n";
  CHECK(bounded > 300);
  CHECK(other > 50);
  CHECK(shortcut_layers > 50);
}

TEST_CASE("float_bound::the shortcuts equal the plain analysis on constructed models (plain and --for-float)") {
  // The constructions' hats (U = 1 u^T, a few active sets per layer, weights +-1) are where the
  // shortcuts act; the precision search given the bound at the format's precision (`known`, as
  // every caller does) must answer as the search without it.
  std::uint64_t seed = 2026;
  std::mt19937_64 rng(seed);
  std::size_t runs = 0;
  for (const char* family : {"random", "shared-pool", "collinear", "permuted-copies"})
    for (int for_float = 0; for_float < 2; ++for_float) {
      INFO(family << (for_float ? " --for-float" : " plain"));
      Dataset ds = testing::float_family(family, rng, 6 + rng() % 6, 1000, 2 + rng() % 3);
      ConstructOptions opt;
      opt.for_float = for_float;
      opt.float_bits = kB64.p;
      Model m = construct_model(ds, opt).model;
      for (long p : {kB64.p, 30L, 12L, 80L}) {
        INFO("p = " << p);
        check_same(float_error_bound(m, ds, kB64, p, 2), float_error_bound_plain(m, ds, kB64, p, 1));
        ++runs;
      }
      FloatBound at_p = float_error_bound(m, ds, kB64, kB64.p, 1);
      const Rational eps(1, 1000000);
      PrecisionNeeded given = float_precision_needed(m, ds, kB64, eps, true, 1, 1024, 2, &at_p);
      PrecisionNeeded asked = float_precision_search(m, ds, kB64, eps, true, 1, 1024, 2, false);
      CHECK(given.bits == asked.bits);
      CHECK(given.why_not == asked.why_not);
    }
  CHECK(runs == 32);
}
