// The fast exact evaluator: the same hardmax forward pass as evaluate_reference, token for
// token, computed by exploiting structure (tests/evaluate_fast_test.cpp proves the two equal
// on thousands of random models):
//  - attention whose score matrix Q^T K has rank <= 1, s_il = (a.z_i)(b.z_l): a token with a
//    positive query attends to the argmax of the keys, negative to the argmin, zero to all:
//    O(n d) per sequence instead of O(n^2 h); and sum_{l in C} V z_l = V sum_{l in C} z_l;
//  - feed-forward layers whose U has rank <= 1 are a piecewise-linear function of one projection
//    t = u.z; pieces are precomputed, so a token costs O(d + log w), not O(w d); with eta = 1,
//    tokens on zero pieces do not move, and a sorted index over t finds the ones that do;
//  - between attention layers tokens evolve independently, so equal tokens (across sequences)
//    are computed once; sequences and tokens are spread over the cores;
//  - run_outputs: each sequence in machine integers (checked __int128 fractions, no GMP number),
//    only the tokens at the target positions after the last attention layer; GMP where a value
//    leaves the range (tests/machine_forward_test.cpp proves both routes equal to the reference).
#pragma once

#include "interpcert/model.hpp"

#include <memory>
#include <vector>

namespace interpcert {

struct Sequence;

/// The fast evaluator with every layer's structure analysed once, for evaluating many batches
/// of sequences with one model. Throws std::invalid_argument for a softmax model.
class FastEvaluator {
 public:
  explicit FastEvaluator(const Model& model);
  ~FastEvaluator();
  FastEvaluator(const FastEvaluator&) = delete;
  FastEvaluator& operator=(const FastEvaluator&) = delete;
  /// The exact output tokens of every sequence (threads = 0: all cores). Between attention layers
  /// the distinct token values are computed once each, unless the last batches had few repeats
  /// (then token by token: the same exact values; the evaluator remembers which, so successive
  /// batches of one dataset choose well).
  std::vector<std::vector<Vec>> run(std::vector<std::vector<Vec>> sequences, unsigned threads = 0) const;
  /// The exact final tokens at each sequence's `positions` (where its targets are compared), for
  /// sequences[0 .. count): out[s][k] is token positions[k] of sequence s after the last layer.
  /// Each sequence first runs through the forward pass in machine integers (src/engine/
  /// machine_forward.hpp: fractions of __int128, every operation checked, no rounding); a
  /// sequence on which a value leaves that range (or the model, if a number of it is not a
  /// fraction of __int128) runs through run() instead (in batches). The same exact values as run()
  /// either way. `machine`, if given, receives how many sequences the machine path finished.
  std::vector<std::vector<Vec>> run_outputs(const Sequence* sequences, std::size_t count, unsigned threads = 0,
                                            std::size_t* machine = nullptr) const;

 private:
  struct Plans;
  const Model& model_;
  std::unique_ptr<Plans> plans_;
};

/// The exact output tokens of a hardmax model on every sequence (threads = 0: all cores).
/// Throws std::invalid_argument for a softmax model.
std::vector<std::vector<Vec>> evaluate_fast(const Model& model, std::vector<std::vector<Vec>> sequences,
                                            unsigned threads = 0);

}  // namespace interpcert
