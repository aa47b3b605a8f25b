#include "float_families.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace interpcert::testing {
namespace {

long uniform(std::mt19937_64& rng, long lo, long hi) { return lo + static_cast<long>(rng() % (hi - lo + 1)); }
Vec token(std::mt19937_64& rng, long R, std::size_t d) {
  Vec v;
  for (std::size_t c = 0; c < d; ++c) v.push_back(Rational(uniform(rng, -R, R)));
  return v;
}

std::vector<Vec> pool(std::mt19937_64& rng, std::size_t count, long R, std::size_t d) {
  std::set<Vec, bool (*)(const Vec&, const Vec&)> seen(lex_less);
  std::vector<Vec> out;
  while (out.size() < count) {
    Vec v = token(rng, R, d);
    if (seen.insert(v).second) out.push_back(v);
  }
  return out;
}

// Targets consistent with H4: one per (context, token), drawn once.
struct Targets {
  std::map<std::pair<std::vector<Vec>, Vec>, Vec> chosen;
  Vec get(std::mt19937_64& rng, std::vector<Vec> ctx, const Vec& x, long R, std::size_t d) {
    std::sort(ctx.begin(), ctx.end(), lex_less);
    auto key = std::make_pair(ctx, x);
    auto it = chosen.find(key);
    if (it != chosen.end()) return it->second;
    return chosen[key] = token(rng, R, d);
  }
};

void add(Dataset& ds, std::mt19937_64& rng, Targets& tg, std::vector<Vec> seq, std::vector<std::size_t> pos, long R) {
  Sequence s;
  s.input = seq;
  for (std::size_t p : pos) {
    s.output.push_back(tg.get(rng, seq, seq[p], R, ds.d));
    s.positions.push_back(p);
  }
  ds.sequences.push_back(s);
}

}  // namespace

Dataset float_family(const std::string& name, std::mt19937_64& rng, std::size_t N, long R, std::size_t d) {
  Dataset ds;
  ds.d = d;
  Targets tg;
  if (name == "random" || name == "large-N") {
    for (std::size_t j = 0; j < N; ++j) add(ds, rng, tg, pool(rng, 4, R, d), {3}, R);
  } else if (name == "shared-pool") {  // the example: a pool of 9 points
    auto P = pool(rng, 9, R, d);
    for (std::size_t j = 0; j < N; ++j) {
      std::vector<Vec> s = P;
      std::shuffle(s.begin(), s.end(), rng);
      s.resize(2 + rng() % 4);
      add(ds, rng, tg, s, {s.size() - 1}, R);
    }
  } else if (name == "all-subsets") {  // every subset of a pool of 5
    auto P = pool(rng, 5, R, d);
    for (unsigned mask = 1; mask < 32; ++mask) {
      std::vector<Vec> s;
      for (unsigned i = 0; i < 5; ++i)
        if (mask >> i & 1) s.push_back(P[i]);
      add(ds, rng, tg, s, {0}, R);
    }
  } else if (name == "nested-chain") {
    auto P = pool(rng, std::min<std::size_t>(N, 30) + 1, R, d);
    for (std::size_t j = 1; j < P.size(); ++j) add(ds, rng, tg, std::vector<Vec>(P.begin(), P.begin() + j + 1), {0}, R);
  } else if (name == "collinear") {
    std::set<long> used;
    for (std::size_t j = 0; j < N; ++j) {
      std::vector<Vec> s;
      std::set<long> here;
      while (s.size() < 4) {
        long t = uniform(rng, -R / 2, R / 2);
        if (here.insert(t).second) {  // on the line through 0 with direction (1, 2, 1, 2, ...)
          Vec v;
          for (std::size_t c = 0; c < d; ++c) v.push_back(Rational(c % 2 ? 2 * t : t));
          s.push_back(v);
        }
      }
      add(ds, rng, tg, s, {3}, R);
    }
  } else if (name == "m=n") {
    for (std::size_t j = 0; j < N; ++j) add(ds, rng, tg, pool(rng, 3, R, d), {0, 1, 2}, R);
  } else if (name == "permuted-copies") {
    for (std::size_t b = 0; b < std::max<std::size_t>(1, N / 4); ++b) {
      auto s = pool(rng, 4, R, d);
      for (int c = 0; c < 4; ++c) {
        std::shuffle(s.begin(), s.end(), rng);
        add(ds, rng, tg, s, {0, 2}, R);
      }
    }
  }
  return ds;
}

Dataset decimal_family(const std::string& name, std::mt19937_64& rng, std::size_t N, long R, int digits, std::size_t d) {
  long scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  Dataset ds = float_family(name, rng, N, R * scale, d);
  for (auto& s : ds.sequences) {
    std::vector<Vec> in = s.input;
    for (auto& v : in)
      for (auto& x : v) x /= Rational(scale);
    s.input = in;
    for (auto& v : s.output)
      for (auto& x : v) x /= Rational(scale);
  }
  return ds;
}

}  // namespace interpcert::testing
