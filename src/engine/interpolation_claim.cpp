#include "interpcert/interpolation_claim.hpp"

#include "interpcert/float_bound.hpp"
#include "interpcert/softmax_apriori.hpp"
#include "interpcert/softmax_eval.hpp"
#include "interpcert/softmax_search.hpp"

#include <ostream>
#include <sstream>

namespace interpcert {
namespace {

// A double for the reader's eye only, next to the exact value (never a bound).
std::string approx(const Rational& q, int digits = 6) {
  std::ostringstream s;
  s.precision(digits);
  s << q.convert_to<double>();
  return s.str();
}

Model with_attention(const Model& weights, AttentionKind kind, std::optional<Rational> beta) {
  Model m = weights;
  m.attention = kind;
  m.beta = std::move(beta);
  return m;
}

// " <= sum m_j + N = B", or, for a model above it (--for-float's rescale blocks on short decimals,
// proofs/float-construction.md), that this bound is not claimed.
std::string construction_bound_text(const Dataset& ds, const ModelStats& st) {
  const std::size_t b = construction_block_bound(ds);
  return st.blocks <= b ? " <= sum m_j + N = " + std::to_string(b)
                        : " (above sum m_j + N = " + std::to_string(b) + ": not claimed)";
}

std::string outputs_json(const Dataset& ds) { return "\"outputs\": " + std::to_string(ds.total_outputs()); }

std::string softmax_blocks_text(const Dataset& ds, const ModelStats& st) {
  return "L = " + std::to_string(st.blocks) + " <= the paper's softmax bound 2 sum m_j + 3N = " +
         std::to_string(paper_softmax_block_bound(ds));
}

void log_a_priori(const Model& weights, const Dataset& ds, const Rational& beta, std::ostream& log) {
  AprioriBound ap = softmax_a_priori_bound(weights, ds, beta);
  log << "a-priori bound (proofs/softmax-bound.md, from leader gaps, queries and hat slopes): "
      << (ap.available ? "max |output - target| <= " + rational_to_string(ap.bound) + " (~" + approx(ap.bound, 3) + ")"
                       : "not available: " + ap.reason)
      << "\n";
}

}  // namespace

// --- hardmax, exact -----------------------------------------------------------------------------

Model ExactHardmax::model(const Model& weights) const {
  return with_attention(weights, AttentionKind::Hardmax, std::nullopt);
}

std::string ExactHardmax::describe(const Dataset& ds, const ModelStats& st) const {
  const std::size_t n = ds.total_outputs();
  return "claims: H1-H4 hold; exact interpolation of " +
         (n == 1 ? std::string("the one output token") : "all " + std::to_string(n) + " output tokens") + "; L = " +
         std::to_string(st.blocks) + construction_bound_text(ds, st) + " <= 2 sum m_j + 2N + 1 = " +
         std::to_string(paper_hardmax_block_bound(ds)) + "; P = " + std::to_string(st.parameters) +
         "; |theta|^2 = " + rational_short(st.squared_norm);
}

std::string ExactHardmax::json(const Dataset& ds) const { return "{\"kind\": \"exact\", " + outputs_json(ds) + "}"; }

// --- softmax, bounded ---------------------------------------------------------------------------

std::optional<SoftmaxBounded> SoftmaxBounded::at_beta(const Model& weights, const Dataset& ds, const Rational& beta,
                                                      long precision, unsigned threads, std::ostream& log) {
  SoftmaxBound b = certify_softmax_error(with_attention(weights, AttentionKind::Softmax, beta), ds, precision, threads);
  if (!b.finite) {
    log << "softmax: an enclosure is unbounded at " << b.precision << " bits; no certificate written\n";
    return std::nullopt;
  }
  log << "softmax, beta = " << rational_to_string(beta) << ": certified max |output - target| <= "
      << rational_to_string(b.bound) << " (~" << approx(b.bound) << ", Arb balls, " << b.precision << " bits)\n";
  log_a_priori(weights, ds, beta, log);
  return SoftmaxBounded{beta, round_up_3_digits(b.bound * 2), b.precision};
}

std::optional<SoftmaxBounded> SoftmaxBounded::search(const Model& weights, const Dataset& ds, const Rational& epsilon,
                                                     long precision, unsigned threads, std::ostream& log) {
  log << "searching beta for a certified bound <= " << rational_to_string(epsilon / 2)
      << " (half of epsilon: the claim keeps a factor 2 for the checker):\n";
  BetaSearch found = find_least_beta(weights, ds, epsilon / 2, precision, threads,
                                     [&log](const Rational& beta, const SoftmaxBound& r) {
                                       log << "  beta = " << rational_to_string(beta) << ": bound "
                                           << (r.finite ? rational_to_string(r.bound) : "unbounded") << " ("
                                           << r.precision << " bits)\n" << std::flush;
                                     });
  if (!found.found) {
    log << "no beta up to 2^62 certifies epsilon = " << rational_to_string(epsilon) << "; no certificate written\n";
    return std::nullopt;
  }
  log << "least beta: " << rational_to_string(found.beta) << " (beta / " << rational_to_string(found.factor)
      << " does not certify)\n";
  log_a_priori(weights, ds, found.beta, log);
  auto need = a_priori_beta(weights, ds, epsilon);
  log << "a-priori beta for epsilon: " << (need ? rational_to_string(*need) : std::string("none up to 2^62")) << "\n";
  // Twice the bound found leaves the checker room; the search guaranteed it is <= epsilon / 2.
  Rational claim = round_up_3_digits(found.bound.bound * 2);
  if (claim > epsilon) claim = epsilon;
  return SoftmaxBounded{found.beta, claim, found.bound.precision};
}

Model SoftmaxBounded::model(const Model& weights) const { return with_attention(weights, AttentionKind::Softmax, beta); }

std::string SoftmaxBounded::describe(const Dataset& ds, const ModelStats& st) const {
  return "claim: max |output - target| <= " + rational_to_string(bound) + " (~" + approx(bound) + ") at beta = " +
         rational_to_string(beta) + ", " + std::to_string(precision) + " bits; " + softmax_blocks_text(ds, st);
}

std::string SoftmaxBounded::json(const Dataset& ds) const {
  return "{\"kind\": \"bounded\", " + outputs_json(ds) + ", \"bound\": \"" + rational_to_string(bound) +
         "\", \"precision\": " + std::to_string(precision) + "}";
}

// --- softmax, exact (staircase layer) -----------------------------------------------------------

std::optional<SoftmaxExact> SoftmaxExact::at_beta(const Model& weights, const Dataset& ds, const Rational& beta,
                                                  long precision, unsigned threads, std::ostream& log) {
  SoftmaxExactness r = certify_softmax_exact(with_attention(weights, AttentionKind::Softmax, beta), ds, precision, threads);
  if (!r.exact) {
    log << "softmax, beta = " << rational_to_string(beta) << ": NOT certified exact (" << r.undecided
        << (r.undecided == 1 ? " output token" : " output tokens") << " with a neuron of unknown sign, " << r.wrong
        << " wrong); try a larger beta or omit --beta. No certificate written.\n";
    return std::nullopt;
  }
  return SoftmaxExact{beta, r.precision};
}

std::optional<SoftmaxExact> SoftmaxExact::search(const Model& weights, const Dataset& ds, long precision,
                                                 unsigned threads, std::ostream& log) {
  log << "searching the least beta at which softmax interpolation is certified exact:\n";
  ExactBetaSearch found = find_least_exact_beta(weights, ds, precision, threads,
                                                [&log](const Rational& beta, const SoftmaxExactness& x) {
                                                  log << "  beta = " << rational_to_string(beta) << ": "
                                                      << (x.exact ? std::string("exact")
                                                                  : std::to_string(x.undecided) + " undecided, " +
                                                                        std::to_string(x.wrong) + " wrong")
                                                      << "\n" << std::flush;
                                                });
  if (!found.found) {
    log << "no beta up to 2^62 certifies exactness; no certificate written\n";
    return std::nullopt;
  }
  log << "least beta: " << rational_to_string(found.beta) << " (beta / " << rational_to_string(found.factor)
      << " does not certify)\n";
  return SoftmaxExact{found.beta, found.result.precision};
}

Model SoftmaxExact::model(const Model& weights) const { return with_attention(weights, AttentionKind::Softmax, beta); }

std::string SoftmaxExact::describe(const Dataset& ds, const ModelStats& st) const {
  return "claim: EXACT interpolation under softmax at beta = " + rational_to_string(beta) + " (" +
         std::to_string(precision) + "-bit Arb enclosures; every neuron of the final eta = 0 layer has a known sign on "
         "every output token's enclosure); " + softmax_blocks_text(ds, st);
}

std::string SoftmaxExact::json(const Dataset& ds) const {
  return "{\"kind\": \"exact\", " + outputs_json(ds) + ", \"precision\": " + std::to_string(precision) + "}";
}

// --- hardmax in IEEE floating point ------------------------------------------------------------

std::optional<FloatBounded> FloatBounded::establish(const Model& weights, const Dataset& ds, const std::string& format,
                                                    const Rational& epsilon, unsigned threads, std::ostream& log,
                                                    const std::optional<Rational>& beta, long exp_ulps) {
  auto fmt = float_format(format);
  if (!fmt) throw std::invalid_argument("unknown float format " + format);
  FloatBounded out{format, Rational(0), beta, beta ? std::optional<long>(exp_ulps) : std::nullopt};
  Model m = out.model(weights);
  if (beta) log << "softmax, beta = " << rational_to_string(*beta) << ": assuming exp is accurate to " << exp_ulps << " ulps\n";
  FloatBound b = float_error_bound(m, ds, *fmt, fmt->p, threads, exp_ulps);
  if (!b.ok()) {
    log << format << ": NOT certified: " << b.why << "; no certificate written\n";
    return std::nullopt;
  }
  log << format << ": certified max |fl(output) - target| <= " << rational_approx(round_up_3_digits(b.bound))
      << " for every round-to-nearest evaluation (proofs/float-bound.md, outward rounding)\n";
  PrecisionNeeded need = float_precision_needed(m, ds, *fmt, epsilon, false, threads, 4096, exp_ulps, &b);
  log << "precision needed for epsilon = " << rational_to_string(epsilon) << ": "
      << (need.bits ? std::to_string(*need.bits) + " bits" : "more than " + std::to_string(need.max_bits) + " bits")
      << " (" << format << " has " << fmt->p << ")\n";
  if (b.bound > epsilon) {
    log << format << ": the bound exceeds epsilon = " << rational_to_string(epsilon) << "; no certificate written\n";
    return std::nullopt;
  }
  out.bound = round_up_3_digits(b.bound * 2);
  if (out.bound > epsilon) out.bound = epsilon;
  return out;
}

Model FloatBounded::model(const Model& weights) const {
  return beta ? with_attention(weights, AttentionKind::Softmax, beta)
              : with_attention(weights, AttentionKind::Hardmax, std::nullopt);
}

std::string FloatBounded::describe(const Dataset& ds, const ModelStats& st) const {
  if (beta)
    return "claim: in IEEE " + format + " (any round-to-nearest evaluation, exp accurate to " +
           std::to_string(*exp_ulps) + " ulps) max |fl(output) - target| <= " + rational_to_string(bound) + " (~" +
           approx(bound) + ") at beta = " + rational_to_string(*beta) + "; " + softmax_blocks_text(ds, st);
  return "claim: in IEEE " + format + " (any round-to-nearest evaluation) max |fl(output) - target| <= " +
         rational_to_string(bound) + " (~" + approx(bound) + "); L = " + std::to_string(st.blocks) +
         construction_bound_text(ds, st);
}

std::string FloatBounded::json(const Dataset& ds) const {
  return "{\"kind\": \"float\", " + outputs_json(ds) + ", \"format\": \"" + format + "\", \"bound\": \"" +
         rational_to_string(bound) + "\"" + (exp_ulps ? ", \"exp_ulps\": " + std::to_string(*exp_ulps) : std::string()) +
         "}";
}

// --- dispatch -----------------------------------------------------------------------------------

Model claim_model(const InterpolationClaim& claim, const Model& weights) {
  return std::visit([&](const auto& c) { return c.model(weights); }, claim);
}

Model claim_model(const InterpolationClaim& claim, Model&& weights) {
  std::vector<Block> blocks = std::move(weights.blocks);
  weights.blocks.clear();
  Model m = claim_model(claim, weights);  // without its blocks: only attention and beta change
  m.blocks = std::move(blocks);
  return m;
}

std::string claim_description(const InterpolationClaim& claim, const Dataset& ds, const ModelStats& st) {
  return std::visit([&](const auto& c) { return c.describe(ds, st); }, claim);
}

}  // namespace interpcert
