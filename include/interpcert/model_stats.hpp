// The sizes a certificate reports: blocks, parameters, widths, ranks, |theta|^2. All exact.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"

#include <cstddef>

namespace interpcert {

struct ModelStats {
  std::size_t blocks = 0, attention_layers = 0, feed_forward_layers = 0;
  std::size_t parameters = 0;      ///< scalars stored (proofs/formats-v1.md), rho and eta included
  std::size_t max_ff_width = 0;    ///< most ReLU neurons in one feed-forward layer
  std::size_t max_heads = 0;       ///< most rows of Q in one attention layer
  std::size_t max_score_rank = 0;  ///< largest rank of Q^T K
  std::size_t max_value_rank = 0;  ///< largest rank of V
  Rational squared_norm;           ///< sum of squares of the same scalars: |theta|^2
  std::size_t max_bits = 0;        ///< largest numerator/denominator bit length of a parameter
};

/// Exact statistics of a model. The large matrices are read in cache-friendly blocks with
/// prefetching; `plain` reads them entry after entry instead (the tests' reference: the same stats).
ModelStats model_stats(const Model& m, bool plain = false);

/// Rank of a matrix over Q (fraction-free elimination on a copy). Exact.
std::size_t exact_rank(Matrix m);

/// The paper's block bounds: hardmax 2 sum(m_j) + 2N + 1, softmax 2 sum(m_j) + 3N; and this
/// construction's guarantee sum(m_j) + N.
std::size_t paper_hardmax_block_bound(const Dataset& ds);
std::size_t paper_softmax_block_bound(const Dataset& ds);
std::size_t construction_block_bound(const Dataset& ds);

}  // namespace interpcert
