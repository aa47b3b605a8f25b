// Precompiled header of the unit-test program (meson option 'pch'): doctest, the number types and
// the standard headers the tests use. test_main.cpp (DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN before
// including doctest) is compiled without it, in its own library: a precompiled doctest would
// silently skip the implementation (no main()).
#include <doctest/doctest.h>

#include "interpcert/rational.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
