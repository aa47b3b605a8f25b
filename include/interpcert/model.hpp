// Transformers (proofs/formats-v1.md, "Model"): blocks of self-attention then feed-forward.
#pragma once

#include "interpcert/json_reader.hpp"
#include "interpcert/linalg.hpp"
#include "interpcert/text_output.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace interpcert {

/// out_i = rho z_i + sum_l a_il V z_l, scores s_il = <Q z_i, K z_l>.
struct SelfAttention {
  Rational rho;
  Matrix Q, K;          ///< h x d each
  bool factored = false;
  Matrix V;             ///< d x d, when !factored
  Matrix Vleft, Vright; ///< d x r and r x d, when factored: V = Vleft Vright
  /// The dense d x d value matrix (computed from the factors when factored). Exact.
  Matrix value_matrix() const;
};

/// out = eta z + W relu(U z + b).
struct FeedForward {
  Rational eta;
  Matrix U;  ///< w x d
  Vec b;     ///< w
  Matrix W;  ///< d x w
};

struct Block {
  std::optional<SelfAttention> sa;
  std::optional<FeedForward> ff;
};

enum class AttentionKind { Hardmax, Softmax };

/// Which positions a query may attend to: all of them, or (causal, decoder-only) l <= i.
enum class MaskKind { None, Causal };

struct Model {
  std::size_t d = 0;
  AttentionKind attention = AttentionKind::Hardmax;
  std::optional<Rational> beta;  ///< required for softmax, absent for hardmax
  MaskKind mask = MaskKind::None;  ///< JSON "mask": "causal" (absent: none)
  std::vector<Block> blocks;
};

/// Validates and reads a model; errors name the file and the JSON path.
Model model_from_json(const JsonNode& root);
/// Reads a model file.
Model model_load(const std::string& file);
/// The model as JSON text: numbers in lowest terms as strings, one block per line.
std::string model_to_json_text(const Model& m);
/// The same text written to `out` as it is produced (in pieces of about 1 MiB: never held whole).
void model_write_json(const Model& m, TextOutput& out);
/// The canonical text of proofs/formats-v1.md.
std::string model_canonical_text(const Model& m);
/// SHA-256 (lowercase hex) of the canonical text.
std::string model_digest(const Model& m);

}  // namespace interpcert
