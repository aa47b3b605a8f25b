// The checker's structured forward pass (--fast) equals its plain one on random models of every
// shape (the same generator as the engine's differential test).
#include "../src/checker/forward.hpp"
#include "../src/checker/forward_fast.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "random_model.hpp"

#include <doctest/doctest.h>

using namespace interpcert;

TEST_CASE("checker::structured forward pass equals the plain one on random models") {
  std::uint64_t seed = 41;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int t = 0; t < 2000; ++t) {
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 6;
    Model m = testing::random_model(rng, d, L);
    checker::StructuredModel fast(m);
    for (const auto& seq : testing::random_sequences(rng, d, 3, 6)) REQUIRE(fast.forward(seq) == checker::forward_hardmax(m, seq));
  }
}

TEST_CASE("checker::integer models and tokens (the integer fast path) : structured equals plain") {
  std::uint64_t seed = 43;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  MESSAGE("seed " << seed);
  for (int t = 0; t < 2000; ++t) {
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 6;
    Model m = testing::random_model(rng, d, L);
    testing::integerize(m, rng);
    if (t % 2) m.mask = MaskKind::Causal;
    checker::StructuredModel fast(m);
    auto seqs = testing::random_sequences(rng, d, 3, 6);
    testing::integerize(seqs, rng);
    for (const auto& seq : seqs) REQUIRE(fast.forward(seq) == checker::forward_hardmax(m, seq));
  }
}

TEST_CASE("checker::causal mask: structured, plain and the engine's reference pass agree") {
  std::uint64_t seed = 42;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (int t = 0; t < 2000; ++t) {
    std::size_t d = 1 + rng() % 4, L = 1 + rng() % 6;
    Model m = testing::random_model(rng, d, L);
    m.mask = MaskKind::Causal;
    checker::StructuredModel fast(m);
    for (const auto& seq : testing::random_sequences(rng, d, 3, 6)) {
      auto plain = checker::forward_hardmax(m, seq);
      REQUIRE(fast.forward(seq) == plain);
      REQUIRE(evaluate_reference(m, seq) == plain);
    }
  }
}
