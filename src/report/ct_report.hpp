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

// The PUE line of the standard log's header.
std::string pue_line(double pue);

}  // namespace epochwatt::detail
