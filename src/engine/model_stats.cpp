#include "interpcert/model_stats.hpp"

#include "matrix_walk.hpp"

#include <algorithm>

namespace interpcert {
namespace {

// `plain`: entry after entry, W column by column (the path the fast walks are tested against).
void add_scalars(ModelStats& s, SquareSum& squares, const Rational* first, std::size_t count, bool plain) {
  s.parameters += count;
  auto add = [&](const Rational& x) {
    squares.add(x);
    s.max_bits = std::max(s.max_bits, rational_bits(x));
  };
  if (plain) {
    for (std::size_t i = 0; i < count; ++i) add(first[i]);
    return;
  }
  walk::each_prefetched(first, count, add);  // matrix_walk.hpp: many cache misses in flight
}
void add_matrix(ModelStats& s, SquareSum& squares, const Matrix& m, bool plain) {
  add_scalars(s, squares, m.a.data(), m.a.size(), plain);
}
// Column by column: a column of a feed-forward W (displacement * weight / delta) mostly shares one
// denominator, so SquareSum looks its group up once per column instead of once per entry. W is
// row-major and 600,000 columns wide at 10^7 tokens (a column's entries 19 MB apart), so the
// columns are taken in blocks read row by row first (max_bits; matrix_walk.hpp), then summed
// column by column from the cache. The same exact sum and maximum in any order.
void add_matrix_by_columns(ModelStats& s, SquareSum& squares, const Matrix& m, bool plain) {
  s.parameters += m.a.size();
  if (plain) {
    for (std::size_t j = 0; j < m.cols; ++j) {
      for (std::size_t i = 0; i < m.rows; ++i) s.max_bits = std::max(s.max_bits, rational_bits(m(i, j)));
      squares.add_strided(m.a.data() + j, m.rows, m.cols);
    }
    return;
  }
  walk::column_blocks(
      m, [&](std::size_t, std::size_t, const Rational& x) { s.max_bits = std::max(s.max_bits, rational_bits(x)); },
      [&](std::size_t j0, std::size_t j1) {
        for (std::size_t j = j0; j < j1; ++j) squares.add_strided(m.a.data() + j, m.rows, m.cols);
      });
}

}  // namespace

std::size_t exact_rank(Matrix m) {
  std::size_t rank = 0;
  for (std::size_t col = 0; col < m.cols && rank < m.rows; ++col) {
    std::size_t piv = rank;
    while (piv < m.rows && m(piv, col) == 0) ++piv;
    if (piv == m.rows) continue;
    for (std::size_t j = 0; j < m.cols; ++j) std::swap(m(piv, j), m(rank, j));
    for (std::size_t i = rank + 1; i < m.rows; ++i) {
      if (m(i, col) == 0) continue;
      Rational f = m(i, col) / m(rank, col);
      for (std::size_t j = col; j < m.cols; ++j) m(i, j) -= f * m(rank, j);
    }
    ++rank;
  }
  return rank;
}

ModelStats model_stats(const Model& m, bool plain) {
  ModelStats s;
  SquareSum squares;
  s.blocks = m.blocks.size();
  for (const Block& b : m.blocks) {
    if (b.sa) {
      ++s.attention_layers;
      add_scalars(s, squares, &b.sa->rho, 1, plain);
      add_matrix(s, squares, b.sa->Q, plain);
      add_matrix(s, squares, b.sa->K, plain);
      if (b.sa->factored) {
        add_matrix(s, squares, b.sa->Vleft, plain);
        add_matrix(s, squares, b.sa->Vright, plain);
      } else {
        add_matrix(s, squares, b.sa->V, plain);
      }
      s.max_heads = std::max(s.max_heads, b.sa->Q.rows);
      s.max_score_rank = std::max(s.max_score_rank, exact_rank(matmul(transpose(b.sa->Q), b.sa->K)));
      s.max_value_rank = std::max(s.max_value_rank, exact_rank(b.sa->value_matrix()));
    }
    if (b.ff) {
      ++s.feed_forward_layers;
      add_scalars(s, squares, &b.ff->eta, 1, plain);
      add_matrix(s, squares, b.ff->U, plain);
      add_scalars(s, squares, b.ff->b.data(), b.ff->b.size(), plain);
      add_matrix_by_columns(s, squares, b.ff->W, plain);
      s.max_ff_width = std::max(s.max_ff_width, b.ff->U.rows);
    }
  }
  s.squared_norm = squares.total();
  return s;
}

std::size_t paper_hardmax_block_bound(const Dataset& ds) { return 2 * ds.total_outputs() + 2 * ds.sequences.size() + 1; }
std::size_t paper_softmax_block_bound(const Dataset& ds) { return 2 * ds.total_outputs() + 3 * ds.sequences.size(); }
std::size_t construction_block_bound(const Dataset& ds) { return ds.total_outputs() + ds.sequences.size(); }

}  // namespace interpcert
