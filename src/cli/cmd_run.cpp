#include "commands.hpp"
#include "format_util.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/sha256.hpp"
#include "interpcert/softmax_eval.hpp"

#include <chrono>
#include <optional>
#include <iostream>

namespace interpcert::cli {

Runner add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a transformer on a dataset and say whether it interpolates it exactly.");
  cmd->footer(
      "Hardmax models are evaluated exactly in rational arithmetic. Exit 0 iff every output token\n"
      "equals its target exactly; 1 otherwise (the first mismatch is printed); 2 on invalid input.");
  struct Opts {
    std::string model, dataset, evaluator = "fast", epsilon;
    unsigned threads = 0;
    long precision = 256;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("MODEL", o->model, "model file (interpcert-model JSON)")->required();
  cmd->add_option("DATASET", o->dataset, "dataset file (interpcert-dataset JSON)")->required();
  cmd->add_option("--evaluator", o->evaluator, "fast (structure-exploiting) or reference (plain formulas); both exact")
      ->check(CLI::IsMember({"fast", "reference"}));
  cmd->add_option("--threads", o->threads, "worker threads (0 = all cores)");
  cmd->add_option("--epsilon", o->epsilon, "softmax: exit 0 iff the certified bound is <= this (exact rational)");
  cmd->add_option("--precision", o->precision, "softmax: working precision in bits (default 256)")
      ->check(CLI::Range(16L, 1L << 20));
  return [o] {
    Model model = model_load(o->model);
    Dataset ds = dataset_load(o->dataset);
    if (model.d != ds.d)
      throw InputError(o->model, "/d", "model has d = " + std::to_string(model.d) + " but dataset " + o->dataset +
                                           " has d = " + std::to_string(ds.d));
    if (model.attention == AttentionKind::Softmax) {
      std::optional<Rational> eps;
      if (!o->epsilon.empty()) {
        std::string why;
        eps = rational_parse(o->epsilon, &why);
        if (!eps || *eps < 0) throw InputError("--epsilon", "", "expected a nonnegative rational: " + why);
      }
      auto t0 = std::chrono::steady_clock::now();
      SoftmaxBound b = certify_softmax_error(model, ds, o->precision, o->threads);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cout << "model: " << o->model << " (" << model.blocks.size() << " blocks, softmax, beta = "
                << rational_to_string(*model.beta) << ")\n"
                << "dataset: " << o->dataset << " (" << ds.sequences.size() << " sequences, " << ds.total_outputs()
                << " output tokens)\n"
                << "evaluation: ball arithmetic (Arb), " << b.precision << " bits, every rounding outward, " << secs
                << " s\n";
      if (!b.finite) {
        std::cout << "result: NO BOUND: an enclosure is unbounded at this precision (try --precision)\n";
        return static_cast<int>(kExitRefuted);
      }
      std::cout << "certified bound: max |output - target| <= " << rational_to_string(b.bound) << " (~"
                << b.bound.convert_to<double>() << "; rigorous upper bound, rounded up to 3 digits)\n";
      if (eps) {
        bool ok = b.bound <= *eps;
        std::cout << "result: " << (ok ? "WITHIN" : "NOT CERTIFIED WITHIN") << " epsilon = " << rational_to_string(*eps)
                  << "\n";
        return static_cast<int>(ok ? kExitOk : kExitRefuted);
      }
      return static_cast<int>(kExitOk);
    }
    auto t0 = std::chrono::steady_clock::now();
    auto which = o->evaluator == "fast" ? Evaluator::Fast : Evaluator::Reference;
    InterpolationCheck verdict = check_interpolation(model, ds, which, o->threads);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "model: " << o->model << " (" << model.blocks.size() << " blocks, hardmax)\n"
              << "dataset: " << o->dataset << " (" << ds.sequences.size() << " sequences, " << ds.total_tokens()
              << " tokens, " << ds.total_outputs() << " output tokens)\n"
              << "evaluator: " << o->evaluator << ", exact rational arithmetic, " << secs << " s\n";
    const auto& bad = verdict.first;
    if (!bad) {
      std::cout << "result: EXACT INTERPOLATION: all " << ds.total_outputs()
                << " output tokens equal their targets (checked exactly)\n";
      return static_cast<int>(kExitOk);
    }
    std::cout << "result: NOT INTERPOLATED: " << verdict.mismatches << " of " << ds.total_outputs()
              << " output tokens differ from their targets (checked exactly)\n"
              << "first mismatch: sequence " << bad->sequence << ", target " << bad->target_index << " at position "
              << bad->position << ": value " << vec_text(bad->value) << " != target " << vec_text(bad->target)
              << "\n";
    return static_cast<int>(kExitRefuted);
  };
}

Runner add_digest_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("digest", "Print the canonical text or SHA-256 digest of a dataset or model file.");
  struct Opts {
    std::string file;
    bool text = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("FILE", o->file, "dataset or model file")->required();
  cmd->add_flag("--text", o->text, "print the canonical text instead of its digest");
  return [o] {
    JsonDocument doc = json_load(o->file);
    JsonNode root = JsonNode::root_of(doc);
    std::string fmt = root.at("format").string();
    std::string text;
    if (fmt == "interpcert-dataset") text = dataset_canonical_text(dataset_from_json(root));
    else if (fmt == "interpcert-model") text = model_canonical_text(model_from_json(root));
    else root.at("format").fail("expected \"interpcert-dataset\" or \"interpcert-model\"");
    if (o->text) std::cout << text;
    else std::cout << sha256_hex(text) << "  " << o->file << "\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace interpcert::cli
