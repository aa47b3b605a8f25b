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
      auto t = sorted_tokens(ds.sequences[j]);
      if (std::adjacent_find(t.begin(), t.end()) != t.end()) {
        why = "sequence " + std::to_string(j) + " repeats a token";
        return false;
      }
    }
    return true;
  }
  if (id == "H4") {
    std::map<std::vector<Vec>, std::map<Vec, std::pair<Vec, std::size_t>, LexLess>, SetLess> seen;
    for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
      const auto& s = ds.sequences[j];
      auto key = sorted_tokens(s);
      key.erase(std::unique(key.begin(), key.end()), key.end());
      auto& targets = seen[key];
      for (std::size_t k = 0; k < s.output.size(); ++k) {
        auto [it, fresh] = targets.try_emplace(s.input[s.positions[k]], s.output[k], j);
        if (!fresh && it->second.first != s.output[k]) {
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

}  // namespace interpcert::checker
