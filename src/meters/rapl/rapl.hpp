// CPU package and DRAM energy through the Linux powercap interface (Intel RAPL, and AMD CPUs the
// kernel exposes the same way). Counters in microjoules, wraparound through max_energy_range_uj.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "epochwatt/registry.hpp"
#include "meters/sysfs/file_reader.hpp"

namespace epochwatt::meters {

// What a psys zone covers (MeterInfo::coverage): RAPL's platform domain (PSys, the MSR
// MSR_PLATFORM_ENERGY_COUNTER of Intel's Software Developer's Manual, Vol. 4) counts the energy of
// the whole platform the SoC powers, which Linux powercap exposes as the zone named "psys"
// (https://www.kernel.org/doc/html/latest/power/powercap/powercap.html). So a run with psys measures
// no package or DRAM zone beside it.
inline constexpr std::string_view kPsysCoverage =
    "the RAPL psys (platform) zone counts the whole platform the SoC powers, package and memory included "
    "(Intel SDM Vol. 4, MSR_PLATFORM_ENERGY_COUNTER; Linux powercap zone psys)";

struct RaplConfig {
  std::string root = "/sys/class/powercap";
  // Domains to measure: "package", "dram", "core", "uncore", "psys". A parent and its children
  // are never counted together: with "package", "core"/"uncore" are dropped; "psys" (the whole
  // platform) excludes every other domain.
  std::vector<std::string> domains = {"package", "dram"};
  std::shared_ptr<FileReader> reader = real_file_reader();
};

// One usable zone, as discovery found it.
struct RaplZone {
  std::string zone;        // "intel-rapl:0", "intel-rapl-mmio:0", "intel-rapl:0:1"
  std::string domain;      // "package", "dram", "core", "uncore", "psys"
  int package = 0;         // socket index used in the label
  std::string label;       // carbontracker's device label: "cpu:0", "dram:0"; "core:0", "psys"
  std::string energy_path;
  std::uint64_t max_range_uj = 0;
};

struct RaplDiscovery {
  std::vector<RaplZone> zones;
  // Zones skipped and why (duplicates, parents, unreadable); an unreadable zone beside readable
  // ones changes what the total covers (DiscoveryNote::affects_coverage).
  std::vector<DiscoveryNote> notes;
  std::string reason;              // why nothing is usable, with the fix; empty when zones exist
};

// Where the zones of a powercap root are, by zone name ("intel-rapl:0:0" -> its directory). The
// root may be given at any sensible level: /sys/class/powercap (flat symlinks), the control-type
// folder .../powercap/intel-rapl (zones with their subzones nested inside, a common container bind
// mount), /sys/devices/virtual/powercap, one level above (/sys/class: powercap/ is read, with a
// note), or a single zone (only it is measured, with a note). Subzones nested in a zone are always
// found. Empty zones with `reason` naming the right level when none of these holds.
struct PowercapZones {
  std::map<std::string, std::string> zones;
  std::string note;    // how a root at an unexpected level was read; "" at the expected level
  std::string reason;  // why nothing was found, with the level to give; "" when zones exist
};
PowercapZones locate_powercap_zones(const FileReader& reader, const std::string& root);

RaplDiscovery find_rapl_zones(const RaplConfig& config);
Discovery discover_rapl(const RaplConfig& config);
std::shared_ptr<Meter> make_rapl_meter(const RaplZone& zone, std::shared_ptr<FileReader> reader);

// Make every zone's energy_uj readable by all users (chmod o+r), for `devices --fix-permissions`.
// Returns one line per file: what was done or why it failed.
std::vector<std::string> fix_rapl_permissions(const std::string& root);

// The udev rule that keeps energy_uj readable across reboots.
inline constexpr const char* kRaplUdevRule =
    "ACTION==\"add|change\", SUBSYSTEM==\"powercap\", KERNEL==\"intel-rapl:*\", RUN+=\"/bin/chmod og+r %S%p/energy_uj\"";

}  // namespace epochwatt::meters
