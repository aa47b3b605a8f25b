// The dataset families of issue 10 (random, shared pool of 9 points, every subset of a pool of 5,
// nested chain, collinear tokens, m = n, permuted copies, large N) in d = 2 (or any d >= 2) with
// integer coordinates in [-R, R], targets consistent with H4. Shared by bench/float_precision and
// tests/float_construction_test.cpp.
#pragma once

#include "interpcert/dataset.hpp"

#include <random>
#include <string>
#include <vector>

namespace interpcert::testing {

inline const std::vector<std::string> kFloatFamilies = {"random", "shared-pool", "all-subsets", "nested-chain",
                                                        "collinear", "m=n", "permuted-copies", "large-N"};

/// The family's dataset with about N sequences (all-subsets: 31; nested-chain: min(N, 30)).
Dataset float_family(const std::string& name, std::mt19937_64& rng, std::size_t N, long R, std::size_t d = 2);

/// The same family with short-decimal coordinates: `digits` decimals (0.1, 0.01, ...), |x| <= R:
/// the integer family on [-R 10^digits, R 10^digits], every coordinate divided by 10^digits.
Dataset decimal_family(const std::string& name, std::mt19937_64& rng, std::size_t N, long R, int digits,
                       std::size_t d = 2);

}  // namespace interpcert::testing
