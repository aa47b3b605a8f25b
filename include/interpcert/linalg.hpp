// Exact vectors and matrices over the rationals. Every operation is exact.
#pragma once

#include "interpcert/rational.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

namespace interpcert {

using Vec = std::vector<Rational>;

/// A dense row-major matrix of exact rationals.
struct Matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<Rational> a;

  Matrix() = default;
  Matrix(std::size_t r, std::size_t c) : rows(r), cols(c), a(r * c) {}
  Rational& operator()(std::size_t i, std::size_t j) { return a[i * cols + j]; }
  const Rational& operator()(std::size_t i, std::size_t j) const { return a[i * cols + j]; }
  bool operator==(const Matrix&) const = default;
};

/// x . y (same length). Exact.
Rational dot(const Vec& x, const Vec& y);
/// x . y by the plain term-by-term mpq loop: the reference that dot's fast path (all entries
/// integers: one mpz accumulator) is tested against.
Rational plain_dot(const Vec& x, const Vec& y);
/// k.x for every x of xs, in machine integers: when every entry of k and of each x is an integer
/// of at most 63 bits and no partial sum leaves the __int128 range (both checked), the exact
/// values (equal to dot(k, *x)); nullopt otherwise, and the caller takes the mpq path.
std::optional<std::vector<__int128>> integer_projections(const Vec& k, const std::vector<const Vec*>& xs);
/// The exact rational with value v.
Rational rational_from_int128(__int128 v);
/// Row i of m dotted with x. Exact.
Rational row_dot(const Matrix& m, std::size_t i, const Vec& x);
/// m x. Exact.
Vec matvec(const Matrix& m, const Vec& x);
/// a b. Exact.
Matrix matmul(const Matrix& a, const Matrix& b);
/// a^T. Exact.
Matrix transpose(const Matrix& a);
/// y += s x. Exact.
void axpy(Vec& y, const Rational& s, const Vec& x);
/// An exact sum of squares of many rationals (|theta|^2 of a model). Adding x^2 to a running mpq
/// sum costs the size of the sum, which grows with every new denominator: quadratic over a large
/// model. This keeps one integer sum of numerators^2 per denominator and adds the groups pairwise
/// at the end. total() equals the plain running sum (exact; tested against it).
class SquareSum {
 public:
  SquareSum() = default;
  SquareSum(const SquareSum&) = delete;  // it points into its own table (last_small_sum_)
  SquareSum& operator=(const SquareSum&) = delete;
  void add(const Rational& x);
  /// Adds x^2 for every x of first[0], first[stride], ..., first[(count - 1) stride] (a matrix
  /// column when stride is the row length). When they share one denominator q (a column of the
  /// construction's W: displacement / delta), their numerators' squares are summed first and the
  /// group is looked up once; otherwise each is added as by add(). Same total as add() of each.
  void add_strided(const Rational* first, std::size_t count, std::size_t stride);
  Rational total() const;

 private:
  void add_group(mpz_srcptr den, mpz_srcptr numerator_squares);  // += numerator_squares / den^2
  Integer& group(mpz_srcptr den);  // the sum of p^2 over x = p/den: integers_ when den = 1
  Integer integers_;                   // sum of x^2 over integer x
  // denominator q -> sum of p^2 over x = p/q: hashed by value when q fits in 64 bits (the usual
  // case: at 10^7 tokens an ordered map's ~19 mpz comparisons per entry were most of model_stats),
  // ordered otherwise.
  std::unordered_map<unsigned long, Integer> by_small_den_;
  std::map<Integer, Integer> by_den_;
  // The small group used last: a hat's columns share their denominator, and a lookup in the
  // table (337,175 groups at 10^7 tokens: 16 MB) is a cache miss.
  unsigned long last_small_den_ = 0;
  Integer* last_small_sum_ = nullptr;
};
/// Hash of an exact vector (equal vectors hash equally).
struct VecHash {
  std::size_t operator()(const Vec& v) const;
};
/// Lexicographic order of exact vectors of equal length.
bool lex_less(const Vec& x, const Vec& y);

}  // namespace interpcert
