// interpcert: construct, run and certify transformers that interpolate sequence data exactly.
#include "commands.hpp"
#include "phase_times.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/gmp_pool.hpp"

#include <iostream>

// The one place that turns errors into messages and exit statuses: command-line errors, invalid
// input and anything else a command throws.
int main(int argc, char** argv) {
  interpcert::install_gmp_limb_pool();  // before any number exists (issue 13)
  using namespace interpcert;
  try {
    cli::CommandLine line(
        "interpcert: exact-arithmetic construction and verification of transformers that interpolate\n"
        "sequence datasets (Alcalde, Fantuzzi & Zuazua, arXiv:2502.02270).\n\n"
        "Every claim printed is computed exactly in rational arithmetic unless it says otherwise.\n"
        "Exit status: 0 success, 1 refuted / impossible, 2 invalid input (every dataset is decided: check --help).",
        "interpcert", std::string("interpcert ") + INTERPCERT_VERSION);
    line.add(cli::add_check_command);
    line.add(cli::add_construct_command);
    line.add(cli::add_certify_command);
    line.add(cli::add_explain_command);
    line.add(cli::add_run_command);
    line.add(cli::add_merge_command);
    line.add(cli::add_digest_command);
    line.add(cli::add_export_command);
    line.add(cli::add_import_command);
    line.add_help_command();
    const int status = line.run(argc, argv);
    cli::phase_done("teardown");
    return status;
  } catch (const InputError& e) {
    std::cerr << "interpcert: error: " << e.what() << "\n";
    return kExitInvalidInput;
  } catch (const std::exception& e) {
    std::cerr << "interpcert: error: " << e.what() << "\n";
    return kExitInvalidInput;
  }
}
