// AMD (amdgpu) and Intel (i915, xe) GPUs through hwmon under /sys/class/drm/card*/device/hwmon:
// the energy counter energy1_input (microjoules) where the driver has one, else power1_average or
// power1_input (microwatts) integrated over time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "epochwatt/registry.hpp"
#include "meters/sysfs/file_reader.hpp"

namespace epochwatt::meters {

struct HwmonConfig {
  std::string drm_root = "/sys/class/drm";
  std::shared_ptr<FileReader> reader = real_file_reader();
};

struct HwmonGpu {
  std::string card;     // "card0"
  std::string driver;   // hwmon name: "amdgpu", "i915", "xe"
  std::string dir;      // the hwmon folder
  std::string file;     // "energy1_input", "power1_average" or "power1_input"
  bool counter = true;  // energy counter, else power
  std::string label;    // device name in reports: "amdgpu card0"
};

struct HwmonDiscovery {
  std::vector<HwmonGpu> gpus;
  std::vector<std::string> notes;
  std::string reason;
};

HwmonDiscovery find_hwmon_gpus(const HwmonConfig& config);
Discovery discover_hwmon(const HwmonConfig& config);

}  // namespace epochwatt::meters
