// The checker's own decision of the hypotheses H1-H4 (by sorting, where the engine hashes).
#pragma once

#include "interpcert/dataset.hpp"

#include <string>

namespace interpcert::checker {

/// Whether hypothesis "H1".."H4" holds for the dataset; `why` explains a failure.
bool hypothesis_holds(const Dataset& ds, const std::string& id, std::string& why);

/// Whether obstruction "O1", "O2" (equal token and proportions, different targets; one sequence
/// or two) or "C1" (causal: equal reduced prefixes, different targets) is present
/// (proofs/repeated-and-causal.md); `why` names a witness, or "unknown obstruction".
bool obstruction_found(const Dataset& ds, const std::string& id, std::string& why);

}  // namespace interpcert::checker
