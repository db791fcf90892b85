#include "report/ct_logs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <utility>

#include "core/format.hpp"
#include "epochwatt/errors.hpp"

namespace epochwatt::detail {

std::string_view to_string(Level l) {
  switch (l) {
    case Level::debug: return "DEBUG";
    case Level::info: return "INFO";
    case Level::warning: return "WARNING";
    case Level::critical: return "CRITICAL";
  }
  return "?";
}

LogFileNames make_log_file_names(const std::string& dir, const std::string& prefix, long pid,
                                 int logger_id, const std::string& stamp, const std::string& tag) {
  std::string base = (prefix.empty() ? "" : prefix + "_") + std::to_string(pid) + "." +
                     std::to_string(logger_id) + "_" + stamp + (tag.empty() ? "" : "_" + tag);
  auto path = [&](const std::string& suffix) {
    return (std::filesystem::path(dir) / (base + suffix)).string();
  };
  return {path("_carbontracker_output.log"), path("_carbontracker.log"),
          path("_carbontracker_err.log"), path("_epochwatt.json")};
}

namespace {
constexpr const char* kSamplerThread = "CarbonTrackerThread";
}  // namespace

CtLogger::CtLogger(std::shared_ptr<Clock> clock, std::ostream* console, int verbose,
                   const std::string& log_dir, const std::string& prefix,
                   std::shared_ptr<FileSink> sink, bool files_optional, const std::string& file_tag)
    : clock_(std::move(clock)), console_(console), verbose_(verbose),
      sink_(sink ? std::move(sink) : system_file_sink()) {
  if (log_dir.empty()) return;
  auto give_up = [&](const std::string& why) {
    if (!files_optional) throw Error(why);
    files_ = {};
    announce(why + ". The run goes on without log files (and without the JSON summary kept beside them).");
  };
  if (sink_->mkdirs(log_dir) != 0) {
    give_up("cannot create log directory " + log_dir + ": " + std::strerror(errno));
    return;
  }
  std::random_device rd;
  int id = std::uniform_int_distribution<int>(1, 999999)(rd);
  files_ = make_log_file_names(log_dir, prefix, static_cast<long>(::getpid()), id,
                               utc_file_stamp(clock_->wall()), file_tag);
  out_.path = files_.output;
  out_.label = "Output log";
  out_.line = [this](const std::string& m) { return ts() + " - CarbonTracker: " + m + "\n"; };
  std_.path = files_.standard;
  std_.label = "Standard log";
  std_.line = [this](const std::string& m) { return ts() + " - " + m + "\n"; };
  err_.path = files_.error;
  err_.label = "Error log";
  err_.line = [this](const std::string& m) {
    return local_timestamp(clock_->wall(), true) + " - " + kSamplerThread + " - WARNING - " + m + "\n";
  };
  open_file(out_);
  if (out_.fd >= 0) open_file(std_);
  if (out_.fd < 0 || std_.fd < 0) {
    std::string why = std::strerror(errno);
    for (File* f : {&out_, &std_})
      if (f->fd >= 0) {
        sink_->close(f->fd);
        sink_->unlink(f->path);  // no empty log left of a run that logs nothing
        f->fd = -1;
      }
    out_ = std_ = err_ = File{};
    give_up("cannot open log files in " + log_dir + " for writing: " + why);
  }
}

CtLogger::~CtLogger() {
  std::lock_guard lk(mu_);
  for (File* f : {&out_, &std_, &err_}) {
    if (f->failing && f->fd >= 0) write_record(*f, "");
    if (f->fd >= 0) sink_->close(f->fd);
  }
}

void CtLogger::open_file(File& f) {
  // O_CLOEXEC: programs the training starts do not inherit the files. The output and standard
  // logs are new (truncated, as carbontracker's "w"); the err log is appended to ("a").
  int flags = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY;  // read: append_at_end checks the last line
  if (&f != &err_) flags |= O_TRUNC;
  f.fd = sink_->open(f.path, flags, 0644);
}

void CtLogger::announce(const std::string& text) {
  if (console_) *console_ << "CarbonTracker: WARNING - " << text << '\n' << std::flush;
  notices_.push_back(text);
  announced_.push_back(text);
}

std::vector<std::string> CtLogger::take_notices() {
  std::lock_guard lk(mu_);
  return std::exchange(notices_, {});
}

void CtLogger::write_record(File& f, const std::string& text) {
  if (f.path.empty()) return;
  std::string error;
  if (f.fd < 0) open_file(f);  // the err log on first use, or a file that could not be made before
  if (f.fd < 0) error = "cannot open " + f.path + ": " + std::strerror(errno);
  if (error.empty()) {
    std::string all;
    if (f.failing) {
      std::string marker = "The " + std::string(1, static_cast<char>(std::tolower(f.label[0]))) + f.label.substr(1) +
                           " could not be written from " + local_timestamp(f.failed_at) + " on (" + f.error + "); the " +
                           std::to_string(f.held_lines) + " line(s) after this one were held in memory and are written late";
      if (f.lost_lines) marker += "; " + std::to_string(f.lost_lines) + " line(s) after those were lost (more than " +
                                  std::to_string(kHeldBytes) + " bytes held)";
      all = f.line(marker + ".") + f.held;
    }
    all += text;
    if (all.empty()) return;
    WriteResult r = append_at_end(*sink_, f.fd, f.path, RecordFormat{}, all);
    if (r.ok()) {
      f.failing = false;
      f.held.clear();
      f.held_lines = f.lost_lines = 0;
      return;
    }
    error = r.error;
  }
  if (!f.failing) {
    f.failing = true;
    f.error = error;
    f.failed_at = clock_->wall();
  }
  if (!text.empty()) {
    if (f.held.size() + text.size() <= kHeldBytes) {
      f.held += text;
      ++f.held_lines;
    } else {
      ++f.lost_lines;
    }
  }
  if (!f.warned) {
    f.warned = true;
    announce(f.label + " not written: " + error + ". Its lines are held in memory and written, after a line " +
             "marking the gap, once it can be written again; the run goes on.");
  }
}

std::string CtLogger::ts() const { return local_timestamp(clock_->wall()); }

void CtLogger::output(const std::string& msg) {
  std::lock_guard lk(mu_);
  if (console_ && verbose_ > 0) *console_ << "CarbonTracker: " << msg << '\n' << std::flush;
  write_record(out_, ts() + " - CarbonTracker: " + msg + "\n");
}

void CtLogger::output(const std::string& msg, const std::string& console_msg) {
  std::lock_guard lk(mu_);
  if (console_ && verbose_ > 0 && !console_msg.empty()) *console_ << "CarbonTracker: " << console_msg << '\n' << std::flush;
  write_record(out_, ts() + " - CarbonTracker: " + msg + "\n");
}

void CtLogger::standard(const std::string& msg) {
  std::lock_guard lk(mu_);
  write_record(std_, ts() + " - " + msg + "\n");
}

void CtLogger::err(Level level, const std::string& msg, const char* thread) {
  std::lock_guard lk(mu_);
  // carbontracker prints INFO whatever `verbose` is; verbose < 0 (epochwatt's --quiet) also
  // silences INFO on the console, never a WARNING or CRITICAL and never the err log.
  auto said = std::find(announced_.begin(), announced_.end(), msg);
  if (said != announced_.end()) {
    announced_.erase(said);  // on the console already, when it happened
  } else if (console_ && level != Level::debug && !(level == Level::info && verbose_ < 0)) {
    *console_ << "CarbonTracker: " << to_string(level) << " - " << msg << '\n' << std::flush;
  }
  write_record(err_, local_timestamp(clock_->wall(), true) + " - " + thread + " - " + std::string(to_string(level)) +
                         " - " + msg + "\n");
}

void CtLogger::console_line(const std::string& text) {
  std::lock_guard lk(mu_);
  if (console_) *console_ << text << '\n' << std::flush;
}

void CtLogger::console_info(const std::string& text) {
  if (verbose_ >= 0) console_line(text);
}

void CtLogger::flush() {
  std::lock_guard lk(mu_);
  if (console_) console_->flush();
  // Records are written as they come; what is held (a full disk) is tried once more.
  for (File* f : {&out_, &std_, &err_})
    if (f->failing && f->fd >= 0) write_record(*f, "");
}

}  // namespace epochwatt::detail
