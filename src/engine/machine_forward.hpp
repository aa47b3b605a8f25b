// Private to the fast evaluator: the exact hardmax forward pass of one sequence in machine
// integers. Every value is a fraction n/d of two __int128 (d >= 1; integers, the common case,
// have d = 1 and cost a few machine instructions per operation), every operation is checked for
// overflow, and the model's numbers must be fractions of __int128 too. Where any value leaves that
// range the pass gives up (returns false) and the caller evaluates that sequence with GMP rationals
// instead: the same exact values either way, never a rounding (tests/machine_forward_test.cpp).
#pragma once

#include "attention_plan.hpp"
#include "feed_forward_plan.hpp"
#include "interpcert/model.hpp"
#include "interpcert/tokens.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace interpcert {

class MachineForward {
 public:
  /// Converts the layers (through their plans: rank-one layers keep their O(n d) form).
  /// usable() is false when a model number is not a fraction of __int128 (a piece of a rank-one
  /// feed-forward layer, held over one common denominator, may be unusable alone: a sequence
  /// whose token lands on it takes the GMP path). It reads those pieces from the plans, in place:
  /// `feed_forward` must outlive this object.
  MachineForward(const Model& model, const std::vector<AttentionPlan>& attention,
                 const std::vector<FeedForwardPlan>& feed_forward);
  ~MachineForward();
  bool usable() const { return usable_; }
  /// The exact final tokens of the sequence `input` at `positions`, into `out` (resized): true;
  /// false (out untouched) when a value left the machine range, an input number is not a
  /// fraction of __int128, or the model is not usable(). Thread-safe (const; scratch space is per thread).
  bool run(const Tokens& input, const std::vector<std::size_t>& positions, std::vector<Vec>& out) const;

 private:
  struct Layer;
  bool usable_ = true;
  bool causal_ = false;
  std::size_t d_ = 0;
  std::vector<Layer> layers_;
};

}  // namespace interpcert
