#include "interpcert/softmax_search.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace interpcert {
std::optional<LeastBeta> least_passing_beta(const std::function<bool(const Rational&)>& passes,
                                            const std::function<bool(const Rational&)>& retry) {
  Rational beta(1), lo(0);
  while (!passes(beta)) {
    if (retry && retry(beta)) continue;
    if (beta > Rational(Integer(1) << 62)) return std::nullopt;
    lo = beta;
    beta *= 2;
  }
  while (lo > 0 && (beta - lo) * 16 > lo) {
    Rational mid = (lo + beta) / 2;
    if (passes(mid)) beta = mid;
    else lo = mid;
  }
  return LeastBeta{beta, lo > 0 ? beta / lo : Rational(1)};
}

BetaSearch find_least_beta(const Model& weights, const Dataset& ds, const Rational& target, long precision,
                           unsigned threads, const std::function<void(const Rational&, const SoftmaxBound&)>& progress) {
  Model m = weights;
  m.attention = AttentionKind::Softmax;
  BetaSearch out;
  SoftmaxBound last;
  std::optional<Rational> previous;  // the bound at beta / 2, while doubling
  std::map<Rational, SoftmaxBound> seen;
  auto passes = [&](const Rational& beta) {
    m.beta = beta;
    last = certify_softmax_error(m, ds, precision, threads);
    ++out.evaluations;
    if (progress) progress(beta, last);
    seen[beta] = last;
    return last.finite && last.bound <= target;
  };
  // Doubling beta no longer halves the bound: the precision, not beta, limits it.
  auto retry = [&](const Rational&) {
    bool stalled = previous && last.finite && last.bound * 2 > *previous && precision < kMaxCertificatePrecision;
    if (stalled) {
      precision = std::min(precision * 2, kMaxCertificatePrecision);  // a certificate may not ask for more
      previous.reset();
    } else {
      previous = last.bound;
    }
    return stalled;
  };
  auto found = least_passing_beta(passes, retry);
  if (!found) return out;
  out.beta = found->beta;
  out.factor = found->factor;
  out.bound = seen[found->beta];
  out.found = true;
  return out;
}

ExactBetaSearch find_least_exact_beta(const Model& weights, const Dataset& ds, long precision, unsigned threads,
                                      const std::function<void(const Rational&, const SoftmaxExactness&)>& progress) {
  Model m = weights;
  m.attention = AttentionKind::Softmax;
  std::map<Rational, SoftmaxExactness> seen;
  auto found = least_passing_beta([&](const Rational& beta) {
    m.beta = beta;
    SoftmaxExactness r = certify_softmax_exact(m, ds, precision, threads);
    if (progress) progress(beta, r);
    seen[beta] = r;
    return r.exact;
  });
  ExactBetaSearch out;
  if (!found) return out;
  out.beta = found->beta;
  out.factor = found->factor;
  out.result = seen[found->beta];
  out.found = true;
  return out;
}

}  // namespace interpcert
