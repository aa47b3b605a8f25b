// interpcert: construct, run and certify transformers that interpolate sequence data exactly.
#include "commands.hpp"

#include "interpcert/errors.hpp"
#include "interpcert/gmp_pool.hpp"

#include <iostream>
#include <map>

namespace {

// `interpcert help [COMMAND]`: the same text as --help.
interpcert::cli::Runner add_help_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("help", "Print this help, or a command's: interpcert help COMMAND.");
  auto topic = std::make_shared<std::string>();
  cmd->add_option("COMMAND", *topic, "the command to explain");
  return [&app, topic] {
    if (topic->empty()) {
      // app.help() would describe the selected subcommand (this one); format the top level.
      std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
      return static_cast<int>(interpcert::kExitOk);
    }
    for (auto* sub : app.get_subcommands({}))
      if (sub->get_name() == *topic) {
        std::cout << sub->help(app.get_name());
        return static_cast<int>(interpcert::kExitOk);
      }
    throw std::invalid_argument("help: no command \"" + interpcert::clip_for_message(*topic) +
                                "\" (`interpcert help` lists them)");
  };
}

}  // namespace

// The one place that turns errors into messages and exit statuses: command-line errors, invalid
// input and anything else a command throws.
int main(int argc, char** argv) {
  interpcert::install_gmp_limb_pool();  // before any number exists (issue 13)
  using namespace interpcert;
  try {
    CLI::App app{
        "interpcert: exact-arithmetic construction and verification of transformers that interpolate\n"
        "sequence datasets (Alcalde, Fantuzzi & Zuazua, arXiv:2502.02270).\n\n"
        "Every claim printed is computed exactly in rational arithmetic unless it says otherwise.\n"
        "Exit status: 0 success, 1 refuted / impossible, 2 invalid input (every dataset is decided: check --help).",
        "interpcert"};
    app.set_version_flag("--version", std::string("interpcert ") + INTERPCERT_VERSION);
    app.require_subcommand(1);
    std::map<CLI::App*, cli::Runner> runners;
    auto add = [&](auto f) {
      cli::Runner r = f(app);
      runners[app.get_subcommands({}).back()] = std::move(r);
    };
    add(cli::add_check_command);
    add(cli::add_construct_command);
    add(cli::add_certify_command);
    add(cli::add_explain_command);
    add(cli::add_run_command);
    add(cli::add_merge_command);
    add(cli::add_digest_command);
    add(cli::add_export_command);
    add(cli::add_import_command);
    add(add_help_command);
    try {
      app.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help, --version
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      std::cerr << "interpcert: error: " << e.what() << "\n"
                << "Run `interpcert help` or `interpcert help COMMAND` for the options.\n";
      return kExitInvalidInput;
    }
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
