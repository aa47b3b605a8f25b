#include "interpcert/dataset.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/sha256.hpp"
#include "interpcert/text_util.hpp"

#include <algorithm>
#include <random>

#include <doctest/doctest.h>

using namespace interpcert;

namespace {
const char* kExample = R"({
  "format": "interpcert-dataset", "version": 1,
  "d": 2,
  "readout": "last",
  "sequences": [
    {"input":  [["0","1"], ["1/2","3"], ["2","-1"]],
     "output": [["5","5"]]},
    {"input":  [["0","1"], ["7","7"]],
     "output": [["1","0"], ["0","1"]], "positions": [1, 0]}
  ]
})";

Dataset parse(const std::string& text) { return dataset_from_json(JsonNode::root_of(json_parse(text, "ds.json"))); }

std::string error_path(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.json_path();
  }
  return "<no error>";
}
}  // namespace

TEST_CASE("dataset::canonical_text reproduces the test vector of proofs/formats-v1.md") {
  Dataset ds = parse(kExample);
  CHECK(dataset_canonical_text(ds) ==
        "interpcert-dataset 1\nd 2\nsequences 2\nseq 3 1\n0 1\n1/2 3\n2 -1\n5 5\npositions 2\n"
        "seq 2 2\n0 1\n7 7\n1 0\n0 1\npositions 1 0\n");
  CHECK(dataset_digest(ds) == "30461886a26c79f4c1b802e6fe92dcdf610fc69c73ae3d8dc33e86bb240b4bcf");
}

TEST_CASE("dataset::digest ignores formatting and number spelling") {
  std::string respelled = kExample;
  auto replace = [&](const std::string& a, const std::string& b) { respelled.replace(respelled.find(a), a.size(), b); };
  replace(R"(["1/2","3"])", R"([0.5, 3.0e0])");
  replace(R"("readout": "last",)", "");
  CHECK(dataset_digest(parse(respelled)) == dataset_digest(parse(kExample)));
  // Round trip through our own writer.
  CHECK(dataset_digest(parse(dataset_to_json_text(parse(kExample)))) == dataset_digest(parse(kExample)));
}

TEST_CASE("dataset::readout first and last resolve positions") {
  std::string first = kExample;
  first.replace(first.find("\"last\""), 6, "\"first\"");
  Dataset ds = parse(first);
  CHECK(ds.sequences[0].positions == std::vector<std::size_t>{0});
  CHECK(ds.sequences[1].positions == std::vector<std::size_t>{1, 0});  // explicit positions win
  CHECK(parse(kExample).sequences[0].positions == std::vector<std::size_t>{2});
}

TEST_CASE("dataset::from_json rejects bad input with the JSON path") {
  auto with = [&](const std::string& a, const std::string& b) {
    std::string t = kExample;
    t.replace(t.find(a), a.size(), b);
    return t;
  };
  CHECK(error_path(with(R"(["2","-1"])", R"(["2","NaN"])")) == "/sequences/0/input/2/1");
  CHECK(error_path(with(R"(["2","-1"])", R"(["2","-1","4"])")) == "/sequences/0/input/2");
  CHECK(error_path(with(R"(["2","-1"])", R"(["2","1/0"])")) == "/sequences/0/input/2/1");
  CHECK(error_path(with(R"(["2","-1"])", R"(["2",""])")) == "/sequences/0/input/2/1");
  CHECK(error_path(with(R"("positions": [1, 0])", R"("positions": [1, 1])")) == "/sequences/1/positions/1");
  CHECK(error_path(with(R"("positions": [1, 0])", R"("positions": [1, 2])")) == "/sequences/1/positions/1");
  CHECK(error_path(with(R"("positions": [1, 0])", R"("positions": [1])")) == "/sequences/1/positions");
  CHECK(error_path(with(R"("output": [["5","5"]])", R"("output": [["5","5"],["5","5"],["5","5"],["5","5"]])")) ==
        "/sequences/0/output");
  CHECK(error_path(with(R"("output": [["5","5"]])", R"("output": [])")) == "/sequences/0/output");
  CHECK(error_path(with(R"("d": 2)", R"("d": 0)")) == "/d");
  CHECK(error_path(with(R"("version": 1)", R"("version": 2)")) == "/version");
  CHECK(error_path(with(R"("readout": "last")", R"("readout": "middle")")) == "/readout");
  CHECK(error_path(with(R"("positions": [1, 0])", R"("postions": [1, 0])")) == "/sequences/1/postions");
  CHECK(error_path(std::string(kExample).substr(0, 120)) != "<no error>");
}

TEST_CASE("dataset::digest streams the canonical text: equal to hashing it whole, over many pieces") {
  // A dataset whose canonical text is several MiB, so the digest is fed in many pieces.
  std::uint64_t seed = 20261128;
  std::mt19937_64 rng(seed);
  CAPTURE(seed);
  Dataset ds;
  ds.d = 8;
  for (std::size_t j = 0; j < 400; ++j) {
    Sequence s;
    for (std::size_t i = 0; i < 100; ++i) {
      Vec z(ds.d);
      for (auto& x : z) x = Rational(static_cast<long>(rng() % 2000001) - 1000000, static_cast<long>(rng() % 7) + 1);
      s.input.push_back(std::move(z));
    }
    s.output.push_back(s.input[3]);
    s.positions.push_back(99);
    ds.sequences.push_back(std::move(s));
  }
  std::string text = dataset_canonical_text(ds);
  CHECK(text.size() > (2u << 20));
  CHECK(dataset_digest(ds) == sha256_hex(text));
  // Incremental SHA-256 over random splits equals the one-shot digest.
  for (int trial = 0; trial < 5; ++trial) {
    Sha256 h;
    for (std::size_t at = 0; at < text.size();) {
      std::size_t len = std::min<std::size_t>(text.size() - at, rng() % 100000);
      h.update(std::string_view(text).substr(at, len));
      at += len;
    }
    CHECK(h.hex() == sha256_hex(text));
  }
  // And the dataset read back from its JSON text has the same digest.
  CHECK(dataset_digest(parse(dataset_to_json_text(ds))) == sha256_hex(text));
}

// ---- Compact tokens (tokens.hpp): int64 storage against the rational fallback ------------------

namespace {

// A random number text and its exact value: small and edge int64 integers, integers just beyond
// int64, decimals (some integer-valued, "3.0", "2e3"), fractions, as JSON numbers or strings.
std::pair<std::string, Rational> random_number(std::mt19937_64& rng) {
  static const char* kEdges[] = {"9223372036854775807", "-9223372036854775808", "-9223372036854775807",
                                 "9223372036854775808", "-9223372036854775809", "18446744073709551616", "0", "-0"};
  switch (rng() % 8) {
    case 0: {
      const char* t = kEdges[rng() % 8];
      return {t, *rational_parse(t)};
    }
    case 1: {
      std::string t = std::to_string(static_cast<long>(rng() % 2001) - 1000) + ".0";
      return {t, *rational_parse(t)};
    }
    case 2: {
      std::string t = std::to_string(static_cast<long>(rng() % 2001) - 1000) + "." + std::to_string(rng() % 100);
      return {t, *rational_parse(t)};
    }
    case 3: {
      std::string t = std::to_string(rng() % 9 + 1) + "e" + std::to_string(rng() % 4);
      return {t, *rational_parse(t)};
    }
    case 4: {
      std::string t = "\"" + std::to_string(static_cast<long>(rng() % 201) - 100) + "/" + std::to_string(rng() % 7 + 1) + "\"";
      return {t, *rational_parse(t.substr(1, t.size() - 2))};
    }
    default: {
      long v = static_cast<long>(rng() % 2000001) - 1000000;
      std::string t = rng() % 5 == 0 ? "\"" + std::to_string(v) + "\"" : std::to_string(v);
      return {t, Rational(v)};
    }
  }
}

}  // namespace

TEST_CASE("dataset::compact tokens: int64 and rational storage agree (values, canonical text, digest, order, hash)") {
  const unsigned seed = 20261128;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  std::size_t compact = 0, fallback = 0;
  for (int round = 0; round < 300; ++round) {
    const std::size_t d = 1 + rng() % 4, N = 1 + rng() % 4;
    // Some sequences draw only plain integers (compact), the others anything (mostly fallback).
    std::string text = R"({"format": "interpcert-dataset", "version": 1, "d": )" + std::to_string(d) + R"(, "sequences": [)";
    std::vector<std::vector<Vec>> expected(N);
    for (std::size_t j = 0; j < N; ++j) {
      const bool ints_only = rng() % 2 == 0;
      const std::size_t n = 1 + rng() % 5;
      text += j ? ", {\"input\": [" : "{\"input\": [";
      for (std::size_t i = 0; i < n; ++i) {
        text += i ? ", [" : "[";
        Vec z;
        for (std::size_t c = 0; c < d; ++c) {
          auto [t, q] = random_number(rng);
          if (ints_only) {
            long v = static_cast<long>(rng() % 2000001) - 1000000;
            t = std::to_string(v);
            q = Rational(v);
          }
          text += (c ? ", " : "") + t;
          z.push_back(q);
        }
        text += "]";
        expected[j].push_back(z);
      }
      text += "], \"output\": [[" + std::string(d * 3 - 2, ' ') + "]]}";
      // the output: d zeros
      std::string zeros;
      for (std::size_t c = 0; c < d; ++c) zeros += c ? ", 0" : "0";
      text.replace(text.size() - (d * 3 - 2) - 3, d * 3 - 2, zeros);
    }
    text += "]}";
    Dataset ds = parse(text);
    Dataset plain = ds;
    for (auto& s : plain.sequences) s.input.store_as_rationals();
    for (std::size_t j = 0; j < N; ++j) {
      const Tokens& a = ds.sequences[j].input;
      const Tokens& b = plain.sequences[j].input;
      REQUIRE_FALSE(b.is_integer());
      (a.is_integer() ? compact : fallback)++;
      // Compact exactly when every coordinate is an integer in int64.
      bool all_int64 = true;
      for (const Vec& z : expected[j])
        for (const Rational& x : z)
          all_int64 = all_int64 && denominator(x) == 1 && numerator(x) >= Integer(INT64_MIN) && numerator(x) <= Integer(INT64_MAX);
      CHECK(a.is_integer() == all_int64);
      CHECK(a.to_vecs() == expected[j]);
      CHECK(b.to_vecs() == expected[j]);
      CHECK(a == b);
      for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a.token_hash(i) == b.token_hash(i));
        CHECK(a.token_equal(i, expected[j][i]));
        for (std::size_t k = 0; k < N; ++k) {
          const Tokens& o = ds.sequences[k].input;
          const Tokens& p = plain.sequences[k].input;
          for (std::size_t l = 0; l < o.size(); ++l) {
            const Vec& x = expected[j][i];
            const Vec& y = expected[k][l];
            const int want = lex_less(x, y) ? -1 : lex_less(y, x) ? 1 : 0;
            CHECK(a.token_compare(i, o, l) == want);
            CHECK(a.token_compare(i, p, l) == want);
            CHECK(b.token_compare(i, o, l) == want);
            CHECK(a.token_equal(i, p, l) == (x == y));
            CHECK(b.token_equal(i, o, l) == (x == y));
          }
        }
      }
    }
    CHECK(dataset_canonical_text(ds) == dataset_canonical_text(plain));
    CHECK(dataset_digest(ds) == dataset_digest(plain));
    // The canonical text from the expected values, number by number.
    Dataset ref = ds;
    for (std::size_t j = 0; j < N; ++j) ref.sequences[j].input = Tokens();
    std::string t = dataset_canonical_text(ds);
    std::string want = "interpcert-dataset 1\nd " + std::to_string(d) + "\nsequences " + std::to_string(N) + "\n";
    for (std::size_t j = 0; j < N; ++j) {
      want += "seq " + std::to_string(expected[j].size()) + " 1\n";
      for (const Vec& z : expected[j]) {
        for (std::size_t c = 0; c < d; ++c) want += (c ? " " : "") + rational_to_string(z[c]);
        want += "\n";
      }
      for (std::size_t c = 0; c < d; ++c) want += c ? " 0" : "0";
      want += "\npositions " + std::to_string(expected[j].size() - 1) + "\n";
    }
    CHECK(t == want);
  }
  MESSAGE("seed " << seed << ": " << compact << " compact and " << fallback << " fallback sequences");
  CHECK(compact > 100);
  CHECK(fallback > 100);
}

// A coordinate for the storage tests: the int32 and int64 boundaries (and one past them), random
// values of each width, and (unless ints_only) values beyond int64 and fractions.
Rational storage_test_value(std::mt19937_64& rng, int width) {
  const long i32_max = INT32_MAX, i32_min = INT32_MIN;
  switch (width == 0 ? rng() % 6 : width == 1 ? rng() % 10 : rng() % 13) {
    case 0: return Rational(i32_max);
    case 1: return Rational(i32_min);
    case 2: return Rational(static_cast<long>(static_cast<std::int32_t>(rng())));
    case 3: return Rational(static_cast<long>(rng() % 2000001) - 1000000);
    case 4: return Rational(static_cast<long>(rng() % 5) - 2);
    case 5: return Rational(i32_max - static_cast<long>(rng() % 3));
    case 6: return Rational(i32_max + 1);
    case 7: return Rational(i32_min - 1);
    case 8: return Rational(rng() % 2 ? INT64_MAX : INT64_MIN);
    case 9: return Rational(static_cast<long>(rng()));
    case 10: return Rational(Integer(Integer(INT64_MAX) + 1));
    case 11: return Rational(Integer(Integer(INT64_MIN) - 1));
    default: return Rational(static_cast<long>(rng() % 7) - 3, 2);
  }
}

// The storage the values need: the narrowest that holds every coordinate.
Tokens::Storage storage_needed(const std::vector<Vec>& rows) {
  Tokens::Storage need = Tokens::Storage::int32;
  for (const Vec& z : rows)
    for (const Rational& x : z) {
      if (denominator(x) != 1 || numerator(x) < Integer(INT64_MIN) || numerator(x) > Integer(INT64_MAX))
        return Tokens::Storage::rational;
      if (numerator(x) < Integer(INT32_MIN) || numerator(x) > Integer(INT32_MAX)) need = Tokens::Storage::int64;
    }
  return need;
}

TEST_CASE("dataset::compact tokens: int32, int64 and rational storage of the same values agree on every operation") {
  const unsigned seed = 20261129;
  std::mt19937_64 rng(seed);
  MESSAGE("tokens storage: seed " << seed);
  std::size_t seen[3] = {0, 0, 0};
  for (int round = 0; round < 300; ++round) {
    INFO("round " << round);
    // Sequences of each width (int32 values only; some beyond int32; some beyond int64 or
    // fractions), the wider values anywhere in the sequence (so it widens midway or at once).
    const std::size_t d = 1 + rng() % 4, N = 3;
    std::vector<std::vector<Vec>> rows(N);
    std::vector<Tokens> narrow(N), pushed(N), wide(N), rats(N);
    for (std::size_t j = 0; j < N; ++j) {
      const int width = static_cast<int>(rng() % 3);
      const std::size_t n = 1 + rng() % 6;
      for (std::size_t i = 0; i < n; ++i) {
        Vec z;
        for (std::size_t c = 0; c < d; ++c) z.push_back(storage_test_value(rng, rng() % 2 == 0 ? width : 0));
        if (i > 0 && rng() % 4 == 0) z = rows[j][rng() % i];  // repeats: equal tokens
        rows[j].push_back(z);
      }
      narrow[j] = rows[j];
      // The parser's path: int64 rows through push_back_ints (after a reserve), others as Vecs.
      for (const Vec& z : rows[j]) {
        std::vector<std::int64_t> ints;
        for (const Rational& x : z)
          if (storage_needed(std::vector<Vec>{Vec{x}}) != Tokens::Storage::rational) ints.push_back(static_cast<long>(numerator(x)));
        if (ints.size() == d) pushed[j].push_back_ints(ints.data(), d);
        else pushed[j].push_back(z);
        if (pushed[j].size() == 1) pushed[j].reserve(n);
      }
      const Tokens::Storage need = storage_needed(rows[j]);
      ++seen[static_cast<int>(need)];
      REQUIRE(narrow[j].storage() == need);  // a function of the values alone
      REQUIRE(pushed[j].storage() == need);
      CHECK(narrow[j].is_integer() == (need != Tokens::Storage::rational));
      wide[j] = narrow[j];
      wide[j].store_as(Tokens::Storage::int64);
      rats[j] = narrow[j];
      rats[j].store_as_rationals();
      CHECK(wide[j].storage() == std::max(need, Tokens::Storage::int64));
      CHECK(rats[j].storage() == Tokens::Storage::rational);
    }
    // Every operation, on every storage of every sequence, against the expected values.
    for (std::size_t j = 0; j < N; ++j) {
      const std::vector<const Tokens*> mine = {&narrow[j], &pushed[j], &wide[j], &rats[j]};
      for (const Tokens* a : mine) {
        REQUIRE(a->size() == rows[j].size());
        CHECK(a->dim() == d);
        CHECK(a->to_vecs() == rows[j]);
        for (const Tokens* b : mine) CHECK(*a == *b);
      }
      for (std::size_t i = 0; i < rows[j].size(); ++i) {
        std::string line;
        append_numbers_line(line, rows[j][i].data(), d);
        const std::size_t hash = narrow[j].token_hash(i);
        for (const Tokens* a : mine) {
          CHECK((*a)[i] == rows[j][i]);
          for (std::size_t c = 0; c < d; ++c) CHECK(a->coordinate(i, c) == rows[j][i][c]);
          CHECK(a->token_equal(i, rows[j][i]));
          CHECK(a->token_hash(i) == hash);  // equal tokens hash equally, whatever the storage
          std::string got;
          a->append_line(got, i);
          CHECK(got == line);
        }
        for (std::size_t k = 0; k < N; ++k)
          for (std::size_t l = 0; l < rows[k].size(); ++l) {
            const Vec &x = rows[j][i], &y = rows[k][l];
            const int want = lex_less(x, y) ? -1 : lex_less(y, x) ? 1 : 0;
            if (x.size() == y.size() && x == y) CHECK(narrow[j].token_hash(i) == narrow[k].token_hash(l));
            for (const Tokens* a : mine)
              for (const Tokens* b : {&narrow[k], &pushed[k], &wide[k], &rats[k]}) {
                CHECK(a->token_compare(i, *b, l) == want);
                CHECK(a->token_equal(i, *b, l) == (want == 0));
                CHECK(a->token_equal(i, y) == (want == 0));
              }
          }
      }
    }
    // integer_projections: the same sums from int32 and int64 storage (equal to dot), declined
    // for rationals; keys small (unchecked sums) or at the int64 extremes (checked).
    Vec key;
    for (std::size_t c = 0; c < d; ++c)
      key.push_back(round % 2 ? Rational(static_cast<long>(rng() % 2001) - 1000) : storage_test_value(rng, 1));
    for (std::size_t j = 0; j < N; ++j) {
      auto refs = [&](const Tokens& t) {
        std::vector<TokenRef> r;
        for (std::size_t i = 0; i < t.size(); ++i) r.push_back({&t, i});
        return r;
      };
      const auto a = integer_projections(key, refs(narrow[j]));
      const auto b = integer_projections(key, refs(wide[j]));
      CHECK_FALSE(integer_projections(key, refs(rats[j])).has_value());
      if (!narrow[j].is_integer()) {
        CHECK_FALSE(a.has_value());
        continue;
      }
      CHECK(a == b);
      if (a)
        for (std::size_t i = 0; i < rows[j].size(); ++i) CHECK(rational_from_int128((*a)[i]) == dot(key, rows[j][i]));
    }
  }
  MESSAGE("sequences needing int32 / int64 / rationals: " << seen[0] << " / " << seen[1] << " / " << seen[2]);
  CHECK(seen[0] > 100);
  CHECK(seen[1] > 100);
  CHECK(seen[2] > 100);
}

TEST_CASE("dataset::compact tokens: a sequence widens int32 -> int64 -> rational as its values need, keeping them") {
  const long big = static_cast<long>(INT32_MAX) + 1;
  Tokens t;
  t.push_back({Rational(1), Rational(INT32_MIN)});
  t.reserve(10);
  CHECK(t.storage() == Tokens::Storage::int32);
  const std::int64_t row[2] = {big, -3};
  t.push_back_ints(row, 2);
  CHECK(t.storage() == Tokens::Storage::int64);
  t.push_back({Rational(2), Rational(5)});
  CHECK(t.storage() == Tokens::Storage::int64);  // never narrows back
  t.push_back({Rational(1, 3), Rational(0)});
  CHECK(t.storage() == Tokens::Storage::rational);
  t.push_back_ints(row, 2);
  CHECK(t.to_vecs() == std::vector<Vec>{{Rational(1), Rational(INT32_MIN)}, {Rational(big), Rational(-3)},
                                        {Rational(2), Rational(5)}, {Rational(1, 3), Rational(0)},
                                        {Rational(big), Rational(-3)}});
  Tokens empty;
  CHECK(empty.storage() == Tokens::Storage::int32);
}

TEST_CASE("dataset::compact tokens: integer_projections on int64 rows equals dot; declines rationals") {
  const unsigned seed = 777;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int round = 0; round < 500; ++round) {
    const std::size_t d = 1 + rng() % 5;
    auto entry = [&]() -> long {
      switch (rng() % 4) {
        case 0: return INT64_MAX;
        case 1: return INT64_MIN;
        default: return static_cast<long>(rng());
      }
    };
    Tokens t;
    std::vector<Vec> rows;
    for (int i = 0; i < 4; ++i) {
      Vec z;
      for (std::size_t c = 0; c < d; ++c) z.push_back(Rational(entry()));
      rows.push_back(z);
      t.push_back(z);
    }
    REQUIRE(t.is_integer());
    Vec k;
    for (std::size_t c = 0; c < d; ++c) k.push_back(Rational(entry()));
    std::vector<TokenRef> refs;
    for (std::size_t i = 0; i < rows.size(); ++i) refs.push_back({&t, i});
    auto fast = integer_projections(k, refs);
    if (fast) {
      for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rational_from_int128((*fast)[i]) == dot(k, rows[i]));
    } else {  // declined: some partial sum really leaves the __int128 range
      bool beyond = false;
      for (const Vec& z : rows) {
        Integer s(0);
        for (std::size_t c = 0; c < d; ++c) {
          s += numerator(k[c]) * numerator(z[c]);
          beyond = beyond || s > (Integer(1) << 127) - 1 || s < -(Integer(1) << 127);
        }
      }
      CHECK(beyond);
    }
    Tokens r = t;
    r.store_as_rationals();
    std::vector<TokenRef> rrefs;
    for (std::size_t i = 0; i < rows.size(); ++i) rrefs.push_back({&r, i});
    CHECK_FALSE(integer_projections(k, rrefs).has_value());
  }
}

TEST_CASE("dataset::integer_projections with a small key (no overflow checks) equals dot at the int64 extremes") {
  // sum |k_i| <= 2^63 takes the unchecked loop; tokens at INT64_MIN/MAX give the largest sums.
  const unsigned seed = 20261132;
  std::mt19937_64 rng(seed);
  MESSAGE("integer_projections small keys: seed " << seed);
  for (int round = 0; round < 300; ++round) {
    const std::size_t d = 1 + rng() % 16;
    Vec k;
    const unsigned long cap = round % 3 == 0 ? (1UL << 62) / d : 1000;  // l1 up to 2^62 < 2^63
    for (std::size_t c = 0; c < d; ++c) k.push_back(Rational(static_cast<long>(rng() % (2 * cap + 1)) - static_cast<long>(cap)));
    Tokens t;
    std::vector<Vec> rows;
    for (int i = 0; i < 6; ++i) {
      Vec z;
      for (std::size_t c = 0; c < d; ++c) {
        const unsigned r = rng() % 3;
        z.push_back(Rational(r == 0 ? INT64_MIN : r == 1 ? INT64_MAX : static_cast<long>(rng())));
      }
      rows.push_back(z);
      t.push_back(z);
    }
    std::vector<TokenRef> refs;
    for (std::size_t i = 0; i < rows.size(); ++i) refs.push_back({&t, i});
    auto fast = integer_projections(k, refs);
    REQUIRE(fast.has_value());
    for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rational_from_int128((*fast)[i]) == dot(k, rows[i]));
  }
}

TEST_CASE("dataset::int128_all_distinct (radix path) equals sort + adjacent_find on seeded random values") {
  const unsigned seed = 20261129;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  const __int128 max128 = static_cast<__int128>((~static_cast<unsigned __int128>(0)) >> 1);
  int distinct = 0, repeated = 0;
  for (int round = 0; round < 120; ++round) {
    // Sizes on both sides of the radix threshold; ranges from tiny (repeats) to beyond 2^64.
    const std::size_t n = round % 3 == 0 ? rng() % 5000 : 4096 + rng() % 20000;
    const int width = static_cast<int>(rng() % 130);  // bits of the spread
    const __int128 base = static_cast<__int128>(rng() % 2 ? -1 : 1) * static_cast<__int128>(rng());
    std::vector<__int128> v(n);
    for (auto& x : v) {
      unsigned __int128 r = (static_cast<unsigned __int128>(rng()) << 64) | rng();
      if (width < 128) r &= (static_cast<unsigned __int128>(1) << width) - 1;
      x = width >= 127 ? static_cast<__int128>(r) : base + static_cast<__int128>(r >> 1);
    }
    if (n > 10 && round % 4 == 1) v[rng() % n] = v[rng() % n];  // a planted repeat (maybe of itself)
    if (n > 10 && round % 7 == 2) v[0] = -max128 - 1, v[1] = max128;  // the extremes: the sort path
    if (round % 5 == 3)  // a distinct arithmetic run, shuffled (passes over every digit)
      for (std::size_t i = 0; i < n; ++i) v[i] = base + static_cast<__int128>(i) * (1 + static_cast<__int128>(rng() % 3000));
    std::shuffle(v.begin(), v.end(), rng);
    std::vector<__int128> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    const bool want = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
    CHECK(int128_all_distinct(v) == want);
    (want ? distinct : repeated)++;
  }
  MESSAGE("seed " << seed << ": " << distinct << " distinct, " << repeated << " with repeats");
  CHECK(distinct > 20);
  CHECK(repeated > 20);
}

TEST_CASE("dataset::int128_all_distinct (bucketed early exit) equals sort + adjacent_find at bucket edges") {
  // The radix path scatters by the top 11 bits of the offset from the minimum, then checks bucket
  // by bucket and stops at the first repeat: repeats planted in the first bucket, the last, a
  // middle one, at a bucket's first or last value; distinct neighbours straddling a boundary;
  // values at the __int128 extremes; sizes around the 4096 threshold.
  const unsigned seed = 20261129;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  const __int128 max128 = static_cast<__int128>((~static_cast<unsigned __int128>(0)) >> 1);
  const __int128 min128 = -max128 - 1;
  int distinct = 0, repeated = 0;
  for (int round = 0; round < 160; ++round) {
    const std::size_t sizes[] = {4095, 4096, 4097, 9000, 30000};
    const std::size_t n = sizes[round % 5];
    // Bits of the spread, 15..63: 2^width >= n (30000 at most), so n distinct offsets exist.
    const int width = 15 + static_cast<int>(rng() % 49);
    const __int128 base = round % 8 == 6 ? min128 : round % 8 == 7 ? max128 - ((static_cast<__int128>(1) << width) - 1)
                                              : static_cast<__int128>(rng() % 2 ? -1 : 1) * static_cast<__int128>(rng());
    // Distinct offsets in [0, 2^width): i * odd is a bijection modulo 2^width; the ends 0 and
    // 2^width - 1 are put in so that the spread (and the buckets' bounds) are exactly known.
    const std::uint64_t mask = width == 64 ? ~0ULL : (1ULL << width) - 1;
    const std::uint64_t odd = rng() | 1;
    std::vector<std::uint64_t> off(n);
    for (std::size_t i = 0; i < n; ++i) off[i] = (i * odd) & mask;
    off[0] = 0;
    off[1] = mask;
    std::sort(off.begin(), off.end());
    off.erase(std::unique(off.begin(), off.end()), off.end());
    // off[1] = mask may repeat another i * odd: refill with the least missing offsets.
    for (std::uint64_t c = 1; off.size() < n; ++c)
      if (!std::binary_search(off.begin(), off.end(), c)) off.insert(std::upper_bound(off.begin(), off.end(), c), c);
    REQUIRE(off.size() == n);
    REQUIRE(off.back() == mask);
    const unsigned high_shift = static_cast<unsigned>(width - 11);
    const std::uint64_t bucket = std::uint64_t{1} << high_shift;  // values per bucket
    const std::uint64_t mid = (mask >> 1) & ~(bucket - 1);         // a middle bucket's first value
    std::vector<__int128> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = base + static_cast<__int128>(off[i]);
    std::size_t at = 2 + rng() % (n - 2);  // a slot to overwrite (not the two ends)
    switch (round % 8) {
      case 0: break;                                                   // distinct
      case 1: v[at] = base; break;                                     // repeat of the minimum: first bucket
      case 2: v[at] = base + static_cast<__int128>(mask); break;       // repeat of the maximum: last bucket
      case 3: v[at] = v[2 + rng() % (n - 2)]; break;                   // anywhere (maybe itself: distinct)
      case 4: v[at] = base + static_cast<__int128>(mid), v[at == 2 ? 3 : 2] = base + static_cast<__int128>(mid); break;  // a bucket's first value, twice
      case 5: v[at] = base + static_cast<__int128>(mid - 1), v[at == 2 ? 3 : 2] = base + static_cast<__int128>(mid); break;  // neighbours across a boundary: distinct (unless overwritten)
      case 6: v[at] = base + static_cast<__int128>(mid - 1), v[at == 2 ? 3 : 2] = base + static_cast<__int128>(mid - 1); break;  // a bucket's last value, twice
      case 7: v[at] = base + static_cast<__int128>(mask); break;       // max128 twice
    }
    std::shuffle(v.begin(), v.end(), rng);
    std::vector<__int128> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    const bool want = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
    INFO("round " << round << " n " << n << " width " << width);
    CHECK(int128_all_distinct(v) == want);
    (want ? distinct : repeated)++;
  }
  MESSAGE("seed " << seed << ": " << distinct << " distinct, " << repeated << " with repeats");
  CHECK(distinct > 30);
  CHECK(repeated > 80);
}

// ---- The digest command's streaming digest (dataset_digest_of_json) against the plain path --------

namespace {
// The digest, or the error message, of a dataset text by either path.
std::string digest_or_error(const std::string& text, bool streaming) {
  try {
    JsonDocument doc = json_parse(text, "ds.json");
    JsonNode root = JsonNode::root_of(doc);
    return streaming ? dataset_digest_of_json(root) : dataset_digest(dataset_from_json(root));
  } catch (const InputError& e) {
    return std::string("error: ") + e.what();
  }
}

// A random dataset text: d, N, n_j, m_j, readout and positions vary; numbers of every form.
std::string random_dataset_text(std::mt19937_64& rng) {
  const std::size_t d = 1 + rng() % 4, N = 1 + rng() % 5;
  std::string t = R"({"format": "interpcert-dataset", "version": 1, "d": )" + std::to_string(d);
  if (rng() % 3 == 0) t += rng() % 2 ? R"(, "readout": "first")" : R"(, "readout": "last")";
  t += R"(, "sequences": [)";
  auto token = [&] {
    std::string z = "[";
    for (std::size_t c = 0; c < d; ++c) z += (c ? ", " : "") + random_number(rng).first;
    return z + "]";
  };
  for (std::size_t j = 0; j < N; ++j) {
    const std::size_t n = 1 + rng() % 6, m = 1 + rng() % n;
    t += j ? ", {\"input\": [" : "{\"input\": [";
    for (std::size_t i = 0; i < n; ++i) t += (i ? ", " : "") + token();
    t += "], \"output\": [";
    for (std::size_t k = 0; k < m; ++k) t += (k ? ", " : "") + token();
    t += "]";
    if (rng() % 2) {
      std::vector<std::size_t> p(n);
      for (std::size_t i = 0; i < n; ++i) p[i] = i;
      std::shuffle(p.begin(), p.end(), rng);
      t += ", \"positions\": [";
      for (std::size_t k = 0; k < m; ++k) t += (k ? ", " : "") + std::to_string(p[k]);
      t += "]";
    }
    t += "}";
  }
  return t + "]}";
}
}  // namespace

TEST_CASE("dataset::digest_of_json equals the digest of the read dataset, and fails with the same error") {
  const unsigned seed = 20261129;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  // Edits that keep the text JSON but break the dataset (or not), and ones that break the JSON.
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"\"d\": ", "\"d\": 1"},        {"], \"output\"", ", [1]], \"output\""}, {"\"positions\": [", "\"positions\": [0, "},
      {"\"version\": 1", "\"version\": 2"}, {"\"input\"", "\"inputs\""},       {"\"output\": [", "\"output\": [[]"},
      {"[", "[\"1/0\", "},            {"[", "[\"x\", "},                      {", ", ", null, "},
      {"\"first\"", "\"middle\""},    {"}", ", \"name\": \"s\"}"},             {"]", "]]"},
      {"\"output\"", "\"positions\": [0], \"output\""}, {"-", "--"},           {"[", "[1e999999, "}};
  std::size_t valid = 0, invalid = 0;
  for (int round = 0; round < 600; ++round) {
    std::string text = random_dataset_text(rng);
    const int edits_here = static_cast<int>(rng() % 3);
    for (int e = 0; e < edits_here; ++e) {
      const auto& [from, to] = edits[rng() % edits.size()];
      // The edit at a random one of its occurrences.
      std::vector<std::size_t> at;
      for (std::size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + 1)) at.push_back(p);
      if (!at.empty()) text.replace(at[rng() % at.size()], from.size(), to);
    }
    if (rng() % 20 == 0) text.resize(rng() % text.size());  // truncated
    INFO(text);
    const std::string plain = digest_or_error(text, false);
    CHECK(digest_or_error(text, true) == plain);
    (plain.rfind("error: ", 0) == 0 ? invalid : valid)++;
  }
  MESSAGE("seed " << seed << ": " << valid << " valid and " << invalid << " invalid datasets");
  CHECK(valid > 150);
  CHECK(invalid > 150);
  // A canonical text of several MiB: the streaming digest hashes it in many pieces.
  Dataset big;
  big.d = 8;
  for (std::size_t j = 0; j < 500; ++j) {
    Sequence s;
    for (std::size_t i = 0; i < 100; ++i) {
      Vec z(big.d);
      for (auto& x : z) x = Rational(static_cast<long>(rng() % 2000001) - 1000000, static_cast<long>(rng() % 3) + 1);
      s.input.push_back(std::move(z));
    }
    s.output.push_back(s.input[7]);
    s.positions.push_back(7);
    big.sequences.push_back(std::move(s));
  }
  REQUIRE(dataset_canonical_text(big).size() > (2u << 20));
  JsonDocument doc = json_parse(dataset_to_json_text(big), "big.json");
  CHECK(dataset_digest_of_json(JsonNode::root_of(doc)) == sha256_hex(dataset_canonical_text(big)));
}

// ---- The token rows' fast path (JsonNode::int64_row_at) against the plain reader ---------------

namespace {

// The input tokens as dataset_from_json read them before the row fast path (dataset.cpp at
// 4b405df: read_input_token on in.at(i), verbatim): the plain path, with its errors.
void plain_read_input_token(const JsonNode& node, std::size_t d, Tokens& out, std::vector<std::int64_t>& buf) {
  std::size_t len = node.array_size();
  if (len != d)
    node.fail("token has " + std::to_string(len) + " numbers, expected d = " + std::to_string(d));
  buf.resize(d);
  for (std::size_t i = 0; i < d; ++i)
    if (!node.int64_at(i, buf[i])) {
      Vec v;
      v.reserve(d);
      for (std::size_t k = 0; k < i; ++k) v.emplace_back(static_cast<long long>(buf[k]));
      for (std::size_t k = i; k < d; ++k) v.push_back(node.rational_at(k));
      out.push_back(v);
      return;
    }
  out.push_back_ints(buf.data(), d);
}

// The output tokens as read before the row fast path (read_token at 4b405df, verbatim).
Vec plain_read_token(const JsonNode& node, std::size_t d) {
  std::size_t len = node.array_size();
  if (len != d)
    node.fail("token has " + std::to_string(len) + " numbers, expected d = " + std::to_string(d));
  Vec v;  // built in place: no default-constructed numbers to overwrite
  v.reserve(d);
  for (std::size_t i = 0; i < d; ++i) v.push_back(node.rational_at(i));
  return v;
}

// Every sequence's input and output by the plain path (the test's datasets have m_j <= n_j and
// no positions); the first error's text ("" if none).
std::string plain_inputs(const std::string& text, std::vector<Tokens>& out, std::vector<std::vector<Vec>>& outputs) {
  try {
    JsonDocument doc = json_parse(text, "ds.json");
    JsonNode root = JsonNode::root_of(doc);
    const auto d = static_cast<std::size_t>(root.at("d").integer(1, 1 << 20));
    JsonNode seqs = root.at("sequences");
    std::vector<std::int64_t> buf;
    for (std::size_t j = 0; j < seqs.array_size(); ++j) {
      JsonNode in = seqs.at(j).at("input");
      out.emplace_back();
      for (std::size_t i = 0; i < in.nonempty_array_size(); ++i) plain_read_input_token(in.at(i), d, out.back(), buf);
      JsonNode tg = seqs.at(j).at("output");
      outputs.emplace_back();
      for (std::size_t k = 0; k < tg.nonempty_array_size(); ++k) outputs.back().push_back(plain_read_token(tg.at(k), d));
    }
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// A coordinate's JSON text: integer literals of every spelling (leading zeros, "-0", int64's
// ends and one beyond), decimals, exponents, fractions, escapes, blanks in strings, and junk.
std::string random_coordinate(std::mt19937_64& rng) {
  static const std::vector<std::string> odd = {
      "\"007\"", "\"-007\"", "\"-0\"", "-0", "\"000000000000000000000000000000001\"", "\"-00009223372036854775808\"",
      "\"9223372036854775808\"", "-9223372036854775809", "9223372036854775808", "\"18446744073709551616\"",
      "\"99999999999999999999\"", "\"1e2\"", "1E2", "1e-2", "2.0", "\"2.0\"", "\"4/2\"", "\"1/0\"", "\"\"", "\"-\"",
      "\"+5\"", "\" 5\"", "\"5 \"", "\"5\\t\"", "\"\\u0035\"", "\"1\\u0032\"", "\"x\"", "\"--5\"", "\"1e999999\"",
      "null", "true", "[1]", "{}", "{\"5\": 5}", "[]"};
  switch (rng() % 6) {
    case 0: return odd[rng() % odd.size()];
    case 1: return random_number(rng).first;
    case 2: return std::to_string(static_cast<std::int64_t>(rng()));
    default: {
      const std::string t = std::to_string(static_cast<long>(rng() % 2000001) - 1000000);
      return rng() % 2 ? t : "\"" + t + "\"";
    }
  }
}
}  // namespace

TEST_CASE("dataset::token rows read in one scan give the plain reader's tokens (values, representation), outputs and errors") {
  const unsigned seed = 20261130;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  static const std::vector<std::string> blanks = {"", " ", "  ", "\n ", "\t", "\r\n"};
  auto blank = [&] { return blanks[rng() % blanks.size()]; };
  std::size_t ok = 0, failed = 0, compact = 0, fallback = 0;
  for (int round = 0; round < 800; ++round) {
    const std::size_t d = 1 + rng() % 4, N = 1 + rng() % 3;
    const int oddity = static_cast<int>(rng() % 4);  // 0: integers only; else sometimes anything
    std::string text = R"({"format": "interpcert-dataset", "version": 1, "d": )" + std::to_string(d) + R"(, "sequences": [)";
    for (std::size_t j = 0; j < N; ++j) {
      const std::size_t n = 1 + rng() % 5, m = 1 + rng() % n;
      text += j ? ", {\"input\": [" : "{\"input\": [";
      for (std::size_t i = 0; i < n + m; ++i) {  // n input tokens, then m output tokens
        if (i == n) text += "], \"output\": [";
        text += (i && i != n ? "," + blank() : "") + blank();
        if (oddity && rng() % 40 == 0) {  // not a token
          text += random_coordinate(rng);
          continue;
        }
        const std::size_t r = rng() % 80;
        const std::size_t len = oddity && r == 0 ? d + 1 : oddity && r == 1 ? d - 1 : d;  // wrong lengths
        text += "[" + blank();
        for (std::size_t c = 0; c < len; ++c) {
          text += c ? blank() + "," + blank() : "";
          // oddity 3: valid numbers of every kind (mostly the rational storage), else anything
          text += oddity == 3 && rng() % 3 == 0 ? random_number(rng).first
                  : oddity && rng() % 10 == 0   ? random_coordinate(rng)
                                                : std::to_string(static_cast<long>(rng() % 2000001) - 1000000);
        }
        text += blank() + "]";
      }
      text += "]}";
    }
    text += "]}";
    INFO(text);
    std::vector<Tokens> plain;
    std::vector<std::vector<Vec>> plain_outputs;
    const std::string plain_error = plain_inputs(text, plain, plain_outputs);
    std::string error;
    Dataset ds;
    try {
      ds = parse(text);
    } catch (const InputError& e) {
      error = e.what();
    }
    CHECK(error == plain_error);
    if (!error.empty() || !plain_error.empty()) {
      ++failed;
      continue;
    }
    ++ok;
    REQUIRE(ds.sequences.size() == plain.size());
    for (std::size_t j = 0; j < plain.size(); ++j) {
      CHECK(ds.sequences[j].input == plain[j]);
      CHECK(ds.sequences[j].input.storage() == plain[j].storage());  // the same representation
      CHECK(ds.sequences[j].output == plain_outputs[j]);
      (plain[j].is_integer() ? compact : fallback)++;
    }
  }
  MESSAGE("seed " << seed << ": " << ok << " datasets read (" << compact << " int64 and " << fallback
                  << " rational sequences), " << failed << " errors");
  CHECK(ok > 200);
  CHECK(failed > 100);
  CHECK(compact > 200);
  CHECK(fallback > 50);
}
