// Runs the tracked command: starts it (cli/process.hpp: PATH search as execvp, no shell), relays signals to it,
// optionally forwards its output line by line, and waits for it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "cli/output_forwarder.hpp"
#include "cli/signals.hpp"
#include "cli/terminal_output.hpp"

namespace epochwatt::cli {

// The file descriptors epochwatt was started with. Those, and only those, are passed on to the
// child (`epochwatt -- cmd 3<file` works); descriptors opened later by epochwatt itself (the log
// files, which the library opens without O_CLOEXEC) are not. Take it first thing in main().
class InheritedDescriptors {
 public:
  InheritedDescriptors();
  // Marks every descriptor opened since construction close-on-exec.
  void keep_ours_from_child() const;

 private:
  std::set<int> fds_;
};

struct ChildOutcome {
  bool started = false;
  int start_errno = 0;  // why it could not be started (when !started)
  // Shell-style: the exit code; 128 + N when signal N killed it; 127 when it did not start.
  int exit_status = 127;
};

struct ChildIo {
  SignalRelay& signals;
  TerminalOutput& terminal;
  const InheritedDescriptors& inherited;
  // Empty: the child writes to our stdout and stderr directly (byte for byte, no copy).
  // Set: both streams go through pipes, are forwarded unchanged, and each line that `filter`
  // does not rule out (every line without one) is handed here.
  OutputForwarder::LineHandler on_line;
  const LineFilter* filter = nullptr;  // outlives run_child()
};

// Runs `command` (non-empty) to its end. After the child exits, output still in the pipes is
// forwarded until both reach end of file, 50 ms pass without data, or 1 s has passed (a
// background grandchild may hold a pipe open for ever). Never throws for the child's sake: a
// command that cannot be started is reported in the outcome.
ChildOutcome run_child(const std::vector<std::string>& command, ChildIo io);

}  // namespace epochwatt::cli
