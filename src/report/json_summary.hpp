// One JSON document per run: a versioned context block (tool, version, schema, host, devices,
// methods), the epochs, the prediction, the actual figures and the intensity with its source.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/intensity.hpp"
#include "epochwatt/tracker.hpp"

namespace epochwatt::detail {

// Mean power of one meter over consecutive buckets (core/power_history.hpp), times in seconds
// since the tracker started: bucket i spans [i == 0 ? start_s : end_s[i-1], end_s[i]].
struct PowerSeries {
  std::string meter_id, device_name;
  Component component = Component::cpu;
  Method method = Method::simulated;
  double start_s = 0.0;
  std::vector<double> end_s, watts;
};

struct RunRecord {
  std::string tool_name;
  std::string run_id;  // UUID v4 of the tracker; the same in every machine-readable output
  // A snapshot taken at an epoch end (false) or the finished run (true). In a snapshot `actual`
  // holds the totals of the epochs ended so far and `finished` the time of the snapshot.
  bool complete = true;
  bool process_tracking = false;  // the CPU estimate follows the process tree, not the machine
  std::chrono::system_clock::time_point started, finished;
  std::vector<MeterInfo> meters;
  std::vector<std::string> components;
  double pue = 1.58;
  int epochs_planned = 0;
  int epochs_before_pred = 1;
  int monitor_epochs = -1;
  std::vector<EpochSummary> epochs;  // interrupted epochs included, flagged
  std::optional<Consumption> prediction;
  std::optional<Consumption> actual;
  bool early_stop = false;
  Location location;
  IntensityValue intensity;                   // the source used
  std::vector<double> intensity_values;       // every value held during the run
  std::vector<std::string> warnings;
  std::vector<PowerSeries> power_series;  // one per meter, at most ~1000 buckets each
  std::string log_std, log_output, log_error;  // log_error empty when nothing was logged there
};

// Serialise (locale-independent numbers). Pretty-printed with two-space indents.
std::string to_json(const RunRecord& r);
// Write atomically (temporary file + rename). Returns an empty string or a one-line error.
std::string write_file_atomically(const std::string& path, const std::string& content);

}  // namespace epochwatt::detail
