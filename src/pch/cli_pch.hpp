// Precompiled header of the interpcert executable (meson option 'pch'): the number types. CLI11
// is not here: only src/cli/command_line.cpp includes it.
#pragma once
#include "interpcert/rational.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>
