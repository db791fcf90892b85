#pragma once

#include <memory>
#include <string>

#include "epochwatt/meter.hpp"

namespace epochwatt::meters {

// A constant-power meter: carbontracker's sim_cpu / sim_gpu (power = tdp_or_watts x util).
std::shared_ptr<Meter> make_simulated_meter(Component component, std::string device_name,
                                            double watts);

}  // namespace epochwatt::meters
