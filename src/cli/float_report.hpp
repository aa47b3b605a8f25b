// The report of `run --float` (and `certify --float`): the certified bound for any IEEE evaluation,
// the precision needed, and the verdict against epsilon.
#pragma once

#include "interpcert/float_bound.hpp"

#include <iosfwd>
#include <optional>
#include <string>

namespace interpcert::cli {

/// `--exp-ulps K` of `run` and `certify`: its range and the reason for K >= 1 (Lemma AV's overflow
/// argument needs it; no library's exp is exact, as e^y is irrational for rational y != 0).
inline constexpr long max_exp_ulps = 1L << 20;
inline constexpr const char* exp_ulps_help =
    "exp assumed accurate to K ulps, K >= 1 (default 2; e^y is irrational for rational y != 0, so no real exp has K = 0)";

/// Prints the analysis of proofs/float-bound.md for `format` and returns the exit status:
/// 0 iff the bound is <= epsilon (or, without epsilon, iff a bound was certified), 1 otherwise.
/// `result` (optional) receives the analysis at the format's precision.
int run_float(const Model& model, const Dataset& ds, const std::string& model_file, const std::string& dataset_file,
              const FloatFormat& format, const std::optional<Rational>& epsilon, bool relative, long exp_ulps,
              unsigned threads, std::ostream& os, FloatBound* result = nullptr);

}  // namespace interpcert::cli
