#include "report/ct_logs.hpp"

#include <unistd.h>

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
  out_.open(files_.output, std::ios::out | std::ios::trunc | std::ios::binary);
  std_.open(files_.standard, std::ios::out | std::ios::trunc | std::ios::binary);
  if (!out_ || !std_) throw Error("cannot open log files in " + log_dir + " for writing");
}

CtLogger::~CtLogger() = default;

std::string CtLogger::ts() const { return local_timestamp(clock_->wall()); }

void CtLogger::output(const std::string& msg) {
  std::lock_guard lk(mu_);
  if (console_ && verbose_ > 0) *console_ << "CarbonTracker: " << msg << '\n' << std::flush;
  if (out_.is_open()) out_ << ts() << " - CarbonTracker: " << msg << '\n' << std::flush;
}

void CtLogger::standard(const std::string& msg) {
  std::lock_guard lk(mu_);
  if (std_.is_open()) std_ << ts() << " - " << msg << '\n' << std::flush;
}

void CtLogger::err(Level level, const std::string& msg, const char* thread) {
  std::lock_guard lk(mu_);
  if (console_ && level != Level::debug)
    *console_ << "CarbonTracker: " << to_string(level) << " - " << msg << '\n' << std::flush;
  if (files_.error.empty()) return;
  if (!err_.is_open()) err_.open(files_.error, std::ios::out | std::ios::app | std::ios::binary);
  if (err_.is_open())
    err_ << local_timestamp(clock_->wall(), true) << " - " << thread << " - " << to_string(level)
         << " - " << msg << '\n' << std::flush;
}

void CtLogger::console_line(const std::string& text) {
  std::lock_guard lk(mu_);
  if (console_) *console_ << text << '\n' << std::flush;
}

void CtLogger::flush() {
  std::lock_guard lk(mu_);
  if (console_) console_->flush();
  out_.flush();
  std_.flush();
  if (err_.is_open()) err_.flush();
}

}  // namespace epochwatt::detail
