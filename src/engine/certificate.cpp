#include "interpcert/certificate.hpp"

namespace interpcert {

namespace {
std::string certificate(const Dataset& ds, const Model& m, const ModelStats& st, const PreconditionReport& pre,
                        const SoftmaxBound* softmax, long exact_softmax_precision) {
  auto num = [](std::size_t x) { return std::to_string(x); };
  std::string t = "{\n  \"format\": \"interpcert-certificate\", \"version\": 1,\n";
  t += "  \"producer\": {\"name\": \"interpcert\", \"version\": \"" + std::string(kProducerVersion) + "\"},\n";
  t += "  \"dataset\": {\"digest\": \"" + dataset_digest(ds) + "\"},\n";
  t += "  \"claims\": {\n    \"hypotheses\": {";
  for (std::size_t i = 0; i < pre.hypotheses.size(); ++i)
    t += (i ? ", \"" : "\"") + pre.hypotheses[i].id + "\": " + (pre.hypotheses[i].holds ? "true" : "false");
  t += "},\n";
  if (exact_softmax_precision)
    t += "    \"interpolation\": {\"kind\": \"exact\", \"outputs\": " + num(ds.total_outputs()) +
         ", \"precision\": " + std::to_string(exact_softmax_precision) + "},\n";
  else if (softmax)
    t += "    \"interpolation\": {\"kind\": \"bounded\", \"outputs\": " + num(ds.total_outputs()) + ", \"bound\": \"" +
         rational_to_string(softmax->bound) + "\", \"precision\": " + std::to_string(softmax->precision) + "},\n";
  else
    t += "    \"interpolation\": {\"kind\": \"exact\", \"outputs\": " + num(ds.total_outputs()) + "},\n";
  t += "    \"counts\": {\"N\": " + num(ds.sequences.size()) + ", \"sum_m\": " + num(ds.total_outputs()) +
       ", \"blocks\": " + num(st.blocks) + ", \"parameters\": " + num(st.parameters) +
       ", \"max_ff_width\": " + num(st.max_ff_width) + ", \"max_heads\": " + num(st.max_heads) +
       (exact_softmax_precision ? std::string() : ", \"block_bound\": " + num(construction_block_bound(ds))) +
       ", \"paper_hardmax_block_bound\": " + num(paper_hardmax_block_bound(ds)) +
       (softmax || exact_softmax_precision ? ", \"paper_softmax_block_bound\": " + num(paper_softmax_block_bound(ds)) : std::string()) + "},\n";
  t += "    \"squared_norm\": \"" + rational_to_string(st.squared_norm) + "\"\n  },\n";
  t += "  \"model\": {\"digest\": \"" + model_digest(m) + "\", \"content\":\n" + model_to_json_text(m) + "  }\n}\n";
  return t;
}

}  // namespace

std::string certificate_text(const Dataset& ds, const Model& m, const ModelStats& st, const PreconditionReport& pre,
                             const SoftmaxBound* softmax) {
  return certificate(ds, m, st, pre, softmax, 0);
}

std::string certificate_text_softmax_exact(const Dataset& ds, const Model& m, const ModelStats& st,
                                           const PreconditionReport& pre, long precision) {
  return certificate(ds, m, st, pre, nullptr, precision);
}

}  // namespace interpcert
