// The main command line of `epochwatt`, on CLI11: the tracked run's options, and the grammar
//
//   epochwatt [OPTIONS] [--] COMMAND [ARGS...]
//
// Options end at `--` or at COMMAND's first word (a token that does not start with `-` and is not
// the value of an option); nothing after that point is ever read as ours (spec §13 D20).
// Subcommands (cmd_devices.cpp, ...) are recognised only as the very first argument (main.cpp).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/command_line.hpp"
#include "epochwatt/options.hpp"

namespace epochwatt::cli {

// Everything `epochwatt [OPTIONS] COMMAND` needs, as read from the command line (values parsed,
// not yet checked against each other: see plan_run()).
struct RunConfig {
  Options options;                         // the tracker's options; epochs and friends set later
  std::vector<std::string> command;        // empty: no command (an empty epoch, as the original)
  std::optional<int> epochs;               // --epochs
  std::optional<std::string> epoch_regex;  // --epoch-regex: ends epochs
  std::optional<std::string> epoch_start_regex;  // --epoch-start-regex: starts epochs
  bool api_keys_given = false;             // --api_keys
  // Arguments that hold a secret: (index in the arguments, offset of the secret in it), so that
  // main() can overwrite them in argv and they no longer show in /proc/PID/cmdline or ps.
  std::vector<std::pair<std::size_t, std::size_t>> secret_args;
};

enum class Action {
  run,          // run `command` as the tracked job
  help,         // print the help and exit 0
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

// Sets up `app` as the main command: its usage, description, footer and every option of a tracked
// run, read into `out`. -h/--help, --version and --parse end the parse where they stand.
void add_run_options(CLI::App& app, HelpFormatter& formatter, ParseContext& ctx, ParsedArgs& out);

// After ctx.parse(app): COMMAND from what CLI11 left over, and the checks between options.
// Throws BadArgument (unknown option) or CliError.
void finish_run_args(const CLI::App& app, const ParseContext& ctx, ParsedArgs& out);

// The message (without "epochwatt: ") for an argument of the main command that cannot be read.
std::string run_bad_argument_message(const BadArgument& bad);

// The options that locate the run and choose its carbon-intensity source (--country, --zone, ...),
// shared with `epochwatt intensity` and `epochwatt plan`; add_intensity_seams() adds the test
// seams among them (--provider-url), in kSeamsGroup: add them after the options users need.
void add_location_options(CLI::App& app, ParseContext& ctx, Options& out);
void add_intensity_seams(CLI::App& app, ParseContext& ctx, Options& out);
// The backends' options as flags, in one loop over the backends' table (BackendOption,
// src/meters/registry.cpp): each row's flag, value name and help; a bool row is a flag without a
// value that sets it true. A value is read as the row's type (a bad one is a CliError naming the
// flag) and stored where backend_config() reads it, so a new row needs nothing here. `seams`
// false: the options users set; true: the test seams (--powercap-root, ...), for kSeamsGroup,
// added after the options users need. Shared with `epochwatt devices`.
void add_backend_options(CLI::App& app, ParseContext& ctx, Options& out, const std::string& group, bool seams);

}  // namespace epochwatt::cli
