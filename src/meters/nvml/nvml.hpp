// NVIDIA GPUs through NVML, loaded at run time (dlopen of libnvidia-ml.so.1; no CUDA at build
// time). Each selected GPU becomes one meter: the hardware energy counter
// (nvmlDeviceGetTotalEnergyConsumption, mJ, Volta and newer) when the GPU has one, else its power
// readings (nvmlDeviceGetPowerUsage, mW) integrated over time. See docs/nvml.md.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "epochwatt/registry.hpp"
#include "meters/sysfs/file_reader.hpp"
#include "meters/sysfs/process_tree.hpp"

namespace epochwatt::meters {

inline constexpr const char* kNvmlDefaultLibrary = "libnvidia-ml.so.1";
// Environment variable that overrides the default NvmlConfig::library.
inline constexpr const char* kNvmlLibraryEnv = "EPOCHWATT_NVML_LIBRARY";

struct NvmlConfig {
  // The NVML library to dlopen: a full path, or a name the dynamic loader searches for. While it
  // is the default, the environment variable EPOCHWATT_NVML_LIBRARY (when set and not empty)
  // replaces it; a library chosen explicitly (Options::nvml_library, --nvml-library) wins.
  std::string library = kNvmlDefaultLibrary;
  // carbontracker's devices_by_pid, refreshed while running (spec D9): every GPU is opened, and
  // each counts only while root_pid or one of its descendants runs a compute or graphics process
  // on it, checked every pid_refresh_s (see docs/nvml.md).
  bool devices_by_pid = false;
  pid_t root_pid = ::getpid();
  double pid_refresh_s = 1.0;
  // Where the process tree is read (<proc_root>/<pid>/stat), through reader; injectable so that
  // tests use a fake tree.
  std::string proc_root = "/proc";
  std::shared_ptr<FileReader> reader = real_file_reader();
  // Environment lookups (EPOCHWATT_NVML_LIBRARY, CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER,
  // SLURM_STEP_GPUS, SLURM_JOB_GPUS); injectable for tests. Returns nullptr when unset.
  std::function<const char*(const char*)> getenv = ::getenv;
};

// One GPU as NVML lists it, for `epochwatt devices`.
struct NvmlDeviceDescription {
  unsigned int index = 0;   // NVML index (PCI bus order)
  std::string name;         // nvmlDeviceGetName, e.g. "NVIDIA H100 80GB HBM3"
  std::string uuid;         // "GPU-..."; empty when NVML could not say
  bool selected = false;    // a meter measures it
  std::string method;       // "counter", "integrated-power"; empty when not measured
  std::string status;       // one line: how it was selected, or why it is not measured
};

struct NvmlDiscovery {
  std::vector<std::shared_ptr<Meter>> meters;  // one per selected, measurable GPU
  std::string library;                         // the library that was (or would be) opened
  std::string driver_version;                  // nvmlSystemGetDriverVersion; empty if unknown
  std::vector<NvmlDeviceDescription> devices;  // every GPU NVML lists, in index order
  // Selection notes for the user: which rule chose the GPUs (CUDA_VISIBLE_DEVICES, SLURM_*,
  // devices_by_pid, all), MIG instances measured on their parent, ignored entries, skipped GPUs.
  // Those that change what the total covers (an ignored entry, a MIG instance measured as its
  // parent, a selected GPU that cannot be measured) are marked (DiscoveryNote::affects_coverage).
  std::vector<DiscoveryNote> notes;
  std::string reason;  // why no meter was found, with the fix; empty when meters were found
};

// Whether NVML's name of a GPU names a superchip module whose NVML energy counter and power
// reading cover the whole module, Grace CPU and memory included: GH200 (Grace Hopper), GB200 and
// GB300 (Grace Blackwell), as a whole word ("NVIDIA GH200 480GB"). Such a meter has
// MeterInfo::also_covers {cpu, dram}, and the run measures no CPU or DRAM beside it. Sources: the
// NVML reference's power scope "Total Module" (nvmlPowerValue_v2_t, NVML_POWER_SCOPE_MODULE) and
// NVIDIA's Grace performance tuning guide (module power sensor: CPU, GPU and memory); see
// docs/nvml.md, "Grace Hopper and Grace Blackwell".
bool is_superchip_module(std::string_view nvml_name);
inline constexpr std::string_view kSuperchipCoverage =
    "NVML's energy counter and power reading of a Grace Hopper / Grace Blackwell superchip cover the whole "
    "module (Grace CPU, GPU and their memory; NVML power scope \"Total Module\", "
    "https://docs.nvidia.com/deploy/nvml-api/structnvmlPowerValue__v2__t.html)";

// Open NVML, list the GPUs, apply the selection rules and build a meter for each selected GPU.
// Never throws for a missing library or driver: that is a reason. Thread-safe; the library is
// opened and nvmlInit_v2 called once per process (per library path) while any meter or
// discovery holds it, and nvmlShutdown is called and the library closed when the last goes.
NvmlDiscovery find_nvml(const NvmlConfig& config);

// find_nvml for the backend registry: the meters or the reason, and the selection notes.
Discovery discover_nvml(const NvmlConfig& config);

// process_tree() (the PIDs of root and its descendants) lives in meters/sysfs/process_tree.hpp.

}  // namespace epochwatt::meters
