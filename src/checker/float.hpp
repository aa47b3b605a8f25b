// The checker's own floating-point analysis (proofs/float-bound.md), written independently of the
// producer's: a rigorous bound on max |fl(output) - target| for every IEEE round-to-nearest
// evaluation of a hardmax model in a binary format (MPFR, every bound rounded upward).
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace interpcert::checker {

/// The bound over the output coordinates of the sequences j with j % shards == shard, for the
/// format with p significand bits and normal exponents emin..emax. nullopt, with the reason in
/// `why`, when a hardmax selection may differ in floating point or a quantity may overflow.
/// `checked` (if given) receives the number of output tokens bounded.
std::optional<Rational> float_error_bound(const Model& m, const Dataset& ds, long p, long emin, long emax,
                                          std::size_t shard, std::size_t shards, std::string& why,
                                          std::size_t* checked = nullptr);

/// x rounded to nearest (ties to even) with p bits, subnormals below 2^emin; nullopt on overflow.
std::optional<Rational> round_to_format(const Rational& x, long p, long emin, long emax);

/// The same for a softmax model (src/checker/float_softmax.cpp, proofs/float-bound.md "Softmax
/// models"), exp assumed accurate to `exp_ulps` ulps; MPFI intervals enclosing every float state.
std::optional<Rational> float_softmax_error_bound(const Model& m, const Dataset& ds, long p, long emin, long emax,
                                                  long exp_ulps, std::size_t shard, std::size_t shards,
                                                  std::string& why, std::size_t* checked = nullptr);

}  // namespace interpcert::checker
