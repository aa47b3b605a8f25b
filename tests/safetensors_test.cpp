#include "interpcert/errors.hpp"
#include "interpcert/safetensors.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace interpcert;

namespace {

std::string file_with_header(const std::string& header, const std::string& data) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

// The error message (or "<no error>") of parsing these bytes.
std::string error_of(const std::string& bytes, std::string* path = nullptr) {
  try {
    safetensors_parse(bytes, "t.safetensors");
  } catch (const InputError& e) {
    if (path) *path = e.json_path();
    return e.what();
  }
  return "<no error>";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const std::string k16(16, '\x01');

}  // namespace

TEST_CASE("safetensors::write then parse gives back tensors and metadata; the layout is the format's") {
  std::vector<SafeTensorOut> ts{{"a", "F64", {2}, std::string(16, 'x')}, {"b.c", "F16", {1, 3}, std::string(6, 'y')},
                                {"e", "F32", {0}, ""}};
  std::string bytes = safetensors_write(ts, {{"k", "v \"quoted\""}});
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  CHECK(n % 8 == 0);  // header padded with spaces: data 8-byte aligned
  CHECK(bytes[8] == '{');
  const std::string header = bytes.substr(8, n);
  CHECK(header.substr(header.find_last_of('}') + 1).find_first_not_of(' ') == std::string::npos);
  CHECK(bytes.size() == 8 + n + 22);
  SafeTensorsFile f = safetensors_parse(bytes, "t");
  CHECK(f.metadata.at("k") == "v \"quoted\"");
  REQUIRE(f.tensors.size() == 3);
  CHECK(f.tensors.at("b.c").shape == std::vector<std::uint64_t>{1, 3});
  CHECK(f.data(f.tensors.at("a")) == std::string(16, 'x'));
  CHECK(f.data(f.tensors.at("b.c")) == std::string(6, 'y'));
  CHECK(f.tensors.at("e").elements() == 0);
  CHECK(safetensors_write(ts, {{"k", "v \"quoted\""}}) == bytes);  // deterministic
}

TEST_CASE("safetensors::parse refuses a header that lies about offsets, naming the tensor") {
  std::string path;
  auto hdr = [](const std::string& a, const std::string& b) {
    return "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":" + a + "},\"b\":{\"dtype\":\"F64\",\"shape\":[1],"
           "\"data_offsets\":" + b + "}}";
  };
  CHECK(error_of(file_with_header(hdr("[0,8]", "[8,16]"), k16)) == "<no error>");
  CHECK(error_of(file_with_header(hdr("[8,16]", "[0,8]"), k16)) == "<no error>");  // any order, if they tile
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[4,12]"), k16 + "1234"), &path), "overlap"));
  CHECK(path == "/b/data_offsets");
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[0,8]"), k16), &path), "overlap"));
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[12,20]"), k16 + "1234"), &path), "gap"));
  CHECK(path == "/b/data_offsets");
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[8,16]"), "12345678"), &path), "beyond"));
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[16,8]"), k16), &path), "end 8 < begin 16"));
  CHECK(path == "/b/data_offsets");
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[8,12]"), "123456781234")), "span 4 bytes"));
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[8,16]"), k16 + "z")), "belong to no tensor"));
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[8,-16]"), k16)), "data_offsets"));
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[8]"), k16)), "expected [begin, end]"));
  CHECK(contains(error_of(file_with_header(hdr("[0,8]", "[18446744073709551615,7]"), k16)), "data_offsets"));
}

TEST_CASE("safetensors::parse refuses bad lengths, dtypes, shapes and headers") {
  std::string path;
  CHECK(contains(error_of("1234"), "fewer than the 8-byte"));
  std::string huge(8, '\0');
  huge[4] = 1;  // 2^32 > the 100 MB limit
  CHECK(contains(error_of(huge + "{}"), "exceeds the limit"));
  CHECK(contains(error_of(file_with_header("{}", "").substr(0, 9)), "exceeds the 1 bytes"));
  CHECK(error_of(file_with_header("{}", "")) == "<no error>");
  CHECK(error_of(file_with_header("{}      ", "")) == "<no error>");
  CHECK(contains(error_of(file_with_header(" {}", "")), "does not start with '{'"));
  CHECK(contains(error_of(file_with_header("[]", "")), "does not start"));
  CHECK(contains(error_of(file_with_header("{\"a\":1}", "")), "expected an object"));
  CHECK(contains(error_of(file_with_header("{\"a\":{\"dtype\":\"F65\",\"shape\":[1],\"data_offsets\":[0,8]}}", k16.substr(8)), &path),
                 "unknown dtype \"F65\""));
  CHECK(path == "/a/dtype");
  CHECK(contains(error_of(file_with_header("{\"a\":{\"dtype\":\"F64\",\"shape\":[-1],\"data_offsets\":[0,8]}}", k16.substr(8)), &path),
                 ""));
  CHECK(path == "/a/shape/0");
  CHECK(contains(error_of(file_with_header("{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", k16.substr(8))),
                 "shape too large"));
  CHECK(contains(error_of(file_with_header("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8],\"x\":1}}", k16.substr(8))),
                 "x"));
  CHECK(contains(error_of(file_with_header("{\"__metadata__\":{\"k\":1}}", ""), &path), ""));
  CHECK(path == "/__metadata__/k");
  CHECK(contains(error_of(file_with_header("{\"a\":{}, \"a\":{}}", "")), "duplicate key"));
  CHECK(contains(error_of(file_with_header("{\"a\":", "")), "invalid JSON"));
  CHECK(contains(error_of(file_with_header("{\"\xff\":1}", "")), "invalid JSON"));
}

TEST_CASE("safetensors::fuzz_one survives random corruptions of a valid file") {
  std::vector<SafeTensorOut> ts{{"blocks.0.rho", "F64", {1}, std::string(8, '\0')},
                                {"blocks.0.attn.to_q.weight", "F32", {1, 2}, std::string(8, '\x3f')}};
  const std::string good = safetensors_write(ts, {{"d", "2"}});
  std::uint64_t seed = 424242;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int i = 0; i < 20000; ++i) {
    std::string b = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0: b[at] = static_cast<char>(rng()); break;
        case 1: b.erase(at, 1 + rng() % 8); break;
        default: b.insert(at, 1, "0123456789[]{},:\" "[rng() % 18]); break;
      }
      if (b.empty()) b.assign(1, 'x');
    }
    CHECK(safetensors_fuzz_one(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()) == 0);
  }
}
