// What `epochwatt devices` (cmd_devices.cpp) lists: every backend, the meters it found with their
// method, and for each backend that found nothing, the reason and the fix.
#pragma once

#include <string>
#include <vector>

#include "epochwatt/options.hpp"

namespace epochwatt::cli {

// The listing itself, for a given set of options (roots injectable for tests).
std::string devices_text(const Options& options);
std::string devices_json(const Options& options);

}  // namespace epochwatt::cli
