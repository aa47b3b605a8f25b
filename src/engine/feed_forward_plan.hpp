// Private to the fast evaluator: a feed-forward layer whose U has rank <= 1, U = c u^T, is
// f(z) = eta z + g(u.z) with g piecewise linear; its pieces are precomputed here.
#pragma once

#include "interpcert/model.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace interpcert {

struct FeedForwardPlan {
  /// How piece k is stored. Machine (nearly all of a construction's pieces): g(t) = (a t + b) / den
  /// with den >= 1 the least common denominator of the piece's 2d coordinates and den, a, b in
  /// __int128 (|x| <= 2^127 - 1), one contiguous row of the table; MachineForward reads that row
  /// as is. Gmp: some of those numbers do not fit, the piece is kept as GMP vectors A, B (g(t) =
  /// A t + B). Zero: g = 0 on the piece. At 10^7 tokens a plan has ~600,000 pieces of d = 16: as GMP
  /// rationals they were ~19 M scattered heap values (~1 GB), read at random by the verification.
  enum class PieceKind : std::uint8_t { Zero, Machine, Gmp };

  bool rank_one = false;
  Vec u;                         ///< direction, first nonzero coordinate 1; empty when U = 0
  std::vector<Rational> breaks;  ///< sorted distinct breakpoints of g in t = u.z
  /// Piece k covers [breaks[k-1], breaks[k]] (unbounded at the ends).
  std::size_t piece_of(const Rational& t) const;

  std::size_t dim() const { return d_; }
  std::size_t pieces() const { return d_ == 0 ? 0 : rows_.size() / (1 + 2 * d_); }
  PieceKind kind(std::size_t k) const {
    const __int128 den = machine_row(k)[0];
    return den > 0 ? PieceKind::Machine : den == 0 ? PieceKind::Zero : PieceKind::Gmp;
  }
  bool piece_is_zero(std::size_t k) const { return machine_row(k)[0] == 0; }
  /// Piece k's row: den, then a[0 .. d), then b[0 .. d). Every piece has one, so that a reader
  /// (MachineForward) touches one place per piece: den >= 1 for a Machine piece, 0 for a zero
  /// piece, -1 - i for the i-th Gmp piece (the rest of those rows is 0).
  const __int128* machine_row(std::size_t k) const { return &rows_[k * (1 + 2 * d_)]; }
  /// A Gmp piece's A and B (canonical rationals).
  const Vec& gmp_a(std::size_t k) const { return gmp_[gmp_index(k)]; }
  const Vec& gmp_b(std::size_t k) const { return gmp_[gmp_index(k) + 1]; }
  /// Piece k's exact A and B (g(t) = A t + B; d zeros for a zero piece), canonical rationals,
  /// whatever the storage (add_piece reads rows directly; this is for the tests). Not fast.
  void values(std::size_t k, Vec& A, Vec& B) const;

  /// Building (plan_feed_forward): pieces are appended left to right.
  void start(std::size_t d, std::size_t pieces);
  void push_zero();
  /// den >= 1 the least common denominator of the coordinates a_c / den, b_c / den (the caller's
  /// duty: the row is then the unique such form of the piece).
  void push_machine(__int128 den, const __int128* a, const __int128* b);
  void push_gmp(Vec A, Vec B);

 private:
  std::size_t gmp_index(std::size_t k) const { return 2 * static_cast<std::size_t>(-1 - machine_row(k)[0]); }
  std::size_t d_ = 0;
  std::vector<__int128> rows_;  // 1 + 2d numbers per piece
  std::vector<Vec> gmp_;        // Gmp pieces: A, B
};

/// The normalized direction u of a rank-one U (first nonzero coordinate 1), nullopt if U has
/// rank >= 2, an empty vector if U = 0. Exact. The test U(i, j) == U(i, p) u_j runs in machine
/// fractions where they fit (machine_rational.hpp); `gmp_only`: in GMP throughout (the tests' plain path).
std::optional<Vec> rank_one_direction(const Matrix& U, bool gmp_only = false);

/// Precomputes the pieces when U has rank <= 1 (otherwise rank_one = false). The pieces' running
/// sums are kept in machine fractions where they fit (machine_rational.hpp) and each piece is
/// written straight into its compact row; `gmp_sums` keeps the sums in GMP rationals throughout and
/// converts each piece from them (least common denominator in GMP), the plain path the tests compare
/// with: the same plan, row for row, either way.
FeedForwardPlan plan_feed_forward(const FeedForward& ff, bool gmp_sums = false);

/// z <- eta z + W relu(U z + b), through the pieces when the plan is rank-one; a token on a
/// zero piece of an eta = 1 layer is left untouched. Exact.
void apply_feed_forward_in_place(const FeedForward& ff, const FeedForwardPlan& plan, Vec& z);

/// The plan's g(t) added to z: z + A t + B for t = u.z on piece k (eta = 1 layers). Exact.
void add_piece(const FeedForwardPlan& plan, std::size_t k, const Rational& t, Vec& z);

}  // namespace interpcert
