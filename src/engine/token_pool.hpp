// Private to the fast evaluator: the distinct token values of all sequences, computed once each
// while they evolve independently (between two attention layers), and a sorted index of their
// projections onto one direction, so that a layer acting on a window finds its tokens by search.
#pragma once

#include "interpcert/linalg.hpp"

#include <cstdint>
#include <map>
#include <vector>

namespace interpcert {

class TokenPool {
 public:
  std::vector<Vec> values;                // distinct token values
  std::vector<std::vector<std::uint32_t>> ids;  // ids[s][i]: value of token i of sequence s

  /// Moves the tokens of every sequence into the pool, one copy per distinct value.
  void gather(std::vector<std::vector<Vec>>& sequences);
  /// Writes the pooled values back into the sequences (moved where used once, copied otherwise).
  void scatter(std::vector<std::vector<Vec>>& sequences);
};

/// The pool's values sorted by t = u.z for one direction u.
class ProjectionIndex {
 public:
  bool built_for(const Vec& u) const { return valid_ && u == u_; }
  void build(const Vec& u, const std::vector<Vec>& values, unsigned threads);
  void invalidate() { valid_ = false; }
  /// Ids whose t lies in [lo, hi]; a null bound is unbounded.
  void collect(const Rational* lo, const Rational* hi, std::vector<std::uint32_t>& out) const;
  const Rational& t_of(std::uint32_t id) const { return where_[id]->first; }
  /// Re-sorts one value after it moved.
  void update(std::uint32_t id, const Vec& value);

 private:
  using Map = std::multimap<Rational, std::uint32_t>;
  bool valid_ = false;
  Vec u_;
  Map by_t_;
  std::vector<Map::iterator> where_;
};

}  // namespace interpcert
