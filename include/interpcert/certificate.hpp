// Writing certificates (proofs/certificate-v1.md): a model embedded with its digest, the
// dataset's digest, and the claims, which interpcert-check re-derives from scratch.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/model.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/preconditions.hpp"
#include "interpcert/softmax_eval.hpp"

#include <string>

namespace interpcert {

/// The version of interpcert that writes certificates (recorded in them).
inline constexpr const char* kProducerVersion = "0.1.0";

/// The certificate of interpolation of `ds` by `m`, as JSON text (deterministic: the same inputs
/// give the same bytes). Hardmax: exact interpolation. Softmax (`softmax` given): max |output -
/// target| <= softmax->bound at softmax->precision bits. The caller has verified the claims.
std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& stats,
                             const PreconditionReport& pre, const SoftmaxBound* softmax = nullptr);
/// The certificate of exact interpolation of `ds` by the softmax model `m` (ending in a staircase
/// layer), checked at `precision` bits.
std::string certificate_text_softmax_exact(const Dataset& ds, const Model& m, const ModelStats& stats,
                                           const PreconditionReport& pre, long precision);

}  // namespace interpcert
