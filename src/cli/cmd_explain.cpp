#include "commands.hpp"
#include "pipeline.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/explain.hpp"

#include <iostream>

namespace interpcert::cli {

Runner add_explain_command(CommandLine& app) {
  Command cmd = app.subcommand("explain", "Walk through the proof of the theorem, step by step, on a dataset.");
  cmd.footer(
      "First the requirement table (sequence, position, input token -> target), then one step per lemma:\n"
      "the lemma, where it sits in the paper's plan, what was chosen here (k, w, lambda, leaders, codes,\n"
      "conflicts, promotions, hats, each window's delta and the point that sets it, the layer's weights),\n"
      "every token's state before and after, and the exact check of what the step printed. Steps have\n"
      "names: --list-steps shows them; --step translate, --step code:1, --step code (every code layer),\n"
      "--step hats. --softmax --beta B adds the softmax walk-through: the a-priori bound's terms on this\n"
      "dataset beside the certified bound. --causal: causal (decoder-only) attention, one extra step.\n"
      "--html writes one self-contained page to step through (slider,\n"
      "arrow keys), with figures in the plane (k.z, w.z). The proof is in proofs/theorem.md.\n"
      "Exit status as `check` (0 interpolable, 1 impossible, 2 invalid input or unknown step).");
  struct Opts {
    std::string dataset, html, step, beta;
    bool list = false, softmax = false;
    ExplainOptions ex;
  };
  auto o = std::make_shared<Opts>();
  cmd.option("DATASET", o->dataset, "dataset file (interpcert-dataset JSON)").required();
  cmd.option("--step", o->step, "show only this step: a name from --list-steps (or a prefix before ':')");
  cmd.flag("--list-steps", o->list, "list the steps' names and titles, then stop");
  cmd.option("--html", o->html, "also write a self-contained HTML page to step through");
  cmd.option("--max-ff-width", o->ex.max_ff_width, "as for construct");
  cmd.option("--max-listed", o->ex.max_listed, "list at most this many items per step (default 12; rows: twice that)");
  cmd.flag("--softmax", o->softmax, "add the softmax walk-through (needs --beta)");
  cmd.option("--beta", o->beta, "with --softmax: the inverse temperature (exact rational)");
  cmd.flag("--causal", o->ex.causal, "causal (decoder-only) attention, as for check and construct");
  return [o] {
    check_output_paths({{"--html", o->html}}, {o->dataset});
    if (o->softmax != !o->beta.empty())
      throw InputError(o->softmax ? "--softmax" : "--beta", "", "--softmax and --beta B go together");
    if (o->softmax) o->ex.softmax_beta = rational_option("--beta", o->beta);
    Dataset ds = dataset_load(o->dataset);
    Explanation ex;
    try {
      ex = explain_dataset(ds, o->dataset, o->ex);
    } catch (const ConstructionError& e) {
      throw InputError(o->dataset, "", e.what());
    }
    if (o->list) {
      for (std::size_t i = 0; i < ex.steps.size(); ++i)
        std::cout << i + 1 << "  " << ex.steps[i].id << "  " << ex.steps[i].title << "\n";
      return ex.exit_status;
    }
    std::vector<std::size_t> chosen;
    if (!o->step.empty()) {
      chosen = find_steps(ex, o->step);
      if (chosen.empty()) {
        std::string names;
        for (const auto& s : ex.steps) names += (names.empty() ? "" : ", ") + s.id;
        throw InputError("--step", "", "no step \"" + o->step + "\" in this explanation; its steps: " + names);
      }
    } else {
      std::cout << ex.header << "\n";
      for (std::size_t i = 0; i < ex.steps.size(); ++i) chosen.push_back(i);
    }
    for (auto i : chosen) std::cout << step_text(ex.steps[i], i + 1) << "\n";
    if (o->step.empty()) std::cout << ex.conclusion << "\n";
    if (!o->html.empty()) {
      write_file_atomically(o->html, explanation_html(ex, o->dataset));
      std::cout << "wrote " << o->html << "\n";
    }
    return ex.exit_status;
  };
}

}  // namespace interpcert::cli
