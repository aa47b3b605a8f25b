// The construction of proofs/construction.md: leader codes and hats. From a dataset that satisfies
// H1-H4, a hardmax transformer that interpolates it exactly, built in exact arithmetic with
// deterministic choices (the same dataset always gives the same model, byte for byte).
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace interpcert {

struct ConstructOptions {
  /// Cap on the neurons of a feed-forward layer (0: none). Hats take 3 neurons, so a cap must be
  /// >= 3; 4 gives the shape of the authors' code (one head, four ReLU neurons per block).
  std::size_t max_ff_width = 0;
  /// Append a final staircase layer (eta = 0, staircase.hpp) so that the model is exact under
  /// softmax for large beta; one more block, of 2K - 1 neurons for K distinct targets.
  bool staircase = false;
  /// Make the free choices for IEEE floating-point evaluation (proofs/float-bound.md, "A
  /// construction for floating point"): a final staircase layer snaps every output onto its
  /// target's plateau, so rounding errors accumulated before it do not reach the output.
  bool for_float = false;
  /// With for_float: the significand bits p of the IEEE format it targets (53: binary64, 24:
  /// binary32). Data with a non-dyadic coordinate (short decimals such as 0.1) get a rescale-and-snap
  /// prefix onto an integer grid whose snap constant is 1.5 2^(p-1) (proofs/float-construction.md,
  /// "Short decimals"); integer and dyadic data are built exactly as before.
  long float_bits = 53;
  /// With for_float: false never adds the rescale-and-snap prefix (bench/float_precision: the
  /// construction before it, for comparison).
  bool rescale_prefix = true;
  /// Build a causal model (proofs/repeated-and-causal.md, Theorem 2): every attention layer sees
  /// positions 0 ... i only.
  bool causal = false;
};

/// One refinement round of proofs/repeated-and-causal.md: z -> z + eps G(a.z) e, then uniform
/// attention adding lambda mean(e.z) e over the sequence (causal: the prefix).
struct RefinementRound {
  std::size_t direction_t = 0;  ///< a = (1, t, t^2, ...)
  std::size_t thresholds = 0;   ///< neurons of G
  std::size_t t = 0;            ///< G's coefficients t^1, t^2, ...
  Rational epsilon, lambda;
  std::size_t points_after = 0; ///< distinct points after the round
};

/// One code layer: the lambda chosen, each context's leader and code afterwards.
struct CodeRound {
  Rational lambda;
  std::vector<std::size_t> leader;       ///< per context: the token id of its leader
  std::vector<Rational> leader_height;   ///< per context: k . leader
  std::vector<Rational> code;            ///< per context: the code after this layer
  std::vector<std::size_t> class_of;     ///< per context: its class (equal codes) afterwards
  std::size_t classes = 0;
  std::size_t conflicted_classes = 0;    ///< classes holding a conflict afterwards
  std::size_t lambdas_tried = 1;         ///< lambda candidates examined (rejected ones merge classes)
};

/// One promotion: in a class with a conflict, token p's shared position moves up along k.
struct Promotion {
  std::size_t round = 0;      ///< promoted after code layer `round`
  std::size_t class_label = 0;
  std::vector<std::size_t> contexts_with, contexts_without;  ///< how the class splits
  std::size_t token = 0;      ///< token id of p
  std::size_t conflict_token = 0;  ///< the token whose targets conflicted
  std::size_t separated_pairs = 0;
  Rational from_height, to_height, t0, delta;
  std::size_t layer = 0;  ///< index of the block holding its hat
};

/// One interpolation hat: a requirement position moved onto its target.
struct InterpolationHat {
  Vec from, to;
  Rational t0, delta;
  std::size_t layer = 0;
  std::vector<std::size_t> sequences;  ///< the sequences whose output tokens sit at `from`
  Vec u;  ///< --for-float: this hat's own direction (t0 and delta along it); empty: the trace's u
};

/// Every choice the construction made, for `explain` and for tests.
struct ConstructionTrace {
  /// Distinct tokens, ids by first appearance; they point into the dataset given to
  /// construct_model, which must outlive the trace.
  std::vector<TokenRef> tokens;
  std::vector<std::vector<std::size_t>> contexts;  ///< per context: its token ids (sorted)
  std::vector<std::size_t> context_of_sequence;
  std::size_t requirements = 0;       ///< distinct (context, token) requirements
  bool uses_attention = false;        ///< false: no token needs different targets (no code layers)
  std::size_t key_t = 0;              ///< k = (1, t, t^2, ...)
  /// --for-float in d = 2: k separates the tokens of each context (not all tokens), and the codes
  /// keep different tokens' positions apart (proofs/float-construction.md, "A key per context").
  bool key_per_context = false;
  /// --for-float, d > 2: the key and hat directions were enumerated by l1 norm (item 14 of
  /// proofs/float-construction.md), because along the max-norm ones some hat was too large.
  bool l1_directions = false;
  Vec k, w;
  Rational translation;               ///< c: every token moved by c k (0: no translate layer)
  std::vector<CodeRound> rounds;
  std::vector<Promotion> promotions;
  std::size_t interpolation_s = 0;    ///< u = (1, s, s^2, ...)
  Vec u;
  std::vector<InterpolationHat> hats;
  std::size_t attempts = 1;           ///< lambda schedules tried (capped width only)
  /// Built by proofs/repeated-and-causal.md (outside H1-H4, or causal) instead of the leader
  /// construction; then `refinement` holds its rounds, `hats`/`u` its interpolation layer, and
  /// `requirements` the number of distinct requirement points (tokens/contexts stay empty).
  bool extended = false;
  bool causal = false;
  std::vector<RefinementRound> refinement;
  /// --for-float on data with a non-dyadic coordinate (proofs/float-construction.md, "Short
  /// decimals"): the model is  [z -> s z + C] [z -> z - C] (the construction on the data scaled by
  /// s) [z -> z / s], s = snap_scale (the lcm of the data's denominators), C = snap_constant =
  /// 1.5 2^(p-1). snap_blocks = 3 then (0: no prefix, snap_scale 1); `scaled` is the scaled dataset,
  /// which tokens/hats/promotions above refer to (their layers count the prefix). snap_refused:
  /// why non-dyadic data got no prefix (too large for the format's integer grid), else empty.
  Rational snap_scale{1}, snap_constant{0};
  std::size_t snap_blocks = 0;
  std::string snap_refused;
  std::shared_ptr<const Dataset> scaled;
};

struct Construction {
  Model model;
  ConstructionTrace trace;
};

/// Thrown when the dataset is outside the construction's hypotheses (check_preconditions says
/// why) or the options are invalid.
class ConstructionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PreconditionReport;

/// Builds the transformer: the leader construction when H1-H4 hold and the model is not causal,
/// otherwise construct_extended. Throws ConstructionError when an obstruction makes it impossible. The result
/// is not yet verified: callers run an evaluator on it (construct and certify do).
Construction construct_model(const Dataset& ds, const ConstructOptions& options = {});
/// The same, given check_preconditions(ds) already computed by the caller.
Construction construct_model(const Dataset& ds, const ConstructOptions& options, const PreconditionReport& checked);

/// The construction of proofs/repeated-and-causal.md (Theorems 1 and 2) for any dataset without an
/// obstruction (`checked` from check_preconditions(ds, causal)): any d >= 1, repeated tokens,
/// causal or not. Non-causal: at most 2 blocks; causal: at most 4 (uncapped width).
Construction construct_extended(const Dataset& ds, bool causal, const ConstructOptions& options,
                                const PreconditionReport& checked);

/// The lambda schedule 1, 2, 1/2, 3, 1/3, ... (index i, 0-based).
Rational lambda_candidate(std::size_t i);

}  // namespace interpcert
