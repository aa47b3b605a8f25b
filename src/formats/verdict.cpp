#include "interpcert/verdict.hpp"

#include "interpcert/document_kind.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/json_reader.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace interpcert {

std::string verdict_to_json_text(const ShardVerdict& v) {
  return "{\"format\": \"interpcert-verdict\", \"version\": 1, \"tool\": \"" + v.tool + "\", \"dataset\": \"" + v.dataset +
         "\", \"subject\": \"" + v.subject + "\", \"shard\": " + std::to_string(v.shard) +
         ", \"shards\": " + std::to_string(v.shards) + ", \"outputs\": " + std::to_string(v.outputs) +
         ", \"verified\": " + (v.verified ? "true" : "false") +
         (v.dataset_outputs ? ", \"dataset_outputs\": " + std::to_string(*v.dataset_outputs) : std::string()) + "}\n";
}

ShardVerdict verdict_load(const std::string& file) {
  JsonDocument doc = json_load(file);
  JsonNode root = JsonNode::root_of(doc);
  require_format(root, "interpcert-verdict");
  root.only_keys({"format", "version", "tool", "dataset", "subject", "shard", "shards", "outputs", "verified",
                  "dataset_outputs"});
  if (root.at("version").integer(0, 1000) != 1) root.at("version").fail("unknown verdict version");
  ShardVerdict v;
  v.tool = root.at("tool").string();
  if (v.tool != "run" && v.tool != "check") root.at("tool").fail("expected \"run\" or \"check\"");
  v.dataset = root.at("dataset").string();
  v.subject = root.at("subject").string();
  const auto big = std::numeric_limits<std::int64_t>::max();
  v.shards = static_cast<std::size_t>(root.at("shards").integer(1, big));
  v.shard = static_cast<std::size_t>(root.at("shard").integer(0, static_cast<std::int64_t>(v.shards) - 1));
  v.outputs = static_cast<std::size_t>(root.at("outputs").integer(0, big));
  if (!root.at("verified").is_boolean()) root.at("verified").fail("expected true or false");
  v.verified = root.at("verified").boolean();
  if (root.has("dataset_outputs")) v.dataset_outputs = static_cast<std::size_t>(root.at("dataset_outputs").integer(0, big));
  return v;
}

void parse_shard(const std::string& text, std::size_t& shard, std::size_t& shards) {
  // Plain decimal integers only ("1.0/2" or "1e0/2" are typos, not shards), at most 18 digits.
  auto number = [](const std::string& t) -> std::optional<std::size_t> {
    if (t.empty() || t.size() > 18 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return static_cast<std::size_t>(std::stoull(t));
  };
  auto slash = text.find('/');
  auto i = number(text.substr(0, slash)), k = number(slash == std::string::npos ? "" : text.substr(slash + 1));
  if (!i || !k || *k < 1 || *i >= *k)
    throw InputError("--shard", "", "expected I/K with integers 0 <= I < K, got \"" + clip_for_message(text) + "\"");
  shard = *i;
  shards = *k;
}

}  // namespace interpcert
