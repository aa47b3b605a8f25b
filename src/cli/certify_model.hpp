// `certify DATASET --model MODEL`: certify a given model (trained elsewhere, imported, edited)
// instead of constructing one. The certificate is the ordinary one (proofs/certificate-v1.md): the
// checker needs nothing new.
#pragma once

#include <iosfwd>
#include <string>

namespace interpcert::cli {

struct GivenModelOptions {
  std::string dataset, model, output, model_out, epsilon;
  long precision = 256;
  unsigned threads = 0;
};

/// Hardmax: exact interpolation, or (exit 1, no certificate) every output that misses and by how
/// much, exactly. Softmax: the certified bound on max |output - target| (with `epsilon`: exit 1,
/// no certificate, and the outputs not certified within it when the bound exceeds it). The
/// certificate states the hypotheses as they are (true or false), the counts, |theta|^2, and only
/// the block bounds that the model's L satisfies. Returns the exit status.
int certify_given_model(const GivenModelOptions& o, std::ostream& os);

}  // namespace interpcert::cli
