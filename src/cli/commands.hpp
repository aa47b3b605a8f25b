// The subcommands of the interpcert executable; each declares itself and its options on the
// command line and returns what runs it (the process exit status).
#pragma once

#include "command_line.hpp"

namespace interpcert::cli {

Runner add_run_command(CommandLine& app);
Runner add_check_command(CommandLine& app);
Runner add_construct_command(CommandLine& app);
Runner add_certify_command(CommandLine& app);
Runner add_digest_command(CommandLine& app);
Runner add_explain_command(CommandLine& app);
Runner add_merge_command(CommandLine& app);
Runner add_export_command(CommandLine& app);
Runner add_import_command(CommandLine& app);

}  // namespace interpcert::cli
