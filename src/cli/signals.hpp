// The signals epochwatt passes on to its child, and SIGCHLD, read through a signalfd: no signal
// handler runs, so nothing can exit from one, and the loop that supervises the child sees signals
// as ordinary readable events.
#pragma once

#include <signal.h>

#include <vector>

namespace epochwatt::cli {

// One per process. Construct it first thing in main(), before any thread exists: the signal mask
// set here is inherited by every thread created later (the tracker's sampler), so a relayed
// signal can only be taken through the signalfd, never by a thread's default action.
class SignalRelay {
 public:
  // SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2: each would end epochwatt before it writes
  // the report; each is what a user or a batch system sends to stop or notify a job.
  static const std::vector<int>& relayed();

  SignalRelay();
  ~SignalRelay();
  SignalRelay(const SignalRelay&) = delete;
  SignalRelay& operator=(const SignalRelay&) = delete;

  int fd() const { return fd_; }

  struct Received {
    int signo;
    // Sent by the terminal driver (Ctrl-C, Ctrl-\, hang-up) to the whole foreground process
    // group: the child, which shares our group, got its own copy and must not get a second one.
    bool from_terminal;
  };
  // Every signal pending on the signalfd; never blocks.
  std::vector<Received> take();

  // What the child starts with: epochwatt's original signal mask, and the signals whose
  // disposition must be reset to the default (SIGPIPE, which epochwatt ignores for itself
  // unless it was already ignored when epochwatt started).
  const sigset_t& original_mask() const { return original_mask_; }
  const sigset_t& reset_in_child() const { return reset_in_child_; }

 private:
  int fd_ = -1;
  sigset_t original_mask_;
  sigset_t reset_in_child_;
};

}  // namespace epochwatt::cli
