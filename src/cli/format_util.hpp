// Printing exact values for people.
#pragma once

#include "interpcert/linalg.hpp"

#include <string>

namespace interpcert::cli {

/// "(p/q, r, ...)", exact.
std::string vec_text(const Vec& v);

}  // namespace interpcert::cli
