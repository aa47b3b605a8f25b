// Precompiled header of the interpcert executable (meson option 'pch'): the number types and the
// standard headers its files use. CLI11 is not here: only src/cli/command_line.cpp includes it.
#include "numbers_pch.hpp"
