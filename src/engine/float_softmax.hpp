// Private to the float analysis: the IEEE analysis of softmax models (proofs/float-bound.md,
// Lemmas T, X, W, FI). Called by float_error_bound for models with softmax attention.
#pragma once

#include "interpcert/float_bound.hpp"

namespace interpcert {

/// Encloses, token by token, every float evaluation of the softmax model (Arb balls widened by
/// each operation's rounding; exp accurate to `exp_ulps` ulps) and bounds |fl(out) - target|.
FloatBound float_softmax_bound(const Model& model, const Dataset& ds, const FloatFormat& format, long p,
                               long exp_ulps, unsigned threads);

}  // namespace interpcert
