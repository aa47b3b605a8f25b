// The checker's exact sum of squares (|theta|^2 of the embedded model), in time linear in the
// number of entries: x = p/q adds p^2 to one integer sum per denominator q (a hash table; the
// entries of a row of a large model mostly share their neighbour's denominator, so the last group
// is tried first), and the groups are added pairwise at the end. A running mpq sum would be
// quadratic in the number of denominators; a search tree of groups costs a logarithm of cache
// misses per entry (17 s of 60 at 10^7 tokens). total() equals the plain running sum (tested).
#pragma once

#include "interpcert/rational.hpp"

#include <cstddef>
#include <unordered_map>

namespace interpcert::checker {

class SumOfSquares {
 public:
  /// Adds x^2. Exact.
  void add(const Rational& x);
  /// The sum of the squares added so far. Exact.
  Rational total() const;

 private:
  struct Hash {  // of a positive denominator's low limb (equal integers hash equally)
    using is_transparent = void;
    std::size_t operator()(mpz_srcptr z) const;
    std::size_t operator()(const Integer& z) const { return (*this)(z.backend().data()); }
  };
  struct Equal {
    using is_transparent = void;
    static mpz_srcptr of(mpz_srcptr z) { return z; }
    static mpz_srcptr of(const Integer& z) { return z.backend().data(); }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const { return mpz_cmp(of(a), of(b)) == 0; }
  };
  Integer integers_;                                        // sum of x^2 over integer x
  std::unordered_map<Integer, Integer, Hash, Equal> by_den_;  // q -> sum of p^2 over x = p/q
  const Integer* last_den_ = nullptr;                       // the group added to last
  Integer* last_sum_ = nullptr;
};

}  // namespace interpcert::checker
