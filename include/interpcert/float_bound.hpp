// Certified IEEE-754 evaluation (proofs/float-bound.md): a rigorous upper bound on
// max |fl(output) - target| valid for EVERY round-to-nearest evaluation of a model in a binary
// floating-point format (any summation order, with or without FMA; the model's numbers and the
// inputs first rounded to the format), underflow accounted, overflow ruled out.
// Every bound is computed with MPFR rounding upward (never a plain double); exact values come from
// exact rational evaluation of the model as written.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace interpcert {

/// A binary format: p significand bits (with the hidden bit), normal exponents emin..emax
/// (x = m 2^e, 1 <= m < 2). Subnormals have spacing 2^(emin - p + 1).
struct FloatFormat {
  std::string name;
  long p = 53;
  long emin = -1022;
  long emax = 1023;
};

/// "binary64" (p 53, emin -1022, emax 1023) or "binary32" (p 24, -126, 127); nullopt otherwise.
std::optional<FloatFormat> float_format(std::string_view name);

/// x rounded to nearest, ties to even, with p significand bits and the exponent range of `f`
/// (subnormals included). nullopt when the rounding overflows to infinity. Exact.
std::optional<Rational> float_round(const Rational& x, long p, const FloatFormat& f);

/// The outcome of the analysis at one precision.
struct FloatBound {
  enum class Status {
    Bounded,    ///< `bound` holds for every IEEE evaluation
    Unstable,   ///< some hardmax selection may differ in floating point (see `why`)
    Overflow,   ///< some quantity may overflow, or the precision is too small for the analysis
    Unsupported ///< causal (masked) models (not analysed: see proofs/float-bound.md)
  };
  Status status = Status::Bounded;
  long precision = 0;
  /// max over output coordinates of |fl(out) - target| <= bound. Exact dyadic rational.
  Rational bound;
  /// max over output tokens of (that token's coordinate bound) / max(1, |target|_inf). Exact.
  Rational relative;
  /// Hardmax: max |exact output - target| of the model as written (exact rational). Softmax: 0
  /// (not computed here; the exact softmax output is irrational: see certify_softmax_error).
  Rational exact_error;
  /// Unstable / Overflow: where and why (block, sequence, tokens), for people.
  std::string why;
  bool ok() const { return status == Status::Bounded; }
};

/// Runs the analysis with significand precision p (the exponent range of `format`).
/// threads = 0: all cores. Throws std::invalid_argument if p < 2 or exp_ulps < 0.
/// Softmax models (proofs/float-bound.md, "Softmax models"): exp is assumed accurate to `exp_ulps`
/// ulps, the evaluation subtracts the row maximum of the scaled scores (as every library does);
/// hardmax models ignore `exp_ulps`.
FloatBound float_error_bound(const Model& model, const Dataset& ds, const FloatFormat& format, long p,
                             unsigned threads = 0, long exp_ulps = 2);
/// The hardmax analysis without its shortcuts (runs of equal matrix rows computed once, Lemma S's
/// linear parts formed once per layer and set of active neurons, products without temporaries):
/// every quantity formed per token as the lemmas state it. The reference of the differential test
/// (tests/float_bound_test.cpp): float_error_bound returns the same result, field for field.
FloatBound float_error_bound_plain(const Model& model, const Dataset& ds, const FloatFormat& format, long p,
                                   unsigned threads = 0);

/// The least p (by bisection; the printed p certifies, p - 1 did not) for which the analysis gives
/// bound <= epsilon (relative: `relative` <= epsilon). nullopt if none up to `max_bits`.
struct PrecisionNeeded {
  std::optional<long> bits;
  long max_bits = 0;
  std::string why_not;  ///< when bits is nullopt: the reason at max_bits
};
/// Called after each probe of the search with its precision and whether it certified (progress).
using PrecisionProbe = std::function<void(long bits, bool certified)>;
/// `known`: float_error_bound(model, ds, format, format.p, ...) if the caller has it (every caller
/// computes it first): the search's first probe, at format.p, takes its answer from it instead of
/// running the analysis again (the same answer: the plain search asks exactly that).
PrecisionNeeded float_precision_needed(const Model& model, const Dataset& ds, const FloatFormat& format,
                                       const Rational& epsilon, bool relative, unsigned threads = 0,
                                       long max_bits = 4096, long exp_ulps = 2, const FloatBound* known = nullptr,
                                       const PrecisionProbe& probe = {});
/// The same search; early_exit = false asks float_error_bound at every probe (the plain path),
/// true (what float_precision_needed does) lets hardmax probes stop at the first sequence that
/// fails or exceeds epsilon. Equal results (tests/float_precision_search_test.cpp).
PrecisionNeeded float_precision_search(const Model& model, const Dataset& ds, const FloatFormat& format,
                                       const Rational& epsilon, bool relative, unsigned threads, long max_bits,
                                       long exp_ulps, bool early_exit, const FloatBound* known = nullptr,
                                       const PrecisionProbe& probe = {});

/// Where the data themselves make the format impossible for ANY model of this class: after rounding
/// the inputs to the format, one (rounded) token in one (rounded) context must reach two different
/// targets. The context is the multiset of the sequence's rounded tokens (a float evaluation of an
/// unmasked model gives equal rounded tokens of equal multisets equal outputs) or, `causal`, the
/// rounded prefix z_0 ... z_i as a sequence. Distinct tokens that merge after rounding are an
/// obstruction only through this (they are reported when they must reach different targets). The
/// first such case, described with the sequences and positions; nullopt if none (or an input
/// overflows: then it says so).
std::optional<std::string> float_data_obstruction(const Dataset& ds, const FloatFormat& format, bool causal = false);

}  // namespace interpcert
