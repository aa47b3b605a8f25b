// The checker's own hardmax forward pass (it never uses the engine's evaluators).
#pragma once

#include "interpcert/model.hpp"

#include <vector>

namespace interpcert::checker {

/// The exact output tokens of a hardmax model on one sequence, from the definitions:
/// C_i = argmax_l <Q z_i, K z_l>, out_i = rho z_i + V (mean of z_l over C_i), then
/// out = eta z + W relu(U z + b) per token.
std::vector<Vec> forward_hardmax(const Model& m, std::vector<Vec> z);

}  // namespace interpcert::checker
