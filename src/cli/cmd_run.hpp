// The command line of `epochwatt`: the option table (data: names, value, help), the parser that
// reads it, and the --help text generated from it, so that the three never drift apart.
//
//   epochwatt [OPTIONS] [--] COMMAND [ARGS...]
//
// Options end at `--` or at COMMAND's first word (a token that does not start with `-` and is not
// the value of an option); nothing after that point is ever read as ours (spec §13 D20).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "epochwatt/options.hpp"

namespace epochwatt::cli {

// A command line that cannot be run: the message is one line, without the "epochwatt: " prefix.
// main() prints it and exits with status 2; the command is never started.
class CliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Everything `epochwatt [OPTIONS] COMMAND` needs, as read from the command line (values parsed,
// not yet checked against each other: see plan_run()).
struct RunConfig {
  Options options;                         // the tracker's options; epochs and friends set later
  std::vector<std::string> command;        // empty: no command (an empty epoch, as the original)
  std::optional<int> epochs;               // --epochs
  std::optional<std::string> epoch_regex;  // --epoch-regex
  bool api_keys_given = false;             // --api_keys
  // Arguments that hold a secret: (index in the arguments, offset of the secret in it), so that
  // main() can overwrite them in argv and they no longer show in /proc/PID/cmdline or ps.
  std::vector<std::pair<std::size_t, std::size_t>> secret_args;
};

enum class Action {
  run,          // run `command` as the tracked job
  help,         // print help_text() and exit 0
  version,      // print the version and exit 0
  parse,        // --parse DIR: print the aggregate of the logs in parse_dir (as `epochwatt parse`)
  report,       // --report STD_LOG [--output X.pdf]: the report of one run as a PDF (as `epochwatt report`)
};

struct ParsedArgs {
  Action action = Action::run;
  RunConfig run;
  std::string parse_dir;         // for Action::parse
  std::string report_log;        // for Action::report
  std::string report_pdf;        // for Action::report: a bare `--output X.pdf` (default carbon_report.pdf)
};

// One entry of the option table.
struct OptionSpec {
  std::vector<std::string_view> names;  // every spelling, e.g. {"--log-dir", "--log_dir"}
  std::string_view metavar;             // the value's name in --help; empty: a flag, no value
  std::string_view group;               // the --help section
  std::string_view help;                // one sentence (or two) for --help
  // Stores the value (empty for a flag) into the result; throws CliError for a bad value.
  void (*apply)(ParsedArgs& out, std::string_view flag, const std::string& value);
};

// The option table, in --help order.
const std::vector<OptionSpec>& option_table();

// Parses argv[1..] (without the program name). -h/--help and --version end the parse at once (so
// `epochwatt --help --bogus` prints the help). Throws CliError for an unknown option, a missing
// value, a value given to a flag, or a value that does not parse.
ParsedArgs parse_args(const std::vector<std::string>& args);

// The --help text, generated from option_table().
std::string help_text();

}  // namespace epochwatt::cli
