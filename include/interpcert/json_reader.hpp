// Reading JSON exactly: numbers keep their decimal text, and every access knows its JSON path,
// so an error names the file and the place ("/sequences/3/input/2/1").
#pragma once

#include "interpcert/rational.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace interpcert {

/// A parsed JSON document. JSON numbers with a fraction or exponent (and integers beyond 64
/// bits) are stored as their original text (in a nlohmann "binary" value, so they stay numbers and
/// not strings), so "0.1" is later read as exactly 1/10. Read values through JsonNode.
/// Duplicate keys are an error.
struct JsonDocument {
  std::string file;
  nlohmann::json root;
  /// The file's decimal-exponent budget (rational.hpp), spent by JsonNode::rational(); set by
  /// json_parse from the text's size. Held by pointer so that nodes keep it across moves.
  std::shared_ptr<ExponentBudget> exponent_budget = nullptr;
};

/// Parses JSON text; throws InputError naming `file` and the path at which the syntax failed.
JsonDocument json_parse(std::string_view text, const std::string& file);

/// Reads and parses a file; throws InputError if it cannot be read (a directory, a missing or
/// unreadable file: the message says why) or parsed.
JsonDocument json_load(const std::string& file);

/// A read-only view of one value of a document, with its path, for validating access.
class JsonNode {
 public:
  JsonNode(const nlohmann::json& v, std::string file, std::string path, ExponentBudget* budget = nullptr)
      : v_(&v), file_(std::move(file)), path_(std::move(path)), budget_(budget) {}
  static JsonNode root_of(const JsonDocument& doc) {
    return JsonNode(doc.root, doc.file, "", doc.exponent_budget.get());
  }

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const nlohmann::json& raw() const { return *v_; }
  bool is_null() const { return v_->is_null(); }
  bool is_object() const { return v_->is_object(); }
  bool is_array() const { return v_->is_array(); }
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
  void only_keys(std::initializer_list<std::string_view> allowed) const;

  /// An exact rational from a JSON string or number (spending the document's exponent budget).
  Rational rational() const;
  /// A JSON integer in [lo, hi].
  std::int64_t integer(std::int64_t lo, std::int64_t hi) const;
  /// A JSON string.
  std::string string() const;

  /// Throws InputError at this node's path.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  const nlohmann::json* v_;
  std::string file_, path_;
  ExponentBudget* budget_;
};

/// Escapes a key for a JSON pointer (RFC 6901: "~" -> "~0", "/" -> "~1").
std::string json_pointer_escape(std::string_view key);

}  // namespace interpcert
