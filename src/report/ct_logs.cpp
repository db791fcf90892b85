#include "report/ct_logs.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

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
                                 int logger_id, const std::string& stamp) {
  std::string base = (prefix.empty() ? "" : prefix + "_") + std::to_string(pid) + "." +
                     std::to_string(logger_id) + "_" + stamp;
  auto path = [&](const std::string& suffix) {
    return (std::filesystem::path(dir) / (base + suffix)).string();
  };
  return {path("_carbontracker_output.log"), path("_carbontracker.log"),
          path("_carbontracker_err.log"), path("_epochwatt.json")};
}

CtLogger::CtLogger(std::shared_ptr<Clock> clock, std::ostream* console, int verbose,
                   const std::string& log_dir, const std::string& prefix)
    : clock_(std::move(clock)), console_(console), verbose_(verbose) {
  if (log_dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  if (ec) throw Error("cannot create log directory " + log_dir + ": " + ec.message());
  std::random_device rd;
  int id = std::uniform_int_distribution<int>(1, 999999)(rd);
  files_ = make_log_file_names(log_dir, prefix, static_cast<long>(::getpid()), id,
                               utc_file_stamp(clock_->wall()));
  out_ = std::fopen(files_.output.c_str(), "wbe");
  std_ = std::fopen(files_.standard.c_str(), "wbe");
  if (!out_ || !std_) {
    std::string why = std::strerror(errno);
    if (out_) std::fclose(out_);
    if (std_) std::fclose(std_);
    out_ = std_ = nullptr;
    throw Error("cannot open log files in " + log_dir + " for writing: " + why);
  }
}

CtLogger::~CtLogger() {
  for (std::FILE* f : {out_, std_, err_})
    if (f) std::fclose(f);
}

namespace {
// One record, written whole and flushed, so a crash of the training loses nothing logged.
void write_record(std::FILE* f, const std::string& text) {
  if (!f) return;
  std::fwrite(text.data(), 1, text.size(), f);
  std::fflush(f);
}
}  // namespace

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
  if (console_ && level != Level::debug)
    *console_ << "CarbonTracker: " << to_string(level) << " - " << msg << '\n' << std::flush;
  if (files_.error.empty()) return;
  if (!err_) err_ = std::fopen(files_.error.c_str(), "abe");
  write_record(err_, local_timestamp(clock_->wall(), true) + " - " + thread + " - " +
                         std::string(to_string(level)) + " - " + msg + "\n");
}

void CtLogger::console_line(const std::string& text) {
  std::lock_guard lk(mu_);
  if (console_) *console_ << text << '\n' << std::flush;
}

void CtLogger::flush() {
  std::lock_guard lk(mu_);
  if (console_) console_->flush();
  for (std::FILE* f : {out_, std_, err_})
    if (f) std::fflush(f);
}

}  // namespace epochwatt::detail
