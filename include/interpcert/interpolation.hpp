// Running a model on a dataset and comparing every output token with its target, exactly.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

#include <optional>
#include <vector>

namespace interpcert {

enum class Evaluator { Reference, Fast };

/// The final tokens of every sequence of the dataset (exact; hardmax only).
/// The reference evaluator also runs sequences in parallel (threads = 0: all cores).
std::vector<std::vector<Vec>> evaluate_dataset(const Model& model, const Dataset& ds, Evaluator which,
                                               unsigned threads = 0);

/// An output token that differs from its target.
struct Mismatch {
  std::size_t sequence = 0, target_index = 0, position = 0;
  Vec value, target;
};

/// The first mismatch in (sequence, target) order, or nullopt when every output token equals its
/// target exactly.
std::optional<Mismatch> first_mismatch(const Dataset& ds, const std::vector<std::vector<Vec>>& final_tokens);

/// The outcome of running a model on every sequence and comparing with the targets.
struct InterpolationCheck {
  std::optional<Mismatch> first;  ///< nullopt: every output token equals its target exactly
  std::size_t mismatches = 0;
};

/// Runs the model on the dataset in batches of sequences (so only one batch of token states
/// is held at a time) and compares every output token with its target, exactly.
InterpolationCheck check_interpolation(const Model& model, const Dataset& ds, Evaluator which, unsigned threads = 0);

/// A rough count of the exact operations the reference evaluator would do (to decide whether it
/// is affordable): sum over sequences of L * (n^2 h + n d^2 + n w d).
double reference_cost_estimate(const Model& model, const Dataset& ds);

}  // namespace interpcert
