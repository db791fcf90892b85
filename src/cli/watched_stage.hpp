// The stages of a run that have no child to relay signals to (set-up: meters, config, cache;
// the end: the final report) may block: NVML's first call on a wedged driver, a slow file system.
// They run on a thread of their own while the main thread keeps reading the signalfd, so that
// SIGINT, SIGTERM, SIGHUP and SIGQUIT are taken at every stage, not left pending behind the mask
// that SignalRelay set (issue 12, item 12).
#pragma once

#include <functional>

#include "cli/signals.hpp"

namespace epochwatt::cli {

// True for the signals that ask epochwatt to stop: SIGINT, SIGTERM, SIGHUP, SIGQUIT.
bool is_stop_signal(int signo);

// "SIGTERM" for SIGTERM; "signal N" for one without a name here.
const char* signal_name(int signo);

// Runs `work` on a new thread (it inherits the blocked signal mask) and reads the signalfd until
// it ends. Each stop signal taken meanwhile is passed to `stop_now`; when that returns true, this
// returns the signal at once and the thread is left running: the caller must end the process
// (_exit), as the work may never return. Returns 0 when `work` ended; an exception it threw is
// rethrown here. Other relayed signals (SIGUSR1, SIGUSR2) are sent to the process again after
// `work` ends, so that the child, started next, still gets them.
int run_watched(SignalRelay& signals, std::function<void()> work, const std::function<bool(int signo)>& stop_now);

}  // namespace epochwatt::cli
