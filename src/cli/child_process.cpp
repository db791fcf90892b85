#include "cli/child_process.hpp"

#include "cli/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>

namespace epochwatt::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kDrainIdle = 50ms;  // after the child exits: stop when its pipes stay quiet this long
constexpr auto kDrainMax = 1s;     // ... or after this long at most, for output written after the exit
// (a process the job left behind that keeps its pipe open). What the job itself wrote before it
// exited is in the pipes when it is reaped, and is always read whole, however long that takes: a
// slow reader once dropped the last lines (and epochs) of a job that printed fast.
constexpr auto kReapCheck = 1s;    // re-check the child even without SIGCHLD (belt and braces)
// After a round that read output and emptied the pipes, wait this long before the next: a job that
// prints fast then fills the pipe (1 MiB) for a few hundred KiB per read instead of waking us for
// each of its writes (8 KiB for most programs), three system calls each. A line is late by this
// much at most. A round whose read found a pipe (nearly) full (OutputForwarder::drained() false) is
// followed by the next at once: the job is blocked on that pipe, and pausing then only holds it
// back (with 256 KiB reads and a pause after each, forwarding was capped near 500 MB/s).
constexpr auto kCoalesce = 500us;

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
    // A larger pipe (1 MiB, the unprivileged maximum of /proc/sys/fs/pipe-max-size by default)
    // lets a job that prints a lot write on while we forward: fewer switches between it and us.
    // Refused (a lower limit, a user over its pipe quota): the default 64 KiB serves as well.
    (void)::fcntl(read, F_SETPIPE_SZ, 1 << 20);
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

// The job: the PATH search of execvp, no shell, and the signal state epochwatt was started with,
// not ours.
std::optional<Process> spawn_job(const std::vector<std::string>& command, const SignalRelay& signals, Pipe* out,
                                 Pipe* err, int* error) {
  SpawnOptions o;
  o.argv = command;
  o.sigmask = &signals.original_mask();
  o.sigdefault = &signals.reset_in_child();
  if (out) o.out = Redirect::to_fd(out->write);
  if (err) o.err = Redirect::to_fd(err->write);
  return Process::spawn(o, error);
}

// Waits for the child while relaying signals and forwarding its output.
class Supervisor {
 public:
  Supervisor(Process& child, SignalRelay& signals) : child_(child), signals_(signals) {}
  void add_stream(std::unique_ptr<OutputForwarder> s) { streams_.push_back(std::move(s)); }
  int run();  // the wait status

 private:
  bool relay_signals();  // true when SIGCHLD was among them
  void reap(Clock::time_point now);
  bool read_streams(const std::vector<pollfd>& fds, const std::vector<OutputForwarder*>& polled,
                    Clock::time_point now);  // true if any stream had data
  bool done(Clock::time_point now) const;
  int poll_timeout_ms(Clock::time_point now) const;

  Process& child_;
  SignalRelay& signals_;
  std::vector<std::unique_ptr<OutputForwarder>> streams_;
  std::vector<std::uint64_t> owed_;  // per stream: bytes_read() the job's own output reaches
  bool exited_ = false;
  int wait_status_ = 0;  // once exited_
  Clock::time_point exited_at_{}, last_data_{};
  Clock::time_point last_reap_ = Clock::now();
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
      wait_status_ = child_.wait();
      exited_ = true;
      break;
    }
    now = Clock::now();
    bool child_signalled = fds[0].revents && relay_signals();
    bool had_data = read_streams(fds, polled, now);
    for (auto& s : streams_) s->flush_if_due(now);
    // On SIGCHLD, and every kReapCheck in case one was missed: not on every read of the child's
    // output (a wait4 per read was a tenth of forwarding's system calls).
    if (!exited_ && (child_signalled || now - last_reap_ >= kReapCheck)) reap(now);
    bool full = std::any_of(streams_.begin(), streams_.end(),
                            [](const auto& s) { return s->fd() >= 0 && !s->drained(); });
    if (had_data && !exited_ && !full) std::this_thread::sleep_for(kCoalesce);
  }
  for (auto& s : streams_) s->finish();
  return wait_status_;
}

bool Supervisor::relay_signals() {
  bool sigchld = false;
  for (const auto& sig : signals_.take()) {
    sigchld = sigchld || sig.signo == SIGCHLD;
    if (sig.signo == SIGCHLD || exited_) continue;
    // The terminal signals its whole foreground process group; a child that stayed in ours has
    // its own copy already (a second SIGINT would cut short a clean-up it started).
    if (sig.from_terminal && ::getpgid(child_.pid()) == ::getpgrp()) continue;
    child_.signal(sig.signo);
  }
  return sigchld;
}

void Supervisor::reap(Clock::time_point now) {
  last_reap_ = now;
  std::optional<int> status = child_.try_wait();
  if (!status) return;
  exited_ = true;
  wait_status_ = *status;
  exited_at_ = last_data_ = now;
  owed_.assign(streams_.size(), 0);
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    int held = 0;  // bytes in the pipe now: all the job wrote before it exited, at least
    if (streams_[i]->fd() >= 0 && ::ioctl(streams_[i]->fd(), FIONREAD, &held) == 0 && held > 0)
      owed_[i] = streams_[i]->bytes_read() + static_cast<std::uint64_t>(held);
  }
}

bool Supervisor::read_streams(const std::vector<pollfd>& fds, const std::vector<OutputForwarder*>& polled,
                              Clock::time_point now) {
  bool any = false;
  for (std::size_t i = 0; i < polled.size(); ++i)
    if (fds[i + 1].revents && polled[i]->read_some(now)) {
      last_data_ = now;
      any = true;
    }
  return any;
}

bool Supervisor::done(Clock::time_point now) const {
  if (!exited_) return false;
  for (std::size_t i = 0; i < owed_.size() && i < streams_.size(); ++i)
    if (streams_[i]->fd() >= 0 && streams_[i]->bytes_read() < owed_[i]) return false;
  bool all_closed = std::all_of(streams_.begin(), streams_.end(), [](const auto& s) { return s->fd() < 0; });
  return all_closed || now - last_data_ >= kDrainIdle || now - exited_at_ >= kDrainMax;
}

int Supervisor::poll_timeout_ms(Clock::time_point now) const {
  Clock::time_point wake = exited_ ? std::min(last_data_ + kDrainIdle, exited_at_ + kDrainMax)
                                        : last_reap_ + kReapCheck;
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
  int error = 0;
  std::optional<Process> child = spawn_job(command, io.signals, capture ? &out : nullptr, capture ? &err : nullptr, &error);
  out.close_write();  // the child holds its copies; ours would keep the pipes from ending
  err.close_write();
  if (!child) {
    outcome.start_errno = error;
    out.close_all();
    err.close_all();
    return outcome;
  }
  outcome.started = true;
  Supervisor supervisor(*child, io.signals);
  if (capture) {
    supervisor.add_stream(std::make_unique<OutputForwarder>(out.read, STDOUT_FILENO, io.terminal, io.on_line, io.filter));
    supervisor.add_stream(std::make_unique<OutputForwarder>(err.read, STDERR_FILENO, io.terminal, io.on_line, io.filter));
  }
  outcome.exit_status = shell_status(supervisor.run());
  return outcome;
}

}  // namespace epochwatt::cli
