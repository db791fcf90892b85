// `epochwatt parse DIR... [--table] [--json]`: reads every carbontracker-format log pair in the
// folders (carbontracker 2.3, 2.4 and epochwatt's own) and prints the aggregate sentence of
// `carbontracker --parse`, a table of the runs, or JSON. docs/parse.md describes the rules.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "report/log_parse.hpp"

namespace epochwatt::cli {

// Runs the subcommand with its own arguments (those after "parse"). Warnings go to `err`, one
// line each ("epochwatt: warning: FILE: ..."). Exit status: 0 when at least one run was read,
// 1 when none, 2 for a bad command line.
int parse_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// One row per run, aligned columns, and a total row (the --table output).
std::string parse_table(const std::vector<detail::ParsedRun>& runs, const detail::Aggregate& total);
// {"schema", "runs", "aggregate", "warnings"} (the --json output), pretty-printed.
std::string parse_json(const std::vector<detail::ParsedRun>& runs, const detail::Aggregate& total,
                       const std::vector<detail::ParseWarning>& warnings);

}  // namespace epochwatt::cli
