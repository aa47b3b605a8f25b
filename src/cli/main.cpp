// interpcert: construct, run and certify transformers that interpolate sequence data exactly.
#include "commands.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/gmp_pool.hpp"

#include <iostream>
#include <map>

int main(int argc, char** argv) {
  interpcert::install_gmp_limb_pool();  // before any number exists (issue 13)
  using namespace interpcert;
  CLI::App app{
      "interpcert: exact-arithmetic construction and verification of transformers that interpolate\n"
      "sequence datasets (Alcalde, Fantuzzi & Zuazua, arXiv:2502.02270).\n\n"
      "Every claim printed is computed exactly in rational arithmetic unless it says otherwise.\n"
      "Exit status: 0 success, 1 refuted / impossible, 2 invalid input, 3 outside the theorem."};
  app.require_subcommand(1);
  std::map<CLI::App*, cli::Runner> runners;
  auto add = [&](cli::Runner (*f)(CLI::App&)) {
    auto before = app.get_subcommands({});
    cli::Runner r = f(app);
    auto after = app.get_subcommands({});
    runners[after.back()] = std::move(r);
  };
  add(cli::add_check_command);
  add(cli::add_construct_command);
  add(cli::add_certify_command);
  add(cli::add_explain_command);
  add(cli::add_run_command);
  add(cli::add_merge_command);
  add(cli::add_digest_command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitInvalidInput;
  }
  try {
    for (auto* sub : app.get_subcommands())
      if (auto it = runners.find(sub); it != runners.end()) return it->second();
    return kExitInvalidInput;
  } catch (const InputError& e) {
    std::cerr << "interpcert: error: " << e.what() << "\n";
    return kExitInvalidInput;
  } catch (const std::exception& e) {
    std::cerr << "interpcert: error: " << e.what() << "\n";
    return kExitInvalidInput;
  }
}
