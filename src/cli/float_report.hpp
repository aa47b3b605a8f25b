// The report of `run --float` (and `certify --float`): the certified bound for any IEEE evaluation,
// the precision needed, and the verdict against epsilon.
#pragma once

#include "interpcert/float_bound.hpp"

#include <iosfwd>
#include <optional>
#include <string>

namespace interpcert::cli {

/// Prints the analysis of proofs/float-bound.md for `format` and returns the exit status:
/// 0 iff the bound is <= epsilon (or, without epsilon, iff a bound was certified), 1 otherwise.
/// `result` (optional) receives the analysis at the format's precision.
int run_float(const Model& model, const Dataset& ds, const std::string& model_file, const std::string& dataset_file,
              const FloatFormat& format, const std::optional<Rational>& epsilon, bool relative, long exp_ulps,
              unsigned threads, std::ostream& os, FloatBound* result = nullptr);

}  // namespace interpcert::cli
