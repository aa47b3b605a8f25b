#include "commands.hpp"
#include "pipeline.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/torch_state.hpp"

#include <iostream>

namespace interpcert::cli {

Runner add_import_command(CommandLine& app) {
  Command cmd = app.subcommand("import", "Read a PyTorch state dict (safetensors) as an exact model.");
  cmd.footer(
      "Reads F64, F32, F16 and BF16 tensors named as `interpcert export` writes them and converts every\n"
      "weight EXACTLY (each float is a dyadic rational p/2^k): the model written computes what the\n"
      "floats denote, with no rounding. Attention comes from the file's metadata when present, else\n"
      "from --hardmax, --beta B or --tau T (beta = 1/tau, exact). A layer with rho = 1 (eta = 1) and all\n"
      "weights zero is read as the identity (null). Refuses (exit 2, naming the tensor) a missing or\n"
      "misshapen tensor, an unknown dtype, a NaN or infinity, and a header whose offsets lie.");
  struct Opts {
    std::string input, output, beta, tau;
    bool hardmax = false;
  };
  auto o = std::make_shared<Opts>();
  cmd.option("FILE", o->input, "the .safetensors file").required();
  cmd.option("-o,--output", o->output, "where to write the model (interpcert-model JSON)").required();
  Option hm = cmd.flag("--hardmax", o->hardmax, "hardmax attention (when the metadata does not say)");
  Option be = cmd.option("--beta", o->beta, "softmax attention with this inverse temperature (exact rational)");
  Option ta = cmd.option("--tau", o->tau, "softmax attention with temperature tau: beta = 1/tau (exact rational)");
  hm.excludes(be).excludes(ta);
  be.excludes(ta);
  return [o] {
    TorchImportOptions opt;
    if (o->hardmax) opt.attention = AttentionKind::Hardmax;
    if (!o->beta.empty()) opt.attention = AttentionKind::Softmax, opt.beta = rational_option("--beta", o->beta);
    if (!o->tau.empty()) opt.attention = AttentionKind::Softmax, opt.beta = 1 / rational_option("--tau", o->tau);
    SafeTensorsFile f = safetensors_load(o->input);
    TorchImportReport rep;
    Model m = model_from_safetensors(f, opt, rep);
    std::string text = model_to_json_text(m);
    write_file_atomically(o->output, text);
    ModelStats st = model_stats(m);
    std::cout << "read " << o->input << ": " << f.tensors.size() << " tensors (";
    bool first = true;
    for (auto& [dtype, n] : rep.dtypes) std::cout << (first ? "" : ", ") << n << " " << dtype, first = false;
    std::cout << "), converted exactly (every float is a dyadic rational; no rounding)\n"
              << "model: d = " << m.d << ", " << m.blocks.size() << " blocks, "
              << (m.attention == AttentionKind::Hardmax ? std::string("hardmax")
                                                        : "softmax, beta = " + rational_to_string(*m.beta))
              << " (attention from the " << rep.attention_from << "); P = " << st.parameters << "\n";
    if (rep.identity_attention || rep.identity_feed_forward || rep.trimmed_rows)
      std::cout << "identity layers read as null: " << rep.identity_attention << " attention, "
                << rep.identity_feed_forward << " feed-forward; zero padding rows removed: " << rep.trimmed_rows << "\n";
    std::string digest = model_digest(m);
    std::cout << "  model digest " << digest << "\n";
    if (!rep.exported_digest.empty())
      std::cout << (digest == rep.exported_digest
                        ? "  equals the exported model (metadata dense_digest): the export was exact\n"
                        : "  differs from the exported model (metadata dense_digest " + rep.exported_digest +
                              "): the export rounded it\n");
    std::cout << "wrote " << o->output << "\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace interpcert::cli
