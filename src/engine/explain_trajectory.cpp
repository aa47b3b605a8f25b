#include "explain_trajectory.hpp"

#include "interpcert/evaluate_fast.hpp"
#include "interpcert/evaluate_reference.hpp"

#include <algorithm>

namespace interpcert {

Trajectory::Trajectory(const Model& m, const std::vector<std::vector<Vec>>& reps) {
  std::size_t tokens = 0;
  for (const auto& r : reps) tokens += r.size();
  bool reference = tokens * std::max<std::size_t>(1, m.blocks.size()) <= 200000;
  evaluator = reference ? "reference" : "fast";
  states.push_back(reps);
  for (std::size_t b = 0; b < m.blocks.size(); ++b)
    for (bool att : {true, false}) {
      if (att ? !m.blocks[b].sa : !m.blocks[b].ff) continue;
      Model one;
      one.d = m.d;
      one.blocks.push_back(att ? Block{m.blocks[b].sa, std::nullopt} : Block{std::nullopt, m.blocks[b].ff});
      std::vector<std::vector<Vec>> next = states.back();
      if (reference)
        for (auto& s : next) s = evaluate_reference(one, std::move(s));
      else
        next = evaluate_fast(one, std::move(next), 0);
      layers.push_back({b, att});
      states.push_back(std::move(next));
    }
}

std::size_t Trajectory::before(std::size_t block, bool attention) const {
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].block == block && layers[i].attention == attention) return i;
  return layers.size();
}

}  // namespace interpcert
