// Private to the engine (model_stats.cpp, feed_forward_plan.cpp): reading a large matrix of GMP
// rationals at memory speed (issue 13). An entry is an mpq struct (32 bytes, in the matrix's
// row-major array) plus its numerator's and denominator's limbs elsewhere on the heap, so a cold
// entry is two or three dependent cache misses. At 10^7 tokens the hat layer's W (16 x 600,000)
// and U (600,000 x 16) are a large part of a 4.8 GB working set against a 300 MiB L3, and the
// sweep of feed_forward_plan.cpp read W's columns at random (16 struct lines 19 MB apart each).
// These walks read the structs in address order and ask for the limbs of the entries a little
// ahead (prefetch), so that several misses are in flight at once. Only the order of reads
// changes: the callers' results do not depend on it. (Measured at 10^7: the plan's first touches
// of W -1.4 s CPU; model stats ~-10%, its cost being mostly SquareSum::total's arithmetic.)
#pragma once

#include "interpcert/linalg.hpp"

#include <gmp.h>

#include <algorithm>
#include <cstddef>

namespace interpcert::walk {

// Asks for the cache lines of x's numerator and denominator limbs (x's struct must be cached or
// on its way: its limb pointers are read here).
inline void prefetch_limbs(const Rational& x) {
  mpq_srcptr q = x.backend().data();
  __builtin_prefetch(mpq_numref(q)->_mp_d);
  __builtin_prefetch(mpq_denref(q)->_mp_d);
}

inline void prefetch_structs(const Rational* first, std::size_t count) {
  for (std::size_t k = 0; k < count; ++k) __builtin_prefetch(first + k);
}

// Segments of contiguous entries, visited in order: while segment s is visited, the structs of
// segment s + 2 and the limbs of segment s + 1 (whose structs were asked for one segment
// earlier) are on their way. `segment(s, first, count)` names segment s.
template <class Segment, class Visit>
void segments_prefetched(std::size_t segments, Segment segment, Visit visit) {
  const Rational* first = nullptr;
  std::size_t count = 0;
  for (std::size_t s = 0; s < 2 && s < segments; ++s) {
    segment(s, first, count);
    prefetch_structs(first, count);
  }
  if (segments > 0) {
    segment(0, first, count);
    for (std::size_t k = 0; k < count; ++k) prefetch_limbs(first[k]);
  }
  for (std::size_t s = 0; s < segments; ++s) {
    if (s + 2 < segments) {
      segment(s + 2, first, count);
      prefetch_structs(first, count);
    }
    if (s + 1 < segments) {
      segment(s + 1, first, count);
      for (std::size_t k = 0; k < count; ++k) prefetch_limbs(first[k]);
    }
    segment(s, first, count);
    visit(s, first, count);
  }
}

constexpr std::size_t kSegment = 32;  // entries: ~3 lines each, well within the fill buffers' reach

/// visit(x) for every entry of first[0 .. count), in order, prefetched.
template <class Visit>
void each_prefetched(const Rational* first, std::size_t count, Visit visit) {
  segments_prefetched(
      (count + kSegment - 1) / kSegment,
      [&](std::size_t s, const Rational*& f, std::size_t& n) {
        f = first + s * kSegment;
        n = std::min(kSegment, count - s * kSegment);
      },
      [&](std::size_t, const Rational* f, std::size_t n) {
        for (std::size_t k = 0; k < n; ++k) visit(f[k]);
      });
}

/// A row-major matrix in blocks of kSegment columns, each block row by row: visit(i, j, m(i, j))
/// for every entry, then block_done(j0, j1) once the block's columns j0 .. j1 - 1 are all
/// visited (they are then cached: a column-wise pass over them costs no memory traffic). Every
/// cache line of the row-major array is read once, in address order within a row, and a block's
/// limbs (allocated column by column when the matrix was built hat by hat) stay cached across
/// its rows.
template <class Visit, class BlockDone>
void column_blocks(const Matrix& m, Visit visit, BlockDone block_done) {
  const std::size_t blocks = (m.cols + kSegment - 1) / kSegment;
  if (m.rows == 0) {
    for (std::size_t b = 0; b < blocks; ++b) block_done(b * kSegment, std::min(m.cols, (b + 1) * kSegment));
    return;
  }
  segments_prefetched(
      blocks * m.rows,
      [&](std::size_t s, const Rational*& f, std::size_t& n) {
        const std::size_t b = s / m.rows, i = s % m.rows, j0 = b * kSegment;
        f = m.a.data() + i * m.cols + j0;
        n = std::min(kSegment, m.cols - j0);
      },
      [&](std::size_t s, const Rational* f, std::size_t n) {
        const std::size_t b = s / m.rows, i = s % m.rows, j0 = b * kSegment;
        for (std::size_t k = 0; k < n; ++k) visit(i, j0 + k, f[k]);
        if (i + 1 == m.rows) block_done(j0, j0 + n);
      });
}

}  // namespace interpcert::walk
