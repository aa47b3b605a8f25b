// The command line the subcommands declare their options on: a thin layer over CLI11, so that
// CLI11 (header-only, ~10 CPU s to compile in every file that includes it) is compiled in one
// translation unit, command_line.cpp, instead of in every command's file (issue 13, item 4).
// Help texts, type names and error messages are CLI11's, unchanged.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace interpcert::cli {

/// An option or flag declared on a command; the handle stays valid as long as its CommandLine.
class Option {
 public:
  explicit Option(CLI::Option* option) : option_(option) {}
  Option required();
  /// Accept only these values (CLI11's IsMember: "--x: v not in {a,b}").
  Option one_of(std::vector<std::string> values);
  /// Accept only integers in [lo, hi].
  Option range(long lo, long hi);
  /// Refuse this option together with `other` ("--a excludes --b").
  Option excludes(Option other);

 private:
  CLI::Option* option_;
};

/// A subcommand: its options, its footer, and after parsing which options were given.
class Command {
 public:
  explicit Command(CLI::App* app) : app_(app) {}
  Option option(const std::string& names, std::string& into, const std::string& description);
  Option option(const std::string& names, std::vector<std::string>& into, const std::string& description);
  Option option(const std::string& names, long& into, const std::string& description);
  Option option(const std::string& names, unsigned& into, const std::string& description);
  Option option(const std::string& names, std::size_t& into, const std::string& description);
  Option flag(const std::string& names, bool& into, const std::string& description);
  void footer(const std::string& text);
  /// Whether the option (by any of its names, e.g. "--precision") was given on the command line.
  bool given(const std::string& name) const;

 private:
  CLI::App* app_;
};

/// What a subcommand does once the command line is parsed: returns the exit status.
using Runner = std::function<int()>;

/// The program's command line: subcommands, each with its runner, and `help [COMMAND]`.
class CommandLine {
 public:
  CommandLine(const std::string& description, const std::string& name, const std::string& version);
  ~CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  /// Declares a subcommand: `declare` calls subcommand() once, adds the options, returns its runner.
  void add(Runner (*declare)(CommandLine&));
  /// A new subcommand (for `declare`).
  Command subcommand(const std::string& name, const std::string& description);
  /// Adds `help [COMMAND]` (the same text as --help).
  void add_help_command();
  /// Parses argv and runs the chosen subcommand: its exit status. --help and --version print and
  /// return 0; a command-line error prints the message and returns kExitInvalidInput. Exceptions
  /// from the runner propagate.
  int run(int argc, char** argv);

 private:
  std::unique_ptr<CLI::App> app_;
  std::vector<std::pair<std::string, Runner>> runners_;
};

}  // namespace interpcert::cli
