#include "cli/run_command.hpp"

#include "cli/watched_stage.hpp"

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

  // Without a start regex, epoch 1 starts when the child starts (its set-up inside it). With one,
  // the time until the first start line is the tracker's set-up.
  void child_starting() {
    if (!plan_.epoch_start_regex) start();
  }

  // A line of the child's output (a regex given). An end line ends the open epoch; without a
  // start regex it also starts the next, while fewer than N have ended. A start line ends an
  // epoch still open (its end line was missed, or there is no end regex) and starts the next.
  void line(std::string_view text) {
    if (ended_ >= plan_.epochs) return;
    if (plan_.epoch_regex && open_ && plan_.epoch_regex->matches(text)) {
      end();
      if (!plan_.epoch_start_regex && ended_ < plan_.epochs) start();
      return;
    }
    if (plan_.epoch_start_regex && plan_.epoch_start_regex->matches(text)) {
      if (open_) end();
      if (ended_ < plan_.epochs) start();
    }
  }

  void child_ended(const ChildOutcome& outcome) {
    if (!plan_.epoch_regex && !plan_.epoch_start_regex) {
      guarded("epoch_end", [&] { tracker_.epoch_end(); });  // the whole job was the epoch
    } else if (open_ && !plan_.epoch_regex && outcome.started && outcome.exit_status == 0) {
      end();  // start lines only: the last epoch ends when the job completes
    }
    // An epoch still open otherwise is one the job did not finish: stop() reports it as
    // interrupted and counts only the epochs that ended.
    guarded("stop", [&] { tracker_.stop(); });
  }

 private:
  void start() {
    guarded("epoch_start", [&] { tracker_.epoch_start(); });
    open_ = true;
  }
  void end() {
    guarded("epoch_end", [&] { tracker_.epoch_end(); });
    open_ = false;
    ++ended_;
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
  bool open_ = false;
};

void check_epoch_flags(const RunConfig& c) {
  if (c.epochs && !c.epoch_regex && !c.epoch_start_regex)
    throw CliError("--epochs needs --epoch-regex REGEX: an epoch ends at each line of the command's output that matches it "
                   "(or --epoch-start-regex REGEX: an epoch starts at each match)");
  if (c.epoch_regex && !c.epochs)
    throw CliError("--epoch-regex needs --epochs N, the number of epochs the prediction is for");
  if (c.epoch_start_regex && !c.epochs)
    throw CliError("--epoch-start-regex needs --epochs N, the number of epochs the prediction is for");
}

}  // namespace

RunPlan plan_run(const RunConfig& config) {
  check_epoch_flags(config);
  RunPlan plan;
  plan.options = config.options;
  plan.command = config.command;
  if (config.epoch_regex) plan.epoch_regex.emplace("--epoch-regex", *config.epoch_regex);
  if (config.epoch_start_regex) plan.epoch_start_regex.emplace("--epoch-start-regex", *config.epoch_start_regex);
  if (config.epoch_regex || config.epoch_start_regex) {
    plan.epochs = *config.epochs;
    plan.options.first_epoch_includes_setup = !config.epoch_start_regex;
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
    // Set-up reads files and may load NVML: a stop signal ends epochwatt here at once, since no
    // command runs yet and nothing has been measured.
    int stopped = run_watched(signals, [&] { tracker.emplace(std::move(options)); }, [](int) { return true; });
    if (stopped) {
      terminal.message(std::string(signal_name(stopped)) + " during set-up: stopped before '" +
                       (plan.command.empty() ? std::string("the run") : plan.command[0]) +
                       "' started; nothing was measured");
      ::_exit(128 + stopped);  // the set-up thread may be stuck in a call that never returns
    }
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
    std::vector<const LineMatcher*> matchers;
    for (const auto* m : {&plan.epoch_regex, &plan.epoch_start_regex})
      if (*m) matchers.push_back(&**m);
    LineFilter filter(matchers);  // one search per read for the lines either pattern may match
    if (!matchers.empty()) {
      io.on_line = [&driver](std::string_view line) { driver.line(line); };
      io.filter = &filter;
    }
    outcome = run_child(plan.command, io);
    if (!outcome.started)
      terminal.message("cannot run '" + plan.command[0] + "': " + std::strerror(outcome.start_errno));
  }
  // The final report: a first stop signal lets it finish (it is what the run was for); a second
  // one ends epochwatt at once, should writing it hang.
  int asked = 0;
  int stopped = run_watched(signals, [&] { driver.child_ended(outcome); }, [&](int signo) {
    if (asked++ == 0) {
      terminal.message(std::string(signal_name(signo)) + " while the report is written: finishing it; send it again "
                       "to stop at once without it");
      return false;
    }
    return true;
  });
  if (stopped) {
    terminal.message(std::string(signal_name(stopped)) + " again: stopped before the report was complete");
    ::_exit(128 + stopped);
  }
  return outcome.exit_status;
}

}  // namespace epochwatt::cli
