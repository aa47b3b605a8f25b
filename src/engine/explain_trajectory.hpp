// Private to explain: the exact states of one representative sequence per context after every
// layer of a model (a layer is one block's attention or its feed-forward part).
#pragma once

#include "interpcert/model.hpp"

#include <string>
#include <vector>

namespace interpcert {

struct Trajectory {
  struct Layer {
    std::size_t block;
    bool attention;
  };
  std::vector<Layer> layers;
  /// states[i]: the tokens before layer i (states.back(): the outputs); [boundary][context][token].
  std::vector<std::vector<std::vector<Vec>>> states;
  std::string evaluator;  ///< "reference" or "fast" (chosen by size; both exact)

  Trajectory(const Model& m, const std::vector<std::vector<Vec>>& reps);
  /// Index of the boundary before the given layer (layers.size() if the block has no such layer).
  std::size_t before(std::size_t block, bool attention) const;
};

}  // namespace interpcert
