#include "interpcert/errors.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace interpcert;

TEST_CASE("errors::clip_for_message keeps short text and cuts long text to its ends") {
  CHECK(clip_for_message("short") == "short");
  std::string exact(80, 'a');
  CHECK(clip_for_message(exact) == exact);
  std::string long_text = "BEGIN" + std::string(1000000, 'x') + "END";
  std::string c = clip_for_message(long_text);
  CHECK(c.size() < 120);
  CHECK(c.rfind("BEGIN", 0) == 0);
  CHECK(c.size() >= 3);
  CHECK(c.substr(c.size() - 3) == "END");
  // The omitted byte count is stated and adds up: 40 kept at the start, 40 at the end.
  CHECK(c.find("[... " + std::to_string(long_text.size() - 80) + " bytes ...]") != std::string::npos);
}

TEST_CASE("errors::clip_for_message never splits a UTF-8 character") {
  std::string s;
  for (int i = 0; i < 100; ++i) s += "\xc3\xa9";  // U+00E9, two bytes each
  std::string c = clip_for_message(s, 42);
  // Every kept run must consist of whole two-byte characters.
  auto open = c.find("[... "), close = c.find(" bytes ...]");
  REQUIRE(open != std::string::npos);
  REQUIRE(close != std::string::npos);
  CHECK(open % 2 == 0);
  CHECK((c.size() - (close + 11)) % 2 == 0);
  CHECK(static_cast<unsigned char>(c[open - 1]) == 0xa9);
}

TEST_CASE("errors::InputError clips the JSON path in its message, not in json_path()") {
  std::string path;
  for (int i = 0; i < 100000; ++i) path += "/0";
  InputError e("f.json", path, "expected a value");
  CHECK(std::string(e.what()).size() < 200);
  CHECK(e.json_path() == path);
  CHECK(std::string(e.what()).find("expected a value") != std::string::npos);
}
