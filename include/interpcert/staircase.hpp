// Exactness under softmax (proofs/construction.md, "Softmax"): a final feed-forward layer with eta = 0
// that is a staircase in a generic projection v: constant, equal to each target, on a plateau
// around that target's projection. A token whose enclosure lies inside a plateau leaves this
// layer exactly at the target.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

namespace interpcert {

/// The staircase layer for the dataset's distinct targets: one constant neuron plus two ramp
/// neurons between consecutive targets (2K - 1 neurons for K distinct targets); plateaus of
/// half-width a quarter of the smallest gap between consecutive target projections. Exact.
FeedForward staircase_layer(const Dataset& ds);

/// Given, for one token, the known sign of every neuron of an eta = 0 layer (positive: active,
/// negative or zero: inactive), the layer's output if that affine map is constant: the exact
/// vector sum over active j of W_j b_j, when sum over active j of W_j U_j is the zero matrix;
/// nullopt otherwise. Exact.
std::optional<Vec> constant_output(const FeedForward& ff, const std::vector<bool>& active);

}  // namespace interpcert
