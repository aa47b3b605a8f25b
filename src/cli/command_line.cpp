// The one translation unit that compiles CLI11 (command_line.hpp says why).
#include "command_line.hpp"

#include "interpcert/errors.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <stdexcept>

namespace interpcert::cli {

Option Option::required() {
  option_->required();
  return *this;
}

Option Option::one_of(std::vector<std::string> values) {
  option_->check(CLI::IsMember(std::move(values)));
  return *this;
}

Option Option::range(long lo, long hi) {
  option_->check(CLI::Range(lo, hi));
  return *this;
}

Option Option::excludes(Option other) {
  option_->excludes(other.option_);
  return *this;
}

Option Command::option(const std::string& names, std::string& into, const std::string& description) {
  return Option(app_->add_option(names, into, description));
}
Option Command::option(const std::string& names, std::vector<std::string>& into, const std::string& description) {
  return Option(app_->add_option(names, into, description));
}
Option Command::option(const std::string& names, long& into, const std::string& description) {
  return Option(app_->add_option(names, into, description));
}
Option Command::option(const std::string& names, unsigned& into, const std::string& description) {
  return Option(app_->add_option(names, into, description));
}
Option Command::option(const std::string& names, std::size_t& into, const std::string& description) {
  return Option(app_->add_option(names, into, description));
}
Option Command::flag(const std::string& names, bool& into, const std::string& description) {
  return Option(app_->add_flag(names, into, description));
}

void Command::footer(const std::string& text) { app_->footer(text); }

bool Command::given(const std::string& name) const { return app_->count(name) > 0; }

CommandLine::CommandLine(const std::string& description, const std::string& name, const std::string& version)
    : app_(std::make_unique<CLI::App>(description, name)) {
  app_->set_version_flag("--version", version);
  app_->require_subcommand(1);
}

CommandLine::~CommandLine() = default;

Command CommandLine::subcommand(const std::string& name, const std::string& description) {
  return Command(app_->add_subcommand(name, description));
}

void CommandLine::add(Runner (*declare)(CommandLine&)) {
  Runner runner = declare(*this);
  runners_.emplace_back(app_->get_subcommands({}).back()->get_name(), std::move(runner));
}

void CommandLine::add_help_command() {
  CLI::App& app = *app_;
  auto* cmd = app.add_subcommand("help", "Print this help, or a command's: interpcert help COMMAND.");
  auto topic = std::make_shared<std::string>();
  cmd->add_option("COMMAND", *topic, "the command to explain");
  runners_.emplace_back("help", [&app, topic] {
    if (topic->empty()) {
      // app.help() would describe the selected subcommand (this one); format the top level.
      std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
      return static_cast<int>(kExitOk);
    }
    for (auto* sub : app.get_subcommands({}))
      if (sub->get_name() == *topic) {
        std::cout << sub->help(app.get_name());
        return static_cast<int>(kExitOk);
      }
    throw std::invalid_argument("help: no command \"" + clip_for_message(*topic) +
                                "\" (`interpcert help` lists them)");
  });
}

int CommandLine::run(int argc, char** argv) {
  try {
    app_->parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app_->exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "interpcert: error: " << e.what() << "\n"
              << "Run `interpcert help` or `interpcert help COMMAND` for the options.\n";
    return kExitInvalidInput;
  }
  for (auto* sub : app_->get_subcommands())
    for (const auto& [name, runner] : runners_)
      if (sub->get_name() == name) return runner();
  return kExitInvalidInput;
}

}  // namespace interpcert::cli
