// proofs/repeated-and-causal.md: repeated tokens, d = 1 and causal masks. Seeded families whose
// targets are a function of what the theory says a transformer can see (the token with its
// sequence's proportions; causal: the reduced prefix), computed here independently of the engine.
// Every construction is checked exact by the reference evaluator and by the checker's own forward
// pass, within the stated block bound; every obstruction's witness is re-derived here.
#include "../src/checker/forward.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "interpcert/preconditions.hpp"

#include <doctest/doctest.h>
#include <algorithm>
#include <random>

#include <iostream>
#include <map>
#include <numeric>
#include <random>

using namespace interpcert;

namespace {

Vec pt(std::size_t d, long a, long b = 0) {
  Vec v(d);
  v[0] = Rational(a);
  if (d > 1) v[1] = Rational(b);
  return v;
}

// What the theory says a non-causal transformer sees at a position: the token, and the sequence's
// proportions as sorted (token, count / total).
using Key = std::pair<Vec, std::vector<std::pair<Vec, Rational>>>;
Key context_key(const std::vector<Vec>& seq, std::size_t i, bool causal) {
  std::size_t len = causal ? i + 1 : seq.size();
  std::vector<Vec> pre(seq.begin(), seq.begin() + static_cast<long>(len));
  if (causal) {
    // Reduced prefix: the prefix itself (order matters), a constant prefix counting as one token.
    bool constant = std::all_of(pre.begin(), pre.end(), [&](const Vec& z) { return z == pre[0]; });
    if (constant) pre.resize(1);
    std::vector<std::pair<Vec, Rational>> k;
    for (const auto& z : pre) k.push_back({z, Rational(0)});
    return {seq[i], k};
  }
  std::map<Vec, long, bool (*)(const Vec&, const Vec&)> count(lex_less);
  for (const auto& z : pre) ++count[z];
  std::vector<std::pair<Vec, Rational>> k;
  for (const auto& [z, c] : count) k.push_back({z, Rational(c, static_cast<long>(len))});
  return {seq[i], k};
}

struct KeyLess {
  bool operator()(const Key& a, const Key& b) const {
    if (a.first != b.first) return lex_less(a.first, b.first);
    if (a.second.size() != b.second.size()) return a.second.size() < b.second.size();
    for (std::size_t i = 0; i < a.second.size(); ++i) {
      if (a.second[i].first != b.second[i].first) return lex_less(a.second[i].first, b.second[i].first);
      if (a.second[i].second != b.second[i].second) return a.second[i].second < b.second[i].second;
    }
    return false;
  }
};

// Targets drawn at random per key, so the dataset has no obstruction by construction.
Dataset with_targets(std::size_t d, const std::vector<std::vector<Vec>>& inputs, bool causal, std::mt19937_64& rng,
                     bool last_only) {
  std::map<Key, Vec, KeyLess> target;
  Dataset ds;
  ds.d = d;
  for (const auto& in : inputs) {
    Sequence s;
    s.input = in;
    for (std::size_t i = last_only ? in.size() - 1 : 0; i < in.size(); ++i) {
      if (!last_only && rng() % 2 && i + 1 < in.size()) continue;
      auto [it, fresh] = target.try_emplace(context_key(in, i, causal), Vec(d));
      if (fresh)
        for (auto& x : it->second) x = Rational(static_cast<long>(rng() % 7) - 3, 1 + static_cast<long>(rng() % 3));
      s.positions.push_back(i);
      s.output.push_back(it->second);
    }
    ds.sequences.push_back(std::move(s));
  }
  return ds;
}

struct Measure {
  std::size_t datasets = 0, max_blocks = 0, max_width = 0, rounds = 0;
};

void expect_exact(const Dataset& ds, bool causal, std::size_t bound, Measure& m, const std::string& what) {
  INFO(what);
  PreconditionReport pre = check_preconditions(ds, causal);
  REQUIRE(pre.verdict() != Applicability::Impossible);
  REQUIRE(pre.verdict() != Applicability::Outside);
  ConstructOptions opt;
  opt.causal = causal;
  Construction c = construct_model(ds, opt, pre);
  CHECK((c.model.mask == MaskKind::Causal) == causal);
  CHECK(c.model.blocks.size() <= bound);
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    const Sequence& s = ds.sequences[j];
    auto out = evaluate_reference(c.model, s.input);
    auto chk = checker::forward_hardmax(c.model, s.input);
    for (std::size_t k = 0; k < s.output.size(); ++k) {
      REQUIRE(out[s.positions[k]] == s.output[k]);
      REQUIRE(chk[s.positions[k]] == s.output[k]);
    }
  }
  // Deterministic: the same dataset gives the same model, byte for byte.
  CHECK(model_to_json_text(construct_model(ds, opt, pre).model) == model_to_json_text(c.model));
  ++m.datasets;
  m.max_blocks = std::max(m.max_blocks, c.model.blocks.size());
  m.rounds = std::max(m.rounds, c.trace.refinement.size());
  for (const auto& b : c.model.blocks)
    if (b.ff) m.max_width = std::max(m.max_width, b.ff->U.rows);
}

void report(const char* family, const Measure& m) {
  std::cout << "[construct_extended] " << family << ": " << m.datasets << " datasets exact, max blocks "
            << m.max_blocks << ", max refinement rounds " << m.rounds << ", widest FF " << m.max_width << "\n";
}

std::vector<Vec> pool(std::size_t d, std::size_t size, std::mt19937_64& rng) {
  std::vector<Vec> p;
  while (p.size() < size) {
    Vec v(d);
    for (auto& x : v) x = Rational(static_cast<long>(rng() % 9) - 4, 1 + static_cast<long>(rng() % 2));
    if (std::find(p.begin(), p.end(), v) == p.end()) p.push_back(v);
  }
  return p;
}

}  // namespace

TEST_CASE("construct_extended::same set, different proportions (d = 1, 2, 3): exact in <= 2 blocks") {
  std::uint64_t seed = 1201;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  Measure m;
  for (int trial = 0; trial < 60; ++trial) {
    std::size_t d = 1 + trial % 3;
    auto toks = pool(d, 2 + rng() % 3, rng);
    std::vector<std::vector<Vec>> inputs;
    for (std::size_t j = 0; j < 3 + rng() % 4; ++j) {
      std::vector<Vec> s;
      for (const auto& t : toks)  // every token, 1-3 copies: same set, varying proportions
        for (std::size_t c = 0; c < 1 + rng() % 3; ++c) s.push_back(t);
      std::shuffle(s.begin(), s.end(), rng);
      inputs.push_back(s);
    }
    Dataset ds = with_targets(d, inputs, false, rng, false);
    expect_exact(ds, false, 2, m, "same set, trial " + std::to_string(trial));
  }
  report("same set, different proportions", m);
}

TEST_CASE("construct_extended::one set at several scales is one context") {
  for (std::size_t d : {1u, 2u}) {
    Vec a = pt(d, 1, 0), b = pt(d, 0, 1), y1 = pt(d, 5, 5), y2 = pt(d, -5, 2);
    // [a, b] and [a, a, b, b]: one context. Same target: interpolable; different: obstruction O2.
    Dataset same{d, {{{a, b}, {y1}, {1}}, {{a, a, b, b}, {y1}, {3}}, {{a, a, b}, {y2}, {2}}}};
    Measure m;
    expect_exact(same, false, 2, m, "scales, d = " + std::to_string(d));
    Dataset differ{d, {{{a, b}, {y1}, {1}}, {{b, a, b, a}, {y2}, {2}}}};
    PreconditionReport r = check_preconditions(differ);
    REQUIRE(r.verdict() == Applicability::Impossible);
    const Witness& w = r.obstructions[1].witness;
    // Re-derive the witness here: same token, different targets, equal proportions.
    REQUIRE(w.sequences.size() == 2);
    const auto& s0 = differ.sequences[w.sequences[0]].input;
    const auto& s1 = differ.sequences[w.sequences[1]].input;
    CHECK(s0[w.positions[0]] == s1[w.positions[1]]);
    CHECK(w.token == s0[w.positions[0]]);
    CHECK(w.targets[0] != w.targets[1]);
    CHECK(context_key(s0, w.positions[0], false).second == context_key(s1, w.positions[1], false).second);
    for (int i = 0; i < 2; ++i) {  // the witness's proportions are the sequences' own
      Rational total(0);
      const auto& sq = i == 0 ? s0 : s1;
      for (const auto& [z, q] : w.contexts[i]) {
        long c = std::count(sq.begin(), sq.end(), z);
        CHECK(q == Rational(c, static_cast<long>(sq.size())));
        total += q;
      }
      CHECK(total == 1);
    }
  }
}

TEST_CASE("construct_extended::random repeated tokens and obstructions agree with an independent evaluation") {
  std::uint64_t seed = 1202;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  Measure m;
  std::size_t impossible = 0;
  for (int trial = 0; trial < 80; ++trial) {
    std::size_t d = 1 + trial % 3;
    auto toks = pool(d, 3, rng);
    std::vector<std::vector<Vec>> inputs;
    for (std::size_t j = 0; j < 2 + rng() % 4; ++j) {
      std::vector<Vec> s(1 + rng() % 5);
      for (auto& z : s) z = toks[rng() % toks.size()];
      inputs.push_back(s);
    }
    Dataset ds = with_targets(d, inputs, false, rng, false);
    if (trial % 2) {
      expect_exact(ds, false, 2, m, "repeats, trial " + std::to_string(trial));
      continue;
    }
    // Change one target: impossible iff some other requirement has the same key and another target.
    Sequence& s = ds.sequences[rng() % ds.sequences.size()];
    std::size_t k = rng() % s.output.size();
    s.output[k][0] += 100;
    Key key = context_key(s.input, s.positions[k], false);
    bool clash = false;
    for (const auto& t : ds.sequences)
      for (std::size_t q = 0; q < t.output.size(); ++q)
        if (!KeyLess{}(key, context_key(t.input, t.positions[q], false)) &&
            !KeyLess{}(context_key(t.input, t.positions[q], false), key) && t.output[q] != s.output[k])
          clash = true;
    PreconditionReport r = check_preconditions(ds);
    CHECK((r.verdict() == Applicability::Impossible) == clash);
    if (!clash) {
      expect_exact(ds, false, 2, m, "modified, trial " + std::to_string(trial));
    } else {
      ++impossible;
      const ObstructionCheck& o = r.obstructions[0].found ? r.obstructions[0] : r.obstructions[1];
      const Witness& w = o.witness;
      const auto& a = ds.sequences[w.sequences[0]];
      const auto& b = ds.sequences[w.sequences[1]];
      auto ka = context_key(a.input, w.positions[0], false), kb = context_key(b.input, w.positions[1], false);
      CHECK(ka.first == kb.first);
      CHECK(ka.second == kb.second);
      CHECK(w.targets[0] != w.targets[1]);
    }
  }
  CHECK(impossible > 0);
  report("random repeats (some made impossible)", m);
}

TEST_CASE("construct_extended::causal: shared prefixes, prefixes of one another, order matters") {
  std::uint64_t seed = 1203;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  Measure m;
  for (int trial = 0; trial < 60; ++trial) {
    std::size_t d = 1 + trial % 3;
    auto toks = pool(d, 2 + rng() % 2, rng);
    std::vector<std::vector<Vec>> inputs;
    std::vector<Vec> base(2 + rng() % 4);
    for (auto& z : base) z = toks[rng() % toks.size()];
    inputs.push_back(base);
    for (std::size_t j = 0; j < 2 + rng() % 4; ++j) {
      // A prefix of the base, possibly extended: shared prefixes and prefixes of one another.
      std::vector<Vec> s(base.begin(), base.begin() + static_cast<long>(1 + rng() % base.size()));
      for (std::size_t e = rng() % 3; e > 0; --e) s.push_back(toks[rng() % toks.size()]);
      inputs.push_back(s);
    }
    Dataset ds = with_targets(d, inputs, true, rng, false);
    expect_exact(ds, true, 4, m, "causal, trial " + std::to_string(trial));
  }
  report("causal prefixes", m);
}

TEST_CASE("construct_extended::causal: equal prefix distributions are NOT an obstruction") {
  // [a, b, c] and [b, a, c]: position 2 has the same token and the same prefix proportions,
  // yet a causal transformer sends them to different targets (proofs/repeated-and-causal.md, §2).
  for (std::size_t d : {1u, 2u}) {
    Vec a = pt(d, 1, 0), b = pt(d, 0, 1), c = pt(d, 2, 2);
    Dataset ds{d, {{{a, b, c}, {pt(d, 7, 7)}, {2}}, {{b, a, c}, {pt(d, -7, 1)}, {2}}}};
    PreconditionReport r = check_preconditions(ds, true);
    CHECK(r.verdict() == Applicability::Extended);
    Measure m;
    expect_exact(ds, true, 4, m, "order, d = " + std::to_string(d));
    // Without the mask the two contexts are one distribution: impossible (O2).
    CHECK(check_preconditions(ds).verdict() == Applicability::Impossible);
  }
}

TEST_CASE("construct_extended::causal obstruction C1 and its witness") {
  Vec a = pt(2, 1, 0), b = pt(2, 0, 1), y1 = pt(2, 3, 3), y2 = pt(2, 4, 4);
  // [a, a] at 1 and [a] at 0: constant prefixes, one reduced prefix (a): impossible.
  Dataset runs{2, {{{a, a, b}, {y1}, {1}}, {{a}, {y2}, {0}}}};
  PreconditionReport r = check_preconditions(runs, true);
  REQUIRE(r.verdict() == Applicability::Impossible);
  const Witness& w = r.obstructions[0].witness;
  CHECK(w.sequences == std::vector<std::size_t>{0, 1});
  CHECK(w.positions == std::vector<std::size_t>{1, 0});
  CHECK(w.targets == std::vector<Vec>{y1, y2});
  CHECK(context_key(runs.sequences[0].input, 1, true).second == context_key(runs.sequences[1].input, 0, true).second);
  // [a, a, b] at 2 and [a, b] at 1: not the same reduced prefix: interpolable.
  Dataset near{2, {{{a, a, b}, {y1}, {2}}, {{a, b}, {y2}, {1}}}};
  CHECK(check_preconditions(near, true).verdict() == Applicability::Extended);
  Measure m;
  expect_exact(near, true, 4, m, "a a b vs a b");
  // Random datasets with one target changed: C1 iff the independent key says so.
  std::uint64_t seed = 1204;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  std::size_t found = 0;
  for (int trial = 0; trial < 60; ++trial) {
    auto toks = pool(2, 2, rng);
    std::vector<std::vector<Vec>> inputs;
    for (std::size_t j = 0; j < 3 + rng() % 3; ++j) {
      std::vector<Vec> s(1 + rng() % 4);
      for (auto& z : s) z = toks[rng() % 2];
      inputs.push_back(s);
    }
    Dataset ds = with_targets(2, inputs, true, rng, false);
    Sequence& s = ds.sequences[rng() % ds.sequences.size()];
    std::size_t k = rng() % s.output.size();
    s.output[k][1] += 50;
    Key key = context_key(s.input, s.positions[k], true);
    bool clash = false;
    for (const auto& t : ds.sequences)
      for (std::size_t q = 0; q < t.output.size(); ++q) {
        Key other = context_key(t.input, t.positions[q], true);
        if (!KeyLess{}(key, other) && !KeyLess{}(other, key) && t.output[q] != s.output[k]) clash = true;
      }
    PreconditionReport rep = check_preconditions(ds, true);
    CHECK((rep.verdict() == Applicability::Impossible) == clash);
    if (clash) {
      ++found;
      const Witness& cw = rep.obstructions[0].witness;
      auto ka = context_key(ds.sequences[cw.sequences[0]].input, cw.positions[0], true);
      auto kb = context_key(ds.sequences[cw.sequences[1]].input, cw.positions[1], true);
      CHECK(ka.first == kb.first);
      CHECK(ka.second == kb.second);
      CHECK(cw.targets[0] != cw.targets[1]);
    } else {
      expect_exact(ds, true, 4, m, "causal modified, trial " + std::to_string(trial));
    }
  }
  CHECK(found > 0);
}

TEST_CASE("construct_extended::d = 1 without conflicts: feed-forward only") {
  Dataset ds{1, {{{pt(1, 1), pt(1, 2)}, {pt(1, 5)}, {1}}, {{pt(1, 3), pt(1, 2)}, {pt(1, 5)}, {1}}}};
  PreconditionReport r = check_preconditions(ds);
  CHECK(r.verdict() == Applicability::Extended);
  Construction c = construct_model(ds, {}, r);
  CHECK(c.trace.refinement.empty());
  for (const auto& b : c.model.blocks) CHECK_FALSE(b.sa.has_value());
  for (const auto& s : ds.sequences) CHECK(evaluate_reference(c.model, s.input)[1] == s.output[0]);
}
