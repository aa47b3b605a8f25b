#include "interpcert/staircase.hpp"

#include <algorithm>
#include <map>

namespace interpcert {

FeedForward staircase_layer(const Dataset& ds) {
  const std::size_t d = ds.d;
  std::map<Vec, int, bool (*)(const Vec&, const Vec&)> distinct(lex_less);
  for (const auto& s : ds.sequences)
    for (const auto& y : s.output) distinct.emplace(y, 0);
  std::vector<Vec> targets;
  for (auto& [y, unused] : distinct) targets.push_back(y);
  // v = (1, s, s^2, ...) with the targets' projections distinct.
  Vec v(d);
  std::vector<std::pair<Rational, std::size_t>> proj;
  for (long s = 1;; ++s) {
    Rational p(1);
    for (std::size_t i = 0; i < d; ++i, p *= s) v[i] = p;
    proj.clear();
    for (std::size_t k = 0; k < targets.size(); ++k) proj.push_back({dot(v, targets[k]), k});
    std::sort(proj.begin(), proj.end());
    bool ok = true;
    for (std::size_t k = 1; k < proj.size(); ++k) ok = ok && proj[k].first != proj[k - 1].first;
    if (ok) break;
  }
  Rational gap;
  for (std::size_t k = 1; k < proj.size(); ++k) {
    Rational g = proj[k].first - proj[k - 1].first;
    if (k == 1 || g < gap) gap = g;
  }
  const Rational rho = gap / 4;
  const std::size_t K = targets.size(), w = 2 * K - 1;
  FeedForward ff;
  ff.eta = 0;
  ff.U = Matrix(w, d);
  ff.b.assign(w, Rational(0));
  ff.W = Matrix(d, w);
  // Neuron 0: relu(0 z + 1) = 1, carrying the lowest target.
  ff.b[0] = 1;
  for (std::size_t c = 0; c < d; ++c) ff.W(c, 0) = targets[proj[0].second][c];
  // Between targets k and k+1: (relu(t - a) - relu(t - b)) / (b - a) climbs from 0 to 1.
  for (std::size_t k = 0; k + 1 < K; ++k) {
    Rational a = proj[k].first + rho, b = proj[k + 1].first - rho;
    const Vec &lo = targets[proj[k].second], &hi = targets[proj[k + 1].second];
    for (std::size_t r = 0; r < 2; ++r) {
      std::size_t j = 1 + 2 * k + r;
      for (std::size_t c = 0; c < d; ++c) {
        ff.U(j, c) = v[c];
        ff.W(c, j) = (hi[c] - lo[c]) / (b - a) * (r == 0 ? 1 : -1);
      }
      ff.b[j] = r == 0 ? -a : -b;
    }
  }
  return ff;
}

std::optional<Vec> constant_output(const FeedForward& ff, const std::vector<bool>& active) {
  const std::size_t d = ff.W.rows;
  for (std::size_t r = 0; r < d; ++r)
    for (std::size_t c = 0; c < ff.U.cols; ++c) {
      Rational s;
      for (std::size_t j = 0; j < active.size(); ++j)
        if (active[j]) s += ff.W(r, j) * ff.U(j, c);
      if (s != 0) return std::nullopt;
    }
  Vec out(d);
  for (std::size_t j = 0; j < active.size(); ++j)
    if (active[j])
      for (std::size_t r = 0; r < d; ++r) out[r] += ff.W(r, j) * ff.b[j];
  return out;
}

}  // namespace interpcert
