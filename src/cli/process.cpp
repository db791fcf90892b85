#include "cli/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

extern char** environ;

namespace epochwatt::cli {
namespace {

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

void add_redirect(posix_spawn_file_actions_t* actions, const Redirect& r, int target) {
  if (r.fd >= 0)
    posix_spawn_file_actions_adddup2(actions, r.fd, target);
  else if (!r.path.empty())
    posix_spawn_file_actions_addopen(actions, target, r.path.c_str(),
                                     target == STDIN_FILENO ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC, 0600);
}

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::optional<Process> Process::spawn(const SpawnOptions& o, int* error) {
  if (o.argv.empty()) {
    *error = EINVAL;
    return std::nullopt;
  }
  SpawnSetup s;
  short flags = 0;
  if (o.sigmask) {
    posix_spawnattr_setsigmask(&s.attr, o.sigmask);
    flags |= POSIX_SPAWN_SETSIGMASK;
  }
  if (o.sigdefault) {
    posix_spawnattr_setsigdefault(&s.attr, o.sigdefault);
    flags |= POSIX_SPAWN_SETSIGDEF;
  }
  if (o.own_process_group) {
    posix_spawnattr_setpgroup(&s.attr, 0);  // its helpers join the group kill_group() reaches
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&s.attr, flags);
  add_redirect(&s.actions, o.in, STDIN_FILENO);
  add_redirect(&s.actions, o.out, STDOUT_FILENO);
  if (o.stderr_to_stdout)
    posix_spawn_file_actions_adddup2(&s.actions, STDOUT_FILENO, STDERR_FILENO);
  else
    add_redirect(&s.actions, o.err, STDERR_FILENO);
  std::vector<char*> argv = pointers(o.argv);
  std::vector<char*> envp;
  if (o.env) envp = pointers(*o.env);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], &s.actions, &s.attr, argv.data(), o.env ? envp.data() : environ);
  if (rc != 0) {
    *error = rc;
    return std::nullopt;
  }
  return Process(pid);
}

std::optional<int> Process::try_wait() {
  if (status_ || pid_ < 0) return status_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR)) return std::nullopt;
  // r < 0 otherwise means ECHILD: nobody else waits for our child, so this cannot happen; report
  // it as "could not run" rather than wait for ever.
  status_ = r == pid_ ? status : (127 << 8);
  return status_;
}

int Process::wait() {
  while (!status_ && pid_ >= 0) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, 0);
    if (r == pid_) status_ = status;
    else if (r < 0 && errno != EINTR) status_ = 127 << 8;
  }
  return status_.value_or(127 << 8);
}

std::optional<int> Process::wait_for(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto s = try_wait()) return s;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Process::signal(int signo) const {
  if (pid_ > 0 && !status_) ::kill(pid_, signo);
}

void Process::kill_group(int signo) const {
  if (pid_ > 0) ::kill(-pid_, signo);  // also after the leader was reaped: helpers it left behind
}

int shell_status(int wait_status) {
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return WEXITSTATUS(wait_status);
}

std::string describe_wait_status(int wait_status) {
  return WIFEXITED(wait_status) ? "exit status " + std::to_string(WEXITSTATUS(wait_status))
                                : "signal " + std::to_string(WTERMSIG(wait_status));
}

}  // namespace epochwatt::cli
