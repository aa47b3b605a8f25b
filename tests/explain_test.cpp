#include "dataset_families.hpp"
#include "interpcert/explain.hpp"

#include <doctest/doctest.h>

using namespace interpcert;

TEST_CASE("explain::every step's check holds on every family") {
  std::mt19937_64 rng(21);
  for (auto f : testing::kAllFamilies)
    for (std::size_t d : {2, 4}) {
      Dataset ds = testing::make_family(f, rng, d, 5, 4);
      for (std::size_t cap : {0u, 4u}) {
        Explanation ex = explain_dataset(ds, "family", {cap, 12});
        INFO(testing::family_name(f) << " d " << d << " cap " << cap);
        CHECK(ex.theorem_applies);
        CHECK(ex.all_checks_hold);
        for (const auto& s : ex.steps) {
          CHECK(s.has_check);
          CHECK_MESSAGE(s.check_holds, s.title << ": " << s.check);
        }
        std::string html = explanation_html(ex, "family");
        CHECK(html.find("<svg") != std::string::npos);
        CHECK(html.find("FAILS") == std::string::npos);
      }
    }
}

TEST_CASE("explain::datasets beyond H1-H4 get the extended construction; impossible ones stop with the reason") {
  Vec a = {Rational(1), Rational(0)}, b = {Rational(0), Rational(1)};
  Dataset outside{2, {{{a, a, b}, {{Rational(7), Rational(7)}}, {2}}, {{a, b}, {{Rational(8), Rational(8)}}, {1}}}};
  Explanation ex = explain_dataset(outside, "outside");
  CHECK(ex.exit_status == 0);
  REQUIRE(ex.steps.size() == 2);
  CHECK(ex.steps[1].check_holds);
  CHECK(ex.steps[0].here.find("Why H3 matters") != std::string::npos);
  Dataset impossible{2, {{{a, b}, {{Rational(7), Rational(7)}}, {1}}, {{b, a}, {{Rational(8), Rational(8)}}, {0}}}};
  CHECK(explain_dataset(impossible, "impossible").exit_status == 1);
}
