// A plain IEEE evaluation of hardmax models in double or float (a TEST ORACLE, never a claim):
// the model's numbers and the inputs rounded to the format, dot products in a chosen order
// (forward, reverse, pairwise, FMA), hardmax by float equality, averages by sum-then-divide or by
// weights fl(1/|C|). Shared by tests/float_bound_test.cpp and bench/float_precision.cpp.
#pragma once

#include "interpcert/float_bound.hpp"
#include "interpcert/model.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <vector>

namespace interpcert::testing {

// The model's numbers rounded once per model (keyed by address; cleared for every model).
inline std::unordered_map<const Rational*, double> g_rounded;

// An input coordinate rounded to the format, not cached: a token of the dataset is a temporary
// (Tokens builds it on demand), so its address says nothing about its value.
template <typename F>
F input_to_f(const Rational& x, const FloatFormat& fmt) {
  return static_cast<F>(float_round(x, fmt.p, fmt)->template convert_to<double>());
}

template <typename F>
F to_f(const Rational& x, const FloatFormat& fmt) {
  auto it = g_rounded.find(&x);
  if (it != g_rounded.end()) return static_cast<F>(it->second);
  // Round exactly to the format, then convert (exact: the value is representable).
  Rational r = *float_round(x, fmt.p, fmt);
  double v = r.convert_to<double>();
  g_rounded.emplace(&x, v);
  return static_cast<F>(v);
}

enum class Order { Forward, Reverse, Pairwise, Fma };

template <typename F>
F sum_pairwise(const std::vector<F>& t, std::size_t lo, std::size_t hi) {
  if (hi - lo == 1) return t[lo];
  std::size_t mid = lo + (hi - lo) / 2;
  return sum_pairwise(t, lo, mid) + sum_pairwise(t, mid, hi);
}

/// fl(sum_k x_k y_k) in the given order.
template <typename F>
F fdot(const std::vector<F>& x, const std::vector<F>& y, Order o) {
  std::size_t n = x.size();
  if (n == 0) return F(0);
  if (o == Order::Fma) {
    F s = x[0] * y[0];
    for (std::size_t k = 1; k < n; ++k) s = std::fma(x[k], y[k], s);
    return s;
  }
  std::vector<F> t(n);
  for (std::size_t k = 0; k < n; ++k) t[k] = x[k] * y[k];
  if (o == Order::Pairwise) return sum_pairwise(t, 0, n);
  F s = 0;
  if (o == Order::Forward)
    for (std::size_t k = 0; k < n; ++k) s += t[k];
  else
    for (std::size_t k = n; k-- > 0;) s += t[k];
  return s;
}

template <typename F>
struct FMat {
  std::size_t rows = 0, cols = 0;
  std::vector<F> a;
};
template <typename F>
FMat<F> to_fmat(const Matrix& m, const FloatFormat& fmt) {
  FMat<F> out{m.rows, m.cols, {}};
  for (const auto& x : m.a) out.a.push_back(to_f<F>(x, fmt));
  return out;
}
template <typename F>
std::vector<F> fmatvec(const FMat<F>& m, const std::vector<F>& x, Order o, const std::vector<F>* b = nullptr) {
  std::vector<F> out(m.rows);
  for (std::size_t i = 0; i < m.rows; ++i) {
    std::vector<F> row(m.a.begin() + i * m.cols, m.a.begin() + (i + 1) * m.cols), xs = x;
    if (b) {  // the bias as one more term (b * 1)
      row.push_back((*b)[i]);
      xs.push_back(F(1));
    }
    out[i] = fdot(row, xs, o);
  }
  return out;
}

/// A plain IEEE evaluation of a hardmax model (formats-v1.md semantics) in type F.
template <typename F>
std::vector<std::vector<F>> float_eval(const Model& m, const std::vector<Vec>& input, const FloatFormat& fmt, Order o,
                                       bool average_by_weights) {
  std::vector<std::vector<F>> z;
  for (const auto& t : input) {
    std::vector<F> v;
    for (const auto& x : t) v.push_back(input_to_f<F>(x, fmt));
    z.push_back(v);
  }
  const std::size_t n = z.size(), d = m.d;
  for (const Block& bl : m.blocks) {
    if (bl.sa) {
      const auto& sa = *bl.sa;
      FMat<F> Q = to_fmat<F>(sa.Q, fmt), K = to_fmat<F>(sa.K, fmt);
      std::vector<std::vector<F>> q(n), k(n), v(n);
      for (std::size_t l = 0; l < n; ++l) {
        q[l] = fmatvec(Q, z[l], o);
        k[l] = fmatvec(K, z[l], o);
        if (sa.factored) v[l] = fmatvec(to_fmat<F>(sa.Vleft, fmt), fmatvec(to_fmat<F>(sa.Vright, fmt), z[l], o), o);
        else v[l] = fmatvec(to_fmat<F>(sa.V, fmt), z[l], o);
      }
      F rho = to_f<F>(sa.rho, fmt);
      std::vector<std::vector<F>> out(n, std::vector<F>(d));
      for (std::size_t i = 0; i < n; ++i) {
        std::vector<F> s(n);
        for (std::size_t l = 0; l < n; ++l) s[l] = fdot(q[i], k[l], o);
        F best = s[0];
        for (F x : s) best = std::max(best, x);
        std::vector<std::size_t> C;
        for (std::size_t l = 0; l < n; ++l)
          if (s[l] == best) C.push_back(l);
        for (std::size_t c = 0; c < d; ++c) {
          F att;
          if (average_by_weights) {  // an attention matrix with entries fl(1/|C|)
            std::vector<F> w(C.size(), F(1) / F(C.size())), vals;
            for (std::size_t l : C) vals.push_back(v[l][c]);
            att = fdot(w, vals, o);
          } else {  // sum, then divide
            std::vector<F> ones(C.size(), F(1)), vals;
            for (std::size_t l : C) vals.push_back(v[l][c]);
            att = fdot(ones, vals, o) / F(C.size());
          }
          out[i][c] = o == Order::Fma ? std::fma(rho, z[i][c], att) : rho * z[i][c] + att;
        }
      }
      z = out;
    }
    if (bl.ff) {
      const auto& ff = *bl.ff;
      FMat<F> U = to_fmat<F>(ff.U, fmt), W = to_fmat<F>(ff.W, fmt);
      std::vector<F> b;
      for (const auto& x : ff.b) b.push_back(to_f<F>(x, fmt));
      F eta = to_f<F>(ff.eta, fmt);
      for (auto& t : z) {
        std::vector<F> h = fmatvec(U, t, o, &b);
        for (F& x : h) x = x < 0 ? F(0) : x;
        std::vector<F> out(d);
        for (std::size_t c = 0; c < d; ++c) {
          std::vector<F> row(W.a.begin() + c * W.cols, W.a.begin() + (c + 1) * W.cols), xs = h;
          row.insert(row.begin(), eta);  // eta z_c as the first term
          xs.insert(xs.begin(), t[c]);
          out[c] = fdot(row, xs, o);
        }
        t = out;
      }
    }
  }
  return z;
}

}  // namespace interpcert::testing
