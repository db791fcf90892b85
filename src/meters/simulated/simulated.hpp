#pragma once

#include <memory>
#include <string>

#include "epochwatt/meter.hpp"

namespace epochwatt::meters {

// A meter of constant power described by `info`: E(t) = watts x (t - t_open). Used by the
// simulated components and by the DRAM estimate.
std::shared_ptr<Meter> make_constant_power_meter(MeterInfo info, double watts);

// carbontracker's sim_cpu / sim_gpu (power = tdp_or_watts x util), method `simulated`.
std::shared_ptr<Meter> make_simulated_meter(Component component, std::string device_name,
                                            double watts);

}  // namespace epochwatt::meters
