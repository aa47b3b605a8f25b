// The independent checker against certificates from the engine: valid ones verify, and
// tampered ones are refuted exactly when the engine's own reference evaluator says the claim is
// false (two independent implementations of the semantics must agree).
#include "../src/checker/claims.hpp"
#include "../src/checker/float.hpp"
#include "../src/checker/square_sum.hpp"
#include "dataset_families.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/interpolation.hpp"

#include <doctest/doctest.h>

using namespace interpcert;

namespace {

struct Verdict {
  bool all = true;
  std::string first;  // first refuted claim
};

Verdict check(const std::string& cert_text, const Dataset& ds) {
  JsonDocument doc = json_parse(cert_text, "cert.json");
  Verdict v;
  for (const auto& f : checker::check_certificate(doc, ds, 1)) {
    if (!f.verified && v.all) v.first = f.claim;
    v.all = v.all && f.verified;
  }
  return v;
}

std::string certify(const Dataset& ds, const Model& m) {
  return certificate_text(ds, m, model_stats(m), check_preconditions(ds));
}

// Changes one stored scalar of the model (the i-th, in file order) by +delta.
bool tamper(Model& m, std::size_t i, const Rational& delta) {
  for (Block& b : m.blocks) {
    std::vector<Rational*> slots;
    if (b.sa) {
      slots.push_back(&b.sa->rho);
      for (auto* mat : {&b.sa->Q, &b.sa->K, &b.sa->V, &b.sa->Vleft, &b.sa->Vright})
        for (auto& x : mat->a) slots.push_back(&x);
    }
    if (b.ff) {
      slots.push_back(&b.ff->eta);
      for (auto& x : b.ff->U.a) slots.push_back(&x);
      for (auto& x : b.ff->b) slots.push_back(&x);
      for (auto& x : b.ff->W.a) slots.push_back(&x);
    }
    if (i < slots.size()) {
      *slots[i] += delta;
      return true;
    }
    i -= slots.size();
  }
  return false;
}

}  // namespace

TEST_CASE("checker::certificates of every family verify; tampered parameters are refuted iff they break interpolation") {
  std::uint64_t seed = 11;
  std::mt19937_64 rng(seed);
  std::size_t refuted = 0, harmless = 0;
  for (auto f : testing::kAllFamilies)
    for (int rep = 0; rep < 4; ++rep) {
      Dataset ds = testing::make_family(f, rng, 2 + rng() % 3, 2 + rng() % 5, 4);
      Construction c = construct_model(ds, {rng() % 2 ? 4u : 0u});
      INFO("seed " << seed << " family " << testing::family_name(f) << " rep " << rep);
      Verdict ok = check(certify(ds, c.model), ds);
      CHECK(ok.all);
      std::size_t P = model_stats(c.model).parameters;
      for (int t = 0; t < 8; ++t) {
        Model m = c.model;
        std::size_t which = rng() % P;
        REQUIRE(tamper(m, which, Rational(1, 1 + static_cast<long>(rng() % 5))));
        // Digest, counts and |theta|^2 are recomputed: only the interpolation claim can fail.
        Verdict v = check(certify(ds, m), ds);
        bool engine_says_exact = !check_interpolation(m, ds, Evaluator::Reference, 1).first.has_value();
        CHECK(v.all == engine_says_exact);
        if (!v.all) CHECK(v.first == "interpolation");
        (v.all ? harmless : refuted) += 1;
      }
    }
  CHECK(refuted > 100);  // most single-parameter changes break exactness
  MESSAGE("tampered models refuted: " << refuted << ", harmless (still exact, agreed by both): " << harmless);
}

TEST_CASE("checker::a changed target, another dataset, edited claims and versions") {
  std::mt19937_64 rng(12);
  Dataset ds = testing::make_family(testing::Family::SharedTop, rng, 2, 4, 4);
  Construction c = construct_model(ds);
  std::string cert = certify(ds, c.model);
  REQUIRE(check(cert, ds).all);

  Dataset changed = ds;
  changed.sequences[0].output[0][0] += 1;
  Verdict v = check(cert, changed);
  CHECK_FALSE(v.all);
  CHECK(v.first == "dataset-digest");

  auto edit = [&](const std::string& from, const std::string& to) {
    std::string t = cert;
    auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    return t.replace(at, from.size(), to);
  };
  CHECK(check(edit("\"H3\": true", "\"H3\": false"), ds).first == "hypotheses");
  std::string blocks = "\"blocks\": " + std::to_string(c.model.blocks.size());
  CHECK(check(edit(blocks, "\"blocks\": " + std::to_string(c.model.blocks.size() + 1)), ds).first == "counts");
  CHECK(check(edit("\"squared_norm\": \"", "\"squared_norm\": \"1"), ds).first == "squared_norm");
  CHECK(check(edit("\"claims\": {", "\"claims\": {\"fast\": true, "), ds).first == "fast");
  CHECK_THROWS_AS(check(edit("\"version\": 1", "\"version\": 2"), ds), InputError);
  CHECK_THROWS_AS(check(cert.substr(0, cert.size() / 2), ds), InputError);
}

TEST_CASE("checker::sharding covers every sequence exactly once") {
  std::mt19937_64 rng(13);
  Dataset ds = testing::make_family(testing::Family::NestedChain, rng, 3, 7, 4);
  Construction c = construct_model(ds);
  JsonDocument doc = json_parse(certify(ds, c.model), "cert.json");
  const std::size_t total = ds.total_outputs();
  for (std::size_t k : {1u, 2u, 3u, 5u}) {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < k; ++i)
      for (const auto& f : checker::check_certificate(doc, ds, 1 + i % 2, i, k)) {
        CHECK(f.verified);
        if (f.claim == "interpolation") sum += f.outputs_checked;
      }
    INFO("shards " << k);
    CHECK(sum == total);  // the outputs actually compared add up to the total
  }
  // The same for float claims (hardmax: src/checker/float.cpp; softmax: float_softmax.cpp): each
  // shard reports the outputs it bounded (`merge` adds them up).
  auto float_shards_cover_all = [&](const FloatBounded& claim, const char* what) {
    Model fm = claim.model(c.model);
    JsonDocument fdoc = json_parse(certificate_text(ds, fm, model_stats(fm), check_preconditions(ds), claim), "f.json");
    for (std::size_t k : {1u, 2u, 3u}) {
      std::size_t sum = 0;
      for (std::size_t i = 0; i < k; ++i)
        for (const auto& f : checker::check_certificate(fdoc, ds, 1, i, k))
          if (f.claim == "interpolation") {
            CHECK(f.verified);
            sum += f.outputs_checked;
          }
      INFO(what << ", shards " << k);
      CHECK(sum == total);
    }
  };
  float_shards_cover_all(FloatBounded{"binary64", Rational(1), std::nullopt, std::nullopt}, "float claim");
  float_shards_cover_all(FloatBounded{"binary64", Rational(1000000), Rational(4), 2}, "softmax float claim");
  // exp_ulps = 0 (a correctly rounded exp that no library has) is checked as exp_ulps = 1: Lemma AV's
  // overflow argument needs K >= 1, and a bound for K = 1 holds for K = 0 a fortiori. A claim at the
  // K = 0 analysis's own bound is refuted when the K = 1 bound is larger.
  {
    Model fm = FloatBounded{"binary64", Rational(1), Rational(4), 0}.model(c.model);
    std::string why;
    auto own0 = checker::float_softmax_error_bound(fm, ds, 53, -1022, 1023, 0, 0, 1, why);
    auto own1 = checker::float_softmax_error_bound(fm, ds, 53, -1022, 1023, 1, 0, 1, why);
    REQUIRE(own0);
    REQUIRE(own1);
    REQUIRE(*own1 > *own0);
    for (const Rational& bound : {*own0, *own1}) {
      FloatBounded claim{"binary64", bound, Rational(4), 0};
      JsonDocument kdoc =
          json_parse(certificate_text(ds, fm, model_stats(fm), check_preconditions(ds), claim), "k0.json");
      for (const auto& f : checker::check_certificate(kdoc, ds, 1, 0, 1))
        if (f.claim == "interpolation") CHECK(f.verified == (bound == *own1));
    }
  }
  // A wrong target in sequence j is found by shard j mod K and by no other.
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    Dataset bad = ds;
    bad.sequences[j].output[0][0] += 1;
    for (std::size_t k : {1u, 2u, 3u}) {
      for (std::size_t i = 0; i < k; ++i) {
        bool interpolation_ok = true;
        for (const auto& f : checker::check_certificate(doc, bad, 2, i, k))
          if (f.claim == "interpolation") interpolation_ok = f.verified;
        INFO("sequence " << j << ", shard " << i << "/" << k);
        CHECK(interpolation_ok == (j % k != i));
      }
    }
  }
}

TEST_CASE("checker::certificates beyond H1-H4 and causal: mask and obstructions re-derived, tampering refuted") {
  Vec a = {Rational(1), Rational(0)}, b = {Rational(0), Rational(1)}, c = {Rational(2), Rational(2)};
  Vec y1 = {Rational(7), Rational(7)}, y2 = {Rational(-7), Rational(1)};
  // Repeated tokens, same set, different proportions (no mask).
  Dataset repeats{2, {{{a, a, b}, {y1}, {2}}, {{a, b}, {y2}, {1}}}};
  // Same prefix proportions, different order (causal).
  Dataset order{2, {{{a, b, c}, {y1}, {2}}, {{b, a, c}, {y2}, {2}}}};
  for (bool causal : {false, true}) {
    const Dataset& ds = causal ? order : repeats;
    ConstructOptions opt;
    opt.causal = causal;
    PreconditionReport pre = check_preconditions(ds, causal);
    REQUIRE(pre.verdict() == Applicability::Extended);
    Model m = construct_model(ds, opt, pre).model;
    std::string cert = certificate_text(ds, m, model_stats(m), pre);
    CHECK((cert.find("\"mask\": \"causal\"") != std::string::npos) == causal);
    CHECK(cert.find(causal ? "\"obstructions\": {\"C1\": false}" : "\"obstructions\": {\"O1\": false, \"O2\": false}") !=
          std::string::npos);
    Verdict v = check(cert, ds);
    CHECK(v.all);
    INFO("causal " << causal << " first refuted " << v.first);
    // Claim an obstruction that is absent: refuted by the checker's own decision.
    std::string lie = cert;
    const std::string absent = causal ? "\"C1\": false" : "\"O2\": false";
    lie.replace(lie.find(absent), absent.size(), causal ? "\"C1\": true" : "\"O2\": true");
    CHECK(check(lie, ds).first == "obstructions");
    if (causal) {
      // Claim no mask: refuted; and the same weights without the mask do not interpolate.
      std::string nomask = cert;
      nomask.replace(nomask.find("\"mask\": \"causal\""), 16, "\"mask\": \"none\"");
      CHECK(check(nomask, ds).first == "mask");
      Model unmasked = m;
      unmasked.mask = MaskKind::None;
      Verdict u = check(certificate_text(ds, unmasked, model_stats(unmasked), check_preconditions(ds)), ds);
      CHECK_FALSE(u.all);
    }
  }
  // The same dataset checked with the obstruction present: O2 without mask, refuted "absent" claim.
  PreconditionReport pre = check_preconditions(order, true);
  Model m = construct_model(order, [] { ConstructOptions o; o.causal = true; return o; }(), pre).model;
  std::string cert = certificate_text(order, m, model_stats(m), pre);
  cert.replace(cert.find("\"obstructions\": {\"C1\": false}"), 29, "\"obstructions\": {\"O2\": false}");
  CHECK(check(cert, order).first == "obstructions");  // O2 is present for [a b c] vs [b a c]
  // An obstruction the checker does not know is refuted, even next to a true claim.
  std::string unknown = certificate_text(order, m, model_stats(m), pre);
  unknown.replace(unknown.find("\"obstructions\": {\"C1\": false}"), 29,
                  "\"obstructions\": {\"C1\": false, \"C9\": false}");
  Verdict uv = check(unknown, order);
  CHECK(uv.first == "obstructions");
  // An empty obstructions object claims nothing: unreadable (exit 2), never "VERIFIED ()".
  std::string empty = certificate_text(order, m, model_stats(m), pre);
  empty.replace(empty.find("\"obstructions\": {\"C1\": false}"), 29, "\"obstructions\": {}");
  CHECK_THROWS_WITH_AS(check(empty, order), doctest::Contains("non-empty object of obstructions"), InputError);
}

TEST_CASE("checker::SumOfSquares equals the plain running sum of squares") {
  const std::uint64_t seed = 47;
  std::mt19937_64 rng(seed);
  MESSAGE("seed " << seed);
  for (int it = 0; it < 300; ++it) {
    const std::size_t n = rng() % 300;
    // Few or many distinct denominators, 1 to 3 limbs, runs of equal ones (the last-group path),
    // integers; numerators of either sign and zero.
    const unsigned den_bits = 1 + static_cast<unsigned>(rng() % 180);
    const std::size_t dens = 1 + rng() % 40;
    std::vector<Integer> den(dens);
    for (auto& q : den) {
      q = 1;
      for (unsigned k = 0; k < den_bits; k += 30) q = (q << 30) + Integer(static_cast<unsigned long>(rng() % (1u << 30)));
      if (rng() % 3 == 0) q <<= 64;  // equal low limbs (zero), different high ones
    }
    Rational plain(0);
    checker::SumOfSquares fast;
    std::size_t run = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (run == 0) run = 1 + rng() % 5;
      const std::size_t pick = (i / run) % dens;
      Rational x(Integer(static_cast<long>(rng() % 2001) - 1000) * (Integer(1) << static_cast<unsigned>(rng() % 100)));
      if (rng() % 4) x /= Rational(den[pick]);
      plain += x * x;
      fast.add(x);
    }
    REQUIRE(fast.total() == plain);
  }
  CHECK(checker::SumOfSquares{}.total() == 0);
}
