// Finding the inverse temperature beta at which a softmax transformer's error is certified small.
#pragma once

#include "interpcert/softmax_eval.hpp"

#include <functional>
#include <optional>
#include <string>

namespace interpcert {

/// The most bits a certificate may ask for (proofs/certificate-v1.md: `precision` is in
/// [2, 32768]; interpcert-check refuses more, see its own checker::kMaxPrecision, tested equal):
/// the searches below never raise the precision past it, and `certify --precision` refuses more.
inline constexpr long kMaxCertificatePrecision = 1 << 15;

/// The least beta, by doubling from 1 then bisection to within `factor` <= 1 + 1/16, for which
/// `passes(beta)` holds (assumed to keep holding for larger beta); nullopt beyond 2^62.
/// `retry(beta)`, when given, may ask to evaluate the same beta again (e.g. at a higher precision).
struct LeastBeta {
  Rational beta, factor;
};
std::optional<LeastBeta> least_passing_beta(const std::function<bool(const Rational&)>& passes,
                                            const std::function<bool(const Rational&)>& retry = {});

struct BetaSearch {
  Rational beta;      ///< the least beta found (within `factor` of the least that certifies)
  Rational factor;    ///< beta / factor did not certify (1 + 1/16 after bisection)
  SoftmaxBound bound; ///< the certified bound at beta
  std::size_t evaluations = 0;
  bool found = false;
};

/// With the weights of `model` (any attention kind) under softmax: doubles beta from 1 until the
/// certified bound is <= target, raising the precision (doubling it, never past
/// kMaxCertificatePrecision) when the bound stalls at the precision's floor, then bisects between beta/2 and beta to within a factor 1 + 1/16. `progress` is
/// called after each certified evaluation.
BetaSearch find_least_beta(const Model& model, const Dataset& ds, const Rational& target, long precision,
                           unsigned threads, const std::function<void(const Rational&, const SoftmaxBound&)>& progress = {});

/// The least beta (within a factor 1 + 1/16, by doubling from 1 then bisection) at which the
/// model, under softmax, is certified to interpolate exactly (certify_softmax_exact).
struct ExactBetaSearch {
  Rational beta, factor;
  SoftmaxExactness result;
  bool found = false;
};
ExactBetaSearch find_least_exact_beta(const Model& model, const Dataset& ds, long precision, unsigned threads,
                                      const std::function<void(const Rational&, const SoftmaxExactness&)>& progress = {});

}  // namespace interpcert
