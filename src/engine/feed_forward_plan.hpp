// Private to the fast evaluator: a feed-forward layer whose U has rank <= 1, U = c u^T, is
// f(z) = eta z + g(u.z) with g piecewise linear; its pieces are precomputed here.
#pragma once

#include "interpcert/model.hpp"

#include <optional>
#include <vector>

namespace interpcert {

struct FeedForwardPlan {
  bool rank_one = false;
  Vec u;                         ///< direction, first nonzero coordinate 1; empty when U = 0
  std::vector<Rational> breaks;  ///< sorted distinct breakpoints of g in t = u.z
  /// Piece k covers [breaks[k-1], breaks[k]] (unbounded at the ends); g(t) = A[k] t + B[k].
  /// A zero piece is stored as empty A and B.
  std::vector<Vec> A, B;
  /// Index of a piece containing t (at a breakpoint both neighbours agree: g is continuous).
  std::size_t piece_of(const Rational& t) const;
  bool piece_is_zero(std::size_t k) const { return A[k].empty(); }
};

/// The normalized direction u of a rank-one U (first nonzero coordinate 1), nullopt if U has
/// rank >= 2, an empty vector if U = 0. Exact. The test U(i, j) == U(i, p) u_j runs in machine
/// fractions where they fit (machine_rational.hpp); `gmp_only`: in GMP throughout (the tests' plain path).
std::optional<Vec> rank_one_direction(const Matrix& U, bool gmp_only = false);

/// Precomputes the pieces when U has rank <= 1 (otherwise rank_one = false). The pieces' running
/// sums are kept in machine fractions where they fit (machine_rational.hpp); `gmp_sums` keeps them
/// in GMP rationals throughout, the plain path the tests compare with (the same plan either way).
FeedForwardPlan plan_feed_forward(const FeedForward& ff, bool gmp_sums = false);

/// z <- eta z + W relu(U z + b), through the pieces when the plan is rank-one; a token on a
/// zero piece of an eta = 1 layer is left untouched. Exact.
void apply_feed_forward_in_place(const FeedForward& ff, const FeedForwardPlan& plan, Vec& z);

/// The plan's g(t) added to z: z + A t + B for t = u.z on piece k (eta = 1 layers). Exact.
void add_piece(const FeedForwardPlan& plan, std::size_t k, const Rational& t, Vec& z);

}  // namespace interpcert
