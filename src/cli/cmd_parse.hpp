// `epochwatt parse DIR... [--table] [--json]`: reads every carbontracker-format log pair in the
// folders (carbontracker 2.3, 2.4 and epochwatt's own) and prints the aggregate sentence of
// `carbontracker --parse`, a table of the runs, or JSON. docs/parse.md describes the rules.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/command_line.hpp"
#include "report/log_parse.hpp"

namespace epochwatt::detail {
class JsonStreamWriter;
}

namespace epochwatt::cli {

// Registers the subcommand under `root`; it reads `ctx` when it is run. Warnings go to `err`, one
// line each ("epochwatt: warning: FILE: ..."). Exit status: 0 when at least one run was read,
// 1 when none, 2 for a bad command line.
Subcommand add_parse_command(CLI::App& root, ParseContext& ctx);

// The aggregate of the runs in `dirs`, as `epochwatt parse` prints it (also carbontracker's --parse):
// the sentence, one row per run and a total row (`table`), or everything read as JSON (`json`,
// schema epochwatt-parse/1). Streams: each run is read, summed and (JSON) written before the next
// is read, so memory does not grow with the runs (the table keeps one line of text per run to
// align its columns). Warnings go to `err` as they arise.
int parse_dirs(const std::vector<std::string>& dirs, bool table, bool json, std::ostream& out, std::ostream& err);

// The parse warnings as the JSON outputs write them: an array of {"file", "message"} objects.
void write_parse_warnings(detail::JsonStreamWriter& w, const std::vector<detail::ParseWarning>& warnings);

}  // namespace epochwatt::cli
