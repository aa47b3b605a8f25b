// Printing exact values for people (the shared vec_text of the formats library).
#pragma once

#include "interpcert/text_util.hpp"

namespace interpcert::cli {
using interpcert::vec_text;
}  // namespace interpcert::cli
