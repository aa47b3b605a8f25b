// The checker's own decision of the hypotheses H1-H4 (by sorting, where the engine hashes).
#pragma once

#include "interpcert/dataset.hpp"

#include <string>

namespace interpcert::checker {

/// Whether hypothesis "H1".."H4" holds for the dataset; `why` explains a failure.
bool hypothesis_holds(const Dataset& ds, const std::string& id, std::string& why);

}  // namespace interpcert::checker
