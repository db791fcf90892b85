// Estimates for machines where nothing can be read (virtual machines and containers usually
// expose no RAPL): CPU = TDP x utilisation from /proc/stat; DRAM = installed memory x W per GB.
// Every figure these meters give is marked Method::estimate.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "epochwatt/registry.hpp"
#include "meters/sysfs/file_reader.hpp"

namespace epochwatt::meters {

// Assumed power per hardware thread when the CPU model is not in the TDP table: the mean TDP per
// thread of three common parts in the embedded table (Intel Xeon Gold 6248: 150 W / 40 threads;
// AMD EPYC 7763: 280 W / 128; Intel Core i7-8700: 65 W / 12), rounded: 3.8 W. An assumption of
// epochwatt, documented in docs/estimates.md.
inline constexpr double kFallbackWattsPerThread = 3.8;
// DRAM power per GB of installed memory: 3 W per 8 GB of DDR3/DDR4 (Crucial, "How much power does
// memory use?"), the figure CodeCarbon also uses.
inline constexpr double kDramWattsPerGb = 0.375;
// Seconds between readings of the DRAM estimate, a constant power whose energy is exact between
// any two readings: it is read once a minute for the report's power series, and where a boundary
// has no reading after it (core/linear_meter.hpp). A choice of epochwatt.
inline constexpr double kDramPollS = 60.0;

struct EstimateConfig {
  std::string proc_root = "/proc";
  std::shared_ptr<FileReader> reader = real_file_reader();
  bool process_tree = false;  // utilisation of the tracked process tree instead of the machine
  pid_t root_pid = 0;         // 0: this process
};

// What the CPU estimate is based on, for reports and `epochwatt devices`.
struct CpuEstimateBasis {
  std::string model_name;  // from /proc/cpuinfo, "Unknown CPU" when absent
  int threads = 1;
  double tdp_w = 0.0;
  std::string tdp_source;  // "table (exact: Intel Xeon Gold 6248)", "fallback 3.8 W/thread x 8 threads"
};
CpuEstimateBasis cpu_estimate_basis(const EstimateConfig& config);
// Installed memory in GB (GiB) from /proc/meminfo; 0 when unreadable.
double installed_memory_gb(const EstimateConfig& config);

Discovery discover_estimate(const EstimateConfig& config, bool cpu, bool dram);

}  // namespace epochwatt::meters
