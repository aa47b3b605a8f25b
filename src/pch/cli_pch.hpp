// Precompiled header of the interpcert executable (meson option 'pch'): CLI11 (~110k lines after
// preprocessing, included by every src/cli file through commands.hpp) and the number types.
#pragma once
#include <CLI/CLI.hpp>

#include "interpcert/rational.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>
