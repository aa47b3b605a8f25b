// The steps `construct` and `certify` share: preconditions, construction, exact verification.
#pragma once

#include "command_line.hpp"

#include "interpcert/construct.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/preconditions.hpp"

#include <iosfwd>
#include <optional>
#include <string>

namespace interpcert::cli {

struct PipelineOptions {
  ConstructOptions construct;
  std::string verify = "auto";  ///< reference | fast | auto (reference when affordable)
  unsigned threads = 0;
  bool quiet = false;  ///< -q: only the verdict, failure and "wrote" lines
  std::string for_float;  ///< "binary64" / "binary32": construct for that format and report the precision needed
};

struct BuiltModel {
  PreconditionReport preconditions;
  Construction construction;
  ModelStats stats;
  std::string evaluator;  ///< which exact evaluator verified it
  double construct_seconds = 0, verify_seconds = 0;
};

/// Checks preconditions, constructs, verifies exactly; prints a report to `os` (with opt.quiet only
/// the verdict and failure lines). On failure returns nullopt and sets `exit_status` (1
/// impossible, 3 outside, 1 failed verification).
std::optional<BuiltModel> build_and_verify(const Dataset& ds, const std::string& dataset_file,
                                           const PipelineOptions& opt, std::ostream& os, int& exit_status);

/// "N = 2 sequences, d = 2, sum m_j = 3, 5 tokens".
std::string dataset_summary(const Dataset& ds);

/// The report of precondition checks (shared with `check`).
void print_precondition_report(const PreconditionReport& rep, std::ostream& os);
int verdict_exit_status(const PreconditionReport& rep, std::ostream& os);

/// An exact rational from a command-line option (as proofs/formats-v1.md numbers); > 0, or >= 0 when
/// `allow_zero`. Throws InputError naming the option.
Rational rational_option(const std::string& option, const std::string& text, bool allow_zero = false);

/// Adds the options shared by construct and certify.
void add_pipeline_options(Command cmd, PipelineOptions& opt);

}  // namespace interpcert::cli
