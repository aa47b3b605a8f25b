// Precompiled header of the interpcert executable (meson option 'pch'): the number types and CLI11.
#pragma once
#include <CLI/CLI.hpp>
#include <boost/multiprecision/gmp.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>
