// Helpers shared by the unit tests: deterministic meters, a temporary folder, environment guards,
// and the scenarios of spec §14 that the golden-file and parser-compatibility tests both run.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "epochwatt/epochwatt.hpp"

namespace ewtest {

// A meter whose energy is watts x (t - t_open): exact at any time of a ManualClock. It can be
// told to fail (ok=false) during [fail_from, fail_until) or to vanish (lost=true) from lost_from
// on; a lost read reports the energy the device drew until lost_from, as a last counter value.
// Thread-safety: read() runs on the sampler; the counters are atomic so tests can look at them.
class ScriptedMeter final : public epochwatt::Meter {
 public:
  ScriptedMeter(std::string id, epochwatt::Component component, std::string device, double watts,
                epochwatt::Method method = epochwatt::Method::counter);
  ScriptedMeter& fail_between(double from, double until);
  ScriptedMeter& lost_from(double t);

  const epochwatt::MeterInfo& info() const override { return info_; }
  void open(double t) override { t_open_ = t; }
  epochwatt::MeterReading read(double t) override;

  double watts() const { return watts_; }
  int reads() const { return reads_.load(); }
  int failed_reads() const { return failed_reads_.load(); }
  int lost_reads() const { return lost_reads_.load(); }

 private:
  epochwatt::MeterInfo info_;
  double watts_;
  double t_open_ = 0.0;
  std::optional<double> fail_from_, fail_until_, lost_from_;
  std::atomic<int> reads_{0}, failed_reads_{0}, lost_reads_{0};
};

// The devices of spec §14: two GPUs of 150 W, cpu:0 at 45 W and dram:0 at 5 W.
inline constexpr const char* kGpuName = "NVIDIA A100-SXM4-40GB";
std::vector<std::shared_ptr<epochwatt::Meter>> section14_meters();

// Options for a deterministic run: the given ManualClock, only the given meters (no discovery),
// the console into `console`, no intensity provider, no location.
epochwatt::Options deterministic_options(const std::shared_ptr<epochwatt::ManualClock>& clock,
                                         std::ostream* console, int epochs);

// One epoch of `seconds` on a ManualClock: start, flush, advance, end, flush. Returns epoch_end's
// answer. Flushing before the clock moves makes every boundary read happen at its exact time.
bool run_epoch(epochwatt::Tracker& tracker, epochwatt::ManualClock& clock, double seconds);

// A fresh folder under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The whole file, or "" when it does not exist.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
std::vector<std::string> split_lines(const std::string& text);
std::size_t count_occurrences(const std::string& text, const std::string& needle);

// Runs a shell command; returns its exit status and standard output.
struct CommandResult {
  int status = -1;
  std::string out;
};
CommandResult run_command(const std::string& command);
// Single-quoted for the shell.
std::string shell_quote(const std::string& s);

// Sets (or, with nullopt, removes) an environment variable for the scope; restores it after.
// Setting TZ also calls tzset(), so local time follows.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// The §14 runs the golden-file and compatibility tests share. All use TZ=UTC, a ManualClock
// from 0 s (2025-01-01 00:00:00 UTC), epochs=3, epochs_before_pred=1, no provider, no location.
enum class Scenario {
  full_run,               // 3 epochs of 10 s
  stopped_after_epoch_2,  // 2 epochs of 10 s, then stop()
  stopped_mid_epoch,      // 2 epochs of 10 s, epoch 3 open for 5 s, then stop()
};
std::string scenario_name(Scenario s);

struct ScenarioRun {
  TempDir dir;  // the log folder
  std::string console, output_log, standard_log, err_log, json_path;
  std::string output_log_path, standard_log_path, err_log_path;
  std::optional<epochwatt::Consumption> prediction;
  epochwatt::Consumption totals;
  std::vector<epochwatt::EpochSummary> epochs;
};
ScenarioRun run_scenario(Scenario s);

}  // namespace ewtest
