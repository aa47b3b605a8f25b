// Teaching mode: the proof of proofs/theorem.md walked through on the user's own dataset. Every
// step says its lemma, what was chosen here, and the result of an exact check of the lemma's claim
// on this data (computed from the model's actual layer-by-layer trajectory, not from the
// construction's bookkeeping).
#pragma once

#include "interpcert/dataset.hpp"

#include <string>
#include <vector>

namespace interpcert {

struct ExplainStep {
  std::string title;   ///< "Key direction"
  std::string lemma;   ///< the lemma in one or two sentences
  std::string here;    ///< what was chosen for this dataset
  bool has_check = false;
  bool check_holds = false;
  std::string check;   ///< what was checked, exactly, and the result
  std::string svg;     ///< a figure (inline SVG), or empty
};

struct Explanation {
  std::string header;              ///< the theorem and the dataset in brief
  std::vector<ExplainStep> steps;
  std::string conclusion;
  bool theorem_applies = false;
  bool all_checks_hold = true;
  int exit_status = 0;             ///< as `check`: 0 applies, 1 impossible, 3 outside
};

struct ExplainOptions {
  std::size_t max_ff_width = 0;  ///< as construct
  std::size_t max_listed = 12;   ///< list at most this many items (contexts, hats) per step
  bool causal = false;           ///< as construct --causal
};

/// Builds the walk-through (runs preconditions, the construction and the checks).
Explanation explain_dataset(const Dataset& ds, const std::string& name, const ExplainOptions& opt = {});

/// One self-contained HTML page with the steps and their figures (no network access needed).
std::string explanation_html(const Explanation& ex, const std::string& name);

}  // namespace interpcert
