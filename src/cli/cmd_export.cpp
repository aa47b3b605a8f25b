#include "commands.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/errors.hpp"
#include "interpcert/torch_state.hpp"

#include <iostream>

namespace interpcert::cli {

Runner add_export_command(CommandLine& app) {
  Command cmd = app.subcommand("export", "Write a model as a PyTorch state dict (safetensors).");
  cmd.footer(
      "Tensor names are those of the paper's authors' PyTorch module (block: x = rho*x + attn(x);\n"
      "x = eta*x + ff(x)): blocks.{l}.rho, .eta, .attn.to_q.weight [h,d], .attn.to_k.weight [h,d],\n"
      ".attn.to_v.weight [d,d], .ff.0.weight [w,d], .ff.0.bias [w], .ff.2.weight [d,w]. The metadata holds\n"
      "d, attention, beta (= 1/tau, exact), per-block widths and the exact model's digest.\n"
      "Every weight is ROUNDED to the nearest float of --dtype (ties to even); the output says how\n"
      "many were rounded and the largest relative error, exactly bounded. Identity layers are written\n"
      "as rho = 1 (eta = 1) with zero weights; a factored V is multiplied out.\n"
      "Load it in PyTorch with python/interpcert_torch.py (see README.md). Exit 0 written, 2 invalid input.");
  struct Opts {
    std::string model, output, dtype = "float64";
    bool uniform = false;
    std::size_t heads = 0, width = 0;
  };
  auto o = std::make_shared<Opts>();
  cmd.option("MODEL", o->model, "model file (interpcert-model JSON)").required();
  cmd.option("-o,--output", o->output, "where to write the .safetensors file").required();
  cmd.option("--dtype", o->dtype, "float64 (default) or float32").one_of({"float64", "float32"});
  cmd.flag("--uniform", o->uniform,
           "pad every block to the largest h and w with zero rows (a fixed-width module loads it)");
  cmd.option("--heads", o->heads, "with --uniform: pad to this h (default: the largest of the model's)");
  cmd.option("--width", o->width,
             "with --uniform: pad to this w (default: the largest); --width 4 fits the authors' module");
  return [o] {
    if ((o->heads || o->width) && !o->uniform) throw InputError("--heads/--width", "", "these options need --uniform");
    Model m = model_load(o->model);
    TorchExportOptions opt;
    opt.format = o->dtype == "float32" ? kEncodingF32 : kEncodingF64;
    opt.uniform = o->uniform;
    opt.min_heads = o->heads;
    opt.min_width = o->width;
    TorchExportReport rep;
    std::string bytes = model_to_safetensors(m, opt, rep, o->model);
    write_file_atomically(o->output, bytes);
    std::cout << "model: " << o->model << " (d = " << m.d << ", " << m.blocks.size() << " blocks, "
              << (m.attention == AttentionKind::Hardmax ? "hardmax" : "softmax, beta = " + rational_to_string(*m.beta))
              << ")\n  model digest " << model_digest(m) << "\n";
    if (o->uniform && ((o->heads && rep.heads > o->heads) || (o->width && rep.width > o->width)))
      std::cout << "note: the model has wider blocks than --heads/--width; padded to its largest\n";
    if (o->uniform) std::cout << "uniform widths: every block has h = " << rep.heads << ", w = " << rep.width << "\n";
    if (rep.rounded == 0) {
      std::cout << "export: EXACT: all " << rep.weights << " weights are " << o->dtype
                << " numbers (no rounding; importing gives back the model exactly)\n";
    } else {
      std::cout << "export: ROUNDED (exact rational -> " << o->dtype << ", to nearest, ties to even): " << rep.rounded
                << " of " << rep.weights << " weights rounded; max relative error " << rational_approx(rep.max_relative_error)
                << " <= 2^-" << rep.error_exponent << " (exact bound; in " << rep.worst_tensor << ")\n";
    }
    std::cout << "wrote " << o->output << " (" << bytes.size() << " bytes)\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace interpcert::cli
