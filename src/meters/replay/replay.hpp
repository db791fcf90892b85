#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "epochwatt/meter.hpp"

namespace epochwatt::meters {

// One row of a recorded trace (../shared/traces format): seconds, milliwatts, millijoules.
struct TraceSample {
  double t_s;
  double power_mw;
  std::uint64_t energy_mj;
};

// Parse a trace CSV with header t_s,power_mw,energy_mj. Throws epochwatt::Error with the file and
// line of the first row that cannot be parsed; rows must be in non-decreasing time. A row whose
// time or power is negative or not finite is left out, with one line naming the file and the line
// in *warnings (when not null).
std::vector<TraceSample> load_trace(const std::string& path, std::vector<std::string>* warnings = nullptr);

// A meter that plays a trace against the tracker's clock: trace time = offset + (t - t_open).
// Counter mode reads energy_mj the way a real counter read does (the value of the latest sample,
// a step function) through WrappingCounter; power mode reads power_mw as a real power call does
// and integrates it (trapezoid). After the trace's end the meter reports itself lost, keeping
// what it measured.
std::shared_ptr<Meter> make_replay_meter(std::vector<TraceSample> trace, Component component,
                                         std::string device_name, bool use_power,
                                         double offset_s);

}  // namespace epochwatt::meters
