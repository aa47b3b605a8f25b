// Precompiled header (meson option 'pch'): the number types and the standard headers most files use.
// (Boost.Multiprecision is no longer here: only src/formats/rational.cpp includes it.)
#pragma once
#include "interpcert/rational.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
