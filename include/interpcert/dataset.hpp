// Datasets (proofs/formats-v1.md, "Dataset"): N input sequences in Q^d and their target output tokens.
#pragma once

#include "interpcert/json_reader.hpp"
#include "interpcert/linalg.hpp"
#include "interpcert/tokens.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace interpcert {

/// One input sequence with its targets; positions are resolved (0-based, distinct, in range).
struct Sequence {
  Tokens input;                      ///< n_j tokens (compact: tokens.hpp)
  std::vector<Vec> output;           ///< m_j targets, 1 <= m_j <= n_j
  std::vector<std::size_t> positions;  ///< target k belongs to input position positions[k]
};

struct Dataset {
  std::size_t d = 0;
  std::vector<Sequence> sequences;
  /// Sum of m_j.
  std::size_t total_outputs() const;
  /// Sum of n_j.
  std::size_t total_tokens() const;
};

/// Validates and reads a dataset; errors name the file and the JSON path.
Dataset dataset_from_json(const JsonNode& root);
/// Reads a dataset file.
Dataset dataset_load(const std::string& file);
/// The canonical text of proofs/formats-v1.md (lowest terms, one field separator, "\n" line ends).
std::string dataset_canonical_text(const Dataset& ds);
/// SHA-256 (lowercase hex) of the canonical text.
std::string dataset_digest(const Dataset& ds);
/// dataset_digest(dataset_from_json(root)), with the same errors, reading one sequence at a time:
/// the dataset is never held whole (the digest command).
std::string dataset_digest_of_json(const JsonNode& root);
/// The dataset as JSON text in the preferred number form (explicit positions).
std::string dataset_to_json_text(const Dataset& ds);

}  // namespace interpcert
