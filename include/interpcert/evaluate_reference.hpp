// The reference evaluator: the hardmax forward pass written straight from proofs/formats-v1.md.
// It is the definition the fast evaluator is tested against; it favours obviousness over speed.
#pragma once

#include "interpcert/model.hpp"

#include <vector>

namespace interpcert {

/// The exact output tokens of a hardmax model on one sequence (scores s_il = <Q z_i, K z_l>,
/// C_i = argmax_l s_il, out_i = rho z_i + (1/|C_i|) sum_{l in C_i} V z_l; then
/// out = eta z + W relu(U z + b)). Throws std::invalid_argument for a softmax model.
std::vector<Vec> evaluate_reference(const Model& model, std::vector<Vec> tokens);

}  // namespace interpcert
