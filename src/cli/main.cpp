// epochwatt: runs a command as a tracked job and reports its energy and carbon footprint.
// Usage and behaviour: docs/cli.md, or `epochwatt --help`.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.hpp"
#include "cli/child_process.hpp"
#include "cli/devices.hpp"
#include "cli/intensity_command.hpp"
#include "cli/parse_command.hpp"
#include "cli/report_command.hpp"
#include "cli/run_command.hpp"
#include "cli/signals.hpp"
#include "cli/terminal_output.hpp"
#include "epochwatt/version.hpp"

using namespace epochwatt::cli;

namespace {

// Overwrites the secrets of the command line in place, so that /proc/PID/cmdline and ps no longer
// show them once the options are read (they were copied first).
void blank_secrets(char** argv, const RunConfig& run) {
  for (auto [index, offset] : run.secret_args)
    for (char* c = argv[1 + index] + offset; *c; ++c) *c = 'x';
}

int run(char** argv, const std::vector<std::string>& args, SignalRelay& signals, TerminalOutput& terminal,
        const InheritedDescriptors& inherited) {
  ParsedArgs parsed = parse_args(args);
  blank_secrets(argv, parsed.run);
  switch (parsed.action) {
    case Action::help:
      terminal.write_all(STDOUT_FILENO, help_text());
      return 0;
    case Action::version:
      terminal.write_all(STDOUT_FILENO, std::string("epochwatt ") + epochwatt::kVersion + "\n");
      return 0;
    case Action::parse:  // carbontracker --parse DIR: the aggregate sentence, as `epochwatt parse DIR`
      return parse_command({parsed.parse_dir}, std::cout, std::cerr);
    case Action::report: {  // carbontracker --report STD_LOG [--output X.pdf], as `epochwatt report`
      std::error_code ec;
      if (!std::filesystem::exists(parsed.report_log, ec)) {
        std::cerr << "Error: Log file " << parsed.report_log << " does not exist\n";  // the original's words
        return 1;
      }
      return report_command({parsed.report_log, "--pdf", parsed.report_pdf}, std::cout, std::cerr);
    }
    case Action::run:
      break;
  }
  if (parsed.run.api_keys_given)  // the value is a secret: never echo it
    terminal.message("warning: an API key on the command line can be read by other users while epochwatt starts; "
                     "prefer EPOCHWATT_ELECTRICITYMAPS_TOKEN or the config file (docs/intensity.md)");
  return run_tracked(plan_run(parsed.run), signals, terminal, inherited);
}

}  // namespace

int main(int argc, char** argv) {
  // Subcommands are recognised only as the very first argument, so that a tracked command is never
  // taken for one when options precede it; `epochwatt -- devices` runs a program named devices.
  if (argc > 1 && std::string_view(argv[1]) == "devices")
    return devices_command(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  if (argc > 1 && std::string_view(argv[1]) == "intensity")
    return intensity_command(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  if (argc > 1 && std::string_view(argv[1]) == "plan")
    return plan_command(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  if (argc > 1 && std::string_view(argv[1]) == "parse")
    return parse_command(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  if (argc > 1 && std::string_view(argv[1]) == "report")
    return report_command(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  TerminalOutput terminal;
  try {
    // Both first, before any file is opened or thread started (see their comments).
    InheritedDescriptors inherited;
    SignalRelay signals;
    return run(argv, std::vector<std::string>(argv + 1, argv + argc), signals, terminal, inherited);
  } catch (const CliError& e) {
    terminal.message(e.what());
    return kExitBadCommandLine;
  } catch (const std::exception& e) {
    terminal.message(std::string("internal error: ") + e.what());
    return kExitInternalError;
  }
}
