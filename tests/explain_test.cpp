#include "dataset_families.hpp"
#include "interpcert/explain.hpp"
#include "interpcert/text_util.hpp"

#include <doctest/doctest.h>

using namespace interpcert;

namespace {
Vec v2(long a, long b) { return {Rational(a), Rational(b)}; }

// shared_top.json: four sequences share their top token; (0, 0) needs four targets.
Dataset shared_top() {
  return Dataset{2,
                 {{{v2(5, 5), v2(1, 0), v2(0, 0)}, {v2(1, 1)}, {2}},
                  {{v2(5, 5), v2(2, -1), v2(0, 0)}, {v2(2, 2)}, {2}},
                  {{v2(5, 5), v2(1, 0), v2(2, -1), v2(0, 0)}, {v2(3, 3)}, {3}},
                  {{v2(0, 0), v2(5, 5)}, {v2(4, 4)}, {0}}}};
}
}  // namespace

TEST_CASE("explain::every step's check holds on every family, and text and drawing agree") {
  std::mt19937_64 rng(21);
  for (auto f : testing::kAllFamilies)
    for (std::size_t d : {2, 4}) {
      Dataset ds = testing::make_family(f, rng, d, 5, 4);
      for (std::size_t cap : {0u, 4u}) {
        ExplainOptions opt;
        opt.max_ff_width = cap;
        opt.max_listed = 1000;
        Explanation ex = explain_dataset(ds, "family", opt);
        INFO(testing::family_name(f) << " d " << d << " cap " << cap);
        CHECK(ex.theorem_applies);
        CHECK(ex.all_checks_hold);
        REQUIRE(ex.steps.size() >= 4);
        CHECK(ex.steps[0].id == "requirements");
        CHECK(ex.drawing.rows.size() == ds.total_outputs());
        const auto& fr = ex.drawing.frames;
        for (const auto& s : ex.steps) {
          CHECK((s.has_check || s.id == "requirements"));
          CHECK_MESSAGE((!s.has_check || s.check_holds), s.title << ": " << s.check);
          CHECK(s.figure.frame_from <= s.figure.frame_to);
          CHECK(s.figure.frame_to < fr.size());
          for (auto i : s.figure.focus) CHECK(i < ex.drawing.tokens.size());
          // Every state line the text prints for a drawn token is the drawing's state, exactly.
          if (s.id.rfind("code:", 0) == 0 || s.id == "translate")
            for (std::size_t i = 0; i < ex.drawing.tokens.size(); ++i) {
              const auto& t = ex.drawing.tokens[i];
              if (fr[s.figure.frame_from].z[i] == fr[s.figure.frame_to].z[i]) continue;
              std::string line = "token " + t.label + ": " + fr[s.figure.frame_from].z[i] + " -> " + fr[s.figure.frame_to].z[i];
              CHECK_MESSAGE(s.here.find(line) != std::string::npos, s.id << " lacks " << line);
            }
        }
        // The final drawn state of every output position is its target, exactly.
        for (std::size_t i = 0; i < ex.drawing.tokens.size(); ++i)
          if (!ex.drawing.tokens[i].target.empty()) CHECK(fr.back().z[i] == ex.drawing.tokens[i].target);
        std::string html = explanation_html(ex, "family");
        CHECK(html.find("name=\"viewport\"") != std::string::npos);
        CHECK(html.find("id=\"slider\"") != std::string::npos);
        CHECK(html.find("<svg") != std::string::npos);
        CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // no network but the SVG namespace
        CHECK(html.find("https://") == std::string::npos);
      }
    }
}

TEST_CASE("explain::Lemma 7 counts promotions under a width cap and checks its own inequality") {
  Dataset ds = shared_top();
  for (std::size_t cap : {0u, 3u}) {
    ExplainOptions opt;
    opt.max_ff_width = cap;
    Explanation ex = explain_dataset(ds, "shared_top", opt);
    auto at = find_steps(ex, "count");
    REQUIRE(at.size() == 1);
    const ExplainStep& s = ex.steps[at[0]];
    INFO(s.here << s.check);
    CHECK(s.check_holds);
    CHECK(s.here.find("R = 3 promotion(s) in 2 round(s)") != std::string::npos);
    CHECK(s.here.find("M = 4 hat(s)") != std::string::npos);
    // With cap 3 (one hat per layer) the two promotions of round 1 need two layers: L = 8 = T + R + M,
    // more than rounds + M + 1 = 7 (the old, wrong statement).
    if (cap == 3) CHECK(s.check.find("L = 8 <= T + R + M = 8") != std::string::npos);
    else CHECK(s.check.find("uncapped: L = 4 <= T + C = 4") != std::string::npos);
  }
}

TEST_CASE("explain::named steps") {
  Explanation ex = explain_dataset(shared_top(), "shared_top");
  std::vector<std::string> ids;
  for (const auto& s : ex.steps) ids.push_back(s.id);
  CHECK(ids == std::vector<std::string>{"requirements", "preconditions", "key", "translate", "code:0", "promote:0", "code:1",
                                        "promote:1", "code:2", "hats", "count"});
  CHECK(find_steps(ex, "code") == std::vector<std::size_t>{4, 6, 8});
  CHECK(find_steps(ex, "code:1") == std::vector<std::size_t>{6});
  CHECK(find_steps(ex, "3") == std::vector<std::size_t>{2});
  CHECK(find_steps(ex, "0").empty());
  CHECK(find_steps(ex, "12").empty());
  CHECK(find_steps(ex, "cod").empty());
  CHECK(find_steps(ex, "code:7").empty());
  // The promotion step names the point that sets each delta, and that delta is its distance.
  const ExplainStep& p = ex.steps[5];
  CHECK(p.here.find("window t0 = u.pi = 314, delta = 2, set by the nearest other point (93, -28)") != std::string::npos);
  CHECK(ex.steps[4].here.find("leader (argmax of k.z) (5, 5) with k.leader = 30") != std::string::npos);
}

TEST_CASE("explain::softmax walk-through: the a-priori terms beside the certified bound") {
  ExplainOptions opt;
  opt.softmax_beta = Rational(1);
  Explanation ex = explain_dataset(shared_top(), "shared_top", opt);
  REQUIRE(ex.steps.back().id == "softmax");
  const auto& s = ex.steps.back();
  CHECK(s.here.find("block 1 attention: q = 9, Gamma = 19, n = 4") != std::string::npos);
  CHECK(s.here.find("certified bound") != std::string::npos);
  CHECK(s.has_check);
  CHECK(s.check_holds);
  opt.softmax_beta = Rational(1, 1000);  // too small for Lemma A: no claim, so no check
  Explanation low = explain_dataset(shared_top(), "shared_top", opt);
  CHECK_FALSE(low.steps.back().has_check);
  CHECK(low.steps.back().here.find("not available at this beta") != std::string::npos);
  CHECK(low.all_checks_hold);
}

TEST_CASE("explain::outside and impossible datasets stop after the preconditions and claim nothing more") {
  Vec a = v2(1, 0), b = v2(0, 1);
  Dataset outside{2, {{{a, a, b}, {v2(7, 7)}, {2}}, {{a, b}, {v2(8, 8)}, {1}}}};
  Explanation ex = explain_dataset(outside, "outside");
  CHECK(ex.exit_status == 3);
  REQUIRE(ex.steps.size() == 2);
  const std::string& h = ex.steps[1].here;
  CHECK(h.find("Why H3 matters") != std::string::npos);
  CHECK(h.find("nothing is proved either way") != std::string::npos);
  CHECK(h.find("impossible only when") == std::string::npos);  // suggested possibility where nothing is proved
  Dataset impossible{2, {{{a, b}, {v2(7, 7)}, {1}}, {{b, a}, {v2(8, 8)}, {0}}}};
  CHECK(explain_dataset(impossible, "impossible").exit_status == 1);
  // O1: one sequence, one repeated token, two targets. H3 fails; the text must not point at O2.
  Dataset o1{2, {{{a, a, b}, {v2(7, 7), v2(8, 8)}, {0, 1}}}};
  Explanation e1 = explain_dataset(o1, "o1");
  CHECK(e1.exit_status == 1);
  const std::string& t = e1.steps[1].here;
  CHECK(t.find("O1 FOUND") != std::string::npos);
  CHECK(t.find("obstruction was FOUND") != std::string::npos);
  CHECK(t.find("(O2)") == std::string::npos);
}
