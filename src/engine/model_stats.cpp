#include "interpcert/model_stats.hpp"

#include <algorithm>

namespace interpcert {
namespace {

void add_scalars(ModelStats& s, SquareSum& squares, const Rational* first, std::size_t count) {
  s.parameters += count;
  for (std::size_t i = 0; i < count; ++i) {
    squares.add(first[i]);
    s.max_bits = std::max(s.max_bits, rational_bits(first[i]));
  }
}
void add_matrix(ModelStats& s, SquareSum& squares, const Matrix& m) { add_scalars(s, squares, m.a.data(), m.a.size()); }
// Column by column: a column of a feed-forward W (displacement * weight / delta) mostly shares one
// denominator, so SquareSum looks its group up once per column instead of once per entry.
void add_matrix_by_columns(ModelStats& s, SquareSum& squares, const Matrix& m) {
  s.parameters += m.a.size();
  for (std::size_t j = 0; j < m.cols; ++j) {
    for (std::size_t i = 0; i < m.rows; ++i) s.max_bits = std::max(s.max_bits, rational_bits(m(i, j)));
    squares.add_strided(m.a.data() + j, m.rows, m.cols);
  }
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

ModelStats model_stats(const Model& m) {
  ModelStats s;
  SquareSum squares;
  s.blocks = m.blocks.size();
  for (const Block& b : m.blocks) {
    if (b.sa) {
      ++s.attention_layers;
      add_scalars(s, squares, &b.sa->rho, 1);
      add_matrix(s, squares, b.sa->Q);
      add_matrix(s, squares, b.sa->K);
      if (b.sa->factored) {
        add_matrix(s, squares, b.sa->Vleft);
        add_matrix(s, squares, b.sa->Vright);
      } else {
        add_matrix(s, squares, b.sa->V);
      }
      s.max_heads = std::max(s.max_heads, b.sa->Q.rows);
      s.max_score_rank = std::max(s.max_score_rank, exact_rank(matmul(transpose(b.sa->Q), b.sa->K)));
      s.max_value_rank = std::max(s.max_value_rank, exact_rank(b.sa->value_matrix()));
    }
    if (b.ff) {
      ++s.feed_forward_layers;
      add_scalars(s, squares, &b.ff->eta, 1);
      add_matrix(s, squares, b.ff->U);
      add_scalars(s, squares, b.ff->b.data(), b.ff->b.size());
      add_matrix_by_columns(s, squares, b.ff->W);
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
