// Precompiled header (meson option 'pch'): the number types and the standard headers most files
// use, parsed once per target instead of once per file (~1.5 of a file's ~4 CPU s are parsing).
// (Boost.Multiprecision is not here: only src/formats/rational.cpp includes it.)
#include "interpcert/rational.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>
