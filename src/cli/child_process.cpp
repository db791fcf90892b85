#include "cli/child_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>

namespace epochwatt::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kDrainIdle = 50ms;  // after the child exits: stop when its pipes stay quiet this long
constexpr auto kDrainMax = 1s;     // ... or after this long at most
constexpr auto kReapCheck = 1s;    // re-check the child even without SIGCHLD (belt and braces)

// Calls `f` on every open descriptor but the one that lists them; false without /proc.
template <class F>
bool for_each_open_fd(F f) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return false;
  int own = ::dirfd(dir);
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && fd != own) f(static_cast<int>(fd));
  }
  ::closedir(dir);
  return true;
}

struct Pipe {
  int read = -1;
  int write = -1;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read = fds[0];
    write = fds[1];
    return true;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
  void close_all() {
    close_write();
    if (read >= 0) ::close(read);
    read = -1;
  }
};

// posix_spawn's two setup objects, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// posix_spawnp: the PATH search of execvp, no shell, and (in glibc) exec errors such as ENOENT
// returned to us rather than to a forked copy of a threaded process.
int spawn(const std::vector<std::string>& command, const SignalRelay& signals, Pipe* out, Pipe* err,
          pid_t* pid) {
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  SpawnSetup s;
  // The child starts with the signal state epochwatt was started with, not with ours.
  posix_spawnattr_setsigmask(&s.attr, &signals.original_mask());
  posix_spawnattr_setsigdefault(&s.attr, &signals.reset_in_child());
  posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (out) posix_spawn_file_actions_adddup2(&s.actions, out->write, STDOUT_FILENO);
  if (err) posix_spawn_file_actions_adddup2(&s.actions, err->write, STDERR_FILENO);
  return ::posix_spawnp(pid, argv[0], &s.actions, &s.attr, argv.data(), environ);
}

int shell_status(int wait_status) {
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return WEXITSTATUS(wait_status);
}

// Waits for the child while relaying signals and forwarding its output.
class Supervisor {
 public:
  Supervisor(pid_t pid, SignalRelay& signals) : pid_(pid), signals_(signals) {}
  void add_stream(std::unique_ptr<OutputForwarder> s) { streams_.push_back(std::move(s)); }
  int run();  // the wait status

 private:
  void relay_signals();
  void reap(Clock::time_point now);
  void read_streams(const std::vector<pollfd>& fds, const std::vector<OutputForwarder*>& polled,
                    Clock::time_point now);
  bool done(Clock::time_point now) const;
  int poll_timeout_ms(Clock::time_point now) const;

  pid_t pid_;
  SignalRelay& signals_;
  std::vector<std::unique_ptr<OutputForwarder>> streams_;
  std::optional<int> wait_status_;
  Clock::time_point exited_at_{}, last_data_{};
};

int Supervisor::run() {
  for (;;) {
    Clock::time_point now = Clock::now();
    if (done(now)) break;
    std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}};
    std::vector<OutputForwarder*> polled;
    for (auto& s : streams_)
      if (s->fd() >= 0) {
        fds.push_back({s->fd(), POLLIN, 0});
        polled.push_back(s.get());
      }
    int ready = ::poll(fds.data(), fds.size(), poll_timeout_ms(now));
    if (ready < 0 && errno != EINTR) {
      // Cannot happen with valid arguments; never leave the child behind: wait for it plainly.
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      wait_status_ = status;
      break;
    }
    now = Clock::now();
    if (fds[0].revents) relay_signals();
    read_streams(fds, polled, now);
    for (auto& s : streams_) s->flush_if_due(now);
    if (!wait_status_) reap(now);
  }
  for (auto& s : streams_) s->finish();
  return *wait_status_;
}

void Supervisor::relay_signals() {
  for (const auto& sig : signals_.take()) {
    if (sig.signo == SIGCHLD || wait_status_) continue;
    // The terminal signals its whole foreground process group; a child that stayed in ours has
    // its own copy already (a second SIGINT would cut short a clean-up it started).
    if (sig.from_terminal && ::getpgid(pid_) == ::getpgrp()) continue;
    ::kill(pid_, sig.signo);
  }
}

void Supervisor::reap(Clock::time_point now) {
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR)) return;
  // r < 0 otherwise means ECHILD: nobody else waits for our child, so this cannot happen; report
  // it as "could not run" rather than loop for ever.
  wait_status_ = r == pid_ ? status : (127 << 8);
  exited_at_ = last_data_ = now;
}

void Supervisor::read_streams(const std::vector<pollfd>& fds, const std::vector<OutputForwarder*>& polled,
                              Clock::time_point now) {
  for (std::size_t i = 0; i < polled.size(); ++i)
    if (fds[i + 1].revents && polled[i]->read_some(now)) last_data_ = now;
}

bool Supervisor::done(Clock::time_point now) const {
  if (!wait_status_) return false;
  bool all_closed = std::all_of(streams_.begin(), streams_.end(), [](const auto& s) { return s->fd() < 0; });
  return all_closed || now - last_data_ >= kDrainIdle || now - exited_at_ >= kDrainMax;
}

int Supervisor::poll_timeout_ms(Clock::time_point now) const {
  Clock::time_point wake = wait_status_ ? std::min(last_data_ + kDrainIdle, exited_at_ + kDrainMax)
                                        : now + kReapCheck;
  for (const auto& s : streams_)
    if (auto d = s->deadline()) wake = std::min(wake, *d);
  if (wake <= now) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
  return static_cast<int>(ms);
}

}  // namespace

InheritedDescriptors::InheritedDescriptors() {
  for_each_open_fd([this](int fd) { fds_.insert(fd); });
}

void InheritedDescriptors::keep_ours_from_child() const {
  if (fds_.empty()) return;  // no /proc at start: we cannot tell ours from inherited ones
  for_each_open_fd([this](int fd) {
    if (fds_.count(fd)) return;
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  });
}

ChildOutcome run_child(const std::vector<std::string>& command, ChildIo io) {
  ChildOutcome outcome;
  bool capture = static_cast<bool>(io.on_line);
  Pipe out, err;
  if (capture && (!out.open() || !err.open())) {
    outcome.start_errno = errno;
    out.close_all();
    err.close_all();
    return outcome;
  }
  io.inherited.keep_ours_from_child();
  pid_t pid = -1;
  int rc = spawn(command, io.signals, capture ? &out : nullptr, capture ? &err : nullptr, &pid);
  out.close_write();  // the child holds its copies; ours would keep the pipes from ending
  err.close_write();
  if (rc != 0) {
    outcome.start_errno = rc;
    out.close_all();
    err.close_all();
    return outcome;
  }
  outcome.started = true;
  Supervisor supervisor(pid, io.signals);
  if (capture) {
    supervisor.add_stream(std::make_unique<OutputForwarder>(out.read, STDOUT_FILENO, io.terminal, io.on_line));
    supervisor.add_stream(std::make_unique<OutputForwarder>(err.read, STDERR_FILENO, io.terminal, io.on_line));
  }
  outcome.exit_status = shell_status(supervisor.run());
  return outcome;
}

}  // namespace epochwatt::cli
