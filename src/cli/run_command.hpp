// `epochwatt [OPTIONS] [--] COMMAND [ARGS...]`: runs COMMAND as a tracked job. Without a regex
// the whole job is one epoch (carbontracker's CLI: epochs=1, epochs_before_pred=0, report titled
// "Actual consumption:"); with --epochs N and --epoch-regex E and/or --epoch-start-regex S, epochs
// end at the lines of the job's output that match E and start at those that match S (the time
// before the first start is the set-up), and a prediction for N epochs follows the first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/cmd_run.hpp"
#include "cli/child_process.hpp"
#include "cli/line_matcher.hpp"
#include "cli/signals.hpp"
#include "cli/terminal_output.hpp"
#include "epochwatt/options.hpp"

namespace epochwatt::cli {

inline constexpr int kExitBadCommandLine = 2;  // the command was not started
inline constexpr int kExitInternalError = 70;  // EX_SOFTWARE, as the original

// A run whose options were checked against each other and against the tracker's rules.
struct RunPlan {
  Options options;  // complete but for `console`, which run_tracked() sets
  std::vector<std::string> command;
  std::optional<LineMatcher> epoch_regex;        // set: epochs end at matching lines
  std::optional<LineMatcher> epoch_start_regex;  // set: epochs start at matching lines (set-up before)
  int epochs = 1;
};

// Throws CliError when --epochs and --epoch-regex do not come together, the regex does not
// compile, or the tracker would refuse the options (carbontracker's messages, e.g. "When using
// simulated CPU (sim_cpu), you must also specify the CPU TDP (sim_cpu_tdp)").
RunPlan plan_run(const RunConfig& config);

// Runs the plan and returns epochwatt's exit status: the child's (128 + N for signal N), 127 when
// it could not be started, 2 when the tracker could not be set up (the child is then not
// started). The report is written whatever the child did.
int run_tracked(const RunPlan& plan, SignalRelay& signals, TerminalOutput& terminal,
                const InheritedDescriptors& inherited);

}  // namespace epochwatt::cli
