#include "interpcert/errors.hpp"
#include "interpcert/json_reader.hpp"

#include <doctest/doctest.h>

using namespace interpcert;

namespace {
std::string path_of_error(const std::string& text) {
  try {
    json_parse(text, "f.json");
  } catch (const InputError& e) {
    return e.json_path();
  }
  return "<no error>";
}
}  // namespace

TEST_CASE("json_reader::parse keeps the decimal text of JSON numbers") {
  JsonDocument doc = json_parse(R"({"a": 0.1, "b": "1e400", "c": 12345678901234567890123, "d": 7, "e": 1e-400})", "f.json");
  JsonNode root = JsonNode::root_of(doc);
  CHECK(root.at("a").rational() == Rational(1, 10));
  CHECK(root.at("b").rational() == *rational_parse("1e400"));
  CHECK(rational_to_string(root.at("c").rational()) == "12345678901234567890123");
  CHECK(root.at("d").integer(0, 10) == 7);
  CHECK(root.at("e").rational() == *rational_parse("1e-400"));  // underflows a double, not us
}

TEST_CASE("json_reader::parse explains number literals beyond the double range") {
  try {
    json_parse(R"({"s": [1e400]})", "f.json");
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(e.json_path() == "/s/0");
    CHECK(std::string(e.what()).find("as a string") != std::string::npos);
  }
}

TEST_CASE("json_reader::parse names the path of a syntax error") {
  CHECK(path_of_error(R"({"s": [[1, 2], [3, NaN]]})") == "/s/1/1");
  CHECK(path_of_error(R"({"s": [[1, 2], [3, Infinity]]})") == "/s/1/1");
  CHECK(path_of_error(R"({"s": [1, 2)") == "/s/2");
  CHECK(path_of_error(R"({"a": 1, "a": 2})") == "/a");
  CHECK(path_of_error(R"({"x/y": {"k": tru}})") == "/x~1y/k");
}

TEST_CASE("json_reader::node errors carry file and path") {
  JsonDocument doc = json_parse(R"({"s": [["1", "NaN"]], "t": true})", "data.json");
  JsonNode root = JsonNode::root_of(doc);
  try {
    root.at("s").at(0).at(1).rational();
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(e.file() == "data.json");
    CHECK(e.json_path() == "/s/0/1");
    CHECK(std::string(e.what()).find("NaN") != std::string::npos);
  }
  CHECK_THROWS_AS(root.at("t").rational(), InputError);
  CHECK_THROWS_AS(root.at("missing"), InputError);
  CHECK_THROWS_AS(root.only_keys({"s"}), InputError);
}
