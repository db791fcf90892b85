// carbontracker's three channels (output, standard, err), on the console and in the three log
// files, with the original's names and line formats (spec §5). Thread-safe: every method takes
// an internal lock, so the sampler and the caller's thread may write concurrently.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "epochwatt/clock.hpp"
#include "epochwatt/reporter.hpp"
#include "report/file_sink.hpp"

namespace epochwatt::detail {

using Level = epochwatt::Severity;
std::string_view to_string(Level l);

struct LogFileNames {
  std::string output, standard, error, json;  // full paths; empty without log_dir
};

// {dir}/{prefix_}{pid}.{id}_{stamp}[_{tag}]_carbontracker{_output,,_err}.log and ..._epochwatt.json.
// tag: job_line.hpp's rank_file_tag ("rank3" for rank 3 of a multi-process job), "" otherwise:
// carbontracker's parser pairs the files by the text before `_carbontracker` and matches only
// the suffixes (spec §5.1, §8.1), so a tagged pair is still one run to it.
LogFileNames make_log_file_names(const std::string& dir, const std::string& prefix, long pid,
                                 int logger_id, const std::string& stamp, const std::string& tag = "");

class CtLogger {
 public:
  // console may be null (no console output). log_dir empty: console only. When the log directory
  // cannot be created or a file cannot be opened: throws Error, or with files_optional (the
  // tracker's ignore_errors) says so once on the console, queues the same line for take_notices()
  // and goes on without log files. sink: the file system (null: the real one). file_tag: the
  // names' rank tag (make_log_file_names).
  CtLogger(std::shared_ptr<Clock> clock, std::ostream* console, int verbose,
           const std::string& log_dir, const std::string& prefix,
           std::shared_ptr<FileSink> sink = nullptr, bool files_optional = false, const std::string& file_tag = "");
  ~CtLogger();
  CtLogger(const CtLogger&) = delete;
  CtLogger& operator=(const CtLogger&) = delete;
  // Output channel: console "CarbonTracker: {msg}" (if verbose), file "<ts> - CarbonTracker: {msg}".
  void output(const std::string& msg);
  // The same channel with another text on the console: `console_msg` there (nothing when empty),
  // `msg` in the output log. For lines whose log text compatibility fixes and whose console text
  // says more (the components line with each device's method), or log-only extension lines.
  void output(const std::string& msg, const std::string& console_msg);
  // Standard channel: file only, "<ts> - {msg}".
  void standard(const std::string& msg);
  // Err channel: console "CarbonTracker: {LEVEL} - {msg}" (not DEBUG; not INFO either when
  // verbose < 0, the CLI's --quiet), err file created on first use. A message that this logger
  // has already put on the console itself (a notice) is not put there twice.
  void err(Level level, const std::string& msg, const char* thread = "MainThread");
  // A plain line on the console (the stdin dialogue prompt), outside the log files.
  void console_line(const std::string& text);
  // An informational console line (carbontracker's "Using simulated CPU: ..."): console_line,
  // except when verbose < 0 (--quiet), which keeps INFO off the console.
  void console_info(const std::string& text);
  const LogFileNames& files() const { return files_; }
  void flush();
  // Lines about the log files themselves (one per file that could not be written, the log
  // directory that could not be made), already shown on the console, for the run's warnings.
  std::vector<std::string> take_notices();

  // Longest text of one log file held in memory while it cannot be written (a full disk), to be
  // written late once it can; lines beyond it are counted as lost. 1 MiB is some thousands of
  // epochs' lines: a day of training with the disk full, at a cost of memory no training notices.
  static constexpr std::size_t kHeldBytes = 1 << 20;

 private:
  // One log file: records are appended whole (report/file_sink's append_at_end: a failed write is
  // cut back, never left mid-line); while the file cannot be written they are held, and once it
  // can, a line marking the gap comes first, then the held lines, then the new one.
  struct File {
    std::string path, label;  // label: "Output log", for messages
    std::function<std::string(const std::string&)> line;  // a message as a line of this file
    int fd = -1;
    bool failing = false, warned = false;
    std::string error;  // why it failed first
    std::chrono::system_clock::time_point failed_at{};
    std::string held;
    std::size_t held_lines = 0, lost_lines = 0;
  };
  std::string ts() const;
  void open_file(File& f);
  // Appends `text` (empty: only what is held) to f; on failure holds it and warns once.
  void write_record(File& f, const std::string& text);
  void announce(const std::string& text);  // on the console now, and queued for take_notices()
  std::shared_ptr<Clock> clock_;
  std::ostream* console_;
  int verbose_;
  std::shared_ptr<FileSink> sink_;
  LogFileNames files_;
  File out_, std_, err_;
  std::vector<std::string> notices_;
  std::vector<std::string> announced_;  // notices not yet echoed back through err()
  std::mutex mu_;
};

}  // namespace epochwatt::detail
