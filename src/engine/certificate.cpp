#include "interpcert/certificate.hpp"

#include <future>
#include <stdexcept>

namespace interpcert {

namespace {
constexpr std::size_t kDigestChars = 64;  // SHA-256 in lowercase hex
}  // namespace

std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& st, const PreconditionReport& pre,
                             const InterpolationClaim& claim) {
  return certificate_text(ds, m, st, pre, claim, std::visit([](const auto& c) { return c.block_bounds(); }, claim));
}

std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& st, const PreconditionReport& pre,
                             const InterpolationClaim& claim, const BlockBounds& bounds) {
  CertificateDigests digests{dataset_digest(ds), {}};
  return certificate_text(ds, m, st, pre, claim, bounds, digests);
}

std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& st, const PreconditionReport& pre,
                             const InterpolationClaim& claim, const BlockBounds& bounds,
                             CertificateDigests& digests) {
  StringOutput out;
  write_certificate(out, ds, m, st, pre, claim, bounds, digests);
  return std::move(out.text());
}

void write_certificate(TextOutput& out, const Dataset& ds, const Model& m, const ModelStats& st,
                       const PreconditionReport& pre, const InterpolationClaim& claim, const BlockBounds& bounds,
                       CertificateDigests& digests) {
  // The claim sets only the attention kind and beta (claim_model): compare those on m without its
  // blocks, not on a copy of the whole model.
  Model shell;
  shell.d = m.d;
  shell.attention = m.attention;
  shell.beta = m.beta;
  shell.mask = m.mask;
  Model claimed = claim_model(claim, shell);
  if (claimed.attention != m.attention || claimed.beta != m.beta)
    throw std::invalid_argument("certificate_text: the model is not the one the interpolation claim is about");
  // The model's digest (a pass over its canonical text) on another thread while its JSON text is
  // written below (deferred to .get() if no thread can be started); the digest precedes the
  // content, so its 64 characters are reserved and filled in once it is known.
  std::future<std::string> model_digest_later =
      std::async(std::launch::async | std::launch::deferred, [&m] { return model_digest(m); });
  // block_bound = sum m_j + N is the H1-H4 construction's guarantee, always stated there (so a model
  // over it is refuted); the extended construction (proofs/repeated-and-causal.md) has its own
  // bounds (2, causal 4 blocks), so beyond H1-H4 it is stated only when the model respects it.
  auto num = [](std::size_t x) { return std::to_string(x); };
  std::string t = "{\n  \"format\": \"interpcert-certificate\", \"version\": 1,\n";
  t += "  \"producer\": {\"name\": \"interpcert\", \"version\": \"" + std::string(kProducerVersion) + "\"},\n";
  t += "  \"dataset\": {\"digest\": \"" + digests.dataset + "\"},\n";
  t += "  \"claims\": {\n";
  if (!pre.hypotheses.empty()) {
    t += "    \"hypotheses\": {";
    for (std::size_t i = 0; i < pre.hypotheses.size(); ++i)
      t += (i ? ", \"" : "\"") + pre.hypotheses[i].id + "\": " + (pre.hypotheses[i].holds ? "true" : "false");
    t += "},\n";
  }
  // Beyond H1-H4 (proofs/repeated-and-causal.md): the mask, and the obstructions that decide the
  // dataset (all absent). Only then, so certificates of H1-H4 datasets are byte-for-byte as before.
  if (pre.verdict() == Applicability::Extended) {
    if (pre.causal) t += "    \"mask\": \"causal\",\n";
    t += "    \"obstructions\": {";
    for (std::size_t i = 0; i < pre.obstructions.size(); ++i)
      t += (i ? ", \"" : "\"") + pre.obstructions[i].id + "\": " + (pre.obstructions[i].found ? "true" : "false");
    t += "},\n";
  }
  t += "    \"interpolation\": " + std::visit([&](const auto& c) { return c.json(ds); }, claim) + ",\n";
  t += "    \"counts\": {\"N\": " + num(ds.sequences.size()) + ", \"sum_m\": " + num(ds.total_outputs()) +
       ", \"blocks\": " + num(st.blocks) + ", \"parameters\": " + num(st.parameters) +
       ", \"max_ff_width\": " + num(st.max_ff_width) + ", \"max_heads\": " + num(st.max_heads) +
       (bounds.construction && (pre.verdict() != Applicability::Extended || st.blocks <= construction_block_bound(ds))
            ? ", \"block_bound\": " + num(construction_block_bound(ds)) : std::string()) +
       (bounds.paper_hardmax ? ", \"paper_hardmax_block_bound\": " + num(paper_hardmax_block_bound(ds)) : std::string()) +
       (bounds.paper_softmax ? ", \"paper_softmax_block_bound\": " + num(paper_softmax_block_bound(ds)) : std::string()) +
       "},\n";
  t += "    \"squared_norm\": \"" + rational_to_string(st.squared_norm) + "\"\n  },\n";
  t += "  \"model\": {\"digest\": \"";
  out.write(t);
  const std::uint64_t digest_at = out.size();
  out.write(std::string(kDigestChars, '0'));
  out.write("\", \"content\":\n");
  model_write_json(m, out);
  out.write("  }\n}\n");
  digests.model = model_digest_later.get();
  if (digests.model.size() != kDigestChars) throw std::logic_error("write_certificate: a model digest of unexpected length");
  out.overwrite(digest_at, digests.model);
}

}  // namespace interpcert
