#include "interpcert/dataset.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/sha256.hpp"

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
