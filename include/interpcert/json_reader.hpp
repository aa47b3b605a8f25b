// Reading JSON exactly: numbers keep their decimal text, and every access knows its JSON path,
// so an error names the file and the place ("/sequences/3/input/2/1").
//
// Streaming, allocation-light (issue 13): a document is its text plus a 16-byte entry per array
// or object (where it ends, how many elements, how many containers inside), built in one
// validating pass. There is no node per value: a JsonNode is a position in the text, and numbers
// are parsed from their text when asked for. Invalid input is re-parsed by the reference parser
// (nlohmann/json, only in json_reader.cpp) so every error message is exactly what it always was.
#pragma once

#include "interpcert/rational.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace interpcert {

namespace detail {
struct JsonText;  // the text and its container index (json_reader.cpp)
}

/// A parsed JSON document. JSON numbers with a fraction or exponent (and integers beyond 64
/// bits) are numbers holding their original text, so "0.1" is later read as exactly 1/10.
/// Duplicate keys are an error.
struct JsonDocument {
  std::string file;
  std::shared_ptr<const detail::JsonText> text;
  /// The file's decimal-exponent budget (rational.hpp), spent by JsonNode::rational(); set by
  /// json_parse from the text's size. Held by pointer so that nodes keep it across moves.
  std::shared_ptr<ExponentBudget> exponent_budget = nullptr;
  /// The bytes that were parsed (a verdict names what was checked by their SHA-256).
  std::string_view bytes() const;
};

/// Parses JSON text; throws InputError naming `file` and the path at which the syntax failed.
JsonDocument json_parse(std::string_view text, const std::string& file);

/// Reads and parses a file; throws InputError if it cannot be read (a directory, a missing or
/// unreadable file: the message says why) or parsed.
JsonDocument json_load(const std::string& file);

/// A read-only view of one value of a document, with its path, for validating access. Valid
/// while its document lives. Sequential access at(0), at(1), ... costs O(1) per step.
class JsonNode {
 public:
  static JsonNode root_of(const JsonDocument& doc);

  const std::string& path() const { return path_; }
  const std::string& file() const;
  bool is_null() const;
  bool is_object() const;
  bool is_array() const;
  bool is_boolean() const;
  bool has(std::string_view key) const;

  /// The member `key` of an object (error if this is not an object or the key is missing).
  JsonNode at(std::string_view key) const;
  /// Element i of an array.
  JsonNode at(std::size_t i) const;
  /// Number of elements of an array (error if not an array).
  std::size_t array_size() const;
  /// Requires a non-empty array.
  std::size_t nonempty_array_size() const;
  /// Rejects members other than `allowed` (a typo such as "postions" must not pass silently).
  /// Members are examined in sorted key order.
  void only_keys(std::initializer_list<std::string_view> allowed) const;
  /// The keys of an object, sorted (error if not an object).
  std::vector<std::string> keys() const;

  /// An exact rational from a JSON string or number (spending the document's exponent budget).
  Rational rational() const;
  /// Element i of an array as an exact rational: at(i).rational() without building the
  /// element's path unless there is an error.
  Rational rational_at(std::size_t i) const;
  /// Element i of an array when it is an integer that fits in int64, written as a JSON number
  /// (no fraction, no exponent) or as a string of decimal digits with an optional "-" ("12",
  /// "-007": what rational_at reads as that integer): true and its value in `out`, without
  /// building a rational. False otherwise (decimals, fractions, larger integers, errors: then use
  /// rational_at, which gives the value or the error).
  bool int64_at(std::size_t i, std::int64_t& out) const;
  /// Element i of an array when it is an array of exactly d elements that int64_at would all
  /// accept: true and their values in out[0..d), read in one forward scan of the row's text
  /// without building a node or a path (the dataset reader's token rows). False otherwise,
  /// with out[0..d) unspecified: then read at(i) element by element, which gives the values or
  /// the error. Sequential calls i = 0, 1, ... cost O(1) each besides the row's own text.
  bool int64_row_at(std::size_t i, std::size_t d, std::int64_t* out) const;
  /// A JSON integer in [lo, hi].
  std::int64_t integer(std::int64_t lo, std::int64_t hi) const;
  /// A JSON string.
  std::string string() const;
  /// A JSON boolean.
  bool boolean() const;

  /// The value as an nlohmann::json tree (numbers with a fraction or exponent as strings), for
  /// code written against the old tree reader; builds the subtree, so only for small values.
  /// Callers include <nlohmann/json.hpp>.
  const nlohmann::json& raw() const;

  /// Throws InputError at this node's path.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  JsonNode(const detail::JsonText* t, std::uint64_t pos, std::uint32_t container, std::string path,
           ExponentBudget* budget)
      : t_(t), pos_(pos), c_(container), path_(std::move(path)), budget_(budget) {}
  // Position (and container ordinal) of element i; sequential calls step from the last one.
  void locate(std::size_t i, std::uint64_t& pos, std::uint32_t& container) const;
  // Position of member `key`'s value, or false if absent.
  bool find(std::string_view key, std::uint64_t& pos, std::uint32_t& container) const;
  const char* kind() const;
  std::string_view number_or_string_text(std::string& decoded) const;

  const detail::JsonText* t_;
  std::uint64_t pos_;   // first byte of the value
  std::uint32_t c_;     // its entry in the container index (arrays and objects)
  std::string path_;
  ExponentBudget* budget_;
  mutable std::size_t cache_i_ = 0;  // the last element located: index, position, container
  mutable std::uint64_t cache_pos_ = 0;
  mutable std::uint32_t cache_c_ = 0;
  mutable std::shared_ptr<nlohmann::json> raw_;
};

/// Escapes a key for a JSON pointer (RFC 6901: "~" -> "~0", "/" -> "~1").
std::string json_pointer_escape(std::string_view key);

}  // namespace interpcert
