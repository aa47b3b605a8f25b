#include "interpcert/verdict.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/json_reader.hpp"

#include <limits>

namespace interpcert {

std::string verdict_to_json_text(const ShardVerdict& v) {
  return "{\"format\": \"interpcert-verdict\", \"version\": 1, \"tool\": \"" + v.tool + "\", \"dataset\": \"" + v.dataset +
         "\", \"subject\": \"" + v.subject + "\", \"shard\": " + std::to_string(v.shard) +
         ", \"shards\": " + std::to_string(v.shards) + ", \"outputs\": " + std::to_string(v.outputs) +
         ", \"verified\": " + (v.verified ? "true" : "false") + "}\n";
}

ShardVerdict verdict_load(const std::string& file) {
  JsonDocument doc = json_load(file);
  JsonNode root = JsonNode::root_of(doc);
  root.only_keys({"format", "version", "tool", "dataset", "subject", "shard", "shards", "outputs", "verified"});
  if (root.at("format").string() != "interpcert-verdict") root.at("format").fail("expected \"interpcert-verdict\"");
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
  return v;
}

void parse_shard(const std::string& text, std::size_t& shard, std::size_t& shards) {
  auto slash = text.find('/');
  std::string why;
  auto i = rational_parse(text.substr(0, slash), &why), k = rational_parse(slash == std::string::npos ? "" : text.substr(slash + 1), &why);
  if (!i || !k || denominator(*i) != 1 || denominator(*k) != 1 || *k < 1 || *i < 0 || *i >= *k)
    throw InputError("--shard", "", "expected I/K with integers 0 <= I < K, got \"" + text + "\"");
  shard = static_cast<std::size_t>(numerator(*i).convert_to<unsigned long>());
  shards = static_cast<std::size_t>(numerator(*k).convert_to<unsigned long>());
}

}  // namespace interpcert
