// The subcommands of the interpcert executable; each registers itself on the CLI11 app and
// returns the process exit status when run.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>

namespace interpcert::cli {

using Runner = std::function<int()>;

Runner add_run_command(CLI::App& app);
Runner add_check_command(CLI::App& app);
Runner add_construct_command(CLI::App& app);
Runner add_certify_command(CLI::App& app);
Runner add_digest_command(CLI::App& app);
Runner add_explain_command(CLI::App& app);
Runner add_merge_command(CLI::App& app);
Runner add_export_command(CLI::App& app);
Runner add_import_command(CLI::App& app);

}  // namespace interpcert::cli
