// `epochwatt intensity` (the current carbon intensity, its source, time and location) and
// `epochwatt plan` (the start time that minimises a job's emissions, from a forecast).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace epochwatt::cli {

// args: the arguments after the subcommand's name. Exit status: 0, 1 (no answer), 2 (bad command line).
int intensity_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int plan_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace epochwatt::cli
