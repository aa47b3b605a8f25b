// The IEEE bound for softmax models (proofs/float-bound.md, "Softmax models") against real float
// evaluations: std::exp, several summation orders, FMA, beta multiplied or 1/beta divided, the
// three normalisations (tests/float_softmax_oracle.hpp). The bound must never be below the
// deviation of any of them from the target. Targets are a double evaluation (so the comparison is
// at the scale of the rounding errors, where a wrong bound would show).
#include "interpcert/float_bound.hpp"
#include "float_softmax_oracle.hpp"
#include "random_model.hpp"
#include "../src/checker/float.hpp"
#include "interpcert/softmax_eval.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <iostream>
#include <random>

using namespace interpcert;
using namespace interpcert::testing;

namespace {

const FloatFormat kB64 = *float_format("binary64");
const FloatFormat kB32 = *float_format("binary32");

Model random_softmax_model(std::mt19937_64& rng, std::size_t d, std::size_t L) {
  Model m = random_model(rng, d, L);
  m.attention = AttentionKind::Softmax;
  static const Rational betas[] = {Rational(1), Rational(2), Rational(1, 3), Rational(5, 2), Rational(10), Rational(7, 100)};
  m.beta = betas[rng() % 6];
  return m;
}

/// Targets: the double evaluation (forward order, divide) at every position.
Dataset double_dataset(const Model& m, const std::vector<std::vector<Vec>>& seqs) {
  Dataset ds;
  ds.d = m.d;
  g_rounded.clear();
  for (const auto& s : seqs) {
    Sequence q;
    q.input = s;
    auto out = float_eval_softmax<double>(m, s, kB64, Order::Forward, Norm::Divide, false);
    for (std::size_t i = 0; i < s.size(); ++i) {
      Vec y;
      for (double x : out[i]) y.push_back(std::isfinite(x) ? Rational(x) : Rational(0));
      q.output.push_back(y);
      q.positions.push_back(i);
    }
    ds.sequences.push_back(q);
  }
  return ds;
}

template <typename F>
std::size_t check_variants(const Model& m, const Dataset& ds, const FloatBound& b, const FloatFormat& fmt,
                           std::uint64_t seed, std::size_t t, Rational& worst_ratio_den, Rational& worst_err) {
  std::size_t checked = 0;
  g_rounded.clear();
  for (Order o : {Order::Forward, Order::Reverse, Order::Pairwise, Order::Fma})
    for (Norm nm : {Norm::Divide, Norm::Reciprocal, Norm::AtEnd})
      for (bool tau : {false, true})
        for (std::size_t s = 0; s < ds.sequences.size(); ++s) {
          auto got = float_eval_softmax<F>(m, ds.sequences[s].input, fmt, o, nm, tau);
          for (std::size_t i = 0; i < got.size(); ++i)
            for (std::size_t c = 0; c < m.d; ++c) {
              double x = static_cast<double>(got[i][c]);
              REQUIRE(std::isfinite(x));
              Rational err = abs(Rational(x) - ds.sequences[s].output[i][c]);
              if (err > b.bound)
                std::cerr << "seed " << seed << " model " << t << " sequence " << s << " token " << i << ": error "
                          << rational_approx(err) << " > bound " << rational_approx(b.bound) << " (" << fmt.name
                          << ", order " << static_cast<int>(o) << ", norm " << static_cast<int>(nm) << ", tau " << tau
                          << ")\n";
              CHECK(err <= b.bound);
              if (err > worst_err) worst_err = err;
              ++checked;
            }
        }
  worst_ratio_den = b.bound;
  return checked;
}

}  // namespace

TEST_CASE("float_softmax::never below a real double/float evaluation on thousands of random models") {
  std::uint64_t seed = 20261128;
  std::mt19937_64 rng(seed);
  std::size_t bounded[2] = {0, 0}, values = 0;
  double tight[2] = {0, 0};  // the largest measured error / bound ratio
  for (std::size_t t = 0; t < 1200; ++t) {
    std::size_t d = 1 + rng() % 3, L = 1 + rng() % 3;
    Model m = random_softmax_model(rng, d, L);
    auto seqs = random_sequences(rng, d, 2, 4);
    Dataset ds = double_dataset(m, seqs);
    for (int f = 0; f < 2; ++f) {
      const FloatFormat& fmt = f ? kB32 : kB64;
      FloatBound b = float_error_bound(m, ds, fmt, fmt.p, 1);
      if (!b.ok()) continue;
      ++bounded[f];
      Rational den, worst(0);
      values += f ? check_variants<float>(m, ds, b, fmt, seed, t, den, worst)
                  : check_variants<double>(m, ds, b, fmt, seed, t, den, worst);
      if (b.bound > 0) tight[f] = std::max(tight[f], (worst / b.bound).convert_to<double>());
    }
  }
  std::cerr << "float_softmax differential (seed " << seed << "): bounded " << bounded[0] << " binary64, "
            << bounded[1] << " binary32 models; " << values << " float values checked; largest measured/bound "
            << tight[0] << " (binary64), " << tight[1] << " (binary32)\n";
  CHECK(bounded[0] > 600);
  CHECK(bounded[1] > 600);
}

TEST_CASE("float_softmax::the exp assumption enters the bound, and more bits give a smaller bound") {
  std::mt19937_64 rng(11);
  Model m = random_softmax_model(rng, 2, 2);
  m.beta = Rational(3, 2);
  Dataset ds = double_dataset(m, random_sequences(rng, 2, 3, 4));
  FloatBound k0 = float_error_bound(m, ds, kB64, 53, 1, 0), k2 = float_error_bound(m, ds, kB64, 53, 1, 2),
             k1000 = float_error_bound(m, ds, kB64, 53, 1, 1000);
  REQUIRE(k0.ok());
  REQUIRE(k2.ok());
  REQUIRE(k1000.ok());
  CHECK(k0.bound <= k2.bound);
  CHECK(k2.bound < k1000.bound);
  FloatBound wide = float_error_bound(m, ds, kB64, 80, 1);
  REQUIRE(wide.ok());
  CHECK(wide.bound <= k2.bound);
  // The precision needed: the printed p certifies, p - 1 does not.
  Rational eps = k2.bound * 4;
  auto need = float_precision_needed(m, ds, kB64, eps, false, 1);
  REQUIRE(need.bits);
  CHECK(*need.bits <= 53);
  CHECK(float_error_bound(m, ds, kB64, *need.bits, 1).bound <= eps);
  auto below = float_error_bound(m, ds, kB64, *need.bits - 1, 1);
  CHECK((!below.ok() || below.bound > eps));
}

TEST_CASE("float_softmax::a causal softmax model is refused, and overflowing scores are ruled out") {
  std::mt19937_64 rng(5);
  Model m = random_softmax_model(rng, 2, 1);
  Dataset ds = double_dataset(m, random_sequences(rng, 2, 2, 3));
  Model c = m;
  c.mask = MaskKind::Causal;
  CHECK(float_error_bound(c, ds, kB64, 53, 1).status == FloatBound::Status::Unsupported);
  // One attention layer with scores ~2^300: fine in binary64, overflow in binary32.
  Model a;
  a.d = 1;
  a.attention = AttentionKind::Softmax;
  a.beta = Rational(1);
  SelfAttention sa;
  sa.rho = 1;
  sa.Q = Matrix(1, 1);
  sa.Q(0, 0) = 1;
  sa.K = sa.Q;
  sa.V = sa.Q;
  a.blocks.push_back(Block{sa, std::nullopt});
  Dataset big;
  big.d = 1;
  Sequence s;
  s.input = {{Rational(Integer(1) << 150)}, {Rational(1)}};
  s.output = {{Rational(0)}};
  s.positions = {1};
  big.sequences.push_back(s);
  CHECK(float_error_bound(a, big, kB64, 53, 1).status == FloatBound::Status::Bounded);
  CHECK(float_error_bound(a, big, kB32, 24, 1).status == FloatBound::Status::Overflow);
}

TEST_CASE("float_softmax::the checker's own MPFI analysis agrees, and refutes a claim whose assumption is changed") {
  std::uint64_t seed = 424242;
  std::mt19937_64 rng(seed);
  std::size_t compared = 0, k_refuted = 0, f_refuted = 0;
  for (std::size_t t = 0; t < 150; ++t) {
    std::size_t d = 1 + rng() % 3, L = 1 + rng() % 3;
    Model m = random_softmax_model(rng, d, L);
    Dataset ds = double_dataset(m, random_sequences(rng, d, 2, 4));
    for (int f = 0; f < 2; ++f) {
      const FloatFormat& fmt = f ? kB32 : kB64;
      FloatBound b = float_error_bound(m, ds, fmt, fmt.p, 1);
      std::string why;
      auto own = checker::float_softmax_error_bound(m, ds, fmt.p, fmt.emin, fmt.emax, 2, 0, 1, why);
      CHECK(b.ok() == own.has_value());
      if (!b.ok() || !own) continue;
      ++compared;
      // The claim is twice the producer's bound, rounded up: the checker's bound must verify it.
      Rational claim = round_up_3_digits(b.bound * 2);
      if (*own > claim)
        std::cerr << "seed " << seed << " model " << t << " " << fmt.name << ": checker " << rational_approx(*own)
                  << " > claim " << rational_approx(claim) << "\n";
      CHECK(*own <= claim);
      // A tampered claim: the same bound, exp assumed accurate to 2^20 ulps instead of 2. Where the
      // exponentials matter the checker's bound grows past the claim (refuted); it never shrinks.
      auto loose = checker::float_softmax_error_bound(m, ds, fmt.p, fmt.emin, fmt.emax, 1 << 20, 0, 1, why);
      if (loose) {
        CHECK(*loose >= *own);
        if (*loose > claim) ++k_refuted;
      }
      // A tampered format: binary64's claim checked as binary32 (coarser rounding).
      if (!f && b.bound > 0) {
        auto as32 = checker::float_softmax_error_bound(m, ds, 24, -126, 127, 2, 0, 1, why);
        if (!as32 || *as32 > claim) ++f_refuted;
      }
    }
  }
  std::cerr << "float_softmax checker agreement (seed " << seed << "): " << compared << " analyses compared, "
            << k_refuted << " claims refuted once exp_ulps was raised to 2^20, " << f_refuted
            << " binary64 claims refuted as binary32\n";
  CHECK(compared > 200);
  CHECK(k_refuted > 50);
  CHECK(f_refuted > 100);
}

TEST_CASE("float_softmax::a claimed bound below the checker's is refuted; a causal model has no bound") {
  std::mt19937_64 rng(99);
  Model m = random_softmax_model(rng, 2, 2);
  Dataset ds = double_dataset(m, random_sequences(rng, 2, 3, 4));
  FloatBound b = float_error_bound(m, ds, kB64, 53, 1);
  REQUIRE(b.ok());
  std::string why;
  auto own = checker::float_softmax_error_bound(m, ds, 53, -1022, 1023, 2, 0, 1, why);
  REQUIRE(own);
  CHECK(*own > b.bound / 4);  // the checker is not vacuously small either
  m.mask = MaskKind::Causal;
  CHECK_FALSE(checker::float_softmax_error_bound(m, ds, 53, -1022, 1023, 2, 0, 1, why).has_value());
  CHECK(why.find("unmasked") != std::string::npos);
}

// The checker's bound (not only the producer's) against real evaluations, with the inputs, the value
// matrices and beta scaled by powers of two towards both ends of the format's range: scores whose
// exponentials underflow, products in the subnormal range, values near the overflow threshold
// (where the analysis must refuse rather than bound). exp assumed accurate to 1 ulp (std::exp).
TEST_CASE("float_softmax::the checker's bound holds for real evaluations at scales near the ends of the range") {
  std::uint64_t seed = 20261129;
  std::mt19937_64 rng(seed);
  auto pow2 = [](long k) { return k >= 0 ? Rational(Integer(1) << k) : Rational(1) / Rational(Integer(1) << -k); };
  std::size_t claimed[2] = {0, 0}, refused[2] = {0, 0}, values = 0;
  double tight[2] = {0, 0};
  for (std::size_t t = 0; t < 450; ++t) {
    const int f = t % 3 == 0 ? 0 : 1;  // two binary32 models per binary64 one
    const FloatFormat& fmt = f ? kB32 : kB64;
    std::size_t d = 1 + rng() % 3, L = 1 + rng() % 3;
    Model m = random_softmax_model(rng, d, L);
    const long bs = static_cast<long>(rng() % 81) - 40;
    if (rng() % 3 == 0) m.beta = *m.beta * pow2(bs);
    long ks = f ? static_cast<long>(rng() % 150) - 85 : static_cast<long>(rng() % 1100) - 580;
    if (rng() % 4 == 0) ks = 0;
    auto seqs = random_sequences(rng, d, 2, 5);
    for (auto& s : seqs)
      for (auto& x : s)
        for (auto& c : x) c *= pow2(ks);
    const long vs = f ? static_cast<long>(rng() % 60) - 30 : static_cast<long>(rng() % 400) - 200;
    if (rng() % 3 == 0)
      for (auto& b : m.blocks)
        if (b.sa)
          for (auto& x : b.sa->factored ? b.sa->Vleft.a : b.sa->V.a) x *= pow2(vs);
    Dataset ds = double_dataset(m, seqs);
    std::string why;
    auto own = checker::float_softmax_error_bound(m, ds, fmt.p, fmt.emin, fmt.emax, 1, 0, 1, why);
    if (!own) {
      ++refused[f];
      continue;
    }
    ++claimed[f];
    FloatBound b;
    b.bound = *own;
    Rational den, worst(0);
    values += f ? check_variants<float>(m, ds, b, fmt, seed, t, den, worst)
                : check_variants<double>(m, ds, b, fmt, seed, t, den, worst);
    if (*own > 0) tight[f] = std::max(tight[f], (worst / *own).convert_to<double>());
  }
  std::cerr << "float_softmax checker vs real evaluations at extreme scales (seed " << seed << "): bounded "
            << claimed[0] << " binary64 and " << claimed[1] << " binary32 models, refused " << refused[0] << " and "
            << refused[1] << "; " << values << " values; largest measured/bound " << tight[0] << ", " << tight[1]
            << "\n";
  CHECK(claimed[0] > 100);
  CHECK(claimed[1] > 250);
  CHECK(refused[1] > 0);  // the range's ends are reached: some models may overflow in binary32
}
