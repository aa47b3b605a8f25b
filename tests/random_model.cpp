#include "random_model.hpp"

namespace interpcert::testing {
namespace {

std::size_t pick(std::mt19937_64& rng, std::size_t n) { return static_cast<std::size_t>(rng() % n); }

Matrix random_matrix(std::mt19937_64& rng, std::size_t r, std::size_t c) {
  Matrix m(r, c);
  for (auto& x : m.a) x = random_small(rng);
  return m;
}

Vec random_vec(std::mt19937_64& rng, std::size_t d) {
  Vec v(d);
  for (auto& x : v) x = random_small(rng);
  return v;
}

SelfAttention random_attention(std::mt19937_64& rng, std::size_t d) {
  SelfAttention sa;
  static const Rational rhos[] = {Rational(1), Rational(1), Rational(0), Rational(1, 2), Rational(-1), Rational(2)};
  sa.rho = rhos[pick(rng, 6)];
  switch (pick(rng, 4)) {
    case 0: {  // rank one, one head
      sa.Q = random_matrix(rng, 1, d);
      sa.K = random_matrix(rng, 1, d);
      break;
    }
    case 1: {  // rank one spread over several heads: Q_r = alpha_r q, K_r = beta_r k
      std::size_t h = 2 + pick(rng, 2);
      Vec q = random_vec(rng, d), k = random_vec(rng, d);
      sa.Q = Matrix(h, d);
      sa.K = Matrix(h, d);
      for (std::size_t r = 0; r < h; ++r) {
        Rational al = random_small(rng), be = random_small(rng);
        for (std::size_t j = 0; j < d; ++j) {
          sa.Q(r, j) = al * q[j];
          sa.K(r, j) = be * k[j];
        }
      }
      break;
    }
    case 2: {  // general
      std::size_t h = 1 + pick(rng, 3);
      sa.Q = random_matrix(rng, h, d);
      sa.K = random_matrix(rng, h, d);
      break;
    }
    default: {  // zero queries: every token attends to all
      sa.Q = Matrix(1, d);
      sa.K = random_matrix(rng, 1, d);
      break;
    }
  }
  if (pick(rng, 2)) {
    sa.factored = true;
    std::size_t r = 1 + pick(rng, 2);
    sa.Vleft = random_matrix(rng, d, r);
    sa.Vright = random_matrix(rng, r, d);
  } else {
    sa.V = random_matrix(rng, d, d);
  }
  return sa;
}

FeedForward random_feed_forward(std::mt19937_64& rng, std::size_t d, const Vec& shared_direction) {
  FeedForward ff;
  static const Rational etas[] = {Rational(1), Rational(1), Rational(1), Rational(0), Rational(1, 2), Rational(-1)};
  ff.eta = etas[pick(rng, 6)];
  std::size_t w = 1 + pick(rng, 5);
  switch (pick(rng, 4)) {
    case 0:  // general
      ff.U = random_matrix(rng, w, d);
      break;
    case 1:
    case 2: {  // rank one along the shared direction (hat stacks reuse the sorted index)
      ff.U = Matrix(w, d);
      for (std::size_t j = 0; j < w; ++j) {
        Rational c = random_small(rng);
        for (std::size_t i = 0; i < d; ++i) ff.U(j, i) = c * shared_direction[i];
      }
      if (pick(rng, 2)) ff.eta = 1;
      break;
    }
    default:  // U = 0: a constant shift
      ff.U = Matrix(w, d);
      break;
  }
  ff.b = random_vec(rng, w);
  ff.W = random_matrix(rng, d, w);
  return ff;
}

}  // namespace

Rational random_small(std::mt19937_64& rng) {
  static const Rational values[] = {Rational(0),     Rational(0),    Rational(1),     Rational(-1),
                                    Rational(2),     Rational(-2),   Rational(1, 2),  Rational(-1, 2),
                                    Rational(3),     Rational(1, 3), Rational(-5, 4), Rational(7, 2)};
  return values[pick(rng, sizeof values / sizeof values[0])];
}

Model random_model(std::mt19937_64& rng, std::size_t d, std::size_t L) {
  Model m;
  m.d = d;
  Vec shared = random_vec(rng, d);
  if (shared[0] == 0) shared[0] = 1;
  for (std::size_t i = 0; i < L; ++i) {
    Block b;
    if (pick(rng, 3) != 0) b.sa = random_attention(rng, d);
    if (pick(rng, 4) != 0) b.ff = random_feed_forward(rng, d, shared);
    m.blocks.push_back(std::move(b));
  }
  return m;
}

std::vector<std::vector<Vec>> random_sequences(std::mt19937_64& rng, std::size_t d, std::size_t count,
                                               std::size_t max_len) {
  std::vector<std::vector<Vec>> seqs(count);
  for (auto& s : seqs) {
    s.resize(1 + pick(rng, max_len));
    for (auto& z : s) {
      z.resize(d);
      for (auto& x : z) x = Rational(static_cast<long>(pick(rng, 5)) - 2, 1 + static_cast<long>(pick(rng, 2)));
    }
  }
  return seqs;
}

void integerize(Model& m, std::mt19937_64& rng) {
  auto scaled = [&](const Rational& x) { return Rational(numerator(x) * Integer(static_cast<long>(1 + rng() % (1ull << 40)))); };
  auto fix = [&](Matrix& a) {
    for (auto& x : a.a) x = scaled(x);
  };
  for (auto& b : m.blocks) {
    if (b.sa) {
      fix(b.sa->Q), fix(b.sa->K), fix(b.sa->V), fix(b.sa->Vleft), fix(b.sa->Vright);
      b.sa->rho = numerator(b.sa->rho);
    }
    if (b.ff) {
      fix(b.ff->U), fix(b.ff->W);
      for (auto& x : b.ff->b) x = scaled(x);
      b.ff->eta = numerator(b.ff->eta);
    }
  }
}

void integerize(std::vector<std::vector<Vec>>& seqs, std::mt19937_64& rng) {
  // One factor per run of tokens, so that equal tokens (ties, repeats) stay equal often.
  const long f = static_cast<long>(1 + rng() % (1ull << 50));
  for (auto& s : seqs)
    for (auto& z : s)
      for (auto& x : z) x = Rational(numerator(x) * Integer(f));
}

}  // namespace interpcert::testing
