// Precompiled header of the unit-test program (meson option 'pch'): the number types and doctest,
// parsed once for all tests/*_test.cpp instead of once per file.
#pragma once
#include <boost/multiprecision/gmp.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>
