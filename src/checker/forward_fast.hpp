// The checker's optional structured forward pass (interpcert-check --fast): the same outputs as
// forward_hardmax, computed with two shortcuts that are short enough to audit, and tested equal to
// the plain pass on random models (tests/checker_fast_test.cpp). It shares no code with the
// engine's fast evaluator.
#pragma once

#include "interpcert/model.hpp"

#include <memory>
#include <vector>

namespace interpcert::checker {

/// Per-layer structure, computed once per model:
///  - one-head attention: s_il = (q.z_i)(k.z_l), so a token with q.z_i > 0 attends to the tokens of
///    largest k.z, < 0 to those of smallest, = 0 to all;
///  - feed-forward layers whose rows of U are multiples c_j u of one row u: W relu(U z + b) is a
///    piecewise linear function of t = u.z, tabulated as slope and offset between breakpoints.
class StructuredModel {
 public:
  explicit StructuredModel(const Model& m);
  ~StructuredModel();
  std::vector<Vec> forward(std::vector<Vec> z) const;

  struct Layer;  // a tabulated feed-forward layer (forward_fast.cpp)

 private:
  const Model& m_;
  std::vector<std::unique_ptr<Layer>> ff_;  // per block; null: evaluate the plain way
};

}  // namespace interpcert::checker
