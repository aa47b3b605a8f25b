// The theorem's hypotheses H1-H4 and the two obstructions O1, O2 (proofs/construction.md,
// "Preconditions"), each decided exactly with a witness.
#pragma once

#include "interpcert/dataset.hpp"

#include <memory>
#include <string>
#include <vector>

namespace interpcert {

/// Where a hypothesis fails or an obstruction shows: sequences, their positions, the token, and
/// the conflicting targets (all 0-based; empty where not relevant).
struct Witness {
  std::vector<std::size_t> sequences;
  std::vector<std::size_t> positions;  ///< positions[i] lies in sequences[i]
  Vec token;
  std::vector<Vec> targets;
  /// Per position: its context as (token, proportion) pairs in first-appearance order (the whole
  /// sequence; causal: the prefix 0 ... position). Filled for O1, O2 and C1.
  std::vector<std::vector<std::pair<Vec, Rational>>> contexts;
  std::string text;  ///< the same, in words
};

struct HypothesisCheck {
  std::string id;         ///< "H1" ... "H4"
  std::string statement;  ///< what it says
  bool holds = true;
  std::size_t violations = 0;  ///< how many places violate it (0 when it holds)
  Witness witness;             ///< the first violation
};

struct ObstructionCheck {
  std::string id;  ///< "O1" or "O2"
  std::string statement;
  bool found = false;
  Witness witness;
  std::string proof;  ///< why no transformer of this class can interpolate, given the witness
};

/// Applies: the paper's theorem (H1-H4). Impossible: an obstruction. Extended: a hypothesis fails
/// (or the mask is causal) but no obstruction shows, so proofs/repeated-and-causal.md (Theorem 1,
/// Theorem 2 causal) gives an exact interpolating transformer. Outside: nothing proved either way
/// (no longer returned: every dataset is decided; kept for callers that name it).
enum class Applicability { Applies, Impossible, Outside, Extended };

struct PreconditionReport {
  bool causal = false;
  std::vector<HypothesisCheck> hypotheses;     ///< H1, H2, H3, H4 in order (empty when causal)
  std::vector<ObstructionCheck> obstructions;  ///< O1, O2 in order (causal: C1)
  /// The distinct input tokens as the check numbered them: ids by first appearance over the
  /// sequences in order, (*token_ids)[j][i] the id of token i of sequence j. The construction
  /// reuses them instead of hashing every token again (10^6 tokens: ~1 s).
  std::shared_ptr<const std::vector<std::vector<std::size_t>>> token_ids;
  Applicability verdict() const;
};

/// Decides H1-H4, O1 and O2 exactly (causal: the obstruction C1 of proofs/repeated-and-causal.md,
/// two output positions with equal reduced prefixes and different targets). Linear time in the
/// dataset size (hashing), plus the witness's proportions.
PreconditionReport check_preconditions(const Dataset& ds, bool causal = false);

/// The report for people: one line per hypothesis and obstruction, with witnesses and proofs.
std::string precondition_report_text(const PreconditionReport& rep);

/// The theorem's statement, for reports.
std::string theorem_statement();

}  // namespace interpcert
