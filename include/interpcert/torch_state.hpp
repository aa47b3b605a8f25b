// Models as PyTorch state dicts in safetensors files (issue 11). The tensor names are those of the
// paper's authors' module, whose block is x = rho*x + attn(x); x = eta*x + ff(x):
//   blocks.{l}.rho [1], blocks.{l}.eta [1],
//   blocks.{l}.attn.to_q.weight [h, d], blocks.{l}.attn.to_k.weight [h, d],
//   blocks.{l}.attn.to_v.weight [d, d],
//   blocks.{l}.ff.0.weight [w, d], blocks.{l}.ff.0.bias [w], blocks.{l}.ff.2.weight [d, w].
// Metadata (strings): interpcert, d, attention, beta (softmax; exact rational, beta = 1/tau),
// blocks, heads and ff_widths (per block, comma-separated, 0 = identity layer), model_digest
// (of the exact model exported), dense_digest (of that model with V multiplied out: what an
// exact import gives back), dtype, rounding.
#pragma once

#include "interpcert/float_bits.hpp"
#include "interpcert/model.hpp"
#include "interpcert/safetensors.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace interpcert {

struct TorchExportOptions {
  FloatEncoding format = kEncodingF64;  ///< binary64 ("F64") or binary32 ("F32")
  bool uniform = false;            ///< pad every block to the largest h and w (zero rows)
  std::size_t min_heads = 0, min_width = 0;  ///< with uniform: pad to at least these h and w
};

/// What rounding the export did: every weight is rounded to the nearest float (ties to even).
struct TorchExportReport {
  std::size_t weights = 0;       ///< scalars written
  std::size_t rounded = 0;       ///< of them, how many were not representable exactly
  Rational max_relative_error;   ///< max over weights q != 0 of |float(q) - q| / |q|, exact
  std::string worst_tensor;      ///< where that maximum is attained ("" if nothing was rounded)
  long error_exponent = 0;       ///< the largest k with max_relative_error <= 2^-k (when rounded)
  std::size_t heads = 0, width = 0;  ///< with uniform: the common h and w
};

/// The safetensors bytes of `m` (deterministic). An identity attention layer is written as rho = 1
/// with zero Q, K, V (h = 1, or the common h); an identity feed-forward layer as eta = 1 with zero
/// weights (w = 1, or the common w); a factored V is multiplied out. Throws InputError naming
/// `model_file` and the tensor when a weight overflows the float format. With `uniform`, the
/// common h and w are the largest of the blocks' and of min_heads and min_width.
std::string model_to_safetensors(const Model& m, const TorchExportOptions& opt, TorchExportReport& report,
                                 const std::string& model_file);

/// The attention given on the command line of `import` (used when the file's metadata has none).
struct TorchImportOptions {
  std::optional<AttentionKind> attention;
  std::optional<Rational> beta;  ///< with softmax
};

struct TorchImportReport {
  std::string attention_from;     ///< "metadata" or "command line"
  std::size_t identity_attention = 0, identity_feed_forward = 0;  ///< zero layers read as null
  std::size_t trimmed_rows = 0;   ///< zero padding rows removed (per the metadata's widths)
  std::string exported_digest;    ///< the metadata's dense_digest, "" if absent
  std::map<std::string, std::size_t> dtypes;  ///< tensors per dtype
};

/// The exact model of a safetensors state dict: every float is converted exactly to the dyadic
/// rational it denotes. A layer whose weights are all zero with rho = 1 (eta = 1) is the identity
/// and is read as null; rows beyond the metadata's per-block widths are removed when they are zero
/// (what --uniform padding wrote). Throws InputError (file, "/<tensor name>") on a missing,
/// misshapen or unexpected tensor, a dtype other than F64/F32/F16/BF16, a NaN or infinity, or
/// metadata that contradicts the tensors.
Model model_from_safetensors(const SafeTensorsFile& f, const TorchImportOptions& opt, TorchImportReport& report);

}  // namespace interpcert
