#include "interpcert/document_kind.hpp"

#include "interpcert/errors.hpp"

#include <string>

namespace interpcert {
namespace {

// What a person calls each format; empty for a format that is not ours.
std::string kind_name(std::string_view format) {
  if (format == "interpcert-dataset") return "a dataset";
  if (format == "interpcert-model") return "a model";
  if (format == "interpcert-certificate") return "a certificate";
  if (format == "interpcert-verdict") return "a shard verdict";
  return "";
}

}  // namespace

void require_format(const JsonNode& root, std::string_view expected) {
  if (!root.is_object()) root.fail(std::string("expected an object (") + kind_name(expected) + "), found " +
                                   (root.is_array() ? "an array" : "another value"));
  JsonNode f = root.at("format");
  std::string format = f.string();
  if (format == expected) return;
  std::string found = kind_name(format);
  if (!found.empty()) root.fail("this is " + found + ", not " + kind_name(expected));
  f.fail("expected \"" + std::string(expected) + "\", found \"" + clip_for_message(format) + "\"");
}

}  // namespace interpcert
