// AMD (amdgpu) and Intel (i915, xe) GPUs through hwmon under /sys/class/drm/card*/device/hwmon:
// the energy counter energy1_input (microjoules) where the driver has one, else power1_average or
// power1_input (microwatts) integrated over time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
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
  // An AMD APU (integrated GPU): amdgpu exposes in1 (vddnb, the northbridge voltage) on APUs only,
  // and its power1_average / power1_input is then the whole SoC's, CPU included. Its meter has
  // MeterInfo::also_covers {cpu}: the run measures no CPU beside it.
  bool apu = false;
};

// What an APU's hwmon power covers (MeterInfo::coverage), with the kernel documentation that says so.
inline constexpr std::string_view kApuCoverage =
    "on an AMD APU, amdgpu's hwmon power is the whole SoC's, CPU included (Linux amdgpu documentation, "
    "power1_average: \"On APUs this includes the CPU\", https://docs.kernel.org/gpu/amdgpu/thermal.html)";

struct HwmonDiscovery {
  std::vector<HwmonGpu> gpus;
  // A GPU left out (unsupported driver, nothing readable) changes what the total covers
  // (DiscoveryNote::affects_coverage).
  std::vector<DiscoveryNote> notes;
  std::string reason;
};

HwmonDiscovery find_hwmon_gpus(const HwmonConfig& config);
Discovery discover_hwmon(const HwmonConfig& config);

}  // namespace epochwatt::meters
