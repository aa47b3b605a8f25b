// Certified softmax evaluation: enclosures contain the truth (checked against an independent
// implementation at much higher precision), bounds shrink as beta grows, the beta search is
// sound, and the checker refutes tampered softmax claims.
#include "../src/checker/claims.hpp"
#include "../src/checker/forward.hpp"
#include "../src/checker/softmax.hpp"
#include "dataset_families.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/interpolation_claim.hpp"
#include "interpcert/preconditions.hpp"
#include "interpcert/softmax_apriori.hpp"
#include "interpcert/softmax_eval.hpp"
#include "interpcert/softmax_search.hpp"

#include <doctest/doctest.h>
#include <mpfr.h>

using namespace interpcert;

namespace {
Model softmax_of(const Model& hard, const Rational& beta) {
  Model m = hard;
  m.attention = AttentionKind::Softmax;
  m.beta = beta;
  return m;
}
}  // namespace

TEST_CASE("softmax_eval::exp enclosures overlap a 4096-bit MPFR enclosure; exp(a) exp(b) overlaps exp(a + b)") {
  std::uint64_t seed = 31;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  mpfr_t x, L, U;
  mpfr_inits2(4096, x, L, U, static_cast<mpfr_ptr>(nullptr));
  for (int t = 0; t < 300; ++t) {
    Rational a(static_cast<long>(rng() % 200001) - 100000, 1 + static_cast<long>(rng() % 997));
    Rational lo, hi;
    softmax_exp_enclosure(a, 128, lo, hi);
    REQUIRE(lo <= hi);
    // exp(a) in [L, U]: a rounded down then exp rounded down, and likewise up (exp is increasing).
    mpfr_set_q(x, a.backend().data(), MPFR_RNDD);
    mpfr_exp(L, x, MPFR_RNDD);
    mpfr_set_q(x, a.backend().data(), MPFR_RNDU);
    mpfr_exp(U, x, MPFR_RNDU);
    Rational Lq, Uq;
    mpfr_get_q(Lq.backend().data(), L);
    mpfr_get_q(Uq.backend().data(), U);
    CHECK(lo <= Uq);
    CHECK(hi >= Lq);
    Rational b(static_cast<long>(rng() % 2001) - 1000, 7), l1, h1, l2, h2, l3, h3;
    softmax_exp_enclosure(a, 128, l1, h1);
    softmax_exp_enclosure(b, 128, l2, h2);
    softmax_exp_enclosure(a + b, 128, l3, h3);
    CHECK(l1 * l2 <= h3);
    CHECK(h1 * h2 >= l3);
  }
  mpfr_clears(x, L, U, static_cast<mpfr_ptr>(nullptr));
}

TEST_CASE("softmax_eval::bounds contain the error found by the checker's interval code at 4096 bits") {
  std::mt19937_64 rng(32);
  for (auto f : {testing::Family::SharedTop, testing::Family::NestedChain, testing::Family::EqualMeans}) {
    Dataset ds = testing::make_family(f, rng, 2 + rng() % 2, 4, 4);
    Construction c = construct_model(ds);
    for (const Rational& beta : {Rational(1), Rational(3), Rational(7, 2)}) {
      Model m = softmax_of(c.model, beta);
      SoftmaxBound b = certify_softmax_error(m, ds, 256, 1);
      bool finite = true;
      Rational tight = checker::softmax_error_bound(m, ds, 4096, 1, 0, 1, finite);
      REQUIRE(finite);
      INFO(testing::family_name(f) << " beta " << rational_to_string(beta));
      // tight >= the true error and exceeds it by a relative 2^-4000 or so: containment of the
      // true error in b's bound means b >= tight up to that sliver.
      CHECK(b.bound * Rational(1000001, 1000000) >= tight);
    }
  }
}

TEST_CASE("softmax (checker): the causal mask is honoured; the same weights unmasked give another error") {
  // [a b c] and [b a c] need the mask (proofs/repeated-and-causal.md): a causal construction.
  Vec a = {Rational(1), Rational(0)}, b = {Rational(0), Rational(1)}, c = {Rational(2), Rational(2)};
  Dataset order{2, {{{a, b, c}, {{Rational(7), Rational(7)}}, {2}}, {{b, a, c}, {{Rational(-7), Rational(1)}}, {2}}}};
  ConstructOptions opt;
  opt.causal = true;
  Model hard = construct_model(order, opt, check_preconditions(order, true)).model;
  REQUIRE(hard.mask == MaskKind::Causal);
  for (const Rational& beta : {Rational(2), Rational(9)}) {
    Model m = softmax_of(hard, beta);
    SoftmaxBound engine = certify_softmax_error(m, order, 256, 1);
    bool finite = true;
    Rational tight = checker::softmax_error_bound(m, order, 4096, 1, 0, 1, finite);
    REQUIRE(finite);
    INFO("beta " << rational_to_string(beta) << " engine " << rational_to_string(engine.bound) << " checker "
                 << rational_to_string(tight));
    // Two implementations of the masked evaluation agree (Arb at 256 bits, MPFI at 4096 bits).
    CHECK(engine.bound * Rational(1000001, 1000000) >= tight);
    CHECK(tight * Rational(1000001, 1000000) + Rational(1, 1000000) >= engine.bound);
    // Without the mask the checker's error is different: the mask is not a no-op here.
    Model unmasked = m;
    unmasked.mask = MaskKind::None;
    Rational other = checker::softmax_error_bound(unmasked, order, 4096, 1, 0, 1, finite);
    CHECK(abs(other - tight) > Rational(1, 10));
  }
}

TEST_CASE("softmax_eval::bounds shrink as beta grows, and the beta search is sound") {
  std::mt19937_64 rng(33);
  Dataset ds = testing::make_family(testing::Family::SharedTop, rng, 2, 4, 4);
  Construction c = construct_model(ds);
  Rational previous(-1);
  for (long beta : {1, 2, 4, 8}) {
    SoftmaxBound b = certify_softmax_error(softmax_of(c.model, Rational(beta)), ds, 512, 0);
    if (previous >= 0) CHECK(b.bound < previous);
    previous = b.bound;
  }
  Rational target(1, 1000000000);
  BetaSearch s = find_least_beta(c.model, ds, target, 256, 0);
  REQUIRE(s.found);
  CHECK(certify_softmax_error(softmax_of(c.model, s.beta), ds, s.bound.precision, 0).bound <= target);
  CHECK(s.factor <= Rational(17, 16));
  if (s.factor > 1)
    CHECK(certify_softmax_error(softmax_of(c.model, s.beta / s.factor), ds, s.bound.precision, 0).bound > target);
}

TEST_CASE("softmax_search::the search never raises the precision past what a certificate may ask for") {
  // The producer's cap and the checker's (checker::kMaxPrecision, proofs/certificate-v1.md) agree,
  // and a search started near the cap doubles to the cap, not past it: certify must never write a
  // certificate its checker refuses.
  CHECK(kMaxCertificatePrecision == checker::kMaxPrecision);
  std::mt19937_64 rng(35);
  Dataset ds = testing::make_family(testing::Family::SharedTop, rng, 2, 3, 3);
  Construction c = construct_model(ds);
  // A target below 2^-20000: the bound stalls at 20000 bits' floor, so the precision must rise.
  Rational target(1);
  for (int i = 0; i < 24000; ++i) target /= 2;
  long highest = 0;
  BetaSearch s = find_least_beta(c.model, ds, target, 20000, 0, [&](const Rational&, const SoftmaxBound& b) {
    highest = std::max(highest, b.precision);
  });
  INFO("evaluations " << s.evaluations << ", highest precision " << highest);
  CHECK(highest == kMaxCertificatePrecision);
  REQUIRE(s.found);
  CHECK(s.bound.precision <= kMaxCertificatePrecision);
  CHECK(s.bound.bound <= target);
}

TEST_CASE("softmax_eval::the checker verifies softmax certificates and refutes tampered ones") {
  std::mt19937_64 rng(34);
  Dataset ds = testing::make_family(testing::Family::NestedChain, rng, 3, 4, 4);
  Construction c = construct_model(ds);
  Model m = softmax_of(c.model, Rational(6));
  SoftmaxBound b = certify_softmax_error(m, ds, 256, 0);
  // The certificate of `claim` about `weights` (its model: the weights under the claim's beta).
  auto verdict_of_text = [&](const std::string& text) {
    std::string first;
    for (const auto& f : checker::check_certificate(json_parse(text, "c.json"), ds, 1))
      if (!f.verified && first.empty()) first = f.claim;
    return first;
  };
  auto verdict = [&](const Model& weights, const InterpolationClaim& claim) {
    Model model = claim_model(claim, weights);
    return verdict_of_text(certificate_text(ds, model, model_stats(model), check_preconditions(ds), claim));
  };
  SoftmaxBounded claim{Rational(6), round_up_3_digits(b.bound * 2), b.precision};
  CHECK(verdict(c.model, claim).empty());
  SoftmaxBounded too_small = claim;
  too_small.bound = b.bound / 1000;
  CHECK(verdict(c.model, too_small) == "interpolation");
  // A lower temperature with the same claimed bound (digest recomputed): the error grows.
  SoftmaxBounded hotter = claim;
  hotter.beta = 2;
  CHECK(verdict(c.model, hotter) == "interpolation");
  // The writer refuses a model the claim is not about; a forger's bounded claim for the hardmax
  // model (edited into a hardmax certificate) is refuted.
  CHECK_THROWS_AS(certificate_text(ds, c.model, model_stats(c.model), check_preconditions(ds), claim),
                  std::invalid_argument);
  std::string hard = certificate_text(ds, c.model, model_stats(c.model), check_preconditions(ds));
  std::string exact_json = ExactHardmax{}.json(ds);
  REQUIRE(hard.find(exact_json) != std::string::npos);
  hard.replace(hard.find(exact_json), exact_json.size(), claim.json(ds));
  CHECK(verdict_of_text(hard) == "interpolation");
}

namespace {
// A nonzero rational vector orthogonal to every row of `rows` (each of length d), if one exists.
std::optional<Vec> orthogonal_to(std::vector<Vec> rows, std::size_t d) {
  std::vector<std::size_t> pivot_col;
  std::size_t r = 0;
  for (std::size_t c = 0; c < d && r < rows.size(); ++c) {
    std::size_t p = r;
    while (p < rows.size() && rows[p][c] == 0) ++p;
    if (p == rows.size()) continue;
    std::swap(rows[p], rows[r]);
    Rational inv = 1 / rows[r][c];
    for (auto& x : rows[r]) x *= inv;
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (i != r && rows[i][c] != 0) {
        Rational f = rows[i][c];
        for (std::size_t k = 0; k < d; ++k) rows[i][k] -= f * rows[r][k];
      }
    pivot_col.push_back(c);
    ++r;
  }
  for (std::size_t f = 0; f < d; ++f) {
    if (std::find(pivot_col.begin(), pivot_col.end(), f) != pivot_col.end()) continue;
    Vec u(d);
    u[f] = 1;
    for (std::size_t i = 0; i < pivot_col.size(); ++i) u[pivot_col[i]] = -rows[i][f];
    return u;
  }
  return std::nullopt;
}

// Appends a neuron (U row u, bias b, W column w) to a feed-forward layer.
void add_neuron(FeedForward& ff, const Vec& u, const Rational& b, const Vec& w) {
  Matrix U(ff.U.rows + 1, ff.U.cols), W(ff.W.rows, ff.W.cols + 1);
  for (std::size_t i = 0; i < ff.U.rows; ++i)
    for (std::size_t c = 0; c < ff.U.cols; ++c) U(i, c) = ff.U(i, c);
  for (std::size_t c = 0; c < U.cols; ++c) U(ff.U.rows, c) = u[c];
  for (std::size_t r = 0; r < W.rows; ++r) {
    for (std::size_t j = 0; j < ff.W.cols; ++j) W(r, j) = ff.W(r, j);
    W(r, ff.W.cols) = w[r];
  }
  ff.U = std::move(U);
  ff.W = std::move(W);
  ff.b.push_back(b);
}
}  // namespace

TEST_CASE("softmax_exact (checker): an undecided neuron, a selected map that is not constant, or eta != 0 refutes the claim") {
  // Two forgeries of the final eta = 0 layer whose constant part still equals every target, so
  // that only the sign and linearity checks can refute them; both make the outputs wrong.
  // The last layer's inputs zhat (hardmax, exact) are found by the checker's own forward pass.
  for (std::uint64_t seed = 40; seed < 60; ++seed) {
    std::mt19937_64 rng(seed);
    Dataset ds = testing::make_family(testing::Family::SharedTop, rng, 4, 2, 3);
    ConstructOptions opt;
    opt.staircase = true;
    Construction c = construct_model(ds, opt);
    if (!c.trace.uses_attention) continue;  // without attention the inputs are exact: no undecided sign
    Model prefix = c.model;
    prefix.blocks.pop_back();
    std::vector<Vec> zhat;
    for (const auto& s : ds.sequences) {
      std::vector<Vec> z = checker::forward_hardmax(prefix, s.input);
      for (auto p : s.positions) zhat.push_back(z[p]);
    }
    std::vector<Vec> diffs;
    for (std::size_t k = 1; k < zhat.size(); ++k) {
      Vec v = zhat[k];
      for (std::size_t i = 0; i < v.size(); ++i) v[i] -= zhat[0][i];
      diffs.push_back(v);
    }
    auto u = orthogonal_to(diffs, ds.d);
    if (!u) continue;
    INFO("seed " << seed << ", N = " << ds.sequences.size() << ", sum m_j = " << ds.total_outputs());
    // A temperature low enough (beta = 4096) that the softmax inputs of the last layer differ from
    // zhat by far less than 64-bit rounding; the original claim holds there.
    Model m = softmax_of(c.model, Rational(1 << 12));
    const long prec = 64;
    std::string first;
    REQUIRE(checker::softmax_exact_failures(m, ds, prec, 1, 0, 1, first) == 0);
    const std::size_t all = ds.total_outputs();
    Vec w(ds.d);
    w[0] = 1;
    // (1) Neurons u.z - u.zhat and u.zhat - u.z: on every output token one is u.(z - zhat), a
    // softmax error far below the 64-bit rounding, so its sign is not known; the true output is
    // the target plus |u.(z - zhat)| in coordinate 0. Taken as both active they would cancel.
    Rational level = dot(*u, zhat[0]);  // the same for every output token
    Model undecided = m;
    FeedForward& ff = *undecided.blocks.back().ff;
    Vec minus_u = *u;
    for (auto& x : minus_u) x = -x;
    add_neuron(ff, *u, -level, w);
    add_neuron(ff, minus_u, level, w);
    first.clear();
    CHECK(checker::softmax_exact_failures(undecided, ds, prec, 1, 0, 1, first) == all);
    CHECK_MESSAGE(first.find("has no known sign") != std::string::npos, first);
    // (2) Neurons z_c + M and the constant M with opposite output weights: both always active,
    // constant parts cancel, but the output moves with z_c: target + z_c e_0.
    std::size_t coord = 0;
    Rational big(1);
    for (const auto& z : zhat)
      for (std::size_t i = 0; i < z.size(); ++i) big += abs(z[i]);
    for (std::size_t i = 0; i < ds.d; ++i)
      if (zhat[0][i] != 0) coord = i;
    Model moving = m;
    FeedForward& f2 = *moving.blocks.back().ff;
    Vec e(ds.d), zero(ds.d), minus_w = w;
    e[coord] = 1;
    minus_w[0] = -1;
    add_neuron(f2, e, big, w);
    add_neuron(f2, zero, big, minus_w);
    first.clear();
    CHECK(checker::softmax_exact_failures(moving, ds, prec, 1, 0, 1, first) == all);
    CHECK_MESSAGE(first.find("not constant") != std::string::npos, first);
    // (3) The same layer with eta = 1: its output is z + (the target), not the target; the check
    // of signs and linearity is about eta = 0 layers only, so the claim is refuted outright.
    Model kept = m;
    kept.blocks.back().ff->eta = 1;
    first.clear();
    CHECK(checker::softmax_exact_failures(kept, ds, prec, 1, 0, 1, first) == all);
    CHECK_MESSAGE(first.find("eta = 0") != std::string::npos, first);
    return;
  }
  FAIL("no seed in 40..59 gave a dataset with attention and a direction orthogonal to the zhat differences");
}

TEST_CASE("softmax_eval::round_up_3_digits") {
  CHECK(round_up_3_digits(Rational(12345)) == 12400);
  CHECK(round_up_3_digits(Rational(1, 3)) == Rational(334, 1000));
  CHECK(round_up_3_digits(Rational(250)) == 250);
  CHECK(round_up_3_digits(Rational(0)) == 0);
}

TEST_CASE("softmax_eval::exactness under softmax with a staircase layer, and its refutations") {
  std::mt19937_64 rng(35);
  for (auto f : {testing::Family::SharedTop, testing::Family::TargetsAreTokens, testing::Family::Random}) {
    Dataset ds = testing::make_family(f, rng, 2 + rng() % 2, 4, 4);
    ConstructOptions opt;
    opt.staircase = true;
    Construction c = construct_model(ds, opt);
    INFO(testing::family_name(f));
    // The staircase maps every target to itself: the hardmax model still interpolates exactly.
    CHECK_FALSE(check_interpolation(c.model, ds, Evaluator::Reference, 1).first.has_value());
    ExactBetaSearch s = find_least_exact_beta(c.model, ds, 256, 0);
    REQUIRE(s.found);
    auto verdict = [&](const Model& weights, const Rational& beta) {
      SoftmaxExact claim{beta, 256};
      Model model = claim_model(claim, weights);
      std::string text = certificate_text(ds, model, model_stats(model), check_preconditions(ds), claim);
      std::string first;
      for (const auto& fd : checker::check_certificate(json_parse(text, "c.json"), ds, 1))
        if (!fd.verified && first.empty()) first = fd.claim;
      return first;
    };
    CHECK(verdict(c.model, s.beta).empty());
    // Far too hot: tokens land outside their plateaus (or on the wrong one) -- unless the model has
    // no attention layer at all, when beta is irrelevant and the claim stays true.
    CHECK(verdict(c.model, Rational(1, 1000)) == (c.trace.uses_attention ? "interpolation" : ""));
    // Without the staircase layer the claim cannot be established.
    Model cut = c.model;
    cut.blocks.pop_back();
    CHECK(verdict(cut, s.beta) == "interpolation");
  }
}

TEST_CASE("softmax_eval::each kind of interpolation claim is checked by its own function") {
  std::mt19937_64 rng(36);
  Dataset ds = testing::make_family(testing::Family::SharedTop, rng, 3, 4, 4);
  ConstructOptions opt;
  opt.staircase = true;
  Construction c = construct_model(ds, opt);
  ExactBetaSearch s = find_least_exact_beta(c.model, ds, 256, 0);
  REQUIRE(s.found);
  SoftmaxBound b = certify_softmax_error(softmax_of(c.model, s.beta), ds, 256, 0);
  const std::pair<InterpolationClaim, const char*> cases[] = {
      {ExactHardmax{}, "hardmax forward pass in exact rational arithmetic"},
      {SoftmaxBounded{s.beta, round_up_3_digits(b.bound * 2), 256}, "MPFI intervals at 256 bits, outward rounding"},
      {SoftmaxExact{s.beta, 256}, "every neuron of the final eta = 0 layer has a known sign"},
  };
  for (const auto& [claim, detail] : cases) {
    Model m = claim_model(claim, c.model);
    // beta is not a parameter (formats-v1.md): P and |theta|^2 are those of the hardmax weights.
    CHECK(model_stats(m).parameters == model_stats(c.model).parameters);
    CHECK(model_stats(m).squared_norm == model_stats(c.model).squared_norm);
    std::string text = certificate_text(ds, m, model_stats(m), check_preconditions(ds), claim);
    bool seen = false;
    for (const auto& f : checker::check_certificate(json_parse(text, "c.json"), ds, 1)) {
      CHECK_MESSAGE(f.verified, (f.claim + ": " + f.detail));
      if (f.claim != "interpolation") continue;
      seen = true;
      CHECK_MESSAGE(f.detail.find(detail) != std::string::npos, f.detail);
    }
    CHECK(seen);
  }
}

TEST_CASE("softmax_apriori::the a-priori bound is sound and shrinks; its beta certifies") {
  std::mt19937_64 rng(36);
  // (Not huge integers: there the true error is near e^(-10^200), below what a 4096-bit reference
  // enclosure can resolve, so it cannot witness containment.)
  for (auto f : {testing::Family::SharedTop, testing::Family::NestedChain, testing::Family::EqualMeans}) {
    Dataset ds = testing::make_family(f, rng, 2, 4, 4);
    Construction c = construct_model(ds);
    INFO(testing::family_name(f));
    Rational previous(-1);
    std::size_t available = 0;
    for (long beta : {4, 16, 64, 256}) {
      AprioriBound a = softmax_a_priori_bound(c.model, ds, Rational(beta));
      if (!a.available) continue;
      ++available;
      bool finite = true;
      Rational tight = checker::softmax_error_bound(softmax_of(c.model, Rational(beta)), ds, 4096, 1, 0, 1, finite);
      REQUIRE(finite);
      CHECK(a.bound * Rational(1000001, 1000000) >= tight);  // never below the true error
      if (previous >= 0) CHECK(a.bound <= previous);
      previous = a.bound;
    }
    CHECK(available > 0);
    auto beta = a_priori_beta(c.model, ds, Rational(1, 1000));
    REQUIRE(beta.has_value());
    CHECK(certify_softmax_error(softmax_of(c.model, *beta), ds, 256, 0).bound <= Rational(1, 1000));
  }
  // Not a code-layer model: unavailable, with the reason.
  Model m;
  m.d = 2;
  SelfAttention sa;
  sa.rho = 2;
  sa.Q = sa.K = Matrix(1, 2);
  sa.V = Matrix(2, 2);
  m.blocks.push_back(Block{sa, std::nullopt});
  Dataset ds{2, {{{{Rational(1), Rational(0)}}, {{Rational(1), Rational(0)}}, {0}}}};
  CHECK_FALSE(softmax_a_priori_bound(m, ds, Rational(10)).available);
}
