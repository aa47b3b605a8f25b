#include "hat.hpp"

#include <algorithm>

namespace interpcert {

FeedForward hats_layer(const std::vector<Hat>& hats) {
  const std::size_t d = hats.front().u.size(), w = 3 * hats.size();
  FeedForward ff;
  ff.eta = 1;
  ff.U = Matrix(w, d);
  ff.b.resize(w);
  ff.W = Matrix(d, w);
  static const Rational weight[3] = {Rational(1), Rational(-2), Rational(1)};
  for (std::size_t h = 0; h < hats.size(); ++h) {
    const Hat& hat = hats[h];
    Rational offset[3] = {hat.delta - hat.t0, -hat.t0, -hat.delta - hat.t0};
    for (std::size_t r = 0; r < 3; ++r) {
      std::size_t j = 3 * h + r;
      for (std::size_t c = 0; c < d; ++c) {
        ff.U(j, c) = hat.u[c];
        ff.W(c, j) = hat.displacement[c] * weight[r] / hat.delta;
      }
      ff.b[j] = offset[r];
    }
  }
  return ff;
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
