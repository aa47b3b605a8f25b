#include "interpcert/certificate.hpp"

#include <stdexcept>

namespace interpcert {

std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& st, const PreconditionReport& pre,
                             const InterpolationClaim& claim) {
  return certificate_text(ds, m, st, pre, claim, std::visit([](const auto& c) { return c.block_bounds(); }, claim));
}

std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& st, const PreconditionReport& pre,
                             const InterpolationClaim& claim, const BlockBounds& bounds) {
  Model claimed = claim_model(claim, m);
  if (claimed.attention != m.attention || claimed.beta != m.beta)
    throw std::invalid_argument("certificate_text: the model is not the one the interpolation claim is about");
  // block_bound = sum m_j + N is the H1-H4 construction's guarantee, always stated there (so a model
  // over it is refuted); the extended construction (proofs/repeated-and-causal.md) has its own
  // bounds (2, causal 4 blocks), so beyond H1-H4 it is stated only when the model respects it.
  auto num = [](std::size_t x) { return std::to_string(x); };
  std::string t = "{\n  \"format\": \"interpcert-certificate\", \"version\": 1,\n";
  t += "  \"producer\": {\"name\": \"interpcert\", \"version\": \"" + std::string(kProducerVersion) + "\"},\n";
  t += "  \"dataset\": {\"digest\": \"" + dataset_digest(ds) + "\"},\n";
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
  t += "  \"model\": {\"digest\": \"" + model_digest(m) + "\", \"content\":\n" + model_to_json_text(m) + "  }\n}\n";
  return t;
}

}  // namespace interpcert
