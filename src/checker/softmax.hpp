// The checker's own certified softmax evaluation (MPFI intervals: a different library and code
// from the producer's Arb balls). Every interval contains the true real value.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

#include <cstddef>

namespace interpcert::checker {

/// An exact rational upper bound on max |output - target| over the output coordinates of the
/// sequences j with j % shards == shard, by interval evaluation at `precision` bits. `finite`
/// is false if some interval was unbounded.
Rational softmax_error_bound(const Model& m, const Dataset& ds, long precision, unsigned threads, std::size_t shard,
                             std::size_t shards, bool& finite);

}  // namespace interpcert::checker
