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

/// A flat-top hat (trapezoid), 4 neurons: displacement * 2/delta * (relu(t - t0 + delta)
/// - relu(t - t0 + delta/2) - relu(t - t0 - delta/2) + relu(t - t0 - delta)): exactly
/// `displacement` on the plateau |t - t0| <= delta/2, nothing where |t - t0| >= delta.
/// On the plateau two neurons are active and two inactive with margin delta/2, and the active
/// pair's weights are negatives of each other: a float state on the plateau leaves with the
/// input error unamplified (proofs/float-construction.md).
FeedForward trapezoids_layer(const std::vector<Hat>& hats);

/// The float construction's window for a position at projection t0 whose nearest other current
/// projection is `gap` away: a centre c and half-width delta, delta a power of two, with t0 on the
/// plateau (|t0 - c| <= delta/2) and (c - delta, c + delta) inside (t0 - gap, t0 + gap); the centre
/// is t0 itself when t0 is a multiple of delta/2 (integer data), else t0 rounded to one, so that
/// every bias of the layer is a dyadic rational. Exact.
struct DyadicWindow {
  Rational center, delta;
};
DyadicWindow dyadic_window(const Rational& t0, const Rational& gap);

/// The largest power of two <= x (x > 0). Exact.
Rational pow2_at_most(const Rational& x);

/// For each of `centers` (sorted-distinct projections not required), the distance to the
/// nearest other value of `all` (a sorted vector of distinct values). Exact.
Rational nearest_gap(const std::vector<Rational>& sorted_all, const Rational& center);

/// floor(log2 x) for x > 0, and the 2-adic valuation of x != 0 (v2(num) - v2(den)). Exact.
long floor_log2(const Rational& x);
long valuation2(const Rational& x);

/// Lemma E's size of the float construction's flat-top hat (proofs/float-construction.md, "Split
/// hats"): an estimate of the significand bits its feed-forward output needs to be computed
/// exactly, max over coordinates c of log2(Z_c + 4 |W_c| (X + delta)) - q_c, W_c = 2 D_c / delta,
/// q_c = min(vmin, v(W_c) + min(vmin, v(delta/2), v(center))). Z_c: the largest |z_c| of the points,
/// X: the distance from the centre to the farthest point on the hat's far side, vmin: the least
/// 2-adic valuation of the points' coordinates and projections. A heuristic to CHOOSE a split (the
/// float analysis decides what is certified), deterministic.
long hat_bits(const Rational& center, const Rational& delta, const Vec& displacement, const Rational& far,
              const std::vector<Rational>& zmax, long vmin);

}  // namespace interpcert
