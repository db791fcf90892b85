#include "unit/support.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace ewtest {

using namespace epochwatt;

ScriptedMeter::ScriptedMeter(std::string id, Component component, std::string device, double watts,
                             Method method)
    : watts_(watts) {
  info_.id = std::move(id);
  info_.component = component;
  info_.device_name = std::move(device);
  info_.method = method;
}

ScriptedMeter& ScriptedMeter::fail_between(double from, double until) {
  fail_from_ = from;
  fail_until_ = until;
  return *this;
}

ScriptedMeter& ScriptedMeter::lost_from(double t) {
  lost_from_ = t;
  return *this;
}

MeterReading ScriptedMeter::read(double t) {
  reads_++;
  MeterReading r;
  if (lost_from_ && t >= *lost_from_) {
    lost_reads_++;
    r.ok = false;
    r.lost = true;
    r.joules = watts_ * (*lost_from_ - t_open_);
    r.error = "device vanished";
    return r;
  }
  if (fail_from_ && t >= *fail_from_ && t < *fail_until_) {
    failed_reads_++;
    r.ok = false;
    r.joules = -12345.0;  // must be ignored
    r.error = "read timed out";
    return r;
  }
  r.joules = watts_ * (t - t_open_);
  return r;
}

std::vector<std::shared_ptr<Meter>> section14_meters() {
  return {
      std::make_shared<ScriptedMeter>("test:gpu0", Component::gpu, kGpuName, 150.0),
      std::make_shared<ScriptedMeter>("test:gpu1", Component::gpu, kGpuName, 150.0),
      std::make_shared<ScriptedMeter>("test:cpu0", Component::cpu, "cpu:0", 45.0),
      std::make_shared<ScriptedMeter>("test:dram0", Component::dram, "dram:0", 5.0),
  };
}

Options deterministic_options(const std::shared_ptr<ManualClock>& clock, std::ostream* console,
                              int epochs) {
  Options o;
  o.epochs = epochs;
  o.clock = clock;
  o.console = console;
  o.discover_meters = false;
  return o;
}

bool run_epoch(Tracker& tracker, ManualClock& clock, double seconds) {
  tracker.epoch_start();
  tracker.flush();
  clock.advance(seconds);
  bool go_on = tracker.epoch_end();
  tracker.flush();
  return go_on;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ewunit-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string::size_type start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::size_t count_occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

ScopedEnv::ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
  if (const char* v = std::getenv(name_.c_str())) old_ = v;
  if (value)
    ::setenv(name_.c_str(), value->c_str(), 1);
  else
    ::unsetenv(name_.c_str());
  if (name_ == "TZ") ::tzset();
}

ScopedEnv::~ScopedEnv() {
  if (old_)
    ::setenv(name_.c_str(), old_->c_str(), 1);
  else
    ::unsetenv(name_.c_str());
  if (name_ == "TZ") ::tzset();
}

std::string scenario_name(Scenario s) {
  switch (s) {
    case Scenario::full_run: return "section14_full_run";
    case Scenario::stopped_after_epoch_2: return "section14_stopped_after_epoch_2";
    case Scenario::stopped_mid_epoch: return "section14_stopped_mid_epoch";
  }
  return "?";
}

ScenarioRun run_scenario(Scenario s) {
  ScopedEnv tz("TZ", "UTC");
  ScopedEnv country("EPOCHWATT_COUNTRY", std::nullopt);
  ScenarioRun run;
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = deterministic_options(clock, &console, 3);
  o.meters = section14_meters();
  o.log_dir = run.dir.str();
  {
    Tracker t(o);
    run_epoch(t, *clock, 10.0);
    run_epoch(t, *clock, 10.0);
    if (s == Scenario::full_run) run_epoch(t, *clock, 10.0);
    if (s == Scenario::stopped_mid_epoch) {
      t.epoch_start();
      t.flush();
      clock->advance(5.0);
    }
    t.stop();
    run.prediction = t.prediction();
    run.totals = t.totals();
    run.epochs = t.epochs();
    run.output_log_path = t.output_log_path();
    run.standard_log_path = t.standard_log_path();
    run.err_log_path = t.error_log_path();
    run.json_path = t.json_summary_path();
  }
  run.console = console.str();
  run.output_log = read_file(run.output_log_path);
  run.standard_log = read_file(run.standard_log_path);
  run.err_log = read_file(run.err_log_path);
  return run;
}

}  // namespace ewtest
