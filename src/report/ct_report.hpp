// The text of carbontracker's report messages (spec §5.3, §6), built from epochwatt's figures.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "epochwatt/run.hpp"

namespace epochwatt::detail {

using epochwatt::kCarGramsPerKm;  // epochwatt/run.hpp (source there)

// "\n{title}\n\tTime:\t...\n\tEnergy:\t... kWh\n\tCO2eq:\t... g[\n\tThis is equivalent to:\n\t... km travelled by car]"
std::string consumption_block(const std::string& title, const Consumption& c, int precision,
                              bool interpretable);

// A report component ("gpu"/"cpu") and its device names, in report order.
struct ComponentDevices {
  std::string component;
  std::vector<std::string> devices;
};
// "GPU with device(s) a, b. CPU with device(s) cpu:0, dram:0."
std::string components_segments(const std::vector<ComponentDevices>& components);

// Per-epoch standard-log lines for one component: the carbontracker power line (component total,
// plain fixed scalar) and epochwatt's extension line with per-device values and methods.
std::vector<std::string> epoch_component_lines(const std::string& component,
                                               const std::vector<DeviceEnergy>& devices,
                                               double duration_s);

// epochwatt's extension lines after a Predicted block (console and output log; carbontracker's
// parser skips them): the rule and what it left out, then the range or why it is unknown.
std::vector<std::string> prediction_lines(const Consumption& c, const PredictionDetail& d);
// The one line of a prediction that left the range of the last one printed (prediction_updates).
std::string prediction_moved_line(const Consumption& c, const PredictionDetail& d);
// "Set-up before epoch 1: 0:00:03.54 and 152.3 J (included in the actual; never multiplied)."
std::string setup_line(const Setup& s);

// The PUE line of the standard log's header.
std::string pue_line(double pue);

}  // namespace epochwatt::detail
