// The checker on hostile certificates (issue 15, items 3 and 4): nothing from the certificate can
// make it abort, print a misleading line, accept an empty claim or unknown members, or ask for
// an unbounded amount of work; its interval code keeps NaN and huge exponents sound.
#include "../src/checker/claims.hpp"
#include "../src/checker/softmax.hpp"
#include "../src/checker/workers.hpp"
#include "dataset_families.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/interpolation_claim.hpp"
#include "interpcert/softmax_eval.hpp"
#include "interpcert/text_util.hpp"

#include <doctest/doctest.h>
#include <mpfi.h>
#include <mpfr.h>

#include <mutex>
#include <set>
#include <thread>

using namespace interpcert;

namespace {

struct Fixture {
  Dataset ds;
  Model model;
  std::string cert;
  Fixture() {
    std::mt19937_64 rng(1515);
    ds = testing::make_family(testing::Family::SharedTop, rng, 2, 3, 3);
    model = construct_model(ds).model;
    cert = certificate_text(ds, model, model_stats(model), check_preconditions(ds));
  }
};

std::string edit(std::string t, const std::string& from, const std::string& to) {
  auto at = t.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return t.replace(at, from.size(), to);
}

std::vector<checker::Finding> run(const std::string& text, const Dataset& ds, unsigned threads = 1) {
  return checker::check_certificate(json_parse(text, "c.json"), ds, threads);
}

std::string error_path(const std::string& text, const Dataset& ds) {
  try {
    run(text, ds);
  } catch (const InputError& e) {
    return e.json_path();
  }
  return "<no error>";
}

Model softmax_of(const Model& hard, const Rational& beta) {
  Model m = hard;
  m.attention = AttentionKind::Softmax;
  m.beta = beta;
  return m;
}

}  // namespace

TEST_CASE("checker_hardening::an empty hypotheses or counts object is invalid, not VERIFIED ()") {
  Fixture f;
  REQUIRE(f.cert.find("\"hypotheses\": {") != std::string::npos);
  for (const auto& x : run(f.cert, f.ds)) CHECK(x.verified);
  // Replace the whole object by {} (find its closing brace).
  auto emptied = [&](const std::string& key) {
    std::string t = f.cert;
    auto at = t.find("\"" + key + "\": {");
    REQUIRE(at != std::string::npos);
    auto open = t.find('{', at), close = t.find('}', open);
    return t.replace(open, close - open + 1, "{}");
  };
  CHECK(error_path(emptied("hypotheses"), f.ds) == "/claims/hypotheses");
  CHECK(error_path(emptied("counts"), f.ds) == "/claims/counts");
}

TEST_CASE("checker_hardening::a hypothesis the checker does not know is refuted, whatever its claimed value") {
  // The checker verifies only what it can re-derive: "H5": true (or false), before or after the
  // known ones, must not come out VERIFIED as if it had been checked.
  Fixture f;
  for (const char* value : {"true", "false"})
    for (bool before : {true, false}) {
      std::string h5 = std::string("\"H5\": ") + value;
      std::string text = before ? edit(f.cert, "\"hypotheses\": {", "\"hypotheses\": {" + h5 + ", ")
                                : edit(f.cert, "\"H4\": true", "\"H4\": true, " + h5);
      bool seen = false;
      for (const auto& x : run(text, f.ds)) {
        INFO(x.claim << ": " << x.detail);
        if (x.claim != "hypotheses") {
          CHECK(x.verified);
          continue;
        }
        seen = true;
        CHECK_FALSE(x.verified);
        CHECK(x.detail.find("H5: unknown hypothesis") != std::string::npos);
      }
      CHECK(seen);
    }
}

TEST_CASE("checker_hardening::unknown members inside dataset are rejected") {
  Fixture f;
  CHECK(error_path(edit(f.cert, "\"dataset\": {", "\"dataset\": {\"trusted\": true, "), f.ds) == "/dataset/trusted");
}

TEST_CASE("checker_hardening::a certificate's precision is capped; precision 2 gives an answer, not an abort") {
  Fixture f;
  Model m = softmax_of(f.model, Rational(8));
  SoftmaxBound b = certify_softmax_error(m, f.ds, 64, 1);
  REQUIRE(b.finite);
  SoftmaxBounded claim{Rational(8), b.bound * 2, 64};
  std::string text = certificate_text(f.ds, m, model_stats(m), check_preconditions(f.ds), claim);
  for (const auto& x : run(text, f.ds)) CHECK_MESSAGE(x.verified, x.claim << ": " << x.detail);
  std::string at = "\"precision\": 64";
  CHECK(error_path(edit(text, at, "\"precision\": " + std::to_string(checker::kMaxPrecision + 1)), f.ds) ==
        "/claims/interpolation/precision");
  CHECK(error_path(edit(text, at, "\"precision\": 1048576"), f.ds) == "/claims/interpolation/precision");
  CHECK(error_path(edit(text, at, "\"precision\": 1"), f.ds) == "/claims/interpolation/precision");
  // The comparison with the claimed bound is exact: the checker's own bound verifies, 3/4 of it not.
  bool finite = false;
  Rational own = checker::softmax_error_bound(m, f.ds, 64, 1, 0, 1, finite);
  REQUIRE(finite);
  REQUIRE(own > 0);
  auto interpolation_verified = [&](const Rational& bound) {
    SoftmaxBounded c{Rational(8), bound, 64};
    for (const auto& x : run(certificate_text(f.ds, m, model_stats(m), check_preconditions(f.ds), c), f.ds))
      if (x.claim == "interpolation") return x.verified;
    return false;
  };
  CHECK(interpolation_verified(own));
  CHECK_FALSE(interpolation_verified(own * 3 / 4));
  // Precision 2 (the least allowed): wide intervals and huge exponents, but an answer, no abort.
  bool interpolation_seen = false;
  for (const auto& x : run(edit(text, at, "\"precision\": 2"), f.ds, 2))
    if (x.claim == "interpolation") interpolation_seen = true;
  CHECK(interpolation_seen);
  // Sharded, the softmax outputs actually enclosed add up to the total.
  for (std::size_t k : {2u, 3u}) {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < k; ++i)
      for (const auto& x : checker::check_certificate(json_parse(text, "c.json"), f.ds, 2, i, k))
        if (x.claim == "interpolation") {
          CHECK(x.verified);
          sum += x.outputs_checked;
        }
    CHECK(sum == f.ds.total_outputs());
  }
}

TEST_CASE("checker_hardening::bound_from_magnitude is exact, or an upper bound, or says unbounded") {
  mpfr_t x;
  mpfr_init2(x, 53);
  mpfr_set_emax(mpfr_get_emax_max());
  mpfr_set_emin(mpfr_get_emin_min());
  bool finite = false;
  mpfr_set_ui(x, 3, MPFR_RNDN);
  mpfr_div_2ui(x, x, 10, MPFR_RNDN);
  CHECK(checker::bound_from_magnitude(x, finite) == Rational(3, 1024));
  CHECK(finite);
  mpfr_set_ui(x, 0, MPFR_RNDN);
  CHECK(checker::bound_from_magnitude(x, finite) == 0);
  CHECK(finite);
  // 2^(2^40): its exact value would not fit GMP (the precision-2 abort of issue 15).
  mpfr_set_ui_2exp(x, 1, 1L << 40, MPFR_RNDN);
  checker::bound_from_magnitude(x, finite);
  CHECK_FALSE(finite);
  mpfr_set_ui_2exp(x, 1, checker::kBoundExponentLimit - 1, MPFR_RNDN);
  CHECK(checker::bound_from_magnitude(x, finite) > 0);
  CHECK(finite);
  // 2^-(2^40): a tiny magnitude becomes the upper bound 2^-kBoundExponentLimit.
  mpfr_set_ui_2exp(x, 1, -(1L << 40), MPFR_RNDN);
  Rational tiny = checker::bound_from_magnitude(x, finite);
  CHECK(finite);
  CHECK(tiny > 0);
  CHECK(rational_bits(tiny) == static_cast<std::size_t>(checker::kBoundExponentLimit) + 1);
  mpfr_set_nan(x);
  checker::bound_from_magnitude(x, finite);
  CHECK_FALSE(finite);
  mpfr_set_inf(x, 1);
  checker::bound_from_magnitude(x, finite);
  CHECK_FALSE(finite);
  mpfr_clear(x);
}

TEST_CASE("checker_hardening::interval relu: NaN stays unknown, never becomes 0") {
  mpfi_t h;
  mpfi_init2(h, 64);
  mpfr_t nan;
  mpfr_init2(nan, 64);
  mpfr_set_nan(nan);
  mpfi_set_fr(h, nan);
  REQUIRE(mpfi_nan_p(h));
  checker::interval_relu(h, 64);
  CHECK(mpfi_nan_p(h));
  mpfi_interv_si(h, -2, 3);
  checker::interval_relu(h, 64);
  CHECK(mpfi_cmp_si(h, 0) == 0);  // contains 0
  CHECK(mpfr_cmp_si(&h->left, 0) == 0);
  CHECK(mpfr_cmp_si(&h->right, 3) == 0);
  mpfi_interv_si(h, -2, -1);
  checker::interval_relu(h, 64);
  CHECK(mpfr_zero_p(&h->left));
  CHECK(mpfr_zero_p(&h->right));
  mpfi_interv_si(h, 1, 2);
  checker::interval_relu(h, 64);
  CHECK(mpfr_cmp_si(&h->left, 1) == 0);
  CHECK(mpfr_cmp_si(&h->right, 2) == 0);
  mpfr_clear(nan);
  mpfi_clear(h);
}

TEST_CASE("checker_hardening::every worker thread gets the widened MPFR exponent range") {
  // MPFR keeps the range per thread: a new thread starts with the default.
  mpfr_exp_t fresh = 0;
  std::thread([&] { fresh = mpfr_get_emin(); }).join();
  INFO("default emin " << fresh << ", widest " << mpfr_get_emin_min());
  std::mutex mu;
  std::set<std::thread::id> ids;
  int narrow = 0;
  checker::run_workers(4, [&] {  // each thread calls this once
    std::lock_guard<std::mutex> g(mu);
    ids.insert(std::this_thread::get_id());
    if (mpfr_get_emin() != mpfr_get_emin_min() || mpfr_get_emax() != mpfr_get_emax_max()) ++narrow;
  });
  CHECK(ids.size() == 4);
  CHECK(narrow == 0);
}

TEST_CASE("checker_hardening::printable escapes control characters") {
  CHECK(printable("H1") == "H1");
  CHECK(printable("\x1b[2J") == "\\x1b[2J");
  CHECK(printable("a\nVERIFIED") == "a\\x0aVERIFIED");
  CHECK(printable("\x7f") == "\\x7f");
  CHECK(printable("\xc2\x9b" "2J") == "\\u009b2J");
  CHECK(printable("back\\slash") == "back\\\\slash");
  CHECK(printable("\xc3\xa9t\xc3\xa9") == "\xc3\xa9t\xc3\xa9");  // UTF-8 letters stay
}

TEST_CASE("checker_hardening::a model one block over sum m_j + N is refuted on counts, one at it verifies") {
  Fixture f;
  const std::size_t bound = f.ds.total_outputs() + f.ds.sequences.size();
  REQUIRE(f.model.blocks.size() <= bound);
  for (std::size_t extra : {std::size_t(0), std::size_t(1)}) {
    Model m = f.model;
    while (m.blocks.size() < bound + extra) m.blocks.push_back(Block{});  // identity blocks
    std::string text = certificate_text(f.ds, m, model_stats(m), check_preconditions(f.ds));
    REQUIRE(text.find("\"block_bound\": " + std::to_string(bound)) != std::string::npos);
    for (const auto& x : run(text, f.ds)) {
      INFO(x.claim << ": " << x.detail);
      CHECK(x.verified == (extra == 0 || x.claim != "counts"));
    }
  }
}

TEST_CASE("checker_hardening::a model of another dimension is refuted, not run") {
  Fixture f;
  Dataset wider = f.ds;
  wider.d = 3;
  for (auto& s : wider.sequences) {
    std::vector<Vec> in = s.input;
    for (auto& t : in) t.push_back(Rational(0));
    s.input = in;
    for (auto& t : s.output) t.push_back(Rational(0));
  }
  bool seen = false;
  for (const auto& x : run(f.cert, wider))
    if (x.claim == "interpolation") {
      seen = true;
      CHECK_FALSE(x.verified);
      CHECK(x.detail.find("the model has d = 2, the dataset d = 3") != std::string::npos);
    }
  CHECK(seen);
}
