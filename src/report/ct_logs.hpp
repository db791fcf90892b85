// carbontracker's three channels (output, standard, err), on the console and in the three log
// files, with the original's names and line formats (spec §5). Thread-safe: every method takes
// an internal lock, so the sampler and the caller's thread may write concurrently.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>

#include "epochwatt/clock.hpp"
#include "epochwatt/reporter.hpp"

namespace epochwatt::detail {

using Level = epochwatt::Severity;
std::string_view to_string(Level l);

struct LogFileNames {
  std::string output, standard, error, json;  // full paths; empty without log_dir
};

// {dir}/{prefix_}{pid}.{id}_{stamp}_carbontracker{_output,,_err}.log and ..._epochwatt.json.
LogFileNames make_log_file_names(const std::string& dir, const std::string& prefix, long pid,
                                 int logger_id, const std::string& stamp);

class CtLogger {
 public:
  // console may be null (no console output). log_dir empty: console only. Throws Error when the
  // log directory cannot be created or a file cannot be opened.
  CtLogger(std::shared_ptr<Clock> clock, std::ostream* console, int verbose,
           const std::string& log_dir, const std::string& prefix);
  ~CtLogger();
  // Output channel: console "CarbonTracker: {msg}" (if verbose), file "<ts> - CarbonTracker: {msg}".
  void output(const std::string& msg);
  // The same channel with another text on the console: `console_msg` there (nothing when empty),
  // `msg` in the output log. For lines whose log text compatibility fixes and whose console text
  // says more (the components line with each device's method), or log-only extension lines.
  void output(const std::string& msg, const std::string& console_msg);
  // Standard channel: file only, "<ts> - {msg}".
  void standard(const std::string& msg);
  // Err channel: console "CarbonTracker: {LEVEL} - {msg}" (not DEBUG), err file created on first use.
  void err(Level level, const std::string& msg, const char* thread = "MainThread");
  // A plain line on the console (the stdin dialogue prompt), outside the log files.
  void console_line(const std::string& text);
  const LogFileNames& files() const { return files_; }
  void flush();

 private:
  std::string ts() const;
  std::shared_ptr<Clock> clock_;
  std::ostream* console_;
  int verbose_;
  LogFileNames files_;
  // stdio files opened with O_CLOEXEC ("e"), so that programs the training starts do not
  // inherit them (std::ofstream cannot ask for that).
  std::FILE* out_ = nullptr;
  std::FILE* std_ = nullptr;
  std::FILE* err_ = nullptr;
  std::mutex mu_;
};

}  // namespace epochwatt::detail
