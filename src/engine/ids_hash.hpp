// Private to the engine (construct.cpp, preconditions.cpp): a hash of a list of token ids, for
// hash maps keyed by a context (the set of a sequence's token ids).
#pragma once

#include <cstddef>
#include <vector>

namespace interpcert {

struct IdsHash {
  std::size_t operator()(const std::vector<std::size_t>& v) const {
    std::size_t h = v.size();
    for (auto x : v) h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
  }
};

}  // namespace interpcert
