#include "cli/run_command.hpp"

#include <unistd.h>

#include <cstring>

#include "epochwatt/errors.hpp"
#include "epochwatt/tracker.hpp"

namespace epochwatt::cli {
namespace {

// Turns the child's life and output into the tracker's epochs. Every tracker call is guarded:
// whatever goes wrong in measuring, the child's output keeps flowing and the child keeps running.
class EpochDriver {
 public:
  EpochDriver(Tracker& tracker, const RunPlan& plan, TerminalOutput& terminal)
      : tracker_(tracker), plan_(plan), terminal_(terminal) {}

  // Epoch 1 starts when the child starts.
  void child_starting() {
    guarded("epoch_start", [&] { tracker_.epoch_start(); });
  }

  // A line of the child's output (--epoch-regex only): a match ends the open epoch and, while
  // fewer than N have ended, starts the next.
  void line(std::string_view text) {
    if (!plan_.epoch_regex || ended_ >= plan_.epochs || !matches(text)) return;
    guarded("epoch_end", [&] { tracker_.epoch_end(); });
    if (++ended_ < plan_.epochs) guarded("epoch_start", [&] { tracker_.epoch_start(); });
  }

  void child_ended() {
    if (!plan_.epoch_regex)
      guarded("epoch_end", [&] { tracker_.epoch_end(); });  // the whole job was the epoch
    // With a regex, an epoch still open is one the job did not finish: stop() reports it as
    // interrupted and counts only the epochs that ended.
    guarded("stop", [&] { tracker_.stop(); });
  }

 private:
  bool matches(std::string_view text) {
    try {
      return std::regex_search(text.data(), text.data() + text.size(), *plan_.epoch_regex);
    } catch (const std::regex_error& e) {  // error_complexity / error_stack on a pathological line
      if (!regex_failed_) terminal_.message(std::string("warning: --epoch-regex could not be applied to a line: ") + e.what());
      regex_failed_ = true;
      return false;
    }
  }

  template <class F>
  void guarded(const char* what, F f) {
    try {
      f();
    } catch (const std::exception& e) {
      terminal_.message(std::string("warning: ") + what + " failed: " + e.what());
    }
  }

  Tracker& tracker_;
  const RunPlan& plan_;
  TerminalOutput& terminal_;
  int ended_ = 0;
  bool regex_failed_ = false;
};

void check_epoch_flags(const RunConfig& c) {
  if (c.epochs && !c.epoch_regex)
    throw CliError("--epochs needs --epoch-regex REGEX: an epoch ends at each line of the command's output that matches it");
  if (c.epoch_regex && !c.epochs)
    throw CliError("--epoch-regex needs --epochs N, the number of epochs the prediction is for");
}

}  // namespace

RunPlan plan_run(const RunConfig& config) {
  check_epoch_flags(config);
  RunPlan plan;
  plan.options = config.options;
  plan.command = config.command;
  if (config.epoch_regex) {
    try {
      plan.epoch_regex.emplace(*config.epoch_regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw CliError("--epoch-regex: invalid regular expression '" + *config.epoch_regex + "': " + e.what());
    }
    plan.epochs = *config.epochs;
    plan.options.epochs = plan.epochs;
    plan.options.epochs_before_pred = 1;  // a prediction after the first epoch
    plan.options.monitor_epochs = plan.epochs;
  } else {
    // carbontracker's CLI: one epoch, no prediction, report titled "Actual consumption:".
    plan.options.epochs = 1;
    plan.options.epochs_before_pred = 0;
    plan.options.monitor_epochs = -1;
  }
  try {
    validate(plan.options);
  } catch (const OptionsError& e) {
    throw CliError(e.what());
  }
  return plan;
}

int run_tracked(const RunPlan& plan, SignalRelay& signals, TerminalOutput& terminal,
                const InheritedDescriptors& inherited) {
  // Reports go to stderr so that our stdout stays exactly the child's. Declared before the
  // tracker, which writes to it until it is destroyed.
  ConsoleStream console(terminal, STDERR_FILENO);
  Options options = plan.options;
  options.console = &console;
  std::optional<Tracker> tracker;
  try {
    tracker.emplace(std::move(options));
  } catch (const std::exception& e) {  // nothing to measure, log directory not writable ...
    terminal.message(std::string("cannot start measuring: ") + e.what());
    return kExitBadCommandLine;
  }

  EpochDriver driver(*tracker, plan, terminal);
  driver.child_starting();
  ChildOutcome outcome;
  if (plan.command.empty()) {
    outcome = {true, 0, 0};  // as the original: no command, an empty epoch
  } else {
    ChildIo io{signals, terminal, inherited, {}};
    if (plan.epoch_regex) io.on_line = [&driver](std::string_view line) { driver.line(line); };
    outcome = run_child(plan.command, io);
    if (!outcome.started)
      terminal.message("cannot run '" + plan.command[0] + "': " + std::strerror(outcome.start_errno));
  }
  driver.child_ended();
  return outcome.exit_status;
}

}  // namespace epochwatt::cli
