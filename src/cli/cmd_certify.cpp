#include "commands.hpp"
#include "pipeline.hpp"

#include "interpcert/atomic_file.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/errors.hpp"

#include <iostream>

namespace interpcert::cli {

Runner add_certify_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("certify", "Construct, verify and write a certificate of exact interpolation.");
  cmd->footer(
      "Checks the hypotheses, builds the transformer, verifies it exactly, and writes a certificate\n"
      "(format interpcert-certificate v1, proofs/certificate-v1.md) that embeds the model and names the\n"
      "dataset by the SHA-256 of its canonical text. Re-check it independently with:\n"
      "    interpcert-check CERT DATASET\n"
      "Exit 0: written. 1: impossible (obstruction) or failed verification. 2: invalid input.\n"
      "3: outside the theorem's hypotheses.");
  struct Opts {
    std::string dataset, output, model_out;
    PipelineOptions pipe;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("DATASET", o->dataset, "dataset file (interpcert-dataset JSON)")->required();
  cmd->add_option("-o,--output", o->output, "where to write the certificate")->required();
  cmd->add_option("--model-out", o->model_out, "also write the model on its own");
  add_pipeline_options(cmd, o->pipe);
  return [o] {
    Dataset ds = dataset_load(o->dataset);
    int status = kExitOk;
    auto built = build_and_verify(ds, o->dataset, o->pipe, std::cout, status);
    if (!built) return status;
    const Model& m = built->construction.model;
    write_file_atomically(o->output, certificate_text(ds, m, built->stats, built->preconditions));
    if (!o->model_out.empty()) write_file_atomically(o->model_out, model_to_json_text(m));
    std::cout << "claims: H1-H4 hold; exact interpolation of all " << ds.total_outputs()
              << " output tokens; L = " << built->stats.blocks << " <= sum m_j + N = " << construction_block_bound(ds)
              << " <= 2 sum m_j + 2N + 1 = " << paper_hardmax_block_bound(ds) << "; P = " << built->stats.parameters
              << "; |theta|^2 = " << rational_to_string(built->stats.squared_norm) << "\n"
              << "wrote certificate " << o->output << "\n"
              << "  dataset digest " << dataset_digest(ds) << "\n"
              << "  model digest   " << model_digest(m) << "\n"
              << "check it independently: interpcert-check " << o->output << " " << o->dataset << "\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace interpcert::cli
