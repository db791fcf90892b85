// `epochwatt devices [--json] [--fix-permissions]`: every measurement backend, the meters it found
// with their method, and why a backend found nothing (devices.hpp); --fix-permissions (as root)
// makes the RAPL energy counters readable.
#pragma once

#include "cli/command_line.hpp"

namespace epochwatt::cli {

// Registers the subcommand under `root`; it reads `ctx` when it is run.
Subcommand add_devices_command(CLI::App& root, ParseContext& ctx);

}  // namespace epochwatt::cli
