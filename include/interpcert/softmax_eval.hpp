// Certified evaluation of softmax transformers: every token coordinate is a ball (Arb) that
// contains the true real value; every rounding is outward. Contract of every function here:
// the output ball contains the exact result for every point of the input balls.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

#include <cstddef>

namespace interpcert {

/// The outcome of a certified softmax run: an exact rational upper bound on max |output -
/// target| over every output coordinate of every sequence (rigorous: outward rounding).
struct SoftmaxBound {
  Rational bound;             ///< exact rational, rounded up to 3 significant digits
  long precision = 0;         ///< working precision in bits
  std::size_t outputs = 0;
  bool finite = true;         ///< false if some enclosure was unbounded
};

/// Runs a softmax model (attention "softmax", its beta) on every sequence in ball arithmetic at
/// `precision` bits and bounds the error against the targets. threads = 0: all cores.
SoftmaxBound certify_softmax_error(const Model& model, const Dataset& ds, long precision, unsigned threads = 0);

/// The outcome of checking exact interpolation under softmax: the model's last block is a
/// feed-forward layer with eta = 0; for every output token, every neuron of that layer has a
/// known sign on the token's whole enclosure, and the resulting affine map is the constant target.
struct SoftmaxExactness {
  bool exact = false;
  std::size_t undecided = 0;  ///< output tokens with a neuron of unknown sign
  std::size_t wrong = 0;      ///< output tokens whose (known) constant output is not the target
  long precision = 0;
};

/// Checks exact interpolation of a softmax model ending in an eta = 0 layer (see staircase.hpp).
/// Throws std::invalid_argument if the model does not end that way.
SoftmaxExactness certify_softmax_exact(const Model& model, const Dataset& ds, long precision, unsigned threads = 0);

/// exp(x) enclosure for a rational x, as an exact rational interval [lo, hi] (for tests).
void softmax_exp_enclosure(const Rational& x, long precision, Rational& lo, Rational& hi);

/// The smallest number m * 10^e with 3 significant digits that is >= x >= 0. Exact.
Rational round_up_3_digits(const Rational& x);

}  // namespace interpcert
