// Helpers for the end-to-end tests: run the real `epochwatt` binary (or any program) in a clean
// temporary directory with its stdout and stderr captured to files, and read what it left.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace e2e {

// A fresh directory under /tmp (mkdtemp), removed with its contents at destruction. The name
// never contains "carbontracker": the original parser matches its patterns on whole paths.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct Outcome {
  int exit_status = -1;  // shell-style: the exit code, or 128 + N when signal N killed it
  bool timed_out = false;
  std::string out, err;  // everything written to stdout and stderr
};

// A program started with stdin from /dev/null, stdout and stderr to files in `io_dir`, the
// signal mask empty and the signals a test may send at their default disposition (so the test
// runner's own signal state cannot leak into what is tested), and EPOCHWATT_COUNTRY unset.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& io_dir);
  ~Process();  // kills the process if it is still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  std::string out_so_far() const;
  // Waits for the end (SIGKILL after `timeout`, then timed_out is set).
  Outcome wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  std::string out_path_, err_path_;
};

// argv with the built epochwatt binary in front.
std::vector<std::string> cli(std::vector<std::string> args);

// Runs to the end.
Outcome run(const std::vector<std::string>& argv, const std::string& io_dir,
            std::chrono::milliseconds timeout = std::chrono::seconds(30));

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
// Regular files in dir, names only, sorted.
std::vector<std::string> files_in(const std::string& dir);
// The one file in dir whose name ends with `suffix` ("" if none or several).
std::string file_ending_with(const std::string& dir, const std::string& suffix);
// Polls `condition` every 10 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));
// The texts between each `before` and the next `after` in `text`, in order.
std::vector<std::string> all_between(const std::string& text, const std::string& before,
                                     const std::string& after);
// Number of non-overlapping occurrences of `needle`.
std::size_t count(const std::string& text, const std::string& needle);
// Lines of text (split at '\n', no empty last line).
std::vector<std::string> lines(const std::string& text);

}  // namespace e2e
