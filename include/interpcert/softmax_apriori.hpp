// The a-priori error bound of proofs/softmax-bound.md for a constructed model run with softmax
// attention: from the leader gaps, the query sizes and the Lipschitz constants of the hat layers,
// without evaluating the softmax model. Rigorous (ball arithmetic, upper bounds), and far looser
// than the a-posteriori certified bound of certify_softmax_error.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

#include <string>
#include <vector>

namespace interpcert {

/// One layer of the bound's recursion (proofs/softmax-bound.md, Lemmas A and B). Exact where the
/// value is read off the hardmax states (query, gap, n); the rest are upper bounds (outward
/// rounding, rounded up to 3 significant digits).
struct AprioriLayer {
  std::size_t block = 0;
  bool attention = false;
  Rational query, gap;       ///< code layer: q and Gamma, exact (min k.z_i, min leader gap)
  std::size_t n = 0;         ///< code layer: the longest sequence
  Rational value_norm;       ///< code layer: |lambda w| (upper bound)
  Rational key_norm;         ///< code layer: |k| (upper bound)
  Rational fresh;            ///< code layer: |lambda w| (n - 1) Gamma' e^{-beta q' Gamma'} (upper bound)
  Rational amplification;    ///< 1 + |lambda w||k| (code layer), or the Lipschitz constant (feed-forward)
  Rational error_after;      ///< e after this layer (upper bound)
};

struct AprioriBound {
  std::vector<AprioriLayer> layers;  ///< the recursion, layer by layer (up to where it stopped)
  bool available = false;
  Rational bound;      ///< max |output - target| <= bound (rounded up to 3 digits), when available
  std::string reason;  ///< why it is not available (beta too small, not a code-layer model)
};

/// The bound at inverse temperature beta for the weights of `model` (its attention layers must be
/// code layers: rho = 1, Q = K = k^T, V = (lambda w) k^T with k.w = 0).
AprioriBound softmax_a_priori_bound(const Model& model, const Dataset& ds, const Rational& beta);

/// The least beta (within a factor 1 + 1/16) at which the a-priori bound is <= epsilon.
std::optional<Rational> a_priori_beta(const Model& model, const Dataset& ds, const Rational& epsilon);

}  // namespace interpcert
