#include "commands.hpp"
#include "interpcert/text_util.hpp"
#include "phase_times.hpp"
#include "pipeline.hpp"
#include "interpcert/float_bound.hpp"

#include "interpcert/errors.hpp"

#include <unistd.h>

#include <chrono>
#include <future>
#include <iostream>
#include <sstream>

namespace interpcert::cli {
namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
// Below this many exact operations the plain reference evaluator is affordable (seconds).
constexpr double kReferenceBudget = 2e7;
}  // namespace

std::string dataset_summary(const Dataset& ds) {
  return "N = " + count_of(ds.sequences.size(), "sequence") + ", d = " + std::to_string(ds.d) +
         ", sum m_j = " + std::to_string(ds.total_outputs()) + ", " + count_of(ds.total_tokens(), "token");
}

Rational rational_option(const std::string& option, const std::string& text, bool allow_zero) {
  std::string why;
  auto q = rational_parse(text, &why);
  if (!q) throw InputError(option, "", "expected an exact rational (\"p/q\", \"p\" or a decimal), got \"" + clip_for_message(text) + "\": " + why);
  if (allow_zero ? *q < 0 : *q <= 0)
    throw InputError(option, "", std::string("expected a ") + (allow_zero ? "nonnegative" : "positive") +
                                     " rational, got \"" + clip_for_message(text) + "\"");
  return *q;
}

void add_pipeline_options(Command cmd, PipelineOptions& opt) {
  cmd.option("--max-ff-width", opt.construct.max_ff_width,
             "cap on ReLU neurons per feed-forward layer (0 = no cap; >= 3; 4 = the authors' shape)");
  cmd.option("--verify", opt.verify,
             "exact evaluator that verifies the model: reference, fast (proved equal by differential tests), "
             "or auto (reference when affordable)")
      .one_of({"auto", "reference", "fast"});
  cmd.option("--threads", opt.threads, "worker threads (0 = all cores)");
  cmd.flag("--causal", opt.construct.causal,
           "causal (decoder-only) attention: position i attends to 0 ... i (proofs/repeated-and-causal.md)");
  cmd.flag("-q,--quiet", opt.quiet, "print only the summary lines");
  cmd.option("--for-float", opt.for_float,
             "make the construction's free choices for this IEEE format (small-integer directions, integer "
             "lambdas, flat-top hats with power-of-two windows: a float evaluation is then exact where the "
             "numbers fit) and report the precision needed before and after (proofs/float-construction.md)")
      .one_of({"binary64", "binary32"});
}

std::optional<BuiltModel> build_and_verify(const Dataset& ds, const std::string& dataset_file,
                                           const PipelineOptions& opt, std::ostream& out, int& exit_status) {
  BuiltModel b;
  // -q: only the verdicts and failures reach `out`; the report of each step goes nowhere.
  std::ostringstream discarded;
  std::ostream& os = opt.quiet ? discarded : out;
  os << "dataset: " << dataset_file << " (" << dataset_summary(ds) << ")\n";
  b.preconditions = check_preconditions(ds, opt.construct.causal);
  phase_done("preconditions");
  const Applicability verdict0 = b.preconditions.verdict();
  if (verdict0 != Applicability::Applies && verdict0 != Applicability::Extended) {
    os << "preconditions (exact):\n";
    print_precondition_report(b.preconditions, os);
    exit_status = verdict_exit_status(b.preconditions, out);
    out << "no model built.\n";
    return std::nullopt;
  }
  if (verdict0 == Applicability::Applies) {
    os << "preconditions: H1-H4 hold (decided exactly); no obstruction.\n";
  } else {
    os << "preconditions (exact):\n";
    print_precondition_report(b.preconditions, os);
    os << "  no obstruction: interpolable by proofs/repeated-and-causal.md, Theorem "
       << (opt.construct.causal ? "2 (causal)" : "1") << ".\n";
  }
  std::optional<FloatFormat> ffmt;
  if (!opt.for_float.empty()) {
    ffmt = float_format(opt.for_float);
    if (auto why = float_data_obstruction(ds, *ffmt, opt.construct.causal)) {
      os << "IMPOSSIBLE in " << ffmt->name << ": " << *why
         << "; no model evaluated in this format can interpolate the dataset. No model built.\n";
      exit_status = kExitRefuted;
      return std::nullopt;
    }
  }
  ConstructOptions copt = opt.construct;
  copt.for_float = copt.for_float || ffmt.has_value();
  if (ffmt) copt.float_bits = ffmt->p;
  auto t0 = std::chrono::steady_clock::now();
  b.construction = construct_model(ds, copt, b.preconditions);
  b.construct_seconds = since(t0);
  phase_done("construct");
  // The model's statistics (one pass over every parameter, on one thread) are computed beside the
  // verification, which leaves the second core idle for much of its time; both only read the model.
  // Printed after it, in the same order as ever.
  std::future<ModelStats> stats_later =
      std::async(opt.threads == 1 ? std::launch::deferred : std::launch::async | std::launch::deferred,
                 [&m = b.construction.model] { return model_stats(m); });
  Evaluator which = Evaluator::Fast;
  if (opt.verify == "reference" ||
      (opt.verify == "auto" && reference_cost_estimate(b.construction.model, ds) <= kReferenceBudget))
    which = Evaluator::Reference;
  b.evaluator = which == Evaluator::Reference ? "reference" : "fast";
  t0 = std::chrono::steady_clock::now();
  InterpolationCheck verdict = check_interpolation(b.construction.model, ds, which, opt.threads);
  b.verify_seconds = since(t0);
  phase_done("verify");
  b.stats = stats_later.get();
  phase_done("model stats (wait)");
  const ConstructionTrace& tr = b.construction.trace;
  os << "construction (exact rational arithmetic, " << b.construct_seconds << " s):\n";
  if (tr.extended) {
    os << "  " << (tr.causal ? "causal " : "") << "refinement rounds (feed-forward + uniform attention): "
       << tr.refinement.size() << "\n";
    for (std::size_t r = 0; r < tr.refinement.size(); ++r) {
      const RefinementRound& rr = tr.refinement[r];
      os << "    round " << r + 1 << ": " << rr.thresholds << " threshold neuron(s), a = (1, t, ...) with t = "
         << rr.direction_t << ", coefficients t^k with t = " << rr.t << ", eps = " << rational_to_string(rr.epsilon)
         << ", lambda = " << rational_to_string(rr.lambda) << " -> " << rr.points_after << " distinct points\n";
    }
    os << "  requirement points: " << tr.requirements << "\n";
  } else if (tr.uses_attention) {
    os << (copt.for_float ? "  key direction k = " + vec_text(tr.k) + " (small-integer, for floating point" +
                                (tr.key_per_context ? "; distinct projections within each context" : "") + ")"
                          : "  key direction k = (1, t, t^2, ...) with t = " + std::to_string(tr.key_t))
       << ", w = " << vec_text(tr.w) << "\n"
       << "  translation: " << (tr.translation == 0 ? std::string("not needed (k.z >= 1 already)")
                                                    : "every token moved by " + rational_to_string(tr.translation) + " k")
       << "\n"
       << "  code layers: " << tr.rounds.size() << ", promotions: " << tr.promotions.size() << " in "
       << tr.rounds.size() - 1 << " rounds, contexts: " << tr.contexts.size() << "\n";
  } else {
    os << "  attention not needed: no token must reach two different targets, so hats alone interpolate\n";
  }
  if (copt.for_float && !tr.extended)
    os << "  interpolation hats: " << tr.hats.size() << " flat-top, dyadic windows (u = " << vec_text(tr.u) << ")\n";
  else
    os << "  interpolation hats: " << tr.hats.size() << " (u = (1, s, s^2, ...) with s = " << tr.interpolation_s
       << ")\n";
  if (tr.snap_blocks)
    os << "  rescale: short decimals, scaled by s = " << rational_to_string(tr.snap_scale)
       << " onto an integer grid: " << tr.snap_blocks << " blocks rescale to an integer grid for floating point"
       << " (first s z + C, C = 1.5 2^" << copt.float_bits - 1
       << ": one rounding snaps it to the integer s x + C exactly; then z - C; last z / s)\n";
  else if (!tr.snap_refused.empty())
    os << "  no rescale prefix: " << tr.snap_refused << "\n";
  if (tr.snap_blocks)
    os << "  blocks L = " << b.stats.blocks << "   [guarantee sum m_j + N + " << tr.snap_blocks << " = "
       << construction_block_bound(ds) + tr.snap_blocks << " with the rescale blocks; paper's hardmax bound 2 sum m_j + 2N + 1 = "
       << paper_hardmax_block_bound(ds) << "]\n";
  else if (tr.extended)
    os << "  blocks L = " << b.stats.blocks << "   [guarantee " << (tr.causal ? 4 : 2)
       << " (proofs/repeated-and-causal.md); the paper gives none here]\n";
  else
    os << "  blocks L = " << b.stats.blocks << "   [guarantee sum m_j + N = " << construction_block_bound(ds)
       << "; paper's hardmax bound 2 sum m_j + 2N + 1 = " << paper_hardmax_block_bound(ds) << "]\n";
  os
     << "  parameters P = " << b.stats.parameters << ", widest feed-forward layer: " << b.stats.max_ff_width
     << " neurons, attention: " << b.stats.max_heads << " head(s), rank(Q^T K) <= " << b.stats.max_score_rank
     << ", rank(V) <= " << b.stats.max_value_rank << "\n"
     << "  |theta|^2 = " << rational_short(b.stats.squared_norm)
     << " (exact; so min J_eps <= eps |theta|^2 for the Tikhonov objective)\n";

  if (auto& bad = verdict.first) {
    out << "verification FAILED (" << b.evaluator << " evaluator, exact): sequence " << bad->sequence << ", position "
       << bad->position << ": " << vec_text(bad->value) << " != target " << vec_text(bad->target) << "\n"
       << "This is a bug in the construction; the model was not written. Please report it with the dataset.\n";
    exit_status = kExitRefuted;
    return std::nullopt;
  }
  os << "verification: "
     << (ds.total_outputs() == 1 ? std::string("the one output token equals its target")
                                 : "all " + std::to_string(ds.total_outputs()) + " output tokens equal their targets")
     << " (" << b.evaluator
     << " evaluator, exact rational arithmetic, " << b.verify_seconds << " s)\n";
  if (ffmt) {
    // Before: the plain construction; after: the float construction (proofs/float-construction.md).
    ConstructOptions plain_options = opt.construct;
    plain_options.for_float = false;
    Model before = construct_model(ds, plain_options, b.preconditions).model;
    const Rational eps = ffmt->p == 53 ? Rational(1, 1000000) : Rational(1, 100);
    os << "for " << ffmt->name << " (relative epsilon " << rational_to_string(eps)
       << " * max(1, |target|); bounds with outward rounding, proofs/float-bound.md):\n";
    // Progress of these analyses (each a pass over every sequence and block; a dozen of them for the
    // precision search: minutes on 10^4 tokens) on stderr, only when stderr is a terminal and
    // without -q: redirected output stays exactly what it was.
    const bool progress = !opt.quiet && isatty(STDERR_FILENO);
    for (int k = 0; k < 2; ++k) {
      const Model& m = k ? b.construction.model : before;
      const char* label = k ? "float construction" : "plain construction";
      auto t_probe = std::chrono::steady_clock::now();
      if (progress) std::cerr << "  [" << label << ": bound in " << ffmt->name << " ...]\n";
      FloatBound fb = float_error_bound(m, ds, *ffmt, ffmt->p, opt.threads);
      if (fb.status == FloatBound::Status::Unsupported) {  // causal models: no analysis, say so once
        os << "  not analysed: " << fb.why << "\n";
        break;
      }
      if (progress) {
        std::cerr << "  [" << label << ": bound computed, " << since(t_probe) << " s; searching the precision needed]\n";
        t_probe = std::chrono::steady_clock::now();
      }
      auto probe = [&](long bits, bool yes) {
        if (!progress) return;
        std::cerr << "  [" << label << ": " << bits << " bits " << (yes ? "certify" : "do not certify") << ", "
                  << since(t_probe) << " s]\n";
        t_probe = std::chrono::steady_clock::now();
      };
      PrecisionNeeded need = float_precision_needed(m, ds, *ffmt, eps, true, opt.threads, 1024, 2, &fb, probe);
      os << "  " << (k ? "after  (float construction)" : "before (plain construction)") << ": precision needed "
         << (need.bits ? std::to_string(*need.bits) + " bits" : std::string("> 1024 bits")) << "; in " << ffmt->name
         << ": " << (fb.ok() ? "relative bound " + rational_approx(fb.relative) : "NOT CERTIFIED (" + fb.why + ")")
         << "\n";
    }
  }
  exit_status = kExitOk;
  return b;
}

}  // namespace interpcert::cli
