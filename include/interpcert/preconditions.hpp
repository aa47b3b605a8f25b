// The theorem's hypotheses H1-H4 and the two obstructions O1, O2 (proofs/construction.md,
// "Preconditions"), each decided exactly with a witness.
#pragma once

#include "interpcert/dataset.hpp"

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

enum class Applicability { Applies, Impossible, Outside };

struct PreconditionReport {
  std::vector<HypothesisCheck> hypotheses;     ///< H1, H2, H3, H4 in order
  std::vector<ObstructionCheck> obstructions;  ///< O1, O2 in order
  /// Applies: H1-H4 hold. Impossible: an obstruction was found. Outside: neither.
  Applicability verdict() const;
};

/// Decides H1-H4, O1 and O2 exactly. Linear time in the dataset size (hashing).
PreconditionReport check_preconditions(const Dataset& ds);

/// The report for people: one line per hypothesis and obstruction, with witnesses and proofs.
std::string precondition_report_text(const PreconditionReport& rep);

/// The theorem's statement, for reports.
std::string theorem_statement();

}  // namespace interpcert
