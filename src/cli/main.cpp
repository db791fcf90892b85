// epochwatt: runs a command as a tracked job and reports its energy and carbon footprint.
// Usage and behaviour: docs/cli.md, or `epochwatt --help`. The command line is read with CLI11:
// cmd_run.cpp defines the main command, cmd_*.cpp one subcommand each; this file wires them.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/child_process.hpp"
#include "cli/cmd_devices.hpp"
#include "cli/cmd_intensity.hpp"
#include "cli/cmd_parse.hpp"
#include "cli/cmd_report.hpp"
#include "cli/cmd_run.hpp"
#include "cli/command_line.hpp"
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

int run(char** argv, CLI::App& app, ParseContext& ctx, ParsedArgs& parsed, SignalRelay& signals,
        TerminalOutput& terminal, const InheritedDescriptors& inherited) {
  ctx.parse(app);
  blank_secrets(argv, parsed.run);
  finish_run_args(app, ctx, parsed);
  switch (parsed.action) {
    case Action::help:
      terminal.write_all(STDOUT_FILENO, app.help());
      return 0;
    case Action::version:
      terminal.write_all(STDOUT_FILENO, std::string("epochwatt ") + epochwatt::kVersion + "\n");
      return 0;
    case Action::parse:  // carbontracker --parse DIR: the aggregate sentence, as `epochwatt parse DIR`
      return parse_dirs({parsed.parse_dir}, false, false, std::cout, std::cerr);
    case Action::report: {  // carbontracker --report STD_LOG [--output X.pdf], as `epochwatt report`
      std::error_code ec;
      if (!std::filesystem::exists(parsed.report_log, ec)) {
        std::cerr << "Error: Log file " << parsed.report_log << " does not exist\n";  // the original's words
        return 1;
      }
      return make_report(parsed.report_log, "", parsed.report_pdf, std::cout, std::cerr);
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
  std::vector<std::string> args(argv + 1, argv + argc);
  auto formatter = std::make_shared<HelpFormatter>();
  CLI::App app("", "epochwatt");
  app.formatter(formatter);
  // The same arguments are read by the main command or by the subcommand they name: a subcommand
  // is one only as the very first argument, so that a tracked command is never taken for one when
  // options precede it; `epochwatt -- devices` runs a program named devices.
  std::vector<std::string> names = {"devices", "intensity", "plan", "parse", "report"};
  bool is_subcommand = !args.empty() && std::find(names.begin(), names.end(), args.front()) != names.end();
  ParseContext ctx(is_subcommand ? std::vector<std::string>(args.begin() + 1, args.end()) : args);
  ParsedArgs parsed;
  add_run_options(app, *formatter, ctx, parsed);
  std::vector<Subcommand> subcommands = {add_devices_command(app, ctx), add_intensity_command(app, ctx),
                                         add_plan_command(app, ctx), add_parse_command(app, ctx),
                                         add_report_command(app, ctx)};
  for (auto& sub : subcommands) {
    if (is_subcommand && sub.app->get_name() == args.front()) return run_subcommand(sub, ctx, std::cout, std::cerr);
    sub.app->disabled();  // listed in the help, never recognised after the first argument
  }

  TerminalOutput terminal;
  try {
    // Both first, before any file is opened or thread started (see their comments).
    InheritedDescriptors inherited;
    SignalRelay signals;
    return run(argv, app, ctx, parsed, signals, terminal, inherited);
  } catch (const BadArgument& bad) {
    terminal.message(run_bad_argument_message(bad));
    return kExitBadCommandLine;
  } catch (const CliError& e) {
    terminal.message(e.what());
    return kExitBadCommandLine;
  } catch (const std::exception& e) {
    terminal.message(std::string("internal error: ") + e.what());
    return kExitInternalError;
  }
}
