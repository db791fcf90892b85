// `epochwatt devices [--json] [--fix-permissions]`: every backend, the meters it found with their
// method, and for each backend that found nothing, the reason and the fix.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "epochwatt/options.hpp"

namespace epochwatt::cli {

// Runs the subcommand with its own arguments (those after "devices"); returns the exit status.
int devices_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The listing itself, for a given set of options (roots injectable for tests).
std::string devices_text(const Options& options);
std::string devices_json(const Options& options);

}  // namespace epochwatt::cli
