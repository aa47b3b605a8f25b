#include "commands.hpp"
#include "pipeline.hpp"
#include "float_report.hpp"
#include "interpcert/text_util.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/sha256.hpp"
#include "interpcert/softmax_eval.hpp"
#include "interpcert/atomic_file.hpp"
#include "interpcert/verdict.hpp"

#include <chrono>
#include <optional>
#include <iostream>
#include <set>
#include <sstream>
#include <vector>

namespace interpcert::cli {

Runner add_run_command(CommandLine& app) {
  Command cmd = app.subcommand("run", "Run a transformer on a dataset and say whether it interpolates it exactly.");
  cmd.footer(
      "Hardmax models are evaluated exactly in rational arithmetic: exit 0 iff every output token\n"
      "equals its target exactly, 1 otherwise (the first mismatch is printed, numbered as in the\n"
      "dataset even with --shard).\n"
      "Softmax models are evaluated with certified error bounds (Arb balls, every rounding outward)\n"
      "and the rigorous bound on max |output - target| is printed. With --epsilon E: exit 0 iff the\n"
      "bound is <= E, 1 otherwise. Without --epsilon no verdict is asked: exit 0 once a finite bound\n"
      "is printed, 1 if no finite bound was obtained at this precision.\n"
      "Options for one kind of model are refused (exit 2) on the other. Exit 2 on invalid input.");
  struct Opts {
    std::string model, dataset, evaluator = "fast", epsilon, shard, verdict_out, float_format;
    unsigned threads = 0;
    long exp_ulps = 2;
    bool relative = false;
    long precision = 256;
    bool quiet = false;
  };
  auto o = std::make_shared<Opts>();
  cmd.option("MODEL", o->model, "model file (interpcert-model JSON)").required();
  cmd.option("DATASET", o->dataset, "dataset file (interpcert-dataset JSON)").required();
  cmd.option("--evaluator", o->evaluator, "hardmax: fast (structure-exploiting) or reference (plain formulas); both exact")
      .one_of({"fast", "reference"});
  cmd.option("--threads", o->threads, "worker threads (0 = all cores)");
  cmd.option("--shard", o->shard, "hardmax: verify only sequences j with j mod K = I (I/K); see `merge`");
  cmd.option("--verdict-out", o->verdict_out, "hardmax: also write this run's verdict (JSON) for `merge`");
  cmd.option("--epsilon", o->epsilon, "softmax: exit 0 iff the certified bound is <= this (exact rational)");
  cmd.option("--precision", o->precision, "softmax: working precision in bits (default 256)")
      .range(16L, 1L << 20);
  cmd.flag("-q,--quiet", o->quiet, "print only the result (and the first mismatch)");
  cmd.option("--float", o->float_format,
             "bound the error of ANY IEEE round-to-nearest evaluation in this format (proofs/float-bound.md)")
      .one_of({"binary64", "binary32"});
  cmd.option("--exp-ulps", o->exp_ulps, std::string("--float, softmax: ") + exp_ulps_help)
      .range(1L, max_exp_ulps);
  cmd.flag("--relative", o->relative, "--float: --epsilon is relative, per output token: E * max(1, |target|_inf)");
  return [o, cmd] {
    check_output_paths({{"--verdict-out", o->verdict_out}}, {o->model, o->dataset});
    Model model = model_load(o->model);
    const bool soft = model.attention == AttentionKind::Softmax;
    // An option for the other kind of model would otherwise be silently ignored.
    // (--float bounds a hardmax model's IEEE evaluation, and takes --epsilon.)
    if (o->float_format.empty() && cmd.given("--exp-ulps")) throw InputError("--exp-ulps", "", "needs --float");
    if (!soft && cmd.given("--exp-ulps"))
      throw InputError("--exp-ulps", "", "applies to softmax models only (hardmax evaluation uses no exp), and " +
                                             clip_for_message(o->model) + " is a hardmax model");
    if (soft && !o->float_format.empty() && cmd.given("--precision"))
      throw InputError("--precision", "", "does not apply with --float (the float analysis chooses its own precision)");
    for (const char* opt : soft ? std::vector<const char*>{"--evaluator", "--shard", "--verdict-out"}
                           : !o->float_format.empty() ? std::vector<const char*>{"--precision"}
                                                      : std::vector<const char*>{"--epsilon", "--precision"})
      if (cmd.given(opt))
        throw InputError(opt, "", std::string("applies to ") + (soft ? "hardmax" : "softmax") + " models only, and " +
                                      clip_for_message(o->model) + " is a " + (soft ? "softmax" : "hardmax") + " model");
    std::optional<Rational> eps;
    if (!o->epsilon.empty()) eps = rational_option("--epsilon", o->epsilon, /*allow_zero=*/true);
    std::size_t shard = 0, shards = 1;
    if (!o->shard.empty()) parse_shard(o->shard, shard, shards);
    Dataset ds = dataset_load(o->dataset);
    if (model.d != ds.d)
      throw InputError(o->model, "/d", "model has d = " + std::to_string(model.d) + " but dataset " + o->dataset +
                                           " has d = " + std::to_string(ds.d));
    if (!o->float_format.empty())
      return run_float(model, ds, o->model, o->dataset, *float_format(o->float_format), eps, o->relative,
                       o->exp_ulps, o->threads, std::cout);
    std::ostringstream null_stream;
    std::ostream& detail = o->quiet ? null_stream : std::cout;
    if (soft) {
      auto t0 = std::chrono::steady_clock::now();
      SoftmaxBound b = certify_softmax_error(model, ds, o->precision, o->threads);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      detail << "model: " << o->model << " (" << count_of(model.blocks.size(), "block") << ", softmax, beta = "
             << rational_to_string(*model.beta) << ")\n"
             << "dataset: " << o->dataset << " (" << count_of(ds.sequences.size(), "sequence") << ", "
             << count_of(ds.total_outputs(), "output token") << ")\n"
             << "evaluation: ball arithmetic (Arb), " << b.precision << " bits, every rounding outward, " << secs
             << " s\n";
      if (!b.finite) {
        std::cout << "result: NO BOUND: an enclosure is unbounded at this precision (try --precision)\n";
        return static_cast<int>(kExitRefuted);
      }
      std::cout << "certified bound: max |output - target| <= " << rational_to_string(b.bound) << " (~"
                << b.bound.convert_to<double>() << "; rigorous upper bound, rounded up to 3 digits)\n";
      if (!eps) {
        std::cout << "result: no verdict asked (give --epsilon E to test the bound against E); exit status 0\n";
        return static_cast<int>(kExitOk);
      }
      bool ok = b.bound <= *eps;
      std::cout << "result: " << (ok ? "WITHIN" : "NOT CERTIFIED WITHIN") << " epsilon = " << rational_to_string(*eps)
                << "\n";
      return static_cast<int>(ok ? kExitOk : kExitRefuted);
    }
    // dataset_outputs: the whole dataset's sum m_j (ds becomes the shard's part below).
    ShardVerdict verdict_file{"run", dataset_digest(ds), model_digest(model), shard, shards, 0, false, ds.total_outputs()};
    // The shard's sequences, and their numbers in the whole dataset (messages use those).
    std::vector<std::size_t> global;
    if (shards > 1) {
      Dataset part;
      part.d = ds.d;
      for (std::size_t j = shard; j < ds.sequences.size(); j += shards) {
        part.sequences.push_back(std::move(ds.sequences[j]));
        global.push_back(j);
      }
      ds = std::move(part);
      detail << "shard " << shard << "/" << shards << ": " << count_of(ds.sequences.size(), "sequence")
             << " (those j with j mod " << shards << " = " << shard << "; sequence numbers are the dataset's)\n";
    }
    auto t0 = std::chrono::steady_clock::now();
    auto which = o->evaluator == "fast" ? Evaluator::Fast : Evaluator::Reference;
    InterpolationCheck verdict = check_interpolation(model, ds, which, o->threads);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    detail << "model: " << o->model << " (" << count_of(model.blocks.size(), "block") << ", hardmax)\n"
           << "dataset: " << o->dataset << " (" << count_of(ds.sequences.size(), "sequence") << ", "
           << count_of(ds.total_tokens(), "token") << ", " << count_of(ds.total_outputs(), "output token") << ")\n"
           << "evaluator: " << o->evaluator << ", exact rational arithmetic, " << secs << " s\n";
    const auto& bad = verdict.first;
    verdict_file.outputs = ds.total_outputs();
    verdict_file.verified = !bad;
    if (!o->verdict_out.empty()) write_file_atomically(o->verdict_out, verdict_to_json_text(verdict_file));
    if (!bad) {
      std::cout << "result: EXACT INTERPOLATION: "
                << (ds.total_outputs() == 1 ? std::string("the one output token equals its target")
                                            : "all " + std::to_string(ds.total_outputs()) +
                                                  " output tokens equal their targets")
                << " (checked exactly)\n";
      return static_cast<int>(kExitOk);
    }
    std::size_t j = global.empty() ? bad->sequence : global[bad->sequence];
    std::cout << "result: NOT INTERPOLATED: " << verdict.mismatches << " of "
              << count_of(ds.total_outputs(), "output token") << (verdict.mismatches == 1 ? " differs" : " differ")
              << " from " << (verdict.mismatches == 1 ? "its target" : "their targets") << " (checked exactly)\n"
              << "first mismatch: sequence " << j << ", target " << bad->target_index << " at position "
              << bad->position << ": value " << vec_text(bad->value) << " != target " << vec_text(bad->target)
              << "\n";
    return static_cast<int>(kExitRefuted);
  };
}

Runner add_merge_command(CommandLine& app) {
  Command cmd = app.subcommand("merge", "Combine the verdicts of the K shards of one verification into one.");
  cmd.footer(
      "Each VERDICT comes from `interpcert run --shard I/K --verdict-out F` or `interpcert-check --shard\n"
      "I/K --verdict-out F`. The whole is VERIFIED (exit 0) iff all come from the same tool, dataset and\n"
      "model or certificate, every shard 0..K-1 appears exactly once (so every sequence was in exactly\n"
      "one shard), every shard verified, and the output tokens the shards checked add up to the\n"
      "dataset's sum m_j (each verdict states it as \"dataset_outputs\").\n"
      "Exit 1 otherwise (with the reason); 2 for an unreadable verdict.");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd.option("VERDICT", *files, "verdict files (JSON)").required();
  return [files] {
    std::vector<ShardVerdict> vs;
    for (const auto& f : *files) vs.push_back(verdict_load(f));
    const ShardVerdict& a = vs.front();
    std::set<std::size_t> seen;  // not a vector of K flags: K comes from the file
    std::size_t outputs = 0;
    std::string problem;
    for (std::size_t i = 0; i < vs.size(); ++i) {
      const ShardVerdict& v = vs[i];
      if (v.tool != a.tool || v.dataset != a.dataset || v.subject != a.subject || v.shards != a.shards)
        problem = (*files)[i] + " is about another verification (tool, dataset, subject or K differ)";
      else if (!v.dataset_outputs)
        problem = (*files)[i] + " does not state the dataset's total of output tokens (written by an older "
                                "interpcert?): run that shard again";
      else if (*v.dataset_outputs != *a.dataset_outputs)
        problem = (*files)[i] + " states another total of output tokens for the same dataset";
      else if (!seen.insert(v.shard).second)
        problem = "shard " + std::to_string(v.shard) + " appears twice";
      else if (!v.verified)
        problem = "shard " + std::to_string(v.shard) + " (" + (*files)[i] + ") did not verify";
      if (!problem.empty()) break;
      outputs += v.outputs;
    }
    if (problem.empty())
      for (std::size_t s = 0; s < a.shards; ++s)
        if (!seen.count(s)) {
          problem = "shard " + std::to_string(s) + "/" + std::to_string(a.shards) + " is missing";
          break;
        }
    // Every shard present once covers every sequence once (j belongs to shard j mod K); the outputs
    // each shard counted as it checked them must then add up to the dataset's sum m_j.
    if (problem.empty() && outputs != *a.dataset_outputs)
      problem = "the shards checked " + count_of(outputs, "output token") + " in all, the dataset has " +
                std::to_string(*a.dataset_outputs) + " (sum m_j)";
    if (!problem.empty()) {
      std::cout << "NOT VERIFIED: " << problem << "\n";
      return static_cast<int>(kExitRefuted);
    }
    std::cout << "VERIFIED: " << (a.shards == 1 ? std::string("the one shard") : "all " + std::to_string(a.shards) + " shards")
              << " of `" << a.tool << "` verified, " << count_of(outputs, "output token") << " in all (dataset "
              << a.dataset << ")\n";
    return static_cast<int>(kExitOk);
  };
}

Runner add_digest_command(CommandLine& app) {
  Command cmd = app.subcommand("digest", "Print the canonical text or SHA-256 digest of a dataset or model file.");
  struct Opts {
    std::string file;
    bool text = false;
  };
  auto o = std::make_shared<Opts>();
  cmd.option("FILE", o->file, "dataset or model file").required();
  cmd.flag("--text", o->text, "print the canonical text instead of its digest");
  return [o] {
    JsonDocument doc = json_load(o->file);
    JsonNode root = JsonNode::root_of(doc);
    std::string fmt = root.at("format").string();
    if (fmt != "interpcert-dataset" && fmt != "interpcert-model")
      root.at("format").fail("expected \"interpcert-dataset\" or \"interpcert-model\"");
    // The digest streams the canonical text; only --text builds it whole.
    if (fmt == "interpcert-dataset") {
      if (o->text) std::cout << dataset_canonical_text(dataset_from_json(root));
      else std::cout << dataset_digest_of_json(root) << "  " << o->file << "\n";
    } else {
      Model m = model_from_json(root);
      if (o->text) std::cout << model_canonical_text(m);
      else std::cout << model_digest(m) << "  " << o->file << "\n";
    }
    return static_cast<int>(kExitOk);
  };
}

}  // namespace interpcert::cli
