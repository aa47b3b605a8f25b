// A plain IEEE evaluation of softmax models in double or float (a TEST ORACLE, never a claim),
// in the variants real libraries use: dot products in a chosen order (forward, reverse, pairwise,
// FMA), scores scaled by fl(beta) or divided by fl(1/beta) (PyTorch's tau), the row maximum
// subtracted, exp from std::exp, the normalisation by per-weight division, multiplication by
// fl(1/S) (PyTorch's CPU kernel), or one division of the weighted sum at the end.
#pragma once

#include "float_oracle.hpp"

namespace interpcert::testing {

enum class Norm { Divide, Reciprocal, AtEnd };

template <typename F>
std::vector<std::vector<F>> float_eval_softmax(const Model& m, const std::vector<Vec>& input, const FloatFormat& fmt,
                                               Order o, Norm norm, bool divide_by_tau) {
  std::vector<std::vector<F>> z;
  for (const auto& t : input) {
    std::vector<F> v;
    for (const auto& x : t) v.push_back(input_to_f<F>(x, fmt));
    z.push_back(v);
  }
  const std::size_t n = z.size(), d = m.d;
  const F beta = static_cast<F>(float_round(*m.beta, fmt.p, fmt)->template convert_to<double>());
  const F tau = static_cast<F>(float_round(Rational(1) / *m.beta, fmt.p, fmt)->template convert_to<double>());
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
        std::vector<F> t(n), e(n), w(n);
        for (std::size_t l = 0; l < n; ++l) {
          F s = fdot(q[i], k[l], o);
          t[l] = divide_by_tau ? s / tau : s * beta;
        }
        F mx = *std::max_element(t.begin(), t.end());
        for (std::size_t l = 0; l < n; ++l) e[l] = std::exp(t[l] - mx);
        std::vector<F> ones(n, F(1));
        F S = fdot(ones, e, o == Order::Fma ? Order::Forward : o);
        F r = F(1) / S;
        for (std::size_t l = 0; l < n; ++l) w[l] = norm == Norm::Divide ? e[l] / S : e[l] * r;
        for (std::size_t c = 0; c < d; ++c) {
          std::vector<F> vals(n);
          for (std::size_t l = 0; l < n; ++l) vals[l] = v[l][c];
          F att = norm == Norm::AtEnd ? fdot(e, vals, o) / S : fdot(w, vals, o);
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
      for (auto& tk : z) {
        std::vector<F> h = fmatvec(U, tk, o, &b);
        for (F& x : h) x = x < 0 ? F(0) : x;
        std::vector<F> res(d);
        for (std::size_t c = 0; c < d; ++c) {
          std::vector<F> row(W.a.begin() + c * W.cols, W.a.begin() + (c + 1) * W.cols), xs = h;
          row.insert(row.begin(), eta);
          xs.insert(xs.begin(), tk[c]);
          res[c] = fdot(row, xs, o);
        }
        tk = res;
      }
    }
  }
  return z;
}

}  // namespace interpcert::testing
