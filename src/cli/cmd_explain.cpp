#include "commands.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/explain.hpp"

#include <iostream>

namespace interpcert::cli {

Runner add_explain_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("explain", "Walk through the proof of the theorem, step by step, on a dataset.");
  cmd->footer(
      "For each step: the lemma in a sentence or two, what was chosen for this dataset (k, w, lambda,\n"
      "leaders, codes, conflicts, promotions, hats and their windows) and the exact check that confirms\n"
      "the lemma here. The proof itself is in proofs/theorem.md. --html writes one self-contained page\n"
      "with a figure per step (d = 2: the tokens; d > 2: their projection onto the plane of k and w).\n"
      "Exit status as `check` (0 interpolable, 1 impossible, 2 invalid input).");
  struct Opts {
    std::string dataset, html;
    std::size_t step = 0;
    ExplainOptions ex;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("DATASET", o->dataset, "dataset file (interpcert-dataset JSON)")->required();
  cmd->add_option("--step", o->step, "show only step N (1-based)");
  cmd->add_option("--html", o->html, "also write a self-contained HTML page with figures");
  cmd->add_option("--max-ff-width", o->ex.max_ff_width, "as for construct");
  cmd->add_flag("--causal", o->ex.causal, "causal (decoder-only) attention, as for check and construct");
  cmd->add_option("--max-listed", o->ex.max_listed, "list at most this many items per step (default 12)");
  return [o] {
    Dataset ds = dataset_load(o->dataset);
    Explanation ex;
    try {
      ex = explain_dataset(ds, o->dataset, o->ex);
    } catch (const ConstructionError& e) {
      throw InputError(o->dataset, "", e.what());
    }
    if (o->step > ex.steps.size())
      throw InputError(o->dataset, "", "--step " + std::to_string(o->step) + ": this explanation has " +
                                           std::to_string(ex.steps.size()) + " steps");
    if (o->step == 0) std::cout << ex.header << "\n";
    for (std::size_t i = 0; i < ex.steps.size(); ++i) {
      if (o->step && o->step != i + 1) continue;
      const auto& s = ex.steps[i];
      std::cout << "Step " << i + 1 << ". " << s.title << "\n  Lemma: " << s.lemma << "\n  Here:\n" << s.here;
      if (s.has_check) std::cout << "  Check (exact): " << (s.check_holds ? "HOLDS" : "FAILS") << ": " << s.check << "\n";
      std::cout << "\n";
    }
    if (o->step == 0) std::cout << ex.conclusion << "\n";
    if (!o->html.empty()) {
      write_file_atomically(o->html, explanation_html(ex, o->dataset));
      std::cout << "wrote " << o->html << "\n";
    }
    return ex.exit_status;
  };
}

}  // namespace interpcert::cli
