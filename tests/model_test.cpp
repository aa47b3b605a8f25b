#include "interpcert/errors.hpp"
#include "interpcert/model.hpp"
#include "interpcert/model_stats.hpp"
#include "random_model.hpp"

#include <doctest/doctest.h>

#include <climits>
#include <random>

using namespace interpcert;

namespace {
const char* kModel = R"({
  "format": "interpcert-model", "version": 1, "d": 2, "attention": "hardmax",
  "blocks": [
    {"sa": null, "ff": {"eta": "1", "U": [["0", "0"]], "b": ["1"], "W": [["2"], ["1/3"]]}},
    {"sa": {"rho": 1, "Q": [["1", "2"]], "K": [["1", "2"]], "V": {"left": [["2"], ["-1"]], "right": [["1", "2"]]}},
     "ff": null},
    {"sa": {"rho": "1/2", "Q": [["1", "0"], ["0", "1"]], "K": [["1", "0"], ["0", "1"]], "V": [["1", "0"], ["0", "1"]]},
     "ff": null}
  ]
})";
Model parse(const std::string& t) { return model_from_json(JsonNode::root_of(json_parse(t, "m.json"))); }
std::string error_path(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.json_path();
  }
  return "<no error>";
}
std::string with(const std::string& a, const std::string& b) {
  std::string t = kModel;
  t.replace(t.find(a), a.size(), b);
  return t;
}
}  // namespace

TEST_CASE("model::canonical_text follows proofs/formats-v1.md") {
  Model m = parse(kModel);
  CHECK(model_canonical_text(m) ==
        "interpcert-model 1\nd 2\nattention hardmax\nblocks 3\n"
        "block 0\nsa none\nff eta 1\nU 1 2\n0 0\nb 1 1\n1\nW 2 1\n2\n1/3\n"
        "block 1\nsa rho 1\nQ 1 2\n1 2\nK 1 2\n1 2\nVleft 2 1\n2\n-1\nVright 1 2\n1 2\nff none\n"
        "block 2\nsa rho 1/2\nQ 2 2\n1 0\n0 1\nK 2 2\n1 0\n0 1\nV 2 2\n1 0\n0 1\nff none\n");
}

TEST_CASE("model::to_json_text round-trips to the same digest") {
  Model m = parse(kModel);
  CHECK(model_digest(parse(model_to_json_text(m))) == model_digest(m));
  CHECK(model_to_json_text(parse(model_to_json_text(m))) == model_to_json_text(m));
}

TEST_CASE("model::from_json rejects malformed models with the JSON path") {
  CHECK(error_path(with(R"("W": [["2"], ["1/3"]])", R"("W": [["2"]])")) == "/blocks/0/ff/W");
  CHECK(error_path(with(R"("b": ["1"])", R"("b": ["1", "2"])")) == "/blocks/0/ff/b");
  CHECK(error_path(with(R"("K": [["1", "2"]])", R"("K": [["1", "2"], ["1", "1"]])")) == "/blocks/1/sa/K");
  CHECK(error_path(with(R"("right": [["1", "2"]])", R"("right": [["1", "Infinity"]])")) ==
        "/blocks/1/sa/V/right/0/1");
  CHECK(error_path(with(R"("rho": "1/2")", R"("rhoo": "1/2")")) == "/blocks/2/sa/rhoo");
  CHECK(error_path(with(R"("attention": "hardmax")", R"("attention": "softmax")")) == "/beta");
  CHECK(error_path(with(R"("attention": "hardmax")", R"("attention": "hardmax", "beta": "2")")) == "/beta");
  CHECK(error_path(with(R"("eta": "1")", R"("eta": null)")) == "/blocks/0/ff/eta");
  Model soft = parse(with(R"("attention": "hardmax")", R"("attention": "softmax", "beta": "40")"));
  CHECK(soft.beta == Rational(40));
  CHECK(model_canonical_text(soft).find("attention softmax\nbeta 40\n") != std::string::npos);
}

TEST_CASE("model::from_json checks every row's length before allocating a matrix") {
  // Issue 15: 199 bytes claiming d = 2^20 with twenty empty rows in Q used to allocate a
  // 20 x 2^20 matrix of rationals before looking at any row.
  std::string rows;
  for (int i = 0; i < 20; ++i) rows += i ? ",[]" : "[]";
  std::string text = R"({"format":"interpcert-model","version":1,"d":1048576,"attention":"hardmax","blocks":[{"sa":{"rho":1,"Q":[)" +
                     rows + R"(],"K":[],"V":[]},"ff":null}]})";
  CHECK(text.size() < 260);
  CHECK(error_path(text) == "/blocks/0/sa/Q/0");
  // The same with rows of the first row's length but a later one short (shape from row 0).
  CHECK(error_path(with(R"("left": [["2"], ["-1"]])", R"("left": [["2"], []])")) == "/blocks/1/sa/V/left/1");
  // Rows longer than their matrix is wide are refused too: no entry of a file is silently dropped.
  CHECK(error_path(with(R"("U": [["0", "0"]])", R"("U": [["0", "0", "7"]])")) == "/blocks/0/ff/U/0");
  CHECK(error_path(with(R"("W": [["2"], ["1/3"]])", R"("W": [["2"], ["1/3", "5"]])")) == "/blocks/0/ff/W/1");
  CHECK(error_path(with(R"("Q": [["1", "2"]])", R"("Q": [["1", "2", "3"]])")) == "/blocks/1/sa/Q/0");
  CHECK(error_path(with(R"("right": [["1", "2"]])", R"("right": [["1", "2", "0"]])")) == "/blocks/1/sa/V/right/0");
  CHECK(error_path(with(R"("V": [["1", "0"], ["0", "1"]])", R"("V": [["1", "0"], ["0", "1", "0"]])")) ==
        "/blocks/2/sa/V/1");
  try {
    parse(with(R"("U": [["0", "0"]])", R"("U": [["0", "0", "7"]])"));
    FAIL("a row of 3 entries in a 1 x 2 matrix was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("has 3 entries, expected 2") != std::string::npos);
  }
}

TEST_CASE("model::optional causal mask: a line after the attention (and beta) line, digests unchanged without it") {
  Model m = parse(kModel);
  const std::string unmasked = model_canonical_text(m);
  CHECK(parse(with(R"("attention": "hardmax")", R"("attention": "hardmax", "mask": "none")")).mask == MaskKind::None);
  CHECK(model_digest(parse(with(R"("attention": "hardmax")", R"("attention": "hardmax", "mask": "none")"))) ==
        model_digest(m));
  Model c = parse(with(R"("attention": "hardmax")", R"("attention": "hardmax", "mask": "causal")"));
  CHECK(c.mask == MaskKind::Causal);
  std::string want = unmasked;
  want.replace(want.find("attention hardmax\n"), 18, "attention hardmax\nmask causal\n");
  CHECK(model_canonical_text(c) == want);
  CHECK(model_digest(c) != model_digest(m));
  CHECK(model_digest(parse(model_to_json_text(c))) == model_digest(c));
  Model sc = parse(with(R"("attention": "hardmax")", R"("mask": "causal", "attention": "softmax", "beta": "40")"));
  CHECK(model_canonical_text(sc).find("attention softmax\nbeta 40\nmask causal\nblocks 3\n") != std::string::npos);
  CHECK(model_digest(parse(model_to_json_text(sc))) == model_digest(sc));
  CHECK(error_path(with(R"("attention": "hardmax")", R"("attention": "hardmax", "mask": "Causal")")) == "/mask");
  CHECK(error_path(with(R"("attention": "hardmax")", R"("attention": "hardmax", "mask": 1)")) == "/mask");
}

// --- model_stats.cpp: the blocked, prefetched walks against the plain entry-by-entry ones -------

namespace {

// An entry of a stats test matrix: zero, small, at the int64 and __int128 edges, or far beyond;
// over the column's shared denominator `den` (then SquareSum sums the column's numerators first)
// or its own.
Rational stats_value(std::mt19937_64& rng, const Integer& den) {
  Integer num;
  switch (rng() % 9) {
    case 0: return Rational(0);
    case 1: num = Integer(LONG_MAX) - Integer(static_cast<long>(rng() % 3)); break;
    case 2: num = Integer(LONG_MIN) + Integer(static_cast<long>(rng() % 3)); break;
    case 3: num = (Integer(1) << (126 + static_cast<unsigned>(rng() % 3))) - Integer(1); break;
    case 4: num = Integer(1) << (150 + static_cast<unsigned>(rng() % 100)); break;
    default: num = Integer(static_cast<long>(rng() % 2001)) - Integer(1000); break;
  }
  if (rng() % 2) num = -num;
  if (rng() % 4 == 0) return Rational(num) / Rational(Integer(static_cast<long>(1 + rng() % 9)));  // its own
  return Rational(num) / Rational(den);
}

Matrix stats_matrix(std::mt19937_64& rng, std::size_t rows, std::size_t cols) {
  Matrix m(rows, cols);
  for (std::size_t j = 0; j < cols; ++j) {
    const auto kind = rng() % 6;
    // A column's denominator: 1, a word, at the word's edge (2^64 - 1 does not fit a long), or
    // beyond a word.
    Integer den = kind == 0 ? Integer(1)
                  : kind == 1 ? Integer(static_cast<long>(1 + rng() % 1000))
                  : kind == 2 ? (Integer(1) << 64) - Integer(1)
                  : kind == 3 ? (Integer(1) << 80) + Integer(static_cast<long>(rng() % 7))
                              : Integer(static_cast<long>(3 + rng() % 5));
    const bool zero_column = rng() % 7 == 0;
    for (std::size_t i = 0; i < rows; ++i) m(i, j) = zero_column ? Rational(0) : stats_value(rng, den);
  }
  return m;
}

void expect_same_stats(const Model& m, const std::string& what) {
  INFO(what);
  const ModelStats fast = model_stats(m), plain = model_stats(m, /*plain=*/true);
  CHECK(fast.blocks == plain.blocks);
  CHECK(fast.parameters == plain.parameters);
  CHECK(fast.max_ff_width == plain.max_ff_width);
  CHECK(fast.max_heads == plain.max_heads);
  CHECK(fast.max_score_rank == plain.max_score_rank);
  CHECK(fast.max_value_rank == plain.max_value_rank);
  CHECK(fast.max_bits == plain.max_bits);
  CHECK(fast.squared_norm == plain.squared_norm);
}

}  // namespace

TEST_CASE("model_stats::the blocked, prefetched walks equal the plain ones (seeded; wide W, int64/int128 edges)") {
  const std::uint64_t seed = 20261129;
  MESSAGE("model_stats: seed " << seed);
  std::mt19937_64 rng(seed);
  // Widths around the walk's blocks of 32 columns (a partial last block, one column, none).
  const std::size_t widths[] = {0, 1, 2, 31, 32, 33, 63, 64, 65, 97, 130};
  int t = 0;
  for (std::size_t w : widths)
    for (std::size_t d : {std::size_t{1}, std::size_t{3}, std::size_t{16}, std::size_t{17}}) {
      Model m;
      m.d = d;
      Block b;
      FeedForward ff;
      ff.eta = 1;
      ff.U = stats_matrix(rng, w, d);
      ff.b.resize(w);
      for (auto& x : ff.b) x = stats_value(rng, Integer(static_cast<long>(1 + rng() % 4)));
      ff.W = stats_matrix(rng, d, w);
      if (w > 0 && t % 3 == 0) {
        // The model's largest number in the last column (the last, partial block must be read).
        ff.W(d - 1, w - 1) = Rational(Integer(1) << 400) / Rational(Integer(3));
      }
      b.ff = std::move(ff);
      m.blocks.push_back(std::move(b));
      expect_same_stats(m, "layer " + std::to_string(t) + ": d = " + std::to_string(d) + ", w = " + std::to_string(w));
      ++t;
    }
}

TEST_CASE("model_stats::the blocked walks on random models (attention, factored V, several layers)") {
  std::mt19937_64 rng(11);
  for (int t = 0; t < 200; ++t) {
    Model m = testing::random_model(rng, 1 + rng() % 4, 1 + rng() % 4);
    if (t % 2) testing::integerize(m, rng);
    expect_same_stats(m, "model " + std::to_string(t));
  }
}
