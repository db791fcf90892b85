// The one way epochwatt starts and waits for another program: the tracked job (child_process.*)
// and the headless Chromium that prints a report's PDF (cmd_report.cpp). posix_spawnp (the PATH
// search of execvp, no shell; exec errors such as ENOENT come back to us), an optional
// environment, optional redirections of stdin/stdout/stderr, an optional process group of its
// own, the signal state the child starts with; then waits (with or without a timeout) and
// signals.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace epochwatt::cli {

// Where one of the child's standard streams goes: inherited (the default), a descriptor of ours
// (dup2'ed; ours stays open), or a file opened in the child.
struct Redirect {
  int fd = -1;       // >= 0: this descriptor
  std::string path;  // non-empty: this file (stdin: read only; stdout/stderr: created, truncated, 0600)
  static Redirect inherit() { return {}; }
  static Redirect to_fd(int fd) { return {fd, {}}; }
  static Redirect to_file(std::string path) { return {-1, std::move(path)}; }
};

struct SpawnOptions {
  std::vector<std::string> argv;                // argv[0]: searched on PATH unless it holds a '/'
  std::optional<std::vector<std::string>> env;  // NAME=VALUE entries; nullopt: ours (environ)
  Redirect in, out, err;
  bool stderr_to_stdout = false;                // after `out`: stderr joins stdout
  bool own_process_group = false;               // the child leads a new process group (kill_group())
  // The child's signal mask and the signals reset to their default action (nullptr: unchanged).
  const sigset_t* sigmask = nullptr;
  const sigset_t* sigdefault = nullptr;
};

// A started child. Not copyable; whoever holds it waits for it (the destructor does not).
class Process {
 public:
  // Starts the child; nullopt with *error (an errno value) when it could not be started.
  static std::optional<Process> spawn(const SpawnOptions& options, int* error);

  Process(Process&& other) noexcept : pid_(other.pid_), status_(other.status_) { other.pid_ = -1; }
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // The wait status once the child has ended (waitpid's), else nullopt; never blocks.
  std::optional<int> try_wait();
  // Blocks until the child ends; its wait status.
  int wait();
  // Waits at most `timeout`; nullopt if the child is still running then.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  // Sends `signo` to the child (to its process group with kill_group); nothing once it was reaped.
  void signal(int signo) const;
  void kill_group(int signo) const;

 private:
  explicit Process(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Shell-style status of a wait status: the exit code, or 128 + N for signal N.
int shell_status(int wait_status);
// "exit status N" or "signal N", for messages.
std::string describe_wait_status(int wait_status);

}  // namespace epochwatt::cli
