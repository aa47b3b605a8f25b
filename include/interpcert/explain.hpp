// Teaching mode: the proof of proofs/theorem.md walked through on the user's own dataset. Every
// step has a stable name (`translate`, `code:2`, `hats`, ...), says its lemma and where it sits in
// the paper's plan, shows the state (every token before and after its layers, the weights, the
// leaders, the hat windows), and ends with an exact check of exactly the statement it printed,
// computed from the model's actual layer-by-layer trajectory (not the construction's bookkeeping).
#pragma once

#include "interpcert/dataset.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace interpcert {

/// What the page draws for a step. Coordinates are doubles in the plane (X, Y) = (k.z, w.z) (or
/// (z_1, z_2) when there is no key direction): they draw pictures and never carry a claim.
struct StepFigure {
  std::size_t frame_from = 0, frame_to = 0;  ///< the layer boundaries the step spans
  std::vector<std::size_t> focus;            ///< drawn tokens the step is about (labelled)
  std::vector<std::pair<std::size_t, std::size_t>> attention;  ///< leader -> token (drawn tokens)
  struct Band {  ///< a hat window {lo < a X + b Y < hi}
    double a, b, lo, hi;
    std::string label;
    double px = 0, py = 0;    ///< the point the window moves (at its centre)
    bool has_setter = false;  ///< the nearest other point, which sets the window's delta
    double sx = 0, sy = 0;
  };
  std::vector<Band> bands;
  struct Mark {  ///< a target
    double x, y;
    std::string label;
  };
  std::vector<Mark> marks;
};

struct ExplainStep {
  std::string id;      ///< stable name for --step: "translate", "code:2", "promote:0", "hats", ...
  std::string title;   ///< "Key direction (Lemma 1)"
  std::string lemma;   ///< the lemma in one or two sentences
  std::string plan;    ///< where the step sits in the paper's plan (or empty)
  std::string here;    ///< what was chosen for this dataset, and the state
  bool has_check = false;
  bool check_holds = false;
  std::string check;   ///< what was checked, exactly, and the result
  std::string check_kind = "exact";  ///< "exact" (rationals) or "rigorous, ball arithmetic"
  StepFigure figure;
};

/// The tokens the page draws (one representative sequence per context) and their states.
struct ExplainDrawing {
  struct Token {
    std::size_t context, sequence, position;
    std::string label;   ///< the input token, exact
    std::string target;  ///< its target when it is an output position, else empty
  };
  std::vector<Token> tokens;
  struct Frame {
    std::string label;            ///< "input", "after block 1 attention", ...
    std::vector<double> x, y;     ///< per token
    std::vector<std::string> z;   ///< per token: the exact state
  };
  std::vector<Frame> frames;
  std::string x_label, y_label;
  struct Row {  ///< one requirement: sequence, position, input token -> target
    std::size_t sequence, position, context;
    std::string input, target;
    std::size_t token;  ///< the drawn token (SIZE_MAX: its context is not drawn)
  };
  std::vector<Row> rows;
  std::vector<std::vector<std::size_t>> sequences_of_context;
  std::size_t contexts_total = 0;  ///< contexts drawn = sequences_of_context.size() (may be fewer)
};

struct Explanation {
  std::string header;              ///< the theorem and the dataset in brief
  std::vector<ExplainStep> steps;
  std::string conclusion;
  ExplainDrawing drawing;
  bool theorem_applies = false;
  bool all_checks_hold = true;
  int exit_status = 0;             ///< as `check`: 0 applies, 1 impossible, 3 outside
};

struct ExplainOptions {
  std::size_t max_ff_width = 0;  ///< as construct
  std::size_t max_listed = 12;   ///< list at most this many items (rows, hats, contexts) per step
  std::optional<Rational> softmax_beta;  ///< add the softmax walk-through at this beta
};

/// Builds the walk-through (runs preconditions, the construction and the checks).
Explanation explain_dataset(const Dataset& ds, const std::string& name, const ExplainOptions& opt = {});

/// The steps whose id is `name`, or starts with `name` + ":" (so "code" selects every code layer);
/// a number N selects the N-th step (1-based). Empty when nothing matches.
std::vector<std::size_t> find_steps(const Explanation& ex, const std::string& name);

/// One step as text (as `interpcert explain` prints it).
std::string step_text(const ExplainStep& s, std::size_t number);

/// One self-contained HTML page (no network access): a slider over the steps, the figure drawn in
/// the browser from the embedded states (JSON), the step's text beside it.
std::string explanation_html(const Explanation& ex, const std::string& name);

}  // namespace interpcert
