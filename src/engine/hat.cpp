#include "hat.hpp"

#include <gmp.h>

#include <algorithm>

namespace interpcert {

FeedForward hats_layer(const std::vector<Hat>& hats) {
  const std::size_t d = hats.front().u.size(), w = 3 * hats.size();
  FeedForward ff;
  ff.eta = 1;
  // U's rows come in hat order: built in place (copies of u), not default-constructed and then
  // overwritten (one pass over its w d rationals instead of two: 307 MB at 10^7 tokens).
  ff.U.rows = w;
  ff.U.cols = d;
  ff.U.a.reserve(w * d);
  ff.b.resize(w);
  ff.W = Matrix(d, w);
  // W's column of neuron r is displacement * weight_r / delta, weights (1, -2, 1): one division
  // per coordinate and hat, the -2 multiple by a shift (mpq_mul_2exp keeps lowest terms) and a
  // sign change, instead of three multiplications and divisions (9.6 M entries at 10^7 tokens).
  // Written hat by hat, column by column: a column's limbs are then allocated together, which is
  // the order verify and model stats read W in (written row by row per block of hats instead,
  // construct was faster at 10^7 but verify and model stats slower, by more: build25).
  for (std::size_t h = 0; h < hats.size(); ++h) {
    const Hat& hat = hats[h];
    const std::size_t j = 3 * h;
    ff.b[j] = hat.delta - hat.t0;
    ff.b[j + 1] = -hat.t0;
    ff.b[j + 2] = -hat.delta - hat.t0;
    for (int r = 0; r < 3; ++r)  // rows j, j + 1, j + 2
      ff.U.a.insert(ff.U.a.end(), hat.u.begin(), hat.u.begin() + static_cast<std::ptrdiff_t>(d));
    for (std::size_t c = 0; c < d; ++c) {
      mpq_ptr first = ff.W(c, j).backend().data();
      mpq_div(first, hat.displacement[c].backend().data(), hat.delta.backend().data());
      mpq_ptr middle = ff.W(c, j + 1).backend().data();
      mpq_mul_2exp(middle, first, 1);
      mpq_neg(middle, middle);
      mpq_set(ff.W(c, j + 2).backend().data(), first);
    }
  }
  return ff;
}

FeedForward trapezoids_layer(const std::vector<Hat>& hats) {
  const std::size_t d = hats.front().u.size(), w = 4 * hats.size();
  FeedForward ff;
  ff.eta = 1;
  ff.U = Matrix(w, d);
  ff.b.resize(w);
  ff.W = Matrix(d, w);
  static const int sign[4] = {1, -1, -1, 1};
  for (std::size_t h = 0; h < hats.size(); ++h) {
    const Hat& hat = hats[h];
    const Rational half = hat.delta / 2;
    Rational offset[4] = {hat.delta - hat.t0, half - hat.t0, -half - hat.t0, -hat.delta - hat.t0};
    for (std::size_t r = 0; r < 4; ++r) {
      std::size_t j = 4 * h + r;
      for (std::size_t c = 0; c < d; ++c) {
        ff.U(j, c) = hat.u[c];
        Rational slope = hat.displacement[c] / half;
        ff.W(c, j) = sign[r] > 0 ? slope : Rational(-slope);
      }
      ff.b[j] = offset[r];
    }
  }
  return ff;
}

long floor_log2(const Rational& x) {
  long e = static_cast<long>(msb(numerator(x))) - static_cast<long>(msb(denominator(x)));
  // 2^e <= x < 2^(e+1) up to one: compare num with den 2^e
  auto p2 = [](long k) { return k >= 0 ? Rational(Integer(1) << k) : Rational(1) / Rational(Integer(1) << -k); };
  return p2(e) > x ? e - 1 : e;
}

long valuation2(const Rational& x) {
  return static_cast<long>(lsb(abs(numerator(x)))) - static_cast<long>(lsb(denominator(x)));
}

long hat_bits(const Rational& center, const Rational& delta, const Vec& displacement, const Rational& far,
              const std::vector<Rational>& zmax, long vmin) {
  long vh = std::min(vmin, valuation2(delta / 2));
  if (center != 0) vh = std::min(vh, valuation2(center));
  long worst = 0;
  for (std::size_t c = 0; c < displacement.size(); ++c) {
    Rational W = displacement[c] * 2 / delta;
    Rational S = zmax[c] + Rational(4) * abs(W) * (far + delta);
    if (S == 0) continue;
    long q = W == 0 ? vmin : std::min(vmin, valuation2(W) + vh);
    worst = std::max(worst, floor_log2(S) + 1 - q);
  }
  return worst;
}

Rational pow2_at_most(const Rational& x) {
  // 2^e <= x < 2^(e+1), e from the bit lengths (then corrected by one).
  long e = static_cast<long>(msb(numerator(x))) - static_cast<long>(msb(denominator(x)));
  auto p2 = [](long k) { return k >= 0 ? Rational(Integer(1) << k) : Rational(1) / Rational(Integer(1) << -k); };
  Rational r = p2(e);
  if (r > x) r = p2(e - 1);
  return r;
}

DyadicWindow dyadic_window(const Rational& t0, const Rational& gap) {
  Rational delta = pow2_at_most(gap);
  Rational step = delta / 2;
  Rational ratio = t0 / step;
  if (denominator(ratio) == 1) return {t0, delta};
  // Halve the window and round the centre to a multiple of delta/2: |c - t0| <= delta/4 <= delta/2,
  // and delta + delta/4 < gap because delta <= gap/2.
  delta = pow2_at_most(gap / 2);
  step = delta / 2;
  ratio = t0 / step;
  Integer fl = numerator(ratio) / denominator(ratio);  // truncation toward zero
  Rational c = Rational(fl) * step;
  if (abs(t0 - c) * 2 > step) c += (t0 > c ? step : Rational(-step));
  return {c, delta};
}

Rational nearest_gap(const std::vector<Rational>& sorted_all, const Rational& center) {
  auto it = std::lower_bound(sorted_all.begin(), sorted_all.end(), center);
  bool have = false;
  Rational best;
  auto consider = [&](const Rational& v) {
    if (v == center) return;
    Rational g = v > center ? v - center : center - v;
    if (!have || g < best) best = g, have = true;
  };
  if (it != sorted_all.end()) {
    consider(*it);
    if (std::next(it) != sorted_all.end()) consider(*std::next(it));
  }
  if (it != sorted_all.begin()) consider(*std::prev(it));
  // A lone point: any window works; 1 keeps the numbers small.
  return have ? best : Rational(1);
}

}  // namespace interpcert
