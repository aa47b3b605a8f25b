// Private to the construction: hats, the one-bump feed-forward pieces that move one point.
#pragma once

#include "interpcert/model.hpp"

#include <vector>

namespace interpcert {

/// hat(t) = relu(t - t0 + delta) - 2 relu(t - t0) + relu(t - t0 - delta), t = u.z: equal to delta
/// at t0, zero outside (t0 - delta, t0 + delta). The three neurons that add displacement * hat / delta:
/// exactly `displacement` at t = t0, nothing where |t - t0| >= delta.
struct Hat {
  Vec u;
  Rational t0, delta;
  Vec displacement;
};

/// One eta = 1 feed-forward layer holding the given hats side by side (3 neurons each).
FeedForward hats_layer(const std::vector<Hat>& hats);

/// For each of `centers` (sorted-distinct projections not required), the distance to the
/// nearest other value of `all` (a sorted vector of distinct values). Exact.
Rational nearest_gap(const std::vector<Rational>& sorted_all, const Rational& center);

}  // namespace interpcert
