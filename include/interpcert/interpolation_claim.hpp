// The interpolation claim a certificate makes (proofs/certificate-v1.md, `claims.interpolation`):
// one type, one struct per kind. Each kind holds what it claims and, in one place (its struct
// here, its members in src/engine/interpolation_claim.cpp):
//   - how it is established for a constructed model (the static `at_beta`/`search`; hardmax
//     exactness is established by the exact verification of cli/pipeline.hpp),
//   - model(weights): the model the claim is about (attention kind, beta),
//   - describe(...): the one-line claim printed to the user,
//   - json(ds): its `claims.interpolation` member; block_bounds(): the bounds its `counts` state.
// The independent checker re-derives each kind with its own code (src/checker/claims.cpp: one
// function per kind, dispatched from the table kInterpolationKinds).
//
// To add a kind (e.g. an IEEE float evaluation bound, a causal-mask claim):
//   1. a struct here with the four members above, added to the variant InterpolationClaim (the
//      compiler then stops at every std::visit that does not handle it);
//   2. its members, and how to establish it, in src/engine/interpolation_claim.cpp, and its
//      certify option in src/cli/cmd_certify.cpp;
//   3. its JSON in proofs/certificate-v1.md (a new `kind`: existing certificates stay valid);
//   4. a check function and one row of kInterpolationKinds in src/checker/claims.cpp;
//   5. a valid and a tampered certificate in tests/corpus (make_corpus.py) and a cli_test line.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"
#include "interpcert/model_stats.hpp"

#include <iosfwd>
#include <optional>
#include <string>
#include <variant>

namespace interpcert {

/// Which block bounds a certificate's `counts` state next to L (each must hold).
struct BlockBounds {
  bool construction = false;  ///< block_bound = sum m_j + N (this construction's guarantee)
  bool paper_softmax = false; ///< paper_softmax_block_bound = 2 sum m_j + 3N
  bool paper_hardmax = true;  ///< paper_hardmax_block_bound = 2 sum m_j + 2N + 1
};

/// Hardmax: every output token equals its target exactly (exact rational forward pass).
struct ExactHardmax {
  Model model(const Model& weights) const;
  std::string describe(const Dataset& ds, const ModelStats& st) const;
  std::string json(const Dataset& ds) const;
  BlockBounds block_bounds() const { return {true, false}; }
};

/// Softmax at inverse temperature `beta`: every output coordinate is within `bound` of its target,
/// rigorously (Arb balls at `precision` bits, outward rounding). `bound` is the claim: twice the
/// producer's own bound, rounded up, so that a looser independent enclosure still verifies it.
struct SoftmaxBounded {
  Rational beta, bound;
  long precision = 0;

  /// The claim at `beta` for `weights` run with softmax; nullopt (reason written to `log`) if an
  /// enclosure is unbounded. Writes the certified bound and the a-priori bound to `log`.
  static std::optional<SoftmaxBounded> at_beta(const Model& weights, const Dataset& ds, const Rational& beta,
                                               long precision, unsigned threads, std::ostream& log);
  /// The claim at the least beta (within a factor 1 + 1/16) whose claim is <= epsilon; nullopt
  /// (reason written to `log`) if none up to 2^62. Writes the search's progress to `log`.
  static std::optional<SoftmaxBounded> search(const Model& weights, const Dataset& ds, const Rational& epsilon,
                                              long precision, unsigned threads, std::ostream& log);

  Model model(const Model& weights) const;
  std::string describe(const Dataset& ds, const ModelStats& st) const;
  std::string json(const Dataset& ds) const;
  BlockBounds block_bounds() const { return {true, true}; }
};

/// Softmax at `beta`, the model ending in a staircase layer (eta = 0): every output token equals
/// its target exactly; every neuron of the last layer has a known sign on each token's enclosure
/// (Arb balls at `precision` bits), and the affine map the signs select is the constant target.
struct SoftmaxExact {
  Rational beta;
  long precision = 0;

  /// The claim at `beta`; nullopt (reason written to `log`) if it cannot be established there.
  static std::optional<SoftmaxExact> at_beta(const Model& weights, const Dataset& ds, const Rational& beta,
                                             long precision, unsigned threads, std::ostream& log);
  /// The claim at the least beta (within a factor 1 + 1/16) where it is established; nullopt
  /// (reason written to `log`) if none up to 2^62. Writes the search's progress to `log`.
  static std::optional<SoftmaxExact> search(const Model& weights, const Dataset& ds, long precision,
                                            unsigned threads, std::ostream& log);

  Model model(const Model& weights) const;
  std::string describe(const Dataset& ds, const ModelStats& st) const;
  std::string json(const Dataset& ds) const;
  // The staircase layer is one block more than sum m_j + N may allow: that bound is not claimed.
  BlockBounds block_bounds() const { return {false, true}; }
};

/// Evaluated in IEEE floating point (`format`: "binary64" or "binary32"): for EVERY round-to-nearest
/// evaluation (any summation order, FMA or not; the model and the inputs rounded to the format)
/// every output coordinate is within `bound` of its target (proofs/float-bound.md). Hardmax, or
/// softmax at `beta` with exp assumed accurate to `exp_ulps` ulps (both present exactly for softmax).
/// `bound` is twice the producer's own bound, rounded up (capped at epsilon), for the checker's room.
struct FloatBounded {
  std::string format;
  Rational bound;
  std::optional<Rational> beta;
  std::optional<long> exp_ulps;

  /// The claim for `weights` (hardmax, or softmax at `beta`) in `format` if its bound is <= epsilon;
  /// nullopt (reason, the bound and the precision needed written to `log`) otherwise.
  static std::optional<FloatBounded> establish(const Model& weights, const Dataset& ds, const std::string& format,
                                               const Rational& epsilon, unsigned threads, std::ostream& log,
                                               const std::optional<Rational>& beta = std::nullopt, long exp_ulps = 2);

  Model model(const Model& weights) const;
  std::string describe(const Dataset& ds, const ModelStats& st) const;
  std::string json(const Dataset& ds) const;
  // Softmax: a staircase layer (--exact) may exceed sum m_j + N, so only the paper's bounds are stated.
  BlockBounds block_bounds() const { return beta ? BlockBounds{false, true} : BlockBounds{true, false}; }
};

using InterpolationClaim = std::variant<ExactHardmax, SoftmaxBounded, SoftmaxExact, FloatBounded>;

/// The model `claim` is about: `weights` with the claim's attention kind and beta (nothing else of
/// the weights changes).
Model claim_model(const InterpolationClaim& claim, const Model& weights);
/// The same, taking the weights' blocks instead of copying them (10^6 tokens: ~1 s and 130 MB).
Model claim_model(const InterpolationClaim& claim, Model&& weights);
/// The claim in one line for the user ("claim: ..."): exact or rigorously bounded, and which.
std::string claim_description(const InterpolationClaim& claim, const Dataset& ds, const ModelStats& st);

}  // namespace interpcert
