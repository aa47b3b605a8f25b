// Shard verdicts: `run --shard I/K` and `interpcert-check --shard I/K` each verify a slice of a
// large dataset (sequences j with j mod K = I); `interpcert merge` combines the K verdicts.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace interpcert {

/// One shard's verdict, as written with --verdict-out (JSON, format "interpcert-verdict" v1).
struct ShardVerdict {
  std::string tool;     ///< "run" or "check"
  std::string dataset;  ///< the dataset's canonical digest
  std::string subject;  ///< the model's canonical digest (run) or the certificate file's SHA-256 (check)
  std::size_t shard = 0, shards = 1, outputs = 0;  ///< outputs: the output tokens this shard checked
  bool verified = false;
  /// The whole dataset's sum m_j ("dataset_outputs"), so that `merge` can require the shards'
  /// outputs to add up to it. Optional in the file (verdicts written before it existed lack it,
  /// and `merge` then refuses to verify).
  std::optional<std::size_t> dataset_outputs;
};

/// The verdict as JSON text.
std::string verdict_to_json_text(const ShardVerdict& v);
/// Reads a verdict file; throws InputError naming the file and JSON path.
ShardVerdict verdict_load(const std::string& file);
/// Parses "I/K" (0 <= I < K); throws InputError(option) otherwise.
void parse_shard(const std::string& text, std::size_t& shard, std::size_t& shards);

}  // namespace interpcert
