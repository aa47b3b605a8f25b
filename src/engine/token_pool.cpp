#include "token_pool.hpp"

#include "interpcert/parallel.hpp"

#include <unordered_map>

namespace interpcert {

void TokenPool::gather(std::vector<std::vector<Vec>>& sequences) {
  constexpr std::uint32_t kNone = UINT32_MAX;
  values.clear();
  ids.assign(sequences.size(), {});
  std::unordered_map<std::size_t, std::uint32_t> head;  // hash -> first id with that hash
  std::vector<std::uint32_t> next;                       // chain of ids sharing a hash
  VecHash hasher;
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    ids[s].reserve(sequences[s].size());
    for (auto& z : sequences[s]) {
      std::size_t h = hasher(z);
      auto [it, fresh] = head.try_emplace(h, kNone);
      std::uint32_t id = it->second;
      while (id != kNone && values[id] != z) id = next[id];
      if (id == kNone) {
        id = static_cast<std::uint32_t>(values.size());
        values.push_back(std::move(z));
        next.push_back(it->second);
        it->second = id;
      }
      ids[s].push_back(id);
    }
  }
}

void TokenPool::scatter(std::vector<std::vector<Vec>>& sequences) {
  std::vector<std::uint32_t> uses(values.size(), 0);
  for (const auto& seq : ids)
    for (auto id : seq) ++uses[id];
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    sequences[s].resize(ids[s].size());
    for (std::size_t i = 0; i < ids[s].size(); ++i) {
      std::uint32_t id = ids[s][i];
      if (--uses[id] == 0) sequences[s][i] = std::move(values[id]);  // its last use
      else sequences[s][i] = values[id];
    }
  }
}

void ProjectionIndex::build(const Vec& u, const std::vector<Vec>& values, unsigned threads) {
  std::vector<Rational> t(values.size());
  parallel_for(values.size(), threads, [&](std::size_t i) { t[i] = dot(u, values[i]); });
  by_t_.clear();
  where_.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    where_[i] = by_t_.emplace(std::move(t[i]), static_cast<std::uint32_t>(i));
  u_ = u;
  valid_ = true;
}

void ProjectionIndex::collect(const Rational* lo, const Rational* hi, std::vector<std::uint32_t>& out) const {
  auto first = lo ? by_t_.lower_bound(*lo) : by_t_.begin();
  auto last = hi ? by_t_.upper_bound(*hi) : by_t_.end();
  for (auto it = first; it != last; ++it) out.push_back(it->second);
}

void ProjectionIndex::update(std::uint32_t id, const Vec& value) {
  by_t_.erase(where_[id]);
  where_[id] = by_t_.emplace(dot(u_, value), id);
}

}  // namespace interpcert
