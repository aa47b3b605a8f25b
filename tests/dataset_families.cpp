#include "dataset_families.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace interpcert::testing {
namespace {

long uniform(std::mt19937_64& rng, long lo, long hi) {
  return lo + static_cast<long>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
}

Vec random_token(std::mt19937_64& rng, std::size_t d, long range) {
  Vec v(d);
  for (auto& x : v) x = Rational(uniform(rng, -range, range), uniform(rng, 1, 3));
  return v;
}

// Distinct random tokens, none equal to any in `avoid`.
std::vector<Vec> distinct_tokens(std::mt19937_64& rng, std::size_t d, std::size_t count, long range,
                                 const std::vector<Vec>& avoid = {}) {
  std::vector<Vec> out;
  while (out.size() < count) {
    Vec v = random_token(rng, d, range);
    if (std::find(out.begin(), out.end(), v) == out.end() && std::find(avoid.begin(), avoid.end(), v) == avoid.end())
      out.push_back(std::move(v));
  }
  return out;
}

// Picks the readout: last, first or explicit random positions; fills positions for `outputs`.
void set_positions(std::mt19937_64& rng, Sequence& s, const std::vector<std::size_t>& at) {
  s.positions = at;
  (void)rng;
}

// Places requirement (token index -> target) pairs: output positions are those of the tokens.
Sequence make_sequence(std::vector<Vec> tokens, const std::vector<std::pair<std::size_t, Vec>>& reqs,
                       std::mt19937_64& rng, bool shuffle) {
  std::vector<std::size_t> perm(tokens.size());
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  if (shuffle) std::shuffle(perm.begin(), perm.end(), rng);
  Sequence s;
  std::vector<std::size_t> where(tokens.size());
  for (std::size_t i = 0; i < perm.size(); ++i) {
    s.input.push_back(tokens[perm[i]]);
    where[perm[i]] = i;
  }
  std::vector<std::size_t> at;
  for (const auto& [t, y] : reqs) {
    s.output.push_back(y);
    at.push_back(where[t]);
  }
  set_positions(rng, s, at);
  return s;
}

}  // namespace

std::string family_name(Family f) {
  switch (f) {
    case Family::Random: return "random";
    case Family::SharedTop: return "shared-top";
    case Family::NestedChain: return "nested-chain";
    case Family::EqualMeans: return "equal-means";
    case Family::PermutedCopies: return "permuted-copies";
    case Family::TargetsAreTokens: return "targets-are-tokens";
    case Family::HugeIntegers: return "huge-integers";
  }
  return "?";
}

Dataset make_random(std::mt19937_64& rng, std::size_t d, std::size_t N, std::size_t n, std::size_t m,
                    long coord_range) {
  Dataset ds;
  ds.d = d;
  for (std::size_t j = 0; j < N; ++j) {
    Sequence s;
    std::set<std::vector<long>> seen;
    while (s.input.size() < n) {
      std::vector<long> c(d);
      for (auto& x : c) x = uniform(rng, -coord_range, coord_range);
      if (!seen.insert(c).second) continue;
      Vec v(d);
      for (std::size_t i = 0; i < d; ++i) v[i] = Rational(c[i]);
      s.input.push_back(std::move(v));
    }
    for (std::size_t k = 0; k < m; ++k) {
      Vec y(d);
      for (auto& x : y) x = Rational(uniform(rng, -coord_range, coord_range));
      s.output.push_back(std::move(y));
      s.positions.push_back(n - m + k);
    }
    ds.sequences.push_back(std::move(s));
  }
  return ds;
}

Dataset make_family(Family f, std::mt19937_64& rng, std::size_t d, std::size_t n_seq, std::size_t len) {
  Dataset ds;
  ds.d = d;
  const long R = 6;  // small coordinates: shared tokens and ties between sums are common
  len = std::max<std::size_t>(len, 3);
  switch (f) {
    case Family::Random: {
      for (std::size_t j = 0; j < n_seq; ++j) {
        auto toks = distinct_tokens(rng, d, 1 + rng() % len, R);
        std::vector<std::pair<std::size_t, Vec>> reqs;
        std::size_t m = 1 + rng() % toks.size();
        for (std::size_t k = 0; k < m; ++k) reqs.push_back({toks.size() - m + k, random_token(rng, d, R)});
        ds.sequences.push_back(make_sequence(toks, reqs, rng, rng() % 2));
      }
      break;
    }
    case Family::SharedTop: {
      // All sequences share a large "top" token and a common output token x with different targets.
      Vec top(d, Rational(100)), x = random_token(rng, d, R);
      for (std::size_t j = 0; j < n_seq; ++j) {
        auto rest = distinct_tokens(rng, d, 1 + rng() % (len - 2), R, {top, x});
        std::vector<Vec> toks = {top, x};
        toks.insert(toks.end(), rest.begin(), rest.end());
        std::vector<std::pair<std::size_t, Vec>> reqs = {{1, random_token(rng, d, R)}};
        if (rng() % 2) reqs.push_back({2, random_token(rng, d, R)});
        ds.sequences.push_back(make_sequence(toks, reqs, rng, true));
      }
      break;
    }
    case Family::NestedChain: {
      // {a}, {a, b1}, {a, b1, b2}, ...: token a must reach a different target in each.
      auto toks = distinct_tokens(rng, d, n_seq, R);
      for (std::size_t j = 0; j < n_seq; ++j) {
        std::vector<Vec> prefix(toks.begin(), toks.begin() + static_cast<long>(j) + 1);
        ds.sequences.push_back(make_sequence(prefix, {{0, random_token(rng, d, R)}}, rng, rng() % 2));
      }
      break;
    }
    case Family::EqualMeans: {
      // Pairs {p, a, b} and {p, c, e} with a + b = c + e (equal means), p to different targets.
      Vec p = random_token(rng, d, R);
      for (std::size_t j = 0; j < n_seq; ++j) {
        Vec a = random_token(rng, d, R), b = random_token(rng, d, R), c = random_token(rng, d, R), e(d);
        for (std::size_t i = 0; i < d; ++i) e[i] = a[i] + b[i] - c[i];
        std::vector<Vec> t1 = {p, a, b}, t2 = {p, c, e};
        auto distinct = [](const std::vector<Vec>& v) {
          std::set<std::string> s;
          for (const auto& z : v) {
            std::string k;
            for (const auto& q : z) k += rational_to_string(q) + ",";
            s.insert(k);
          }
          return s.size() == v.size();
        };
        if (!distinct(t1) || !distinct(t2) || t1 == t2) continue;
        ds.sequences.push_back(make_sequence(t1, {{0, random_token(rng, d, R)}}, rng, true));
        ds.sequences.push_back(make_sequence(t2, {{0, random_token(rng, d, R)}}, rng, true));
      }
      break;
    }
    case Family::PermutedCopies: {
      // A few base sequences, each repeated in several orders; targets follow the tokens.
      for (std::size_t b = 0; b < std::max<std::size_t>(1, n_seq / 3); ++b) {
        auto toks = distinct_tokens(rng, d, 2 + rng() % (len - 1), R);
        std::vector<std::pair<std::size_t, Vec>> reqs;
        for (std::size_t k = 0; k < 1 + rng() % toks.size(); ++k) reqs.push_back({k, random_token(rng, d, R)});
        for (int copy = 0; copy < 3; ++copy) ds.sequences.push_back(make_sequence(toks, reqs, rng, true));
      }
      break;
    }
    case Family::TargetsAreTokens: {
      // Targets are inputs of the same or other sequences: swaps, cycles, fixed points.
      auto pool = distinct_tokens(rng, d, len + 2, R);
      for (std::size_t j = 0; j < n_seq; ++j) {
        std::vector<Vec> toks = pool;
        std::shuffle(toks.begin(), toks.end(), rng);
        toks.resize(2 + rng() % (len - 1));
        std::vector<std::pair<std::size_t, Vec>> reqs;
        std::size_t m = 1 + rng() % toks.size();
        for (std::size_t k = 0; k < m; ++k) reqs.push_back({k, pool[rng() % pool.size()]});
        ds.sequences.push_back(make_sequence(toks, reqs, rng, false));
      }
      break;
    }
    case Family::HugeIntegers: {
      auto huge = [&] {
        std::string s = std::to_string(1 + rng() % 9);
        for (int i = 0; i < 200; ++i) s += static_cast<char>('0' + rng() % 10);
        Rational r = *rational_parse(s);
        return rng() % 2 ? r : Rational(-r);
      };
      Vec shared(d);
      for (auto& x : shared) x = huge();
      for (std::size_t j = 0; j < n_seq; ++j) {
        std::vector<Vec> toks = {shared};
        for (std::size_t i = 1; i < 1 + rng() % len; ++i) {
          Vec v(d);
          for (auto& x : v) x = huge();
          toks.push_back(v);
        }
        Vec y(d);
        for (auto& x : y) x = huge() / Rational(3);
        ds.sequences.push_back(make_sequence(toks, {{0, y}}, rng, true));
      }
      break;
    }
  }
  if (ds.sequences.empty()) return make_family(Family::Random, rng, d, n_seq, len);
  // Targets must be consistent (H4): sequences with the same set give a token one target.
  // Enforce by letting the first occurrence of (set, token) decide.
  std::map<std::pair<std::vector<std::string>, std::string>, Vec> decided;
  auto key = [](const Vec& z) {
    std::string k;
    for (const auto& q : z) k += rational_to_string(q) + ",";
    return k;
  };
  for (auto& s : ds.sequences) {
    std::vector<std::string> set;
    for (const auto& z : s.input) set.push_back(key(z));
    std::sort(set.begin(), set.end());
    for (std::size_t k = 0; k < s.output.size(); ++k) {
      auto [it, fresh] = decided.try_emplace({set, key(s.input[s.positions[k]])}, s.output[k]);
      if (!fresh) s.output[k] = it->second;
    }
  }
  return ds;
}

}  // namespace interpcert::testing
