#include "interpcert/errors.hpp"
#include "interpcert/json_reader.hpp"

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <functional>
#include <random>
#include <string>
#include <vector>

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

// The text is read into a buffer of the file's size (mapped, huge pages advised, from 2 MiB), or
// grown chunk by chunk from a pipe: either way bytes() is exactly the file.
TEST_CASE("json_reader::load reads small, large and piped files byte for byte") {
  std::mt19937_64 rng(20261129);
  auto dir = std::filesystem::temp_directory_path();
  for (std::size_t size : {std::size_t{10}, std::size_t{(1u << 21) - 7}, std::size_t{(1u << 21) + 5}, std::size_t{5u << 20}}) {
    std::string text = "[";
    while (text.size() + 12 < size) text += std::to_string(rng() % 1000000) + ", ";
    text += "0]";
    std::string file = (dir / ("interpcert-load-" + std::to_string(getpid()) + ".json")).string();
    std::ofstream(file, std::ios::binary) << text;
    JsonDocument doc = json_load(file);
    CHECK(doc.bytes() == text);
    CHECK(JsonNode::root_of(doc).array_size() == static_cast<std::size_t>(std::count(text.begin(), text.end(), ',') + 1));
    std::filesystem::remove(file);
    // A pipe: its size is unknown, so the buffer grows (doubling) as the bytes arrive.
    std::string fifo = (dir / ("interpcert-fifo-" + std::to_string(getpid()))).string();
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    pid_t child = fork();
    if (child == 0) {
      std::ofstream(fifo, std::ios::binary) << text;
      _exit(0);
    }
    JsonDocument piped = json_load(fifo);
    int status = 0;
    waitpid(child, &status, 0);
    std::filesystem::remove(fifo);
    CHECK(piped.bytes() == text);
  }
}

// int64_at is the dataset reader's fast path: whenever it answers, its value is rational_at's
// (the plain path), and it answers for every integer literal or digit string in int64.
TEST_CASE("json_reader::int64_at agrees with rational_at on seeded random elements and edge cases") {
  const unsigned seed = 20261129;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const std::vector<std::string> edge = {
      "0", "-0", "007", "-007", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
      "-9223372036854775809", "18446744073709551616", "99999999999999999999999", "1e2", "1E2", "-1e-2",
      "1.0", "-0.0", "0.5", "4/2", "-4/2", "1/0", "", "-", "+5", " 5", "5 ", "--5", "1-", "0x10", "12\\u0033",
      "\\u0031", "1.", ".5", "1e", "1e400"};
  auto random_text = [&](bool& quoted) {
    quoted = rng() % 2 == 0;
    std::string t;
    switch (rng() % 4) {
      case 0: t = edge[rng() % edge.size()]; break;
      case 1: t = std::to_string(static_cast<std::int64_t>(rng())); break;  // anywhere in int64
      case 2: t = std::to_string(static_cast<long>(rng() % 2000001) - 1000000); break;
      default: {  // digits, signs and zeros, some beyond 64 bits
        t = rng() % 3 == 0 ? "-" : "";
        for (std::size_t k = 0, len = 1 + rng() % 22; k < len; ++k) t += static_cast<char>('0' + rng() % 10);
      }
    }
    return t;
  };
  std::size_t fast = 0, declined = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<std::string> texts;
    std::vector<bool> quotes;
    std::string doc = "[";
    for (std::size_t k = 0, len = 1 + rng() % 12; k < len; ++k) {
      bool quoted;
      std::string t = random_text(quoted);
      std::string lit = quoted ? "\"" + t + "\"" : t;
      // An unquoted literal that is not valid JSON would make the whole document invalid.
      if (!quoted && t.empty()) lit = "\"\"", quoted = true;
      if (!quoted) {
        try {
          json_parse("[" + lit + "]", "probe.json");
        } catch (const InputError&) {
          lit = "\"" + t + "\"", quoted = true;
        }
      }
      doc += (k ? ", " : "") + lit;
      if (!quoted) {  // " 5" unquoted is the number 5: blanks around a literal are JSON's, not its text
        t.erase(0, t.find_first_not_of(' '));
        t.erase(t.find_last_not_of(' ') + 1);
      }
      texts.push_back(t);
      quotes.push_back(quoted);
    }
    doc += "]";
    JsonDocument parsed = json_parse(doc, "f.json");
    JsonNode a = JsonNode::root_of(parsed);
    JsonNode b = JsonNode::root_of(parsed);  // a separate cursor for the plain path
    for (std::size_t i = 0; i < texts.size(); ++i) {
      INFO(doc << " element " << i);
      std::int64_t v = 0;
      const bool ok = a.int64_at(i, v);
      bool plain_ok = true;
      Rational q;
      try {
        q = b.rational_at(i);
      } catch (const InputError&) {
        plain_ok = false;
      }
      // Expected to answer: [-]digits (no escape) whose value is in int64.
      const std::string& t = texts[i];
      const bool digits = !t.empty() && t != "-" && t.find_first_not_of("0123456789", t[0] == '-' ? 1 : 0) == std::string::npos;
      const bool want = digits && plain_ok && denominator(q) == 1 && numerator(q) >= Integer(INT64_MIN) &&
                        numerator(q) <= Integer(INT64_MAX);
      CHECK(ok == want);
      if (ok) {
        REQUIRE(plain_ok);
        CHECK(q == Rational(static_cast<long long>(v)));
        ++fast;
      } else {
        ++declined;
      }
    }
  }
  MESSAGE("seed " << seed << ": " << fast << " answered by int64_at, " << declined << " declined");
  CHECK(fast > 500);
  CHECK(declined > 500);
}

namespace {
// A random element of a token row for int64_row_at's test: integer literals (edges, leading
// zeros, "-0", int64's ends and one beyond), decimals, exponents, fractions, escapes, blanks inside
// strings, other kinds of values and nested junk; as JSON text.
std::string random_row_element(std::mt19937_64& rng) {
  static const std::vector<std::string> numbers = {
      "0", "-0", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
      "922337203685477580", "9223372036854775799", "18446744073709551615", "18446744073709551616",
      "99999999999999999999", "-99999999999999999999", "1e2", "1E2", "-1e-2", "1.0", "-0.0", "0.5", "1e300", "12"};
  static const std::vector<std::string> strings = {
      "\"007\"", "\"-007\"", "\"-0\"", "\"00000000000000000000000000042\"", "\"-00009223372036854775808\"",
      "\"9223372036854775807\"", "\"-9223372036854775808\"", "\"9223372036854775808\"", "\"-9223372036854775809\"",
      "\"4/2\"", "\"1/3\"", "\"1.5\"", "\"2e3\"", "\"\"", "\"-\"", "\"+5\"", "\" 5\"", "\"5 \"", "\"5\\n\"",
      "\"--5\"", "\"1-\"", "\"0x10\"", "\"12\\u0033\"", "\"\\u0031\"", "\"\\\"1\"", "\"abc\"", "\"1.\"", "\".5\""};
  static const std::vector<std::string> junk = {"true", "false", "null", "[]", "[1]", "[[1, 2]]", "{}", "{\"1\": 2}",
                                                "{\"a\": [1]}", "[\"1\"]"};
  switch (rng() % 8) {
    case 0: return numbers[rng() % numbers.size()];
    case 1: return strings[rng() % strings.size()];
    case 2: return junk[rng() % junk.size()];
    case 3: {
      const std::string t = std::to_string(static_cast<std::int64_t>(rng()));  // anywhere in int64
      return rng() % 2 ? t : "\"" + t + "\"";
    }
    case 4: {  // digits with leading zeros and signs, some beyond 64 bits: strings
      std::string t = rng() % 3 == 0 ? "-" : "";
      for (std::size_t k = 0, len = 1 + rng() % 22; k < len; ++k) t += static_cast<char>('0' + rng() % 10);
      return "\"" + t + "\"";
    }
    default: {
      const std::string t = std::to_string(static_cast<long>(rng() % 2000001) - 1000000);
      return rng() % 2 ? t : "\"" + t + "\"";
    }
  }
}

std::string random_blank(std::mt19937_64& rng) {
  static const std::vector<std::string> blanks = {"", "", " ", "  ", "\n", "\t", "\r\n ", " \n\t"};
  return blanks[rng() % blanks.size()];
}
}  // namespace

// int64_row_at is the dataset reader's fast path for a whole token row: whenever it answers, the
// row is an array of d elements that int64_at accepts one by one (the plain path), with the same
// values; and it answers for every such row.
TEST_CASE("json_reader::int64_row_at agrees with at(i) and int64_at element by element on seeded random rows") {
  const unsigned seed = 20261130;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::size_t fast = 0, declined = 0;
  for (int round = 0; round < 600; ++round) {
    const std::size_t d = 1 + rng() % 4;
    const bool clean = rng() % 2 == 0;  // rows mostly of integers (most answered) or anything
    std::string doc = "[" + random_blank(rng);
    const std::size_t rows = 1 + rng() % 8;
    for (std::size_t i = 0; i < rows; ++i) {
      if (i) doc += random_blank(rng) + "," + random_blank(rng);
      if (rng() % 10 == 0) {  // not a row: a scalar or an object
        doc += random_row_element(rng);
        continue;
      }
      // Mostly d elements; sometimes one fewer or more, or none.
      const std::size_t r = rng() % 6;
      const std::size_t len = r == 0 ? d + 1 : r == 1 ? d - 1 : r == 2 && rng() % 4 == 0 ? 0 : d;
      doc += "[" + random_blank(rng);
      for (std::size_t k = 0; k < len; ++k) {
        if (k) doc += random_blank(rng) + "," + random_blank(rng);
        doc += clean && rng() % 8 ? std::to_string(static_cast<long>(rng() % 2000001) - 1000000) : random_row_element(rng);
      }
      doc += random_blank(rng) + "]";
    }
    doc += random_blank(rng) + "]";
    INFO(doc << " d = " << d);
    JsonDocument parsed = json_parse(doc, "f.json");
    JsonNode a = JsonNode::root_of(parsed);
    JsonNode b = JsonNode::root_of(parsed);  // a separate cursor for the plain path
    JsonNode backwards = JsonNode::root_of(parsed);  // and one that steps back (no cached position)
    for (std::size_t i = 0; i < rows; ++i) {
      INFO("row " << i);
      std::vector<std::int64_t> got(d + 1, 12345), back(d + 1, 12345), want(d, 0);
      const bool ok = a.int64_row_at(i, d, got.data());
      const bool ok_back = backwards.int64_row_at(rows - 1 - i, d, back.data());
      JsonNode row = b.at(i);
      bool plain_ok = row.is_array() && row.array_size() == d;
      for (std::size_t k = 0; plain_ok && k < d; ++k) plain_ok = row.int64_at(k, want[k]);
      CHECK(ok == plain_ok);
      if (ok && plain_ok) {
        CHECK(std::vector<std::int64_t>(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(d)) == want);
        CHECK(got[d] == 12345);  // nothing written beyond the row
      }
      (ok ? fast : declined)++;
      // The same answers stepping backwards (row rows - 1 - i).
      JsonNode other = JsonNode::root_of(parsed).at(rows - 1 - i);
      bool other_ok = other.is_array() && other.array_size() == d;
      std::vector<std::int64_t> other_want(d, 0);
      for (std::size_t k = 0; other_ok && k < d; ++k) other_ok = other.int64_at(k, other_want[k]);
      CHECK(ok_back == other_ok);
      if (ok_back && other_ok)
        CHECK(std::vector<std::int64_t>(back.begin(), back.begin() + static_cast<std::ptrdiff_t>(d)) == other_want);
    }
    std::int64_t x;
    CHECK_FALSE(a.int64_row_at(rows, d, &x));  // out of range: declined
  }
  // Not an array, and the int64 edges exactly.
  JsonDocument scalar = json_parse("[7]", "f.json");
  std::int64_t x = 0;
  CHECK_FALSE(JsonNode::root_of(scalar).at(0).int64_row_at(0, 1, &x));
  CHECK(JsonNode::root_of(scalar).int64_row_at(0, 1, &x) == false);  // 7 is not a row
  JsonDocument one = json_parse("[[1]]", "f.json");
  CHECK_FALSE(JsonNode::root_of(one).int64_row_at(0, 0, &x));  // not a row of 0 elements
  JsonDocument edges = json_parse(R"([[-9223372036854775808, "9223372036854775807", "-0", "007"]])", "f.json");
  std::int64_t e[4];
  REQUIRE(JsonNode::root_of(edges).int64_row_at(0, 4, e));
  CHECK(e[0] == INT64_MIN);
  CHECK(e[1] == INT64_MAX);
  CHECK(e[2] == 0);
  CHECK(e[3] == 7);
  // A string's closing quote is required right after its digits (not any character: "5 ]" would
  // otherwise close a row of one), and a sign alone or an empty string is no integer.
  for (const char* row : {R"([["5 ]"]])", R"([["1 ,2 ]"]])", R"([["-"]])", R"([[""]])", R"([["-0x"]])"}) {
    INFO(row);
    JsonDocument doc = json_parse(row, "f.json");
    std::int64_t two[2];
    CHECK_FALSE(JsonNode::root_of(doc).int64_row_at(0, 1, two));
    CHECK_FALSE(JsonNode::root_of(doc).int64_row_at(0, 2, two));
  }
  MESSAGE("seed " << seed << ": " << fast << " rows answered by int64_row_at, " << declined << " declined");
  CHECK(fast > 500);
  CHECK(declined > 500);
}

// Pins (issue 13): the exact messages of the tree reader (nlohmann) as it was on main when the streaming rewrite was merged,
// recorded from that reader, for every kind of syntax error, paths in deep structures,
// duplicate keys, unknown fields (reported in sorted key order) and the number forms.
namespace {
using Op = std::string (*)(const JsonNode&);
#include "json_reader_pins.inc"

std::string error_of(const std::string& text) {
  try {
    json_parse(text, "f.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no error>";
}
}  // namespace

TEST_CASE("json_reader::syntax error messages are pinned") {
  for (const auto& [text, message] : kSyntaxPins) {
    CAPTURE(text);
    CHECK(error_of(text) == message);
  }
  // Accepted: a byte order mark, trailing whitespace, escapes and UTF-8.
  CHECK(error_of("\xef\xbb\xbf[1]") == "<no error>");
  CHECK(error_of("[1]\n\n  ") == "<no error>");
  CHECK(error_of("[\"\\u00e9\", \"\xc3\xa9\"]") == "<no error>");
}

TEST_CASE("json_reader::node access results and messages are pinned") {
  const char* doc = R"({"o": {"b": 1, "a~/": 2, "Z": 3, "\u00e9": 4}, "f": 1.5, "g": 2.0, "i": -0, "u": 18446744073709551615,
    "v": 9223372036854775808, "w": -9223372036854775809, "x": 123456789012345678901234567890, "e": 1E+2, "s": "1/3", "bad": "1/0",
    "t": true, "n": null, "arr": [[1, 2], {"k": []}], "esc": "a\"b\\c\u0041", "neg": -7, "dec": "-.5e-1", "sp": " 1"})";
  JsonDocument d = json_parse(doc, "doc.json");
  JsonNode r = JsonNode::root_of(d);
  int i = 0;
  for (const auto& [expected, op] : kNodePins) {
    CAPTURE(i++);
    std::string got;
    try {
      got = "= " + op(r);
    } catch (const InputError& e) {
      got = "! " + std::string(e.what());
    }
    CHECK(got == expected);
  }
}

namespace interpcert {
// The reference parser (json_reader.cpp), for the differential test below.
void detail_json_parse_reference(std::string_view text, const std::string& file);
}  // namespace interpcert

TEST_CASE("json_reader::the streaming validator accepts exactly what the reference parser accepts") {
  // Seeded random near-JSON: valid documents mutated byte by byte with structural characters,
  // digits, signs, exponents, quotes, escapes, control and non-ASCII bytes, duplicate keys.
  std::uint64_t seed = 4242;
  std::mt19937_64 rng(seed);
  CAPTURE(seed);
  const std::vector<std::string> atoms = {"0", "-0", "12", "1.5", "-2e3", "1E+400", "1e-400", "007", "1.", "\"a\"",
                                          "\"\\u00e9\"", "\"\\ud800\"", "\"\xc3\xa9\"", "\"\xff\"", "\"\\n\"", "\"\\q\"",
                                          "true", "false", "null", "tru", "[]", "{}", "18446744073709551616",
                                          "-9223372036854775809", "123456789012345678901234567890"};
  const std::string alphabet = "{}[],:\" \n\t\\/-+.eE0123456789abtnu\x01\x7f\xc3\xa9\xff";
  std::function<std::string(int)> gen = [&](int depth) -> std::string {
    int r = static_cast<int>(rng() % 10);
    if (depth > 3 || r < 4) return atoms[rng() % atoms.size()];
    std::string s;
    std::size_t k = rng() % 4;
    if (r < 7) {
      s = "[";
      for (std::size_t i = 0; i < k; ++i) s += (i ? "," : "") + gen(depth + 1);
      return s + "]";
    }
    s = "{";
    for (std::size_t i = 0; i < k; ++i) {
      std::string key = std::string(1, static_cast<char>('a' + rng() % 3));  // duplicates happen
      if (rng() % 8 == 0) key = "\\u006" + std::string(1, static_cast<char>('1' + rng() % 3));  // escaped a, b, c
      s += (i ? ", " : "") + ("\"" + key + "\": ") + gen(depth + 1);
    }
    return s + "}";
  };
  auto outcome = [](auto&& parse, const std::string& text) {
    try {
      parse(text);
      return std::string("OK");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
  };
  int accepted = 0, rejected = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string text = gen(0);
    for (std::size_t m = rng() % 3; m > 0 && !text.empty(); --m) {
      std::size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        default: text.erase(at, 1);
      }
    }
    if (rng() % 16 == 0) text = " \n" + text + "\t ";
    CAPTURE(text);
    std::string fast = outcome([](const std::string& t) { json_parse(t, "f.json"); }, text);
    std::string ref = outcome([](const std::string& t) { detail_json_parse_reference(t, "f.json"); }, text);
    CHECK(fast == ref);
    (fast == "OK" ? accepted : rejected)++;
  }
  MESSAGE("accepted " << accepted << ", rejected " << rejected);
  CHECK(accepted > 2000);
  CHECK(rejected > 2000);
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

// Invalid text is explained by the reference parser's SAX events without building its tree
// (ErrorFinder). The tree costs 17 times the input's size for a flat array (about 80 times for deep
// nesting): a 10 MB array with one stray comma needed about 150 MB where the valid one needs
// 15 MB, and under an address-space limit the user got "std::bad_alloc" instead of the syntax
// error. The messages are the tree builder's: the random-document test above compares them.
TEST_CASE("json_reader::an invalid document is explained within O(its size) memory, without a tree") {
  std::string valid = "[", invalid;
  for (int i = 0; i < 5000000; ++i) valid += "1,";
  invalid = valid + "]";  // the stray comma at the end
  valid += "1]";
  // In a child: the address space limited to what it uses now plus 80 MB, then one parse.
  auto parse_limited = [](const std::string& text) {
    pid_t pid = fork();
    if (pid == 0) {
      long pages = 0;
      if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
        std::fclose(f);
      }
      rlimit lim{};
      lim.rlim_cur = lim.rlim_max = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (80u << 20);
      setrlimit(RLIMIT_AS, &lim);
      try {
        json_parse(text, "f.json");
        _exit(0);
      } catch (const InputError& e) {
        _exit(std::string(e.what()).find("invalid JSON") != std::string::npos ? 10 : 11);
      } catch (...) {
        _exit(12);  // std::bad_alloc (codes apart from 1, AddressSanitizer's exit code when it dies)
      }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  REQUIRE(parse_limited(valid) == 0);
  CHECK(parse_limited(invalid) == 10);  // the syntax error, not std::bad_alloc
}
