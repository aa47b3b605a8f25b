// Seeded generators of the dataset families the construction must handle (issue 3): random;
// many sequences sharing their top token; chains of nested token sets; sets with equal means;
// permuted copies with consistent targets; targets equal to inputs or other tokens (swaps);
// wide tokens; huge integers. Each output dataset satisfies H1-H4 unless stated.
#pragma once

#include "interpcert/dataset.hpp"

#include <random>
#include <string>
#include <vector>

namespace interpcert::testing {

enum class Family { Random, SharedTop, NestedChain, EqualMeans, PermutedCopies, TargetsAreTokens, HugeIntegers };
inline const std::vector<Family> kAllFamilies = {Family::Random,         Family::SharedTop,
                                                 Family::NestedChain,    Family::EqualMeans,
                                                 Family::PermutedCopies, Family::TargetsAreTokens,
                                                 Family::HugeIntegers};
std::string family_name(Family f);

/// A dataset of the family with about `n_seq` sequences of about `len` tokens in dimension d.
/// Readout (first / last / explicit positions) varies with the seed.
Dataset make_family(Family f, std::mt19937_64& rng, std::size_t d, std::size_t n_seq, std::size_t len);

/// N sequences of n random integer-grid tokens (distinct within a sequence), m outputs each.
Dataset make_random(std::mt19937_64& rng, std::size_t d, std::size_t N, std::size_t n, std::size_t m,
                    long coord_range = 1000000);

}  // namespace interpcert::testing
