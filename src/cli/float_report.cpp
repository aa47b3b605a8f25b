#include "float_report.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/softmax_eval.hpp"
#include "interpcert/text_util.hpp"

#include <chrono>
#include <ostream>

namespace interpcert::cli {

namespace {

std::string bound_text(const Rational& b) {
  Rational r = round_up_3_digits(b);
  return rational_to_string(r) + " (" + rational_approx(r) + ")";
}

}  // namespace

int run_float(const Model& model, const Dataset& ds, const std::string& model_file, const std::string& dataset_file,
              const FloatFormat& f, const std::optional<Rational>& eps, bool relative, long exp_ulps, unsigned threads,
              std::ostream& os, FloatBound* result) {
  const bool softmax = model.attention == AttentionKind::Softmax;
  os << "model: " << model_file << " (" << count_of(model.blocks.size(), "block") << ", "
     << (softmax ? "softmax" : "hardmax") << ")\n"
     << "dataset: " << dataset_file << " (" << count_of(ds.sequences.size(), "sequence") << ", "
     << count_of(ds.total_outputs(), "output token") << ")\n"
     << "float: " << f.name << " (p = " << f.p << " bits, normal exponents " << f.emin << ".." << f.emax
     << ", subnormals), round to nearest; the model's numbers and the inputs rounded to the format first\n"
     << (softmax ? "covers: every summation order, with or without FMA; softmax stabilised by the row maximum of the "
                   "scaled scores (beta s or s / fl(1/beta)), weights divided one by one or the sum divided at the end "
                   "(proofs/float-bound.md)\n"
                 : "covers: every summation order, with or without FMA, hardmax selections as in proofs/formats-v1.md "
                   "(proofs/float-bound.md)\n");
  if (softmax) os << "assuming exp is accurate to " << exp_ulps << " ulps (--exp-ulps " << exp_ulps << ")\n";
  else os << "exp: not used (hardmax attention)\n";
  auto t0 = std::chrono::steady_clock::now();
  FloatBound b = float_error_bound(model, ds, f, f.p, threads, exp_ulps);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (result) *result = b;
  os << "bound computed with outward rounding (" << (softmax ? "Arb balls" : "MPFR, every rounding upward") << "), "
     << secs << " s\n";
  if (!b.ok()) {
    const char* what = b.status == FloatBound::Status::Unstable   ? "UNSTABLE SELECTION"
                       : b.status == FloatBound::Status::Overflow ? "POSSIBLE OVERFLOW"
                                                                   : "NOT SUPPORTED";
    os << "result: NOT CERTIFIED in " << f.name << ": " << what << ": " << b.why << "\n";
  } else if (softmax) {
    // The exact softmax model (real arithmetic, no rounding), for comparison: its certified bound.
    SoftmaxBound exact = certify_softmax_error(model, ds, 2 * f.p + 64, threads);
    os << "exact-arithmetic softmax error: max |output - target| <= "
       << (exact.finite ? bound_text(exact.bound) : std::string("(no finite enclosure)"))
       << " (rigorous, Arb, no float rounding)\n"
       << "certified: max |fl(output) - target| <= " << bound_text(b.bound) << " (rigorous, rounded up to 3 digits)\n"
       << "certified relative: max over output tokens of error / max(1, |target|_inf) <= " << bound_text(b.relative)
       << "\n";
  } else {
    os << "exact model error: max |exact output - target| = " << rational_short(b.exact_error) << " (exact)\n"
       << "certified: max |fl(output) - target| <= " << bound_text(b.bound) << " (rigorous, rounded up to 3 digits)\n"
       << "certified relative: max over output tokens of error / max(1, |target|_inf) <= " << bound_text(b.relative)
       << "\n";
  }
  if (!eps) return b.ok() ? static_cast<int>(kExitOk) : static_cast<int>(kExitRefuted);
  PrecisionNeeded need = float_precision_needed(model, ds, f, *eps, relative, threads, 4096, exp_ulps, &b);
  os << "precision needed for epsilon = " << rational_to_string(*eps) << (relative ? " (relative)" : "") << ": ";
  if (need.bits)
    os << "needs " << *need.bits << " bits: " << f.name << " (" << f.p << ") is "
       << (*need.bits <= f.p ? "enough" : "not enough") << "\n";
  else
    os << "no precision up to " << need.max_bits << " bits certifies it (" << need.why_not << ")\n";
  bool ok = b.ok() && (relative ? b.relative : b.bound) <= *eps;
  os << "result: " << (ok ? "CERTIFIED WITHIN" : "NOT CERTIFIED WITHIN") << " epsilon = " << rational_to_string(*eps)
     << (relative ? " (relative)" : "") << " in " << f.name << "\n";
  return ok ? static_cast<int>(kExitOk) : static_cast<int>(kExitRefuted);
}

}  // namespace interpcert::cli
