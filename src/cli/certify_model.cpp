#include "certify_model.hpp"
#include "commands.hpp"
#include "pipeline.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/interpolation_claim.hpp"
#include "interpcert/softmax_eval.hpp"
#include "interpcert/text_util.hpp"

#include <ostream>

namespace interpcert::cli {
namespace {

constexpr std::size_t kMissesShown = 20;

// Only the bounds this model's L satisfies are stated (a model trained elsewhere may be deeper).
BlockBounds satisfied_bounds(const Dataset& ds, const Model& m) {
  const std::size_t L = m.blocks.size();
  BlockBounds b;
  b.construction = L <= construction_block_bound(ds);
  b.paper_hardmax = L <= paper_hardmax_block_bound(ds);
  b.paper_softmax = m.attention == AttentionKind::Softmax && L <= paper_softmax_block_bound(ds);
  return b;
}

std::string hypotheses_text(const PreconditionReport& pre) {
  std::string t;
  for (const HypothesisCheck& h : pre.hypotheses) t += (t.empty() ? "" : ", ") + h.id + (h.holds ? " holds" : " fails");
  for (const ObstructionCheck& o : pre.obstructions) t += (t.empty() ? "" : ", ") + o.id + (o.found ? " found" : " absent");
  return t.empty() ? "none stated" : t;
}

// Hardmax: the exact outputs; every miss with its exact max-coordinate error.
int report_hardmax_misses(const Model& m, const Dataset& ds, unsigned threads, std::ostream& os) {
  auto out = evaluate_dataset(m, ds, Evaluator::Fast, threads);
  std::size_t misses = 0;
  Rational worst = 0;
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    const Sequence& s = ds.sequences[j];
    for (std::size_t k = 0; k < s.output.size(); ++k) {
      const Vec& y = out[j][s.positions[k]];
      Rational e = 0;
      for (std::size_t c = 0; c < ds.d; ++c) e = std::max(e, Rational(abs(y[c] - s.output[k][c])));
      if (e == 0) continue;
      if (++misses <= kMissesShown)
        os << "  sequence " << j << ", position " << s.positions[k] << ": output " << vec_text(y) << " != target "
           << vec_text(s.output[k]) << ", max |difference| = " << rational_short(e) << " (" << rational_approx(e)
           << ")\n";
      worst = std::max(worst, e);
    }
  }
  if (misses > kMissesShown) os << "  ... and " << misses - kMissesShown << " more\n";
  os << "NOT INTERPOLATED: " << misses << " of " << ds.total_outputs()
     << " output tokens miss their targets (exact rational arithmetic); max |output - target| = "
     << rational_short(worst) << " (" << rational_approx(worst) << "). No certificate written.\n";
  return misses;
}

// Softmax above epsilon: a certified upper bound for each output token (one run per token).
void report_softmax_misses(const Model& m, const Dataset& ds, const Rational& eps, long prec, unsigned threads,
                           std::ostream& os) {
  std::size_t shown = 0, over = 0;
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    const Sequence& s = ds.sequences[j];
    for (std::size_t k = 0; k < s.output.size(); ++k) {
      Dataset one;
      one.d = ds.d;
      Sequence t = s;
      t.output = {s.output[k]};
      t.positions = {s.positions[k]};
      one.sequences = {t};
      SoftmaxBound b = certify_softmax_error(m, one, prec, threads);
      if (b.finite && b.bound <= eps) continue;
      ++over;
      if (++shown <= kMissesShown)
        os << "  sequence " << j << ", position " << s.positions[k] << ": max |output - target| <= "
           << (b.finite ? rational_to_string(b.bound) : std::string("(unbounded enclosure)"))
           << " (certified upper bound; not within epsilon)\n";
    }
  }
  if (shown > kMissesShown) os << "  ... and " << shown - kMissesShown << " more\n";
  os << over << " of " << ds.total_outputs() << " output tokens are not certified within epsilon = "
     << rational_to_string(eps) << ". No certificate written.\n";
}

}  // namespace

int certify_given_model(const GivenModelOptions& o, std::ostream& os) {
  std::optional<Rational> eps;
  if (!o.epsilon.empty()) eps = rational_option("--epsilon", o.epsilon);
  Model m = model_load(o.model);
  Dataset ds = dataset_load(o.dataset);
  if (m.d != ds.d)
    throw InputError(o.model, "/d", "model has d = " + std::to_string(m.d) + " but dataset " + o.dataset +
                                        " has d = " + std::to_string(ds.d));
  if (eps && m.attention == AttentionKind::Hardmax)
    throw InputError("--epsilon", "", "a hardmax model is certified exactly; --epsilon is for softmax models");
  // A causal model's dataset is decided for causal attention (obstruction C1, proofs/repeated-and-causal.md).
  PreconditionReport pre = check_preconditions(ds, m.mask == MaskKind::Causal);
  ModelStats st = model_stats(m);
  os << "dataset: " << o.dataset << " (N = " << ds.sequences.size() << " sequences, d = " << ds.d
     << ", sum m_j = " << ds.total_outputs() << ")\n"
     << "model: " << o.model << " (given, not constructed: L = " << st.blocks << ", P = " << st.parameters << ", "
     << (m.attention == AttentionKind::Hardmax ? std::string("hardmax") : "softmax, beta = " + rational_to_string(*m.beta))
     << (m.mask == MaskKind::Causal ? ", causal mask" : "") << ")\nhypotheses and obstructions (decided exactly; stated in the certificate as they are): " << hypotheses_text(pre) << "\n";

  std::optional<InterpolationClaim> claim;
  if (m.attention == AttentionKind::Hardmax) {
    if (check_interpolation(m, ds, Evaluator::Fast, o.threads).first) {
      report_hardmax_misses(m, ds, o.threads, os);
      return static_cast<int>(kExitRefuted);
    }
    os << "exact interpolation: all " << ds.total_outputs()
       << " output tokens equal their targets (exact rational arithmetic)\n";
    claim = ExactHardmax{};
  } else {
    SoftmaxBound b = certify_softmax_error(m, ds, o.precision, o.threads);
    if (!b.finite) {
      os << "softmax: an enclosure is unbounded at " << b.precision
         << " bits (try --precision); no certificate written\n";
      return static_cast<int>(kExitRefuted);
    }
    os << "softmax, beta = " << rational_to_string(*m.beta) << ": certified max |output - target| <= "
       << rational_to_string(b.bound) << " (" << rational_approx(b.bound) << "; Arb balls, " << b.precision
       << " bits, outward rounding)\n";
    if (eps && b.bound > *eps) {
      report_softmax_misses(m, ds, *eps, o.precision, o.threads, os);
      return static_cast<int>(kExitRefuted);
    }
    // As for constructed models, the claim is twice the producer's bound (rounded up) so that the
    // checker's own, independent enclosure has room; never more than epsilon when one is given.
    Rational claimed = round_up_3_digits(b.bound * 2);
    if (eps && claimed > *eps) claimed = *eps;
    claim = SoftmaxBounded{*m.beta, claimed, b.precision};
  }
  BlockBounds bounds = satisfied_bounds(ds, m);
  write_file_atomically(o.output, certificate_text(ds, m, st, pre, *claim, bounds));
  if (!o.model_out.empty()) write_file_atomically(o.model_out, model_to_json_text(m));
  os << "claims: hypotheses as above; "
     << (m.attention == AttentionKind::Hardmax
             ? "exact interpolation of all " + std::to_string(ds.total_outputs()) + " output tokens"
             : "max |output - target| <= " + rational_to_string(std::get<SoftmaxBounded>(*claim).bound))
     << "; L = " << st.blocks << (bounds.paper_hardmax ? " <= 2 sum m_j + 2N + 1 = " : " > 2 sum m_j + 2N + 1 = ")
     << paper_hardmax_block_bound(ds) << "; P = " << st.parameters << "; |theta|^2 = " << rational_short(st.squared_norm)
     << "\nwrote certificate " << o.output << "\n  dataset digest " << dataset_digest(ds) << "\n  model digest   "
     << model_digest(m) << "\ncheck it independently: interpcert-check " << o.output << " " << o.dataset << "\n";
  return static_cast<int>(kExitOk);
}

}  // namespace interpcert::cli
