#include "commands.hpp"
#include "pipeline.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/errors.hpp"

#include <iostream>

namespace interpcert::cli {

Runner add_construct_command(CommandLine& app) {
  Command cmd = app.subcommand("construct", "Build a hardmax transformer that interpolates a dataset exactly.");
  cmd.footer(
      "Checks the hypotheses, builds the model of proofs/construction.md (leader codes and hats) in exact\n"
      "arithmetic — or, for repeated tokens, d = 1 or --causal, that of proofs/repeated-and-causal.md —\n"
      "verifies it with an exact evaluator, and only then writes it. The output is\n"
      "deterministic: the same dataset gives the same file, byte for byte.\n"
      "Exit 0: written. 1: impossible (obstruction) or failed verification. 2: invalid input.");
  struct Opts {
    std::string dataset, output;
    PipelineOptions pipe;
  };
  auto o = std::make_shared<Opts>();
  cmd.option("DATASET", o->dataset, "dataset file (interpcert-dataset JSON)").required();
  cmd.option("-o,--output", o->output, "where to write the model (interpcert-model JSON)").required();
  add_pipeline_options(cmd, o->pipe);
  return [o] {
    check_output_paths({{"--output", o->output}}, {o->dataset});
    Dataset ds = dataset_load(o->dataset);
    int status = kExitOk;
    auto built = build_and_verify(ds, o->dataset, o->pipe, std::cout, status);
    if (!built) return status;
    write_file_atomically(o->output, [&](TextOutput& file) { model_write_json(built->construction.model, file); });
    std::cout << "wrote " << o->output << " (model digest " << model_digest(built->construction.model) << ")\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace interpcert::cli
