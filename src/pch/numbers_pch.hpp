// Precompiled header (meson option 'pch'): Boost.Multiprecision's GMP backend is ~185k lines
// after preprocessing and every translation unit that names a Rational includes it.
#pragma once
#include <boost/multiprecision/gmp.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>
