#include "interpcert/errors.hpp"
#include "interpcert/json_reader.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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

TEST_CASE("json_reader::decimal exponents have a per-number limit and a per-file budget") {
  auto error_of = [](const std::string& text) -> std::pair<std::string, std::string> {
    try {
      JsonDocument doc = json_parse(text, "f.json");
      JsonNode a = JsonNode::root_of(doc).at("a");
      for (std::size_t i = 0; i < a.array_size(); ++i) a.at(i).rational();
    } catch (const InputError& e) {
      return {e.json_path(), e.what()};
    }
    return {"<no error>", ""};
  };
  auto array_of = [](const std::string& item, int count) {
    std::string t = R"({"a": [)";
    for (int i = 0; i < count; ++i) t += (i ? ", \"" : "\"") + item + "\"";
    return t + "]}";
  };
  // One number: |e| <= 100000.
  CHECK(error_of(array_of("1e100000", 1)).first == "<no error>");
  auto [p1, m1] = error_of(array_of("1e100001", 1));
  CHECK(p1 == "/a/0");
  CHECK(m1.find("exponent") != std::string::npos);
  CHECK(error_of(array_of("1e-0000100000", 1)).first == "<no error>");  // leading zeros do not count
  // One file: 10^6 + 16 x size. Thirty "1e99999" (about 330 bytes): the eleventh is over.
  auto [p2, m2] = error_of(array_of("1e99999", 30));
  CHECK(p2 == "/a/10");
  CHECK(m2.find("budget") != std::string::npos);
  // Ordinary decimals and long literal integers never come near it.
  CHECK(error_of(array_of("1.5e-7", 20000)).first == "<no error>");
  CHECK(error_of(array_of(std::string(200, '9'), 1000)).first == "<no error>");
  // The budget is the document's: every node of it spends from the same one.
  JsonDocument doc = json_parse(array_of("1e99999", 30), "f.json");
  JsonNode a = JsonNode::root_of(doc).at("a");
  for (int i = 0; i < 10; ++i) a.at(static_cast<std::size_t>(i)).rational();
  CHECK_THROWS_AS(JsonNode::root_of(doc).at("a").at(29).rational(), InputError);
}

TEST_CASE("json_reader::load says why a file cannot be read") {
  auto message_of = [](const std::string& file) {
    try {
      json_load(file);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  CHECK(message_of("/").find("is a directory") != std::string::npos);
  CHECK(message_of("/nonexistent/x.json").find("No such file or directory") != std::string::npos);
  CHECK(message_of("/nonexistent/x.json").find("/nonexistent/x.json") == 0);
  CHECK(message_of("/dev/null").find("not a regular file") != std::string::npos);
  std::string empty = (std::filesystem::temp_directory_path() / ("interpcert-empty-" + std::to_string(getpid()) + ".json")).string();
  std::ofstream(empty).close();
  CHECK(message_of(empty).find("empty file") != std::string::npos);
  std::filesystem::remove(empty);
}

TEST_CASE("json_reader::integer says \"number\" for a number with a fraction, never \"string\"") {
  JsonDocument doc = json_parse(R"({"d": 2.0, "e": 1e3, "big": 123456789012345678901234, "s": "2"})", "f.json");
  JsonNode root = JsonNode::root_of(doc);
  auto message = [&](const char* key) {
    try {
      root.at(key).integer(1, 100);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  CHECK(message("d") == "f.json: at /d: expected an integer (a JSON number without fraction or exponent, such as 2), "
                        "found the number 2.0");
  CHECK(message("e").find("found the number 1e3") != std::string::npos);
  CHECK(message("big").find("integer 123456789012345678901234 out of range [1, 100]") != std::string::npos);
  CHECK(message("s") == "f.json: at /s: expected an integer, found a string");
  // The same values still read as exact rationals, and are not strings.
  CHECK(root.at("d").rational() == 2);
  CHECK(root.at("e").rational() == 1000);
  CHECK_THROWS_WITH_AS(root.at("d").string(), "f.json: at /d: expected a string, found a number", InputError);
}
