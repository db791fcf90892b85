#include "cli/watched_stage.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace epochwatt::cli {

bool is_stop_signal(int signo) { return signo == SIGINT || signo == SIGTERM || signo == SIGHUP || signo == SIGQUIT; }

const char* signal_name(int signo) {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default: return "signal";
  }
}

namespace {

// Shared with the thread, which may outlive the caller's frame when a stop signal leaves it behind.
struct Stage {
  int done_fd = -1;  // eventfd, written once when the work ends
  std::exception_ptr error;
  ~Stage() {
    if (done_fd >= 0) ::close(done_fd);
  }
};

}  // namespace

int run_watched(SignalRelay& signals, std::function<void()> work, const std::function<bool(int signo)>& stop_now) {
  auto stage = std::make_shared<Stage>();
  stage->done_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stage->done_fd < 0) throw std::runtime_error(std::string("cannot create an eventfd: ") + std::strerror(errno));
  std::thread worker([stage, work = std::move(work)] {
    try {
      work();
    } catch (...) {
      stage->error = std::current_exception();
    }
    std::uint64_t one = 1;
    while (::write(stage->done_fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
  });
  std::vector<int> later;  // SIGUSR1, SIGUSR2: for the child
  for (;;) {
    pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {stage->done_fd, POLLIN, 0}};
    int ready = ::poll(fds, 2, -1);
    if (ready < 0 && errno != EINTR) break;  // cannot happen with valid descriptors: wait plainly
    if (fds[0].revents)
      for (const auto& sig : signals.take()) {
        if (is_stop_signal(sig.signo)) {
          if (stop_now(sig.signo)) {
            worker.detach();  // the caller ends the process; the work may be stuck for good
            return sig.signo;
          }
        } else if (sig.signo != SIGCHLD) {
          later.push_back(sig.signo);
        }
      }
    if (fds[1].revents) break;
  }
  worker.join();
  for (int s : later) ::kill(::getpid(), s);  // blocked: pending on the signalfd again
  if (stage->error) std::rethrow_exception(stage->error);
  return 0;
}

}  // namespace epochwatt::cli
