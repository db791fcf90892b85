#include "cli/signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace epochwatt::cli {

const std::vector<int>& SignalRelay::relayed() {
  static const std::vector<int> signals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  return signals;
}

SignalRelay::SignalRelay() {
  sigemptyset(&reset_in_child_);

  // A reader that goes away (`epochwatt ... | head`) must not kill epochwatt before the report:
  // writes fail with EPIPE instead. The child gets SIGPIPE back as it had it.
  struct sigaction old_pipe {};
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, &old_pipe);
  if (old_pipe.sa_handler != SIG_IGN) sigaddset(&reset_in_child_, SIGPIPE);

  // An inherited SIG_IGN for SIGCHLD would make the kernel reap the child and lose its status.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGCHLD, &dfl, nullptr);

  sigset_t block;
  sigemptyset(&block);
  for (int s : relayed()) sigaddset(&block, s);
  sigaddset(&block, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &block, &original_mask_);
  fd_ = ::signalfd(-1, &block, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(std::string("cannot create a signalfd: ") + std::strerror(errno));
}

SignalRelay::~SignalRelay() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<SignalRelay::Received> SignalRelay::take() {
  std::vector<Received> out;
  signalfd_siginfo info[8];
  for (;;) {
    ssize_t n = ::read(fd_, info, sizeof info);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;  // EAGAIN: nothing more pending
    for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof info[0]; ++i)
      out.push_back({static_cast<int>(info[i].ssi_signo), info[i].ssi_code == SI_KERNEL});
  }
}

}  // namespace epochwatt::cli
