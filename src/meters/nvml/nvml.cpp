#include "meters/nvml/nvml.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <limits>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include "core/format.hpp"
#include "core/linear_meter.hpp"
#include "meters/nvml/nvml_api.hpp"

namespace epochwatt::meters {
namespace {

using namespace nvml;

// ---------------------------------------------------------------- the library, once per process

struct NvmlFunctions {
  // Required: without these the library is not usable.
  nvmlInit_v2_fn init = nullptr;
  nvmlShutdown_fn shutdown = nullptr;
  nvmlDeviceGetCount_v2_fn get_count = nullptr;
  nvmlDeviceGetHandleByIndex_v2_fn handle_by_index = nullptr;
  nvmlDeviceGetPowerUsage_fn power = nullptr;
  // Optional: each missing one degrades one feature.
  nvmlErrorString_fn error_string = nullptr;
  nvmlSystemGetDriverVersion_fn driver_version = nullptr;
  nvmlDeviceGetHandleByUUID_fn handle_by_uuid = nullptr;
  nvmlDeviceGetName_fn name = nullptr;
  nvmlDeviceGetUUID_fn uuid = nullptr;
  nvmlDeviceGetIndex_fn index = nullptr;
  nvmlDeviceGetTotalEnergyConsumption_fn energy = nullptr;
  nvmlDeviceGetComputeRunningProcesses_v3_fn compute_processes = nullptr;
  nvmlDeviceGetGraphicsRunningProcesses_v3_fn graphics_processes = nullptr;
  nvmlDeviceIsMigDeviceHandle_fn is_mig = nullptr;
  nvmlDeviceGetDeviceHandleFromMigDeviceHandle_fn mig_parent = nullptr;
};

template <typename Fn>
Fn lookup(void* handle, const char* symbol) {
  static_assert(sizeof(Fn) == sizeof(void*));
  return reinterpret_cast<Fn>(::dlsym(handle, symbol));
}

// Fallback texts when nvmlErrorString itself is missing.
std::string builtin_error_string(nvmlReturn_t rc) {
  switch (rc) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    case NVML_ERROR_LIBRARY_NOT_FOUND: return "NVML Shared Library Not Found";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case NVML_ERROR_RESET_REQUIRED: return "GPU requires reset";
    default: return "Unknown Error";
  }
}

// The dlopen'ed library with nvmlInit_v2 done. Shared by every meter of the process that uses the
// same path; the last owner calls nvmlShutdown and dlclose. NVML itself is thread-safe.
class NvmlLibrary {
 public:
  static std::shared_ptr<NvmlLibrary> acquire(const std::string& path, std::string* reason);
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;
  ~NvmlLibrary() {
    fn_.shutdown();
    ::dlclose(handle_);
  }
  const NvmlFunctions& fn() const { return fn_; }
  std::string error_string(nvmlReturn_t rc) const {
    if (fn_.error_string) {
      const char* s = fn_.error_string(rc);
      if (s && *s) return s;
    }
    return builtin_error_string(rc);
  }

 private:
  NvmlLibrary(void* handle, const NvmlFunctions& fn) : handle_(handle), fn_(fn) {}
  void* handle_;
  NvmlFunctions fn_;
};

std::shared_ptr<NvmlLibrary> NvmlLibrary::acquire(const std::string& path, std::string* reason) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<NvmlLibrary>> opened;
  std::lock_guard lk(mu);
  if (auto lib = opened[path].lock()) return lib;

  ::dlerror();
  void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = ::dlerror();
    std::string detail = why ? why : "unknown dlopen error";
    if (path.find('/') == std::string::npos)
      *reason = path + " not found (no NVIDIA driver): install the driver or set " +
                std::string(kNvmlLibraryEnv) + " to the library's path (" + detail + ")";
    else
      *reason = "cannot load " + path + " (" + detail + "): point --nvml-library or " +
                std::string(kNvmlLibraryEnv) + " at libnvidia-ml.so.1";
    return nullptr;
  }
  NvmlFunctions f;
  f.init = lookup<nvmlInit_v2_fn>(h, "nvmlInit_v2");
  f.shutdown = lookup<nvmlShutdown_fn>(h, "nvmlShutdown");
  f.get_count = lookup<nvmlDeviceGetCount_v2_fn>(h, "nvmlDeviceGetCount_v2");
  f.handle_by_index = lookup<nvmlDeviceGetHandleByIndex_v2_fn>(h, "nvmlDeviceGetHandleByIndex_v2");
  f.power = lookup<nvmlDeviceGetPowerUsage_fn>(h, "nvmlDeviceGetPowerUsage");
  f.error_string = lookup<nvmlErrorString_fn>(h, "nvmlErrorString");
  f.driver_version = lookup<nvmlSystemGetDriverVersion_fn>(h, "nvmlSystemGetDriverVersion");
  f.handle_by_uuid = lookup<nvmlDeviceGetHandleByUUID_fn>(h, "nvmlDeviceGetHandleByUUID");
  f.name = lookup<nvmlDeviceGetName_fn>(h, "nvmlDeviceGetName");
  f.uuid = lookup<nvmlDeviceGetUUID_fn>(h, "nvmlDeviceGetUUID");
  f.index = lookup<nvmlDeviceGetIndex_fn>(h, "nvmlDeviceGetIndex");
  f.energy = lookup<nvmlDeviceGetTotalEnergyConsumption_fn>(h, "nvmlDeviceGetTotalEnergyConsumption");
  f.compute_processes =
      lookup<nvmlDeviceGetComputeRunningProcesses_v3_fn>(h, "nvmlDeviceGetComputeRunningProcesses_v3");
  f.graphics_processes =
      lookup<nvmlDeviceGetGraphicsRunningProcesses_v3_fn>(h, "nvmlDeviceGetGraphicsRunningProcesses_v3");
  f.is_mig = lookup<nvmlDeviceIsMigDeviceHandle_fn>(h, "nvmlDeviceIsMigDeviceHandle");
  f.mig_parent = lookup<nvmlDeviceGetDeviceHandleFromMigDeviceHandle_fn>(
      h, "nvmlDeviceGetDeviceHandleFromMigDeviceHandle");

  std::vector<std::string> missing;
  if (!f.init) missing.push_back("nvmlInit_v2");
  if (!f.shutdown) missing.push_back("nvmlShutdown");
  if (!f.get_count) missing.push_back("nvmlDeviceGetCount_v2");
  if (!f.handle_by_index) missing.push_back("nvmlDeviceGetHandleByIndex_v2");
  if (!f.power) missing.push_back("nvmlDeviceGetPowerUsage");
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    *reason = path + " lacks " + list +
              " (not an NVML library, or an NVIDIA driver too old for epochwatt): update the driver "
              "or point " + std::string(kNvmlLibraryEnv) + " at libnvidia-ml.so.1";
    ::dlclose(h);
    return nullptr;
  }
  nvmlReturn_t rc = f.init();
  if (rc != NVML_SUCCESS) {
    std::string text = f.error_string && f.error_string(rc) ? f.error_string(rc) : builtin_error_string(rc);
    switch (rc) {
      case NVML_ERROR_DRIVER_NOT_LOADED:
        *reason = "nvmlInit_v2 failed: " + text +
                  " (the NVIDIA kernel driver is not running: load it, check that `nvidia-smi` works)";
        break;
      case NVML_ERROR_NO_PERMISSION:
        *reason = "nvmlInit_v2 failed: " + text +
                  " (no access to /dev/nvidia*: add the user to the group owning those devices, or "
                  "give the container the GPU)";
        break;
      default:
        *reason = "nvmlInit_v2 failed: " + text + " (check that `nvidia-smi` works)";
    }
    ::dlclose(h);
    return nullptr;
  }
  std::shared_ptr<NvmlLibrary> lib(new NvmlLibrary(h, f));
  opened[path] = lib;
  return lib;
}

// ---------------------------------------------------------------- the meter

bool is_lost_error(nvmlReturn_t rc) {
  return rc == NVML_ERROR_GPU_IS_LOST || rc == NVML_ERROR_UNKNOWN ||
         rc == NVML_ERROR_RESET_REQUIRED || rc == NVML_ERROR_DRIVER_NOT_LOADED;
}

// Counter: the energy counter advances every 100 ms, and on an H100 each call costs 2.85 ms
// median (p90 5.7 ms, max 16 ms; docs/performance.md "On a real H100"), so polling faster buys
// nothing. Power: the call costs under 1 us there; how often its value refreshes was not measured,
// and 50 ms keeps the trapezoid fine-grained against any refresh period of that order.
constexpr double kCounterPollS = 0.1;
constexpr double kPowerPollS = 0.05;

// devices_by_pid while running (spec D9): whether a process of the tracked tree runs on a GPU,
// asked at most every `period_s`; nullopt when NVML cannot say (the last answer stands).
struct UseGate {
  std::function<std::optional<bool>(double t)> probe;
  double period_s = 1.0;
};

class NvmlMeter final : public Meter, public detail::CumulativeBetweenReads {
 public:
  NvmlMeter(std::shared_ptr<NvmlLibrary> lib, nvmlDevice_t device, unsigned int index,
            std::string name, std::string uuid, Method method, std::string detail,
            std::optional<UseGate> gate = std::nullopt)
      : lib_(std::move(lib)), device_(device), counter_(1e-3, 0), gate_(std::move(gate)) {
    info_.id = "nvml:" + std::to_string(index);
    info_.hardware_id = std::move(uuid);
    info_.component = Component::gpu;
    info_.device_name = std::move(name);
    info_.method = method;
    info_.poll_period_s = method == Method::counter ? kCounterPollS : kPowerPollS;
    info_.detail = std::move(detail);
    if (is_superchip_module(info_.device_name)) {
      info_.also_covers = {Component::cpu, Component::dram};
      info_.coverage = std::string(kSuperchipCoverage);
    }
  }
  const MeterInfo& info() const override { return info_; }
  // The total-energy counter (64-bit mJ) loses nothing between reads however far apart; power
  // is integrated from its samples, and a gate's checks are made at reads: both need every read.
  double longest_period_s() const override {
    return info_.method == Method::counter && !gate_ ? std::numeric_limits<double>::infinity() : 0.0;
  }
  void open(double t) override { (void)read(t); }
  MeterReading read(double t) override { return gate_ ? gated(read_device(t), t) : read_device(t); }

 private:
  // With a gate, the energy between two consecutive checks (at most one every period) counts if
  // a process of the tree was on the GPU at either of them: from the last check before the job
  // was first seen there to the first check that no longer sees it. NVML failing to say keeps the
  // last answer.
  MeterReading gated(MeterReading r, double t) {
    const double raw = r.joules;
    if (!checked_ || t - last_check_ >= gate_->period_s) {
      bool was = in_use_;
      if (auto now = gate_->probe(t)) in_use_ = *now;
      if (checked_) {
        if (was) counted_ += raw - raw_prev_;                  // the period's last interval
        else if (in_use_) counted_ += raw - raw_at_check_;     // the whole period since the last check
      }
      raw_at_check_ = raw;
      last_check_ = t;
      checked_ = true;
    } else if (in_use_) {
      counted_ += raw - raw_prev_;
    }
    raw_prev_ = raw;
    r.joules = counted_;
    return r;
  }

  MeterReading read_device(double t) {
    MeterReading r;
    if (lost_) return lost_reading();
    nvmlReturn_t rc;
    const char* call;
    if (info_.method == Method::counter) {
      call = "nvmlDeviceGetTotalEnergyConsumption";
      unsigned long long mj = 0;
      rc = lib_->fn().energy(device_, &mj);
      if (rc == NVML_SUCCESS) {
        r.joules = counter_.update(mj);
        return r;
      }
    } else {
      call = "nvmlDeviceGetPowerUsage";
      unsigned int mw = 0;
      rc = lib_->fn().power(device_, &mw);
      if (rc == NVML_SUCCESS) {
        r.joules = integrator_.add(t, mw / 1000.0);
        return r;
      }
    }
    if (is_lost_error(rc)) {
      lost_ = true;
      lost_error_ = "GPU " + info_.device_name + " (" + info_.id + ") lost: " + lib_->error_string(rc);
      return lost_reading();
    }
    r.ok = false;
    r.joules = joules();
    r.error = "GPU " + info_.device_name + " (" + info_.id + "): " + call + " failed: " +
              lib_->error_string(rc);
    return r;
  }

  double joules() const {
    return info_.method == Method::counter ? counter_.joules() : integrator_.joules();
  }
  MeterReading lost_reading() const {
    MeterReading r;
    r.ok = false;
    r.lost = true;
    r.joules = joules();
    r.error = lost_error_;
    return r;
  }

  std::shared_ptr<NvmlLibrary> lib_;
  nvmlDevice_t device_;
  MeterInfo info_;
  WrappingCounter counter_;  // NVML's counter is 64-bit mJ: no wrap; a driver reload is a reset
  PowerIntegrator integrator_;
  bool lost_ = false;
  std::string lost_error_;
  std::optional<UseGate> gate_;
  bool checked_ = false, in_use_ = false;
  double last_check_ = 0.0, raw_prev_ = 0.0, raw_at_check_ = 0.0, counted_ = 0.0;
};

// ---------------------------------------------------------------- discovery helpers

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (;;) {
    std::size_t c = s.find(',', from);
    out.push_back(trim(s.substr(from, c == s.npos ? s.npos : c - from)));
    if (c == s.npos) break;
    from = c + 1;
  }
  return out;
}

std::optional<unsigned int> parse_index(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  unsigned int v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc{}) return std::nullopt;
  return v;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

struct Gpu {
  unsigned int index = 0;
  nvmlDevice_t handle = nullptr;
  bool usable = false;      // a handle was obtained
  std::string name;
  std::string uuid;
  std::string problem;      // why no handle
};

// One entry of the selection: the GPU index and how it came to be chosen.
struct Pick {
  unsigned int index;
  std::string how;
  bool gated = false;  // devices_by_pid: counted only while a process of the tree runs on it
};

struct Selection {
  std::vector<Pick> picks;
  std::vector<DiscoveryNote> notes;
  std::string empty_reason;  // when picks is empty: why
};

const char* env(const NvmlConfig& c, const char* name) { return c.getenv ? c.getenv(name) : nullptr; }

void add_pick(Selection& sel, std::set<unsigned int>& seen, unsigned int index, std::string how) {
  if (!seen.insert(index).second) {
    sel.notes.push_back(how + " names GPU " + std::to_string(index) +
                        " again; it is measured once");
    return;
  }
  sel.picks.push_back({index, std::move(how)});
}

// Resolve one CUDA_VISIBLE_DEVICES entry to an NVML index; nullopt with *why when invalid.
std::optional<unsigned int> resolve_cuda_entry(const std::string& entry, const std::vector<Gpu>& gpus,
                                               const NvmlLibrary& lib, std::string* why,
                                               bool* via_mig) {
  *via_mig = false;
  if (auto idx = parse_index(entry)) {
    if (*idx < gpus.size()) return idx;
    *why = "there are only " + std::to_string(gpus.size()) + " GPU(s)";
    return std::nullopt;
  }
  auto match_uuid_prefix = [&](std::string_view prefix, bool whole) -> std::optional<unsigned int> {
    std::vector<unsigned int> hits;
    for (const auto& g : gpus)
      if (!g.uuid.empty() && starts_with_nocase(g.uuid, prefix) && (!whole || g.uuid.size() == prefix.size()))
        hits.push_back(g.index);
    if (hits.size() == 1) return hits[0];
    *why = hits.empty() ? "no GPU has this UUID" : "the prefix matches " + std::to_string(hits.size()) + " GPUs";
    return std::nullopt;
  };
  if (starts_with_nocase(entry, "GPU-")) {
    if (!lib.fn().uuid) {
      *why = "this NVML lacks nvmlDeviceGetUUID";
      return std::nullopt;
    }
    return match_uuid_prefix(entry, false);
  }
  if (starts_with_nocase(entry, "MIG-")) {
    *via_mig = true;
    // R450/R460 form: MIG-GPU-<gpu uuid>/<gpu instance>/<compute instance>.
    if (starts_with_nocase(entry, "MIG-GPU-")) {
      std::string parent = entry.substr(4, entry.find('/') == std::string::npos ? std::string::npos : entry.find('/') - 4);
      return match_uuid_prefix(parent, true);
    }
    if (!lib.fn().handle_by_uuid || !lib.fn().mig_parent) {
      *why = "this NVML cannot resolve MIG identifiers (no nvmlDeviceGetHandleByUUID or "
             "nvmlDeviceGetDeviceHandleFromMigDeviceHandle): update the driver";
      return std::nullopt;
    }
    nvmlDevice_t mig = nullptr;
    nvmlReturn_t rc = lib.fn().handle_by_uuid(entry.c_str(), &mig);
    if (rc != NVML_SUCCESS) {
      *why = "nvmlDeviceGetHandleByUUID: " + lib.error_string(rc);
      return std::nullopt;
    }
    unsigned int is_mig = 1;
    if (lib.fn().is_mig && lib.fn().is_mig(mig, &is_mig) != NVML_SUCCESS) is_mig = 1;
    nvmlDevice_t parent = mig;
    if (is_mig) {
      rc = lib.fn().mig_parent(mig, &parent);
      if (rc != NVML_SUCCESS) {
        *why = "nvmlDeviceGetDeviceHandleFromMigDeviceHandle: " + lib.error_string(rc);
        return std::nullopt;
      }
    }
    unsigned int idx = 0;
    if (lib.fn().index && lib.fn().index(parent, &idx) == NVML_SUCCESS && idx < gpus.size()) return idx;
    for (const auto& g : gpus)
      if (g.usable && g.handle == parent) return g.index;
    if (lib.fn().uuid) {
      char buf[kUuidBufferSize] = {};
      if (lib.fn().uuid(parent, buf, sizeof buf) == NVML_SUCCESS) return match_uuid_prefix(buf, true);
    }
    *why = "its parent GPU is not among NVML's devices";
    return std::nullopt;
  }
  *why = "not an index, GPU-<uuid> or MIG-<uuid>";
  return std::nullopt;
}

Selection select_by_cuda(const std::string& value, const std::vector<Gpu>& gpus, const NvmlLibrary& lib,
                         const NvmlConfig& cfg) {
  Selection sel;
  std::set<unsigned int> seen;
  if (trim(value).empty()) {
    sel.empty_reason = "CUDA_VISIBLE_DEVICES is set but empty: the job sees no GPU, so none is measured "
                       "(unset it to measure all GPUs)";
    return sel;
  }
  bool any_index = false;
  for (const auto& entry : split_commas(value)) {
    std::string why;
    bool via_mig = false;
    auto idx = resolve_cuda_entry(entry, gpus, lib, &why, &via_mig);
    if (!idx) {
      sel.notes.push_back(coverage_note("CUDA_VISIBLE_DEVICES entry '" + entry + "' is not a valid device (" + why +
                                        "); like CUDA, epochwatt ignores it and every entry after it"));
      break;
    }
    std::string how = "CUDA_VISIBLE_DEVICES entry '" + entry + "'";
    if (via_mig) {
      sel.notes.push_back(coverage_note(how + " is a MIG instance: NVML has no energy or power reading per MIG "
                                              "instance, so its parent GPU " + std::to_string(*idx) + " (" +
                                        gpus[*idx].name + ") is measured whole, including any other instance's work"));
      how += " (MIG instance, measured on its parent GPU)";
    }
    any_index = any_index || parse_index(entry).has_value();
    add_pick(sel, seen, *idx, how);
  }
  if (sel.picks.empty())
    sel.empty_reason = "CUDA_VISIBLE_DEVICES=" + value + " selects no GPU" +
                       (sel.notes.empty() ? std::string() : ": " + sel.notes.back().text);
  // Integer entries are CUDA ordinals; NVML numbers GPUs in PCI bus order. The two agree when
  // CUDA_DEVICE_ORDER=PCI_BUS_ID, and in practice when all GPUs are the same model.
  const char* order = env(cfg, "CUDA_DEVICE_ORDER");
  bool mixed = std::any_of(gpus.begin(), gpus.end(), [&](const Gpu& g) { return g.name != gpus.front().name; });
  if (any_index && mixed && !(order && std::string_view(order) == "PCI_BUS_ID"))
    sel.notes.push_back(coverage_note("CUDA_VISIBLE_DEVICES indices are read as NVML (PCI bus order) indices, but CUDA "
                                      "numbers mixed GPU models fastest first, so another GPU than meant may be measured: "
                                      "set CUDA_DEVICE_ORDER=PCI_BUS_ID so that both agree"));
  return sel;
}

Selection select_by_slurm(const char* var, const std::string& value, const std::vector<Gpu>& gpus) {
  Selection sel;
  std::set<unsigned int> seen;
  for (const auto& entry : split_commas(value)) {
    // Accept "a-b" ranges as well as single indices.
    std::optional<unsigned int> lo = parse_index(entry), hi = lo;
    if (auto dash = entry.find('-'); !lo && dash != std::string::npos) {
      lo = parse_index(std::string_view(entry).substr(0, dash));
      hi = parse_index(std::string_view(entry).substr(dash + 1));
    }
    if (!lo || !hi || *hi < *lo || *hi >= gpus.size()) {
      sel.notes.push_back(coverage_note(std::string(var) + " entry '" + entry + "' is not a GPU index here (" +
                                        std::to_string(gpus.size()) + " GPU(s)); ignored"));
      continue;
    }
    for (unsigned int i = *lo; i <= *hi; ++i)
      add_pick(sel, seen, i, std::string(var) + " entry '" + entry + "'");
  }
  if (sel.picks.empty()) sel.empty_reason = std::string(var) + "=" + value + " names no GPU of this machine";
  return sel;
}

// Appends the process IDs one query lists (compute or graphics); false with *why when NVML
// cannot say.
using ProcessQuery = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_t*);
bool append_processes(ProcessQuery query, nvmlDevice_t h, std::vector<unsigned int>& pids,
                      const NvmlLibrary& lib, std::string* why) {
  unsigned int n = 0;
  nvmlReturn_t rc = query(h, &n, nullptr);
  if (rc == NVML_SUCCESS) return true;  // no process
  for (int attempt = 0; attempt < 4 && rc == NVML_ERROR_INSUFFICIENT_SIZE; ++attempt) {
    std::vector<nvmlProcessInfo_t> infos(n + 8);  // room for processes that start meanwhile
    unsigned int m = static_cast<unsigned int>(infos.size());
    rc = query(h, &m, infos.data());
    if (rc == NVML_SUCCESS) {
      for (unsigned int i = 0; i < m && i < infos.size(); ++i) pids.push_back(infos[i].pid);
      return true;
    }
    n = m;
  }
  *why = lib.error_string(rc);
  return false;
}

// Process IDs running on a GPU, compute and graphics; nullopt with *why when NVML cannot say.
std::optional<std::vector<unsigned int>> gpu_processes(const NvmlLibrary& lib, nvmlDevice_t h, std::string* why) {
  std::vector<unsigned int> pids;
  if (!append_processes(lib.fn().compute_processes, h, pids, lib, why) ||
      !append_processes(lib.fn().graphics_processes, h, pids, lib, why))
    return std::nullopt;
  return pids;
}

// The first of `pids` that belongs to `tree`, if any.
std::optional<unsigned int> first_of_tree(const std::vector<unsigned int>& pids, const std::set<unsigned int>& tree) {
  for (unsigned int p : pids)
    if (tree.count(p)) return p;
  return std::nullopt;
}

// The tracked process tree, shared by the gated meters of one discovery and re-read from procfs
// at most every `period_s` (on the meters' clock). Reads come from the sampler thread; the mutex
// keeps it safe whoever calls.
class TreeWatch {
 public:
  explicit TreeWatch(const NvmlConfig& cfg)
      : root_(cfg.root_pid), proc_root_(cfg.proc_root), reader_(cfg.reader), period_s_(cfg.pid_refresh_s) {}
  std::set<unsigned int> pids(double t) {
    std::lock_guard lk(mu_);
    if (!read_ || t - read_at_ >= period_s_ || t < read_at_) {
      pids_.clear();
      for (pid_t p : process_tree(root_, proc_root_, *reader_)) pids_.insert(static_cast<unsigned int>(p));
      read_at_ = t;
      read_ = true;
    }
    return pids_;
  }

 private:
  pid_t root_;
  std::string proc_root_;
  std::shared_ptr<FileReader> reader_;
  double period_s_;
  std::mutex mu_;
  bool read_ = false;
  double read_at_ = 0.0;
  std::set<unsigned int> pids_;
};

// devices_by_pid (spec D9): every usable GPU whose processes NVML can list is opened and gated:
// its energy counts only while a process of the tree runs on it, re-checked while running, so
// that workers and ranks started later count too. `how` says which GPUs the tree uses now.
Selection select_by_pid(const NvmlConfig& cfg, const std::vector<Gpu>& gpus, const NvmlLibrary& lib) {
  Selection sel;
  std::vector<pid_t> tree = process_tree(cfg.root_pid, cfg.proc_root, *cfg.reader);
  std::set<unsigned int> mine;
  for (pid_t p : tree) mine.insert(static_cast<unsigned int>(p));
  std::string who = "PID " + std::to_string(cfg.root_pid) + " and its " +
                    std::to_string(tree.empty() ? 0 : tree.size() - 1) + " descendant(s)";
  std::set<unsigned int> seen;
  int in_use = 0;
  for (const auto& g : gpus) {
    if (!g.usable) continue;
    std::string why;
    auto pids = gpu_processes(lib, g.handle, &why);
    if (!pids) {
      sel.notes.push_back(coverage_note("devices_by_pid: cannot list the processes on GPU " + std::to_string(g.index) +
                                        " (" + g.name + "): " + why + "; it is not measured"));
      continue;
    }
    std::string how = "devices_by_pid: no process of " + who + " on it at start";
    if (auto p = first_of_tree(*pids, mine)) {
      how = "devices_by_pid: runs process " + std::to_string(*p) + " of " + who;
      ++in_use;
    }
    add_pick(sel, seen, g.index, how);
    sel.picks.back().gated = true;
  }
  if (sel.picks.empty()) {
    sel.empty_reason = "devices_by_pid: NVML cannot list the processes of any GPU";
    return sel;
  }
  sel.notes.push_back("devices_by_pid: " + std::to_string(sel.picks.size()) + " GPU(s) opened, " +
                      std::to_string(in_use) + " running a process of " + who +
                      " now; each counts only while a process of the tree runs on it (checked every " +
                      detail::readable(cfg.pid_refresh_s) + " s); CUDA_VISIBLE_DEVICES is not used for the choice; "
                      "in a container NVML reports host PIDs, so share the host PID namespace (e.g. docker --pid=host)");
  return sel;
}

std::string read_string(nvmlReturn_t (*fn)(nvmlDevice_t, char*, unsigned int), nvmlDevice_t h,
                        unsigned int size) {
  if (!fn) return "";
  std::string buf(size, '\0');
  if (fn(h, buf.data(), size) != NVML_SUCCESS) return "";
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

}  // namespace

// ---------------------------------------------------------------- coverage

bool is_superchip_module(std::string_view nvml_name) {
  std::string upper(nvml_name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view model : {"GH200", "GB200", "GB300"}) {
    std::size_t at = upper.find(model);
    // A whole word: "NVIDIA GH200 480GB", not a longer model name that happens to contain it.
    if (at != std::string::npos && (at == 0 || !std::isalnum(static_cast<unsigned char>(upper[at - 1]))) &&
        (at + model.size() == upper.size() || !std::isalnum(static_cast<unsigned char>(upper[at + model.size()]))))
      return true;
  }
  return false;
}

// ---------------------------------------------------------------- discovery

NvmlDiscovery find_nvml(const NvmlConfig& cfg) {
  NvmlDiscovery out;
  const char* override_lib = env(cfg, kNvmlLibraryEnv);
  out.library = cfg.library.empty() ? kNvmlDefaultLibrary : cfg.library;
  if (out.library == kNvmlDefaultLibrary && override_lib && *override_lib) out.library = override_lib;
  std::string reason;
  std::shared_ptr<NvmlLibrary> lib = NvmlLibrary::acquire(out.library, &reason);
  if (!lib) {
    out.reason = reason;
    return out;
  }
  const NvmlFunctions& fn = lib->fn();
  if (fn.driver_version) {
    char buf[kDriverVersionBufferSize] = {};
    if (fn.driver_version(buf, sizeof buf) == NVML_SUCCESS) out.driver_version = buf;
  }
  unsigned int count = 0;
  if (nvmlReturn_t rc = fn.get_count(&count); rc != NVML_SUCCESS) {
    out.reason = "nvmlDeviceGetCount_v2 failed: " + lib->error_string(rc) + " (check that `nvidia-smi` works)";
    return out;
  }
  if (count == 0) {
    out.reason = "NVML sees no GPU (driver " + (out.driver_version.empty() ? "?" : out.driver_version) +
                 "): check `nvidia-smi -L`; in a container, pass the GPUs in (e.g. docker --gpus all)";
    return out;
  }

  std::vector<Gpu> gpus(count);
  for (unsigned int i = 0; i < count; ++i) {
    Gpu& g = gpus[i];
    g.index = i;
    nvmlReturn_t rc = fn.handle_by_index(i, &g.handle);
    if (rc != NVML_SUCCESS) {
      g.problem = "nvmlDeviceGetHandleByIndex_v2: " + lib->error_string(rc);
      g.name = "GPU " + std::to_string(i);
      continue;
    }
    g.usable = true;
    g.name = read_string(fn.name, g.handle, kNameBufferSize);
    if (g.name.empty()) g.name = "NVIDIA GPU " + std::to_string(i);
    g.uuid = read_string(fn.uuid, g.handle, kUuidBufferSize);
  }

  // Which GPUs: spec §4.3 and D8.
  Selection sel;
  const char* cuda = env(cfg, "CUDA_VISIBLE_DEVICES");
  bool by_pid = cfg.devices_by_pid;
  if (by_pid && (!fn.compute_processes || !fn.graphics_processes)) {
    out.notes.push_back(coverage_note("devices_by_pid needs nvmlDeviceGetComputeRunningProcesses_v3 and "
                                      "nvmlDeviceGetGraphicsRunningProcesses_v3, which this NVML lacks (update the "
                                      "driver); GPUs are chosen by the usual rules instead, whoever uses them"));
    by_pid = false;
  }
  if (by_pid) {
    sel = select_by_pid(cfg, gpus, *lib);
  } else if (cuda) {
    sel = select_by_cuda(cuda, gpus, *lib, cfg);
  } else if (const char* step = env(cfg, "SLURM_STEP_GPUS"); step && *step) {
    sel = select_by_slurm("SLURM_STEP_GPUS", step, gpus);
  } else if (const char* job = env(cfg, "SLURM_JOB_GPUS"); job && *job) {
    sel = select_by_slurm("SLURM_JOB_GPUS", job, gpus);
  } else {
    for (const auto& g : gpus) sel.picks.push_back({g.index, "default (all GPUs: no CUDA_VISIBLE_DEVICES, SLURM_STEP_GPUS or SLURM_JOB_GPUS)"});
  }
  out.notes.insert(out.notes.end(), sel.notes.begin(), sel.notes.end());

  for (const auto& g : gpus) {
    NvmlDeviceDescription d;
    d.index = g.index;
    d.name = g.name;
    d.uuid = g.uuid;
    d.status = g.usable ? "not selected" : "unusable: " + g.problem;
    out.devices.push_back(std::move(d));
  }

  // How each selected GPU is measured: its energy counter, else integrated power, else skipped.
  std::vector<DiscoveryNote> skipped;
  std::shared_ptr<TreeWatch> watch;
  for (const auto& pick : sel.picks) {
    const Gpu& g = gpus[pick.index];
    std::optional<UseGate> gate;
    std::string gate_detail;
    if (pick.gated) {
      if (!watch) watch = std::make_shared<TreeWatch>(cfg);
      nvmlDevice_t handle = g.handle;
      gate = UseGate{[lib, handle, watch](double t) -> std::optional<bool> {
                       std::string why;
                       auto pids = gpu_processes(*lib, handle, &why);
                       if (!pids) return std::nullopt;
                       return first_of_tree(*pids, watch->pids(t)).has_value();
                     },
                     cfg.pid_refresh_s};
      gate_detail = "; counted only while a process of PID " + std::to_string(cfg.root_pid) +
                    "'s tree runs on it (devices_by_pid, checked every " + detail::readable(cfg.pid_refresh_s) + " s)";
    }
    NvmlDeviceDescription& d = out.devices[pick.index];
    std::string label = "GPU " + std::to_string(g.index) + " (" + g.name + ")";
    std::string identity = g.uuid.empty() ? "NVML index " + std::to_string(g.index)
                                          : g.uuid + ", NVML index " + std::to_string(g.index);
    if (!g.usable) {
      skipped.push_back(coverage_note(label + " selected by " + pick.how + " but unusable: " + g.problem +
                                      "; the total leaves it out"));
      d.status = "selected by " + pick.how + " but unusable: " + g.problem;
      continue;
    }
    std::string energy_err = "nvmlDeviceGetTotalEnergyConsumption missing (old driver)";
    if (fn.energy) {
      unsigned long long mj = 0;
      nvmlReturn_t rc = fn.energy(g.handle, &mj);
      // A transient failure must not demote the GPU to integrated power for the whole run.
      if (rc == NVML_ERROR_TIMEOUT || rc == NVML_ERROR_UNINITIALIZED) rc = fn.energy(g.handle, &mj);
      if (rc == NVML_SUCCESS) {
        out.meters.push_back(std::make_shared<NvmlMeter>(
            lib, g.handle, g.index, g.name, g.uuid, Method::counter,
            "nvmlDeviceGetTotalEnergyConsumption energy counter (mJ), read every 0.1 s; " + identity +
                "; selected by " + pick.how + gate_detail,
            gate));
        d.selected = true;
        d.method = std::string(to_string(Method::counter));
        d.status = "selected by " + pick.how;
        continue;
      }
      energy_err = "nvmlDeviceGetTotalEnergyConsumption: " + lib->error_string(rc);
    }
    unsigned int mw = 0;
    nvmlReturn_t rc = fn.power(g.handle, &mw);
    if (rc == NVML_SUCCESS) {
      out.meters.push_back(std::make_shared<NvmlMeter>(
          lib, g.handle, g.index, g.name, g.uuid, Method::integrated_power,
          "nvmlDeviceGetPowerUsage (mW) integrated every 0.05 s, no energy counter (" + energy_err + "); " +
              identity + "; selected by " + pick.how + gate_detail,
          gate));
      d.selected = true;
      d.method = std::string(to_string(Method::integrated_power));
      d.status = "selected by " + pick.how + "; no energy counter (" + energy_err + "), power integrated";
      continue;
    }
    std::string why = label + " cannot be measured: " + energy_err + ", nvmlDeviceGetPowerUsage: " +
                      lib->error_string(rc) + "; the total leaves it out";
    skipped.push_back(coverage_note(why));
    d.status = "selected by " + pick.how + " but cannot be measured (" + energy_err +
               ", nvmlDeviceGetPowerUsage: " + lib->error_string(rc) + ")";
  }
  out.notes.insert(out.notes.end(), skipped.begin(), skipped.end());

  if (out.meters.empty()) {
    if (!sel.empty_reason.empty()) {
      out.reason = sel.empty_reason;
    } else {
      out.reason = "no selected GPU can be measured";
      for (const auto& s : skipped) out.reason += "; " + s.text;
    }
  }
  return out;
}

Discovery discover_nvml(const NvmlConfig& config) {
  NvmlDiscovery found = find_nvml(config);
  Discovery d;
  d.meters = std::move(found.meters);
  d.reason = std::move(found.reason);
  d.notes = std::move(found.notes);
  if (!found.driver_version.empty())
    d.notes.insert(d.notes.begin(), "NVIDIA driver " + found.driver_version + " (" + found.library + ")");
  return d;
}

}  // namespace epochwatt::meters
