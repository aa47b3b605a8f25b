#include "interpcert/softmax_search.hpp"

#include <optional>

namespace interpcert {

BetaSearch find_least_beta(const Model& weights, const Dataset& ds, const Rational& target, long precision,
                           unsigned threads, const std::function<void(const Rational&, const SoftmaxBound&)>& progress) {
  constexpr long kMaxPrecision = 1 << 15;
  Model m = weights;
  m.attention = AttentionKind::Softmax;
  BetaSearch out;
  auto eval = [&](const Rational& beta) {
    m.beta = beta;
    SoftmaxBound b = certify_softmax_error(m, ds, precision, threads);
    ++out.evaluations;
    if (progress) progress(beta, b);
    return b;
  };
  Rational beta(1), lo(0);
  SoftmaxBound b = eval(beta);
  std::optional<Rational> previous;  // the bound at beta / 2, once beta has been doubled
  while (!(b.finite && b.bound <= target)) {
    // Stalled (doubling beta no longer halves the bound): the precision, not beta, limits it.
    if (previous && b.finite && b.bound * 2 > *previous && precision < kMaxPrecision) {
      precision *= 2;
      b = eval(beta);
      previous.reset();
      continue;
    }
    if (beta > Rational(Integer(1) << 62)) return out;  // beyond any sensible temperature
    previous = b.bound;
    lo = beta;
    beta *= 2;
    b = eval(beta);
  }
  // Invariant: beta certifies; lo = 0 or lo does not.
  SoftmaxBound best = b;
  while (lo > 0 && (beta - lo) * 16 > lo) {
    Rational mid = (lo + beta) / 2;
    SoftmaxBound bm = eval(mid);
    if (bm.finite && bm.bound <= target) beta = mid, best = bm;
    else lo = mid;
  }
  out.beta = beta;
  out.factor = lo > 0 ? beta / lo : Rational(1);
  out.bound = best;
  out.found = true;
  return out;
}

ExactBetaSearch find_least_exact_beta(const Model& weights, const Dataset& ds, long precision, unsigned threads,
                                      const std::function<void(const Rational&, const SoftmaxExactness&)>& progress) {
  Model m = weights;
  m.attention = AttentionKind::Softmax;
  auto eval = [&](const Rational& beta) {
    m.beta = beta;
    SoftmaxExactness r = certify_softmax_exact(m, ds, precision, threads);
    if (progress) progress(beta, r);
    return r;
  };
  ExactBetaSearch out;
  Rational beta(1), lo(0);
  SoftmaxExactness r = eval(beta);
  while (!r.exact) {
    if (beta > Rational(Integer(1) << 62)) return out;
    lo = beta;
    beta *= 2;
    r = eval(beta);
  }
  SoftmaxExactness best = r;
  while (lo > 0 && (beta - lo) * 16 > lo) {
    Rational mid = (lo + beta) / 2;
    SoftmaxExactness rm = eval(mid);
    if (rm.exact) beta = mid, best = rm;
    else lo = mid;
  }
  out.beta = beta;
  out.factor = lo > 0 ? beta / lo : Rational(1);
  out.result = best;
  out.found = true;
  return out;
}

}  // namespace interpcert
