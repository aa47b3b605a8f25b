#include "hypotheses.hpp"

#include <algorithm>
#include <map>

namespace interpcert::checker {
namespace {

struct LexLess {
  bool operator()(const Vec& a, const Vec& b) const { return lex_less(a, b); }
};
struct SetLess {
  bool operator()(const std::vector<Vec>& a, const std::vector<Vec>& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), LexLess{});
  }
};

// The same orders on pointers into the dataset: H3 and H4 look at every token of every sequence,
// and copying them would double the memory of a large dataset.
// Tokens by reference into the dataset (Tokens stores them compactly: no copies).
struct RefSetLess {
  bool operator()(const std::vector<TokenRef>& a, const std::vector<TokenRef>& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), TokenRefLess{});
  }
};
bool same(const TokenRef& a, const TokenRef& b) { return a == b; }

std::vector<TokenRef> sorted_token_refs(const Sequence& s) {
  std::vector<TokenRef> t;
  t.reserve(s.input.size());
  for (std::size_t i = 0; i < s.input.size(); ++i) t.push_back({&s.input, i});
  std::sort(t.begin(), t.end(), TokenRefLess{});
  return t;
}

std::vector<Vec> sorted_tokens(const Sequence& s) {
  std::vector<Vec> t = s.input;
  std::sort(t.begin(), t.end(), LexLess{});
  return t;
}

}  // namespace

bool hypothesis_holds(const Dataset& ds, const std::string& id, std::string& why) {
  if (id == "H1") {
    if (ds.d >= 2) return true;
    why = "d = " + std::to_string(ds.d) + " < 2";
    return false;
  }
  if (id == "H2") {  // 1 <= m_j <= n_j: the dataset reader already refuses anything else
    for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
      const auto& s = ds.sequences[j];
      if (s.output.empty() || s.output.size() > s.input.size()) {
        why = "sequence " + std::to_string(j) + " has m > n or m = 0";
        return false;
      }
    }
    return true;
  }
  if (id == "H3") {
    for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
      auto t = sorted_token_refs(ds.sequences[j]);
      if (std::adjacent_find(t.begin(), t.end(), same) != t.end()) {
        why = "sequence " + std::to_string(j) + " repeats a token";
        return false;
      }
    }
    return true;
  }
  if (id == "H4") {
    // context (sorted distinct tokens) -> token -> (its target, the first sequence giving it)
    std::map<std::vector<TokenRef>, std::map<TokenRef, std::pair<const Vec*, std::size_t>, TokenRefLess>, RefSetLess>
        seen;
    for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
      const auto& s = ds.sequences[j];
      auto key = sorted_token_refs(s);
      key.erase(std::unique(key.begin(), key.end(), same), key.end());
      auto& targets = seen[key];
      for (std::size_t k = 0; k < s.output.size(); ++k) {
        auto [it, fresh] = targets.try_emplace(TokenRef{&s.input, s.positions[k]}, &s.output[k], j);
        if (!fresh && *it->second.first != s.output[k]) {
          why = "sequences " + std::to_string(it->second.second) + " and " + std::to_string(j) +
                " have the same tokens but give one token two targets";
          return false;
        }
      }
    }
    return true;
  }
  why = "unknown hypothesis";
  return false;
}

bool obstruction_found(const Dataset& ds, const std::string& id, std::string& why) {
  // Each output position gets a key: O1/O2 the token and its sequence's proportions (sorted tokens
  // with count / n), C1 its reduced prefix (z_0 ... z_i, a constant prefix reduced to one token).
  // Same key, different targets: found. O1 only compares positions of one sequence, O2 only of two.
  if (id != "O1" && id != "O2" && id != "C1") {
    why = "unknown obstruction";
    return false;
  }
  using Key = std::pair<std::vector<Vec>, std::vector<Rational>>;
  auto key_of = [&](const Sequence& s, std::size_t i) {
    Key k;
    if (id == "C1") {
      k.first.assign(s.input.begin(), s.input.begin() + static_cast<long>(i + 1));
      if (std::all_of(k.first.begin(), k.first.end(), [&](const Vec& z) { return z == k.first[0]; })) k.first.resize(1);
      return k;
    }
    auto t = sorted_tokens(s);
    for (std::size_t a = 0; a < t.size();) {
      std::size_t b = a;
      while (b < t.size() && t[b] == t[a]) ++b;
      k.first.push_back(t[a]);
      k.second.push_back(Rational(static_cast<long>(b - a), static_cast<long>(t.size())));
      a = b;
    }
    k.first.push_back(s.input[i]);  // the token itself
    return k;
  };
  struct KeyLess {
    bool operator()(const Key& a, const Key& b) const {
      if (a.second != b.second) return a.second < b.second;
      return SetLess{}(a.first, b.first);
    }
  };
  std::map<Key, std::vector<std::pair<std::size_t, std::size_t>>, KeyLess> at;  // key -> (sequence, k)
  for (std::size_t j = 0; j < ds.sequences.size(); ++j)
    for (std::size_t k = 0; k < ds.sequences[j].output.size(); ++k)
      at[key_of(ds.sequences[j], ds.sequences[j].positions[k])].push_back({j, k});
  for (const auto& [key, list] : at)
    for (std::size_t a = 0; a < list.size(); ++a)
      for (std::size_t b = a + 1; b < list.size(); ++b) {
        auto [j1, k1] = list[a];
        auto [j2, k2] = list[b];
        if ((id == "O1" && j1 != j2) || (id == "O2" && j1 == j2)) continue;
        if (ds.sequences[j1].output[k1] == ds.sequences[j2].output[k2]) continue;
        why = "sequence " + std::to_string(j1) + " position " + std::to_string(ds.sequences[j1].positions[k1]) +
              " and sequence " + std::to_string(j2) + " position " + std::to_string(ds.sequences[j2].positions[k2]);
        return true;
      }
  return false;
}

}  // namespace interpcert::checker
