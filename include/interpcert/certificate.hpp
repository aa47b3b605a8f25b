// Writing certificates (proofs/certificate-v1.md): a model embedded with its digest, the
// dataset's digest, and the claims, which interpcert-check re-derives from scratch.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/interpolation_claim.hpp"
#include "interpcert/model.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/preconditions.hpp"
#include "interpcert/text_output.hpp"

#include <string>

namespace interpcert {

/// The version of interpcert that writes certificates (recorded in them).
inline constexpr const char* kProducerVersion = "0.1.0";

/// The certificate of `claim` about `ds` and the model `m`, as JSON text (deterministic: the same
/// inputs give the same bytes). `m` must be the claim's model (claim_model(claim, weights)):
/// std::invalid_argument otherwise. `stats` are m's (beta is not a parameter: formats-v1.md). The
/// caller has established the claim (interpolation_claim.hpp); this only writes it.
std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& stats,
                             const PreconditionReport& pre, const InterpolationClaim& claim = ExactHardmax{});
/// The same with the block bounds to state given explicitly (a model not built by the construction
/// states only those its L satisfies: `certify --model`).
std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& stats,
                             const PreconditionReport& pre, const InterpolationClaim& claim, const BlockBounds& bounds);

/// The digests a certificate names: dataset_digest(ds) and model_digest(m).
struct CertificateDigests {
  std::string dataset, model;
};
/// The same text, for a caller that also prints the digests (each is a pass over a canonical text,
/// ~1 s at 10^6 tokens: computed once). digests.dataset must be dataset_digest(ds) (not
/// recomputed); model_digest(m) is computed on another thread while the text is written, and
/// stored in digests.model.
std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& stats,
                             const PreconditionReport& pre, const InterpolationClaim& claim, const BlockBounds& bounds,
                             CertificateDigests& digests);
/// The same text written to `out` as it is produced (certify's path: `out` is the staged file,
/// and the model's JSON, the bulk of a certificate, is never held whole). The model's digest
/// precedes the model in the text: it is computed on another thread while the model is written
/// and filled into its reserved 64 characters at the end (out.overwrite). On an exception `out`
/// holds part of a certificate: stage it (StagedOutputs), which then removes it.
void write_certificate(TextOutput& out, const Dataset& ds, const Model& m, const ModelStats& stats,
                       const PreconditionReport& pre, const InterpolationClaim& claim, const BlockBounds& bounds,
                       CertificateDigests& digests);

}  // namespace interpcert
