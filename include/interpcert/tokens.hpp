// The input tokens of one sequence, stored compactly (issue 13): one contiguous array of machine
// integers when every coordinate of the sequence is an integer that fits -- int32 when all fit in
// int32 (4 bytes per coordinate: the scale datasets' coordinates, +-10^6, halve the 1.28 GB of
// int64 at 10^7 tokens), else int64 when all fit in int64 (8 bytes instead of ~48 for a GMP
// rational) -- otherwise one contiguous array of exact rationals. The representation is a
// function of the values alone (the narrowest that holds every coordinate; an integer-valued
// "1.0" is stored as the integer 1), and every value is exact whichever it is: nothing a claim
// rests on depends on which one a sequence uses.
//
// Reading a token, tokens[i], returns it as a `const Vec` VALUE (built on demand), so read-only
// code written for std::vector<Vec> compiles unchanged and cannot write through a temporary. Hot
// paths use the rows directly: visit_rows(f) calls f once with the array's element type (one
// instantiation per representation, so the loops stay tight).
#pragma once

#include "interpcert/linalg.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace interpcert {

class Tokens {
 public:
  Tokens() = default;
  Tokens(std::initializer_list<Vec> rows);
  Tokens(const std::vector<Vec>& rows);  // NOLINT: implicit, so `s.input = rows;` keeps working

  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  /// Coordinates per token (0 while empty).
  std::size_t dim() const { return d_; }
  /// Token i as an exact vector (a copy).
  const Vec operator[](std::size_t i) const;
  const Vec front() const { return (*this)[0]; }
  const Vec back() const { return (*this)[n_ - 1]; }

  /// All tokens as exact vectors (a copy).
  std::vector<Vec> to_vecs() const;
  operator std::vector<Vec>() const { return to_vecs(); }  // NOLINT: implicit, for read-only callers

  void reserve(std::size_t n);
  /// Appends a token (all tokens have the same length, checked).
  void push_back(const Vec& z);
  /// Appends a token given as d int64 values.
  void push_back_ints(const std::int64_t* z, std::size_t d);
  void clear() { *this = Tokens(); }

  /// How the coordinates are stored, narrowest first (the order is used: a sequence only widens).
  enum class Storage : std::uint8_t { int32, int64, rational };
  Storage storage() const { return storage_; }
  /// True when the tokens are stored as machine integers (int32 or int64).
  bool is_integer() const { return storage_ != Storage::rational; }
  /// Calls f(data) with the coordinates as one array, token i at data + i * dim(): data is a
  /// const std::int32_t*, const std::int64_t* or const Rational*, as storage() says.
  template <class F>
  decltype(auto) visit_rows(F&& f) const {
    switch (storage_) {
      case Storage::int32: return f(static_cast<const std::int32_t*>(int32_.data()));
      case Storage::int64: return f(static_cast<const std::int64_t*>(int64_.data()));
      case Storage::rational: break;
    }
    return f(static_cast<const Rational*>(rats_.data()));
  }
  /// Stores the same values in a wider representation than theirs (int64 or rationals), for
  /// differential tests of the narrower fast paths; never narrows.
  void store_as(Storage s) { widen_to(s); }
  void store_as_rationals() { widen_to(Storage::rational); }

  /// Coordinate c of token i, exact (a copy).
  Rational coordinate(std::size_t i, std::size_t c) const;
  /// Token i equals token j of `other` (exact values; any two representations).
  bool token_equal(std::size_t i, const Tokens& other, std::size_t j) const;
  /// Token i equals z (exact).
  bool token_equal(std::size_t i, const Vec& z) const;
  /// Exact lexicographic order of token i and token j of `other` (equal lengths): <0, 0, >0,
  /// as lex_less on the vectors.
  int token_compare(std::size_t i, const Tokens& other, std::size_t j) const;
  /// A hash of token i's values: equal tokens hash equally whatever their representation.
  std::size_t token_hash(std::size_t i) const;
  /// Appends token i's lowest-terms numbers, space-separated, and "\n" (as append_numbers_line).
  void append_line(std::string& out, std::size_t i) const;

  friend bool operator==(const Tokens& a, const Tokens& b);

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Vec;
    using difference_type = std::ptrdiff_t;
    using reference = const Vec;
    using pointer = void;
    iterator() = default;
    iterator(const Tokens* t, std::size_t i) : t_(t), i_(i) {}
    const Vec operator*() const { return (*t_)[i_]; }
    iterator& operator++() { ++i_; return *this; }
    iterator operator++(int) { iterator r = *this; ++i_; return r; }
    iterator operator+(difference_type k) const { return {t_, i_ + static_cast<std::size_t>(k)}; }
    difference_type operator-(const iterator& o) const { return static_cast<difference_type>(i_) - static_cast<difference_type>(o.i_); }
    bool operator==(const iterator& o) const { return i_ == o.i_; }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    const Tokens* t_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, n_}; }

 private:
  void widen_to(Storage s);  // converts the stored values to s when s is wider (else nothing)
  std::size_t n_ = 0, d_ = 0;
  Storage storage_ = Storage::int32;  // an empty sequence is the narrowest
  std::vector<std::int32_t> int32_;   // n_ * d_ when storage_ is int32, else empty
  std::vector<std::int64_t> int64_;   // n_ * d_ when int64
  std::vector<Rational> rats_;        // n_ * d_ when rational
};

/// Token i of a Tokens array, by reference to the array (which must outlive it): a token of the
/// dataset without a copy. *ref materializes it.
struct TokenRef {
  const Tokens* tokens = nullptr;
  std::size_t index = 0;
  const Vec operator*() const { return (*tokens)[index]; }
  bool operator==(const TokenRef& o) const { return tokens->token_equal(index, *o.tokens, o.index); }
};
struct TokenRefLess {
  bool operator()(const TokenRef& a, const TokenRef& b) const { return a.tokens->token_compare(a.index, *b.tokens, b.index) < 0; }
};
struct TokenRefHash {
  std::size_t operator()(const TokenRef& r) const { return r.tokens->token_hash(r.index); }
};

/// k.x for every token x, in machine integers: when every entry of k fits in int64 and every
/// token is stored as machine integers (int32 or int64), and no partial sum leaves the __int128
/// range (checked), the exact values (equal to dot(k, *x)); nullopt otherwise (the caller takes
/// the mpq path).
std::optional<std::vector<__int128>> integer_projections(const Vec& k, const std::vector<TokenRef>& xs);

/// True when the values are pairwise distinct. Linear time when max - min < 2^64 (a radix sort of
/// the offsets from the minimum: a comparison sort of 10^7 values costs ~10x more and grows as
/// n log n); std::sort otherwise. The radix sort goes most significant digit first (2^11 buckets
/// by value), then sorts and scans each bucket in turn and stops at the first repeat: choose_key's
/// failing tries (many repeats) cost about one pass. Equal to sorting and std::adjacent_find
/// (tests/dataset_test.cpp).
bool int128_all_distinct(const std::vector<__int128>& values);

}  // namespace interpcert
