// Precompiled header of the unit-test program (meson option 'pch'): the number types and the standard
// headers the tests use. Not doctest: test_main.cpp defines DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN before
// including it, which a precompiled doctest would silently skip (no main()).
#pragma once
#include "interpcert/rational.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>
