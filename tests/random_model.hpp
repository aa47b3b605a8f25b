// Seeded random models and sequences of every shape the evaluators must handle, for
// differential tests. Small numbers from a small set, so that ties are frequent.
#pragma once

#include "interpcert/model.hpp"

#include <random>
#include <vector>

namespace interpcert::testing {

/// A random small rational from a set with repeats (ties in scores are common).
Rational random_small(std::mt19937_64& rng);
/// A random hardmax model with L blocks in dimension d: attention of rank one (h = 1 and h > 1),
/// general and zero; dense and factored V; rho, eta not 1; general, rank-one (hat stacks
/// sharing a direction), and zero U; identity layers.
Model random_model(std::mt19937_64& rng, std::size_t d, std::size_t L);
/// `count` sequences of lengths 1..max_len, tokens from a small grid (repeated tokens occur).
std::vector<std::vector<Vec>> random_sequences(std::mt19937_64& rng, std::size_t d, std::size_t count,
                                               std::size_t max_len);

/// Every matrix entry and bias made an integer (its numerator times a factor up to 2^40), rho and
/// eta integers: the evaluators' integer fast paths then carry the work, with 1- to 3-limb numbers.
void integerize(Model& m, std::mt19937_64& rng);
/// Every coordinate made an integer (numerator times a factor below 2^50; repeats stay frequent).
void integerize(std::vector<std::vector<Vec>>& seqs, std::mt19937_64& rng);

}  // namespace interpcert::testing
