// The checker's own certified softmax evaluation (MPFI intervals: a different library and code
// from the producer's Arb balls). Every interval contains the true real value.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

#include <mpfi.h>

#include <cstddef>
#include <string>

namespace interpcert::checker {

/// An exact rational upper bound on max |output - target| over the output coordinates of the
/// sequences j with j % shards == shard, by interval evaluation at `precision` bits. `finite`
/// is false if some interval was unbounded.
/// `checked` (if given) receives the number of output tokens enclosed.
Rational softmax_error_bound(const Model& m, const Dataset& ds, long precision, unsigned threads, std::size_t shard,
                             std::size_t shards, bool& finite, std::size_t* checked = nullptr);

/// The upper end of an exact rational bound from an MPFR magnitude `mag` >= 0: exactly mag when
/// its exponent is moderate; 2^-kTinyExponent when mag is smaller (still an upper bound, and no
/// 2^(2^60)-sized denominator); `finite` = false when mag is NaN, infinite or above 2^kHugeExponent
/// (no useful bound, and its exact value would not fit GMP).
inline constexpr long kBoundExponentLimit = 1 << 20;
Rational bound_from_magnitude(mpfr_srcptr mag, bool& finite);

/// relu on an interval, in place: [0, 0] if it is <= 0, itself if >= 0, else [0, right end]. An
/// interval with a NaN endpoint is left as it is (unknown), never turned into 0.
void interval_relu(mpfi_ptr h, long precision);

/// How many output tokens (of the shard) are NOT shown to equal their targets exactly under
/// softmax: the last block must be one feed-forward layer with eta = 0 (else every token fails);
/// on each token's enclosure every neuron of it must have a known sign, and the affine map those
/// signs select must be constant (its linear part exactly zero) and equal to the target, in exact
/// rationals. `first` describes the first failure.
std::size_t softmax_exact_failures(const Model& m, const Dataset& ds, long precision, unsigned threads,
                                   std::size_t shard, std::size_t shards, std::string& first,
                                   std::size_t* checked = nullptr);

}  // namespace interpcert::checker
