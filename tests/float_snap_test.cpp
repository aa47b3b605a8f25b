// The rescale-and-snap prefix of construct --for-float (proofs/float-construction.md, "Short
// decimals") and Lemma R of proofs/float-bound.md. On seeded short-decimal datasets of every family
// of issue 10 the model must interpolate EXACTLY in rationals, both float analyses (engine and
// checker) must certify the epsilon, and plain double/float evaluations (tests/float_oracle.hpp,
// a test oracle, never a claim) in every summation order, with and without FMA, must stay within the
// certified bound. A broken snap (wrong constant, data too large for the grid) is refused by both
// analyses, and integer or dyadic data get no prefix at all.
#include "interpcert/construct.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "interpcert/float_bound.hpp"
#include "interpcert/interpolation.hpp"
#include "float_families.hpp"
#include "float_harness.hpp"
#include "../src/checker/float.hpp"

#include <doctest/doctest.h>

#include <iostream>
#include <random>

using namespace interpcert;
using namespace interpcert::testing;

namespace {

const FloatFormat kB64 = *float_format("binary64");
const FloatFormat kB32 = *float_format("binary32");

Rational pow2(long k) { return k >= 0 ? Rational(Integer(1) << k) : Rational(1) / Rational(Integer(1) << -k); }

struct DecimalRun {
  FloatFormat fmt;
  long R;
  int digits;
  std::size_t N;
  Rational eps;  // relative: max error / max(1, |target|)
};

void run_decimal(const std::string& name, const DecimalRun& run, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Dataset ds = decimal_family(name, rng, run.N, run.R, run.digits);
  std::string label = name + " " + run.fmt.name + " " + std::to_string(run.digits) + " decimal(s), |x| <= " +
                      std::to_string(run.R) + ", seed " + std::to_string(seed);
  INFO(label);
  ConstructOptions opt;
  opt.for_float = true;
  opt.float_bits = run.fmt.p;
  Construction c = construct_model(ds, opt);
  const Model& m = c.model;
  // The prefix is there (the data are not dyadic), scaled by the least power of ten that fits.
  Rational s(1);
  for (int i = 0; i < run.digits; ++i) s *= 10;
  CHECK(c.trace.snap_blocks == 3);
  CHECK(c.trace.snap_scale == s);
  CHECK(c.trace.snap_constant == Rational(3) * pow2(run.fmt.p - 2));
  // Exactness is never traded: the model interpolates in rational arithmetic.
  CHECK_FALSE(check_interpolation(m, ds, Evaluator::Reference).first.has_value());
  CHECK(m.blocks.size() <= ds.total_outputs() + ds.sequences.size() + 3);
  certify_and_measure(m, ds, run.fmt, run.eps, label);
}

/// A one-token model [z -> s z + C][z -> z - C] on the token (x, 0), target (s x, 0): the snap alone.
struct Snap {
  Model m;
  Dataset ds;
  Snap(const Rational& x, const Rational& s, const Rational& C) {
    m.d = 2;
    for (int k = 0; k < 2; ++k) {
      FeedForward ff;
      ff.eta = k == 0 ? s : Rational(1);
      ff.U = Matrix(1, 2);
      ff.b = {Rational(1)};
      ff.W = Matrix(2, 1);
      ff.W(0, 0) = ff.W(1, 0) = k == 0 ? C : Rational(-C);
      m.blocks.push_back(Block{std::nullopt, ff});
    }
    ds.d = 2;
    Sequence q;
    q.input = {Vec{x, Rational(0)}};
    q.output = {Vec{s * x, Rational(0)}};
    q.positions = {0};
    ds.sequences.push_back(q);
  }
  Rational engine() const {
    FloatBound fb = float_error_bound(m, ds, kB64, 53, 1);
    REQUIRE(fb.ok());
    return fb.bound;
  }
  Rational checker() const {
    std::string why;
    auto b = checker::float_error_bound(m, ds, 53, -1022, 1023, 0, 1, why);
    REQUIRE_MESSAGE(b.has_value(), why);
    return *b;
  }
};

}  // namespace

TEST_CASE("float_snap::binary64, one decimal, |x| <= 10^6, every family: exact in rationals, certified within 1e-6") {
  DecimalRun run{kB64, 1000000, 1, 12, Rational(1, 1000000)};
  for (const auto& name : kFloatFamilies) {
    if (name == "large-N") continue;  // bench/float_precision measures N = 1,000
    for (std::uint64_t seed : {31u, 32u}) run_decimal(name, run, seed);
  }
}

TEST_CASE("float_snap::binary64, two decimals: every family at |x| <= 10^4, the hat-only families at 10^6") {
  // Two decimals at 10^6 make an integer grid of 10^8 units; the code-layer families there need
  // split hats and coarse promotions (tests/float_split_test.cpp), the hat-only families do not.
  DecimalRun small{kB64, 10000, 2, 12, Rational(1, 1000000)};
  for (const auto& name : kFloatFamilies)
    if (name != "large-N") run_decimal(name, small, 41);
  DecimalRun large{kB64, 1000000, 2, 12, Rational(1, 1000000)};
  for (const std::string name : {"random", "collinear", "m=n", "permuted-copies"}) run_decimal(name, large, 42);
}

TEST_CASE("float_snap::binary32, one decimal, |x| <= 10: certified within 1e-2, real floats agree") {
  DecimalRun run{kB32, 10, 1, 12, Rational(1, 100)};
  for (const auto& name : kFloatFamilies)
    if (name != "large-N") run_decimal(name, run, 51);
}

TEST_CASE("float_snap::integer and dyadic data get no prefix; data too large for the grid are refused with a reason") {
  std::mt19937_64 rng(5);
  Dataset ints = float_family("shared-pool", rng, 12, 1000);
  ConstructOptions opt;
  opt.for_float = true;
  Construction a = construct_model(ints, opt);
  CHECK(a.trace.snap_blocks == 0);
  CHECK(a.trace.snap_refused.empty());
  // Halves are dyadic: Lemma E handles them without a prefix.
  Dataset halves = ints;
  for (auto& q : halves.sequences) {
    std::vector<Vec> in = q.input;
    for (auto& v : in)
      for (auto& x : v) x /= 2;
    q.input = in;
    for (auto& v : q.output)
      for (auto& x : v) x /= 2;
  }
  CHECK(construct_model(halves, opt).trace.snap_blocks == 0);
  // 2^50 + 1/10: s |x| = 10 2^50 + 1 >= 2^50 = 2^(p-3): no prefix, and the reason says so.
  Dataset big = ints;
  {
    std::vector<Vec> in = big.sequences[0].input;
    in[0][0] = pow2(50) + Rational(1, 10);
    big.sequences[0].input = in;
  }
  Construction b = construct_model(big, opt);
  CHECK(b.trace.snap_blocks == 0);
  CHECK(b.trace.snap_refused.find("too large") != std::string::npos);
  CHECK_FALSE(check_interpolation(b.model, big, Evaluator::Reference).first.has_value());
  // binary32: the same data with a decimal fit binary64's grid but not binary32's (2^21).
  Dataset dec = ints;
  {
    std::vector<Vec> in = dec.sequences[0].input;
    in[0][0] = Rational(3000001, 10);
    dec.sequences[0].input = in;
  }
  CHECK(construct_model(dec, opt).trace.snap_blocks == 3);
  opt.float_bits = 24;
  Construction c32 = construct_model(dec, opt);
  CHECK(c32.trace.snap_blocks == 0);
  CHECK_FALSE(c32.trace.snap_refused.empty());
}

TEST_CASE("float_bound::Lemma R: the snap is exact on the grid, refused off it, by both analyses") {
  const Rational C = Rational(3) * pow2(51);  // 1.5 2^52
  // On the grid: 0.1, -123456.7, 2^46 + 0.3 (s |x| < 2^50): bound 0, and real doubles agree.
  for (const Rational& x : {Rational(1, 10), Rational(-1234567, 10), pow2(46) + Rational(3, 10)}) {
    Snap t(x, Rational(10), C);
    INFO("x = " << rational_approx(x));
    CHECK(t.engine() == 0);
    CHECK(t.checker() == 0);
    CHECK(oracle_error<double>(t.m, t.ds, kB64, Rational(0), "snap") == 0);
  }
  // Tampered: C off the power-of-two grid (1.5 2^52 + 1/2): s x + C is not a double.
  {
    Snap t(Rational(1, 10), Rational(10), C + Rational(1, 2));
    CHECK(t.engine() > 0);
    CHECK(t.checker() > 0);
    oracle_error<double>(t.m, t.ds, kB64, t.engine(), "snap, C off the grid");
  }
  // Tampered: C too small for the data (2^20 next to s x ~ 1.2e7): the spacing near s x + C is
  // 2^-29, below the input's rounding error times s.
  {
    Snap t(Rational(12345671, 10), Rational(10), pow2(20));
    CHECK(t.engine() > 0);
    CHECK(t.checker() > 0);
    oracle_error<double>(t.m, t.ds, kB64, t.engine(), "snap, C too small");
  }
  // Tampered: data too large for the grid: s x = 10 (2^48 + 0.3) ~ 2^51.3, s x + C > 2^53 where the
  // spacing is 2: the exact s x + C (odd) is not a double.
  {
    Snap t(pow2(48) + Rational(3, 10), Rational(10), C);
    CHECK(t.engine() > 0);
    CHECK(t.checker() > 0);
    oracle_error<double>(t.m, t.ds, kB64, t.engine(), "snap, data too large");
  }
  // s x = 10 (2^49 + 0.3): fl(x) = 2^49 + 1/4 already misses s x by 1/2 after scaling; a real double
  // evaluation misses by 1, and both analyses refuse the snap (a bound of ~7.5, not 0).
  {
    Snap t(pow2(49) + Rational(3, 10), Rational(10), C);
    CHECK(t.engine() >= 1);
    CHECK(t.checker() >= 1);
    CHECK(oracle_error<double>(t.m, t.ds, kB64, t.engine(), "snap, data too large") == 1);
  }
  // Tampered: the grid is too coarse for the data (s = 10 but x = 0.15): s x + C is not an integer.
  {
    Snap t(Rational(15, 100), Rational(10), C);
    CHECK(t.engine() > 0);
    CHECK(t.checker() > 0);
  }
  // The input error at the margin: s x = -(2^51 - 2^40 + 3), s x + C = 2^52 + 2^40 - 3 (spacing 1):
  // Lemma R needs the input's error times s (~2 u |s x| ~ 1/4) below 1/2: exact. Far past the grid
  // (s x + C ~ -2^55, spacing 8, odd): refused.
  {
    Snap t(-(pow2(51) - pow2(40) + 3) / 10, Rational(10), C);
    CHECK(t.engine() == 0);
    CHECK(t.checker() == 0);
    Snap u(-(pow2(52) + Rational(1, 10)), Rational(10), C);
    CHECK(u.engine() > 0);
    CHECK(u.checker() > 0);
  }
}

// Lemma R at the edges of its hypotheses, against real evaluations: one-neuron blocks
// out = eta x + w relu(s x + C), one or two of them, with C a power of two or 1.5 times one near
// 2^(p-1) (sometimes off it, negated, or small), s and w powers of two, small fractions or
// integers, and inputs chosen so that s x + C lands near a binade boundary (a power of two, where
// the gap below is the smaller one), on it, or at a random decimal. Wherever the checker's bound
// is 0 (snapped) or not, no plain float/double evaluation in any order, FMA or not, exceeds it.
TEST_CASE("float_bound::Lemma R: the checker's snapped bounds hold for real evaluations near binade boundaries") {
  std::uint64_t seed = 20261130;
  std::mt19937_64 rng(seed);
  auto pick = [&](long lo, long hi) { return lo + static_cast<long>(rng() % static_cast<std::uint64_t>(hi - lo + 1)); };
  auto number = [&]() -> Rational {
    const long k = pick(-30, 30);
    switch (rng() % 6) {
      case 0: return pow2(k);
      case 1: return -pow2(k);
      case 2: return Rational(pick(-20, 20), pick(1, 12));
      case 3: return pow2(k) * Rational(3, 2);
      case 4: return Rational(pick(-1000, 1000));
      default: return Rational(pick(-3, 3));
    }
  };
  std::size_t snapped[2] = {0, 0}, other[2] = {0, 0};
  for (std::size_t t = 0; t < 6000; ++t) {
    const int f = static_cast<int>(t % 2);
    const FloatFormat& fmt = f ? kB32 : kB64;
    const long p = fmt.p;
    Model m;
    m.d = 1;
    const long blocks = 1 + pick(0, 1);
    for (long b = 0; b < blocks; ++b) {
      FeedForward ff;
      ff.U = Matrix(1, 1);
      ff.W = Matrix(1, 1);
      ff.b = Vec(1);
      ff.U(0, 0) = number();
      const long k = pick(p - 4, p + 1);
      Rational C = rng() % 2 ? pow2(k) * Rational(3, 2) : pow2(k);
      if (rng() % 3 == 0) C += Rational(pick(-3, 3));
      if (rng() % 4 == 0) C = -C;
      if (rng() % 5 == 0) C = number();
      ff.b[0] = C;
      ff.W(0, 0) = rng() % 2 ? Rational(1) : number();
      ff.eta = rng() % 2 ? Rational(0) : number();
      m.blocks.push_back(Block{std::nullopt, ff});
    }
    Dataset ds;
    ds.d = 1;
    Sequence s;
    const FeedForward& first = *m.blocks[0].ff;
    for (int i = 0; i < 3; ++i) {
      Rational edge = rng() % 2 ? pow2(pick(p - 3, p + 1)) : pow2(pick(p - 3, p + 1)) * Rational(3, 2);
      edge += Rational(pick(-4, 4)) + Rational(pick(-8, 8), 8);
      Rational x = first.U(0, 0) == 0 ? Rational(pick(-9, 9), 10) : (edge - first.b[0]) / first.U(0, 0);
      if (rng() % 3 == 0) x = Rational(pick(-99999, 99999), pick(1, 100));
      if (rng() % 5 == 0) x *= pow2(pick(-3, 3));
      s.input.push_back(Vec{x});
    }
    for (std::size_t i = 0; i < s.input.size(); ++i) {
      Rational z = s.input[i][0];
      for (const Block& b : m.blocks) {
        const FeedForward& ff = *b.ff;
        Rational a = ff.U(0, 0) * z + ff.b[0];
        z = ff.eta * z + ff.W(0, 0) * (a > 0 ? a : Rational(0));
      }
      s.output.push_back(Vec{z});
      s.positions.push_back(i);
    }
    ds.sequences.push_back(s);
    std::string why;
    auto own = checker::float_error_bound(m, ds, fmt.p, fmt.emin, fmt.emax, 0, 1, why);
    REQUIRE(own);  // no attention, and far from overflow
    (*own == 0 ? snapped : other)[f]++;
    const std::string label = "seed " + std::to_string(seed) + " model " + std::to_string(t);
    if (f) oracle_error<float>(m, ds, fmt, *own, label);
    else oracle_error<double>(m, ds, fmt, *own, label);
  }
  std::cerr << "Lemma R near binade boundaries (seed " << seed << "): bound 0 on " << snapped[0] << " binary64 and "
            << snapped[1] << " binary32 models, positive on " << other[0] << " and " << other[1] << "\n";
  CHECK(snapped[0] > 200);
  CHECK(snapped[1] > 200);
}

// Lemma R's radius at a power of two is half the gap BELOW it (floats are twice as dense there).
// out = w relu(x) with x = h, w = 1/h: the exact output is 1, and fl(w) h lies below 1 by
// (w - fl(w)) h, between 2^-(p+1) and 2^-p (h = 49 in binary64, 41 in binary32), not a tie: a real
// evaluation rounds it to 1 - 2^-p, the float below 1. A radius of half the gap above (2^-p) would
// snap it to 1 and certify a bound of 0; both analyses must bound the error by at least 2^-p.
TEST_CASE("float_bound::Lemma R at a power of two: the smaller gap (below) decides the snap") {
  for (const auto& [fmt, h] : {std::pair{kB64, 49L}, std::pair{kB32, 41L}}) {
    INFO(fmt.name << ", h = " << h);
    Model m;
    m.d = 1;
    FeedForward ff;
    ff.U = Matrix(1, 1);
    ff.W = Matrix(1, 1);
    ff.b = Vec(1, Rational(0));
    ff.U(0, 0) = Rational(1);
    ff.W(0, 0) = Rational(1, h);
    ff.eta = Rational(0);
    m.blocks.push_back(Block{std::nullopt, ff});
    Dataset ds;
    ds.d = 1;
    ds.sequences.push_back(Sequence{{Vec{Rational(h)}}, {Vec{Rational(1)}}, {0}});
    const Rational gap = pow2(-fmt.p);  // 1 - (the float below 1)
    std::string why;
    auto own = checker::float_error_bound(m, ds, fmt.p, fmt.emin, fmt.emax, 0, 1, why);
    REQUIRE(own);
    CHECK(*own >= gap);
    FloatBound b = float_error_bound(m, ds, fmt, fmt.p, 1);
    REQUIRE(b.ok());
    CHECK(b.bound >= gap);
    // The real evaluation misses by exactly that gap (and stays within both bounds).
    const Rational worst = fmt.p == 53 ? oracle_error<double>(m, ds, fmt, *own, "1/49 * 49")
                                       : oracle_error<float>(m, ds, fmt, *own, "1/41 * 41");
    CHECK(worst == gap);
  }
}
