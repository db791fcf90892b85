// `epochwatt intensity` (the current carbon intensity, its source, time and location) and
// `epochwatt plan` (the start time that minimises a job's emissions, from a forecast).
#pragma once

#include "cli/command_line.hpp"

namespace epochwatt::cli {

// Register the subcommands under `root`; they read `ctx` when run. Exit status: 0, 1 (no answer),
// 2 (bad command line). The location options are those of a tracked run (cmd_run.hpp).
Subcommand add_intensity_command(CLI::App& root, ParseContext& ctx);
Subcommand add_plan_command(CLI::App& root, ParseContext& ctx);

}  // namespace epochwatt::cli
