// A fake libnvidia-ml.so for tests: a real shared library exporting, with C linkage, the NVML
// functions epochwatt uses (declared in src/meters/nvml/nvml_api.hpp), driven by a scenario file
// named by the environment variable FAKE_NVML_SCENARIO. Format and controls: README.md here.
//
// The scenario is read by nvmlInit_v2 when NVML is not yet initialised (init depth 0), so each
// test can set its own scenario as long as the previous test released NVML. Thread-safe.
#include <time.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "meters/nvml/nvml_api.hpp"

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

using namespace epochwatt::meters::nvml;

struct nvmlDevice_st {
  int gpu = -1;  // index of the GPU (for a MIG handle: of its parent)
  int mig = -1;  // index among the parent's MIG instances; -1 for a whole GPU
};

namespace {

struct TraceRow {
  double t_s;
  unsigned int power_mw;
  unsigned long long energy_mj;
};

struct FakeGpu {
  std::string name = "Fake GPU";
  std::string uuid;
  std::vector<std::string> mig_uuids;
  bool energy = true;
  bool power = true;
  double watts = 100.0;
  std::vector<TraceRow> trace;  // non-empty: replay instead of constant power
  double trace_offset_s = 0.0;
  unsigned long long energy_start_mj = 1000000;
  long long lost_after = -1;  // reading calls that succeed before the GPU is lost; -1: never
  double lost_at_s = -1;      // clock time from which the GPU is lost; <0: never
  nvmlReturn_t lost_error = NVML_ERROR_GPU_IS_LOST;
  std::vector<long long> fail_calls;  // reading call numbers (1-based) that fail with fail_error
  nvmlReturn_t fail_error = NVML_ERROR_TIMEOUT;
  long long energy_delay_us = 0;
  long long power_delay_us = 0;
  std::vector<unsigned int> compute_pids;
  std::vector<unsigned int> graphics_pids;
  double pids_from_s = -1;   // the process lists are reported only from this clock time; <0: always
  double pids_until_s = -1;  // ... and only before this one; <0: no end
  nvmlReturn_t handle_error = NVML_SUCCESS;
  // state
  long long read_calls = 0;
};

struct State {
  std::mutex mu;
  int init_depth = 0;
  unsigned long long inits_total = 0;
  std::string driver = "580.159.04";
  bool manual_clock = false;
  nvmlReturn_t init_result = NVML_SUCCESS;
  double t0 = 0.0;  // CLOCK_MONOTONIC at init, for the real clock
  std::vector<FakeGpu> gpus;
  std::deque<nvmlDevice_st> handles;  // stable addresses: whole GPUs first, then MIG instances
};

State& state() {
  static State s;
  return s;
}

// Manual time lives outside State so that setting it never waits for a slow call.
double g_manual_time = 0.0;
std::mutex g_time_mu;

double monotonic_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double now_s(const State& s) {
  if (s.manual_clock) {
    std::lock_guard lk(g_time_mu);
    return g_manual_time;
  }
  return monotonic_s() - s.t0;
}

std::string trim(const std::string& v) {
  std::size_t b = v.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  std::size_t e = v.find_last_not_of(" \t\r");
  return v.substr(b, e - b + 1);
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool parse_bool(const std::string& v, bool* out) {
  if (v == "yes" || v == "true" || v == "1" || v == "supported") return *out = true, true;
  if (v == "no" || v == "false" || v == "0" || v == "not_supported") return *out = false, true;
  return false;
}

std::optional<nvmlReturn_t> parse_error(const std::string& v) {
  static const std::pair<const char*, nvmlReturn_t> names[] = {
      {"success", NVML_SUCCESS},
      {"uninitialized", NVML_ERROR_UNINITIALIZED},
      {"invalid_argument", NVML_ERROR_INVALID_ARGUMENT},
      {"not_supported", NVML_ERROR_NOT_SUPPORTED},
      {"no_permission", NVML_ERROR_NO_PERMISSION},
      {"not_found", NVML_ERROR_NOT_FOUND},
      {"driver_not_loaded", NVML_ERROR_DRIVER_NOT_LOADED},
      {"timeout", NVML_ERROR_TIMEOUT},
      {"gpu_is_lost", NVML_ERROR_GPU_IS_LOST},
      {"reset_required", NVML_ERROR_RESET_REQUIRED},
      {"unknown", NVML_ERROR_UNKNOWN},
  };
  for (const auto& [n, rc] : names)
    if (v == n) return rc;
  return std::nullopt;
}

bool load_trace(const std::string& path, std::vector<TraceRow>* out, std::string* err) {
  std::ifstream in(path);
  if (!in) return *err = "cannot open trace " + path, false;
  std::string line;
  std::getline(in, line);
  if (trim(line) != "t_s,power_mw,energy_mj") return *err = "trace " + path + ": bad header", false;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty()) continue;
    TraceRow r{};
    char* end = nullptr;
    r.t_s = std::strtod(line.c_str(), &end);
    if (*end != ',') return *err = "trace " + path + ": bad row '" + line + "'", false;
    r.power_mw = static_cast<unsigned int>(std::strtoul(end + 1, &end, 10));
    if (*end != ',') return *err = "trace " + path + ": bad row '" + line + "'", false;
    r.energy_mj = std::strtoull(end + 1, &end, 10);
    out->push_back(r);
  }
  if (out->empty()) return *err = "trace " + path + " has no rows", false;
  return true;
}

// Parse the scenario file into s (gpus, globals). Returns false with *err on a bad line.
bool load_scenario(State& s, const std::string& path, std::string* err) {
  std::ifstream in(path);
  if (!in) return *err = "cannot open scenario " + path, false;
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  std::string line;
  int lineno = 0;
  FakeGpu* gpu = nullptr;
  while (std::getline(in, line)) {
    ++lineno;
    std::string where = path + ":" + std::to_string(lineno) + ": ";
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    line = trim(line);
    if (line.empty()) continue;
    if (line == "[gpu]") {
      s.gpus.emplace_back();
      gpu = &s.gpus.back();
      gpu->name = "Fake GPU " + std::to_string(s.gpus.size() - 1);
      char uuid[64];
      std::snprintf(uuid, sizeof uuid, "GPU-fa4e0000-0000-4000-8000-%012zu", s.gpus.size() - 1);
      gpu->uuid = uuid;
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) return *err = where + "expected key = value or [gpu]", false;
    std::string key = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    auto bad = [&] { *err = where + "bad value for " + key + ": '" + v + "'"; return false; };
    if (!gpu) {
      if (key == "driver") s.driver = v;
      else if (key == "clock") {
        if (v != "manual" && v != "real") return bad();
        s.manual_clock = v == "manual";
      } else if (key == "init") {
        auto rc = parse_error(v);
        if (!rc) return bad();
        s.init_result = *rc;
      } else return *err = where + "unknown global key " + key, false;
      continue;
    }
    FakeGpu& g = *gpu;
    try {
      if (key == "name") g.name = v;
      else if (key == "uuid") g.uuid = v;
      else if (key == "mig") g.mig_uuids = split_list(v);
      else if (key == "energy") { if (!parse_bool(v, &g.energy)) return bad(); }
      else if (key == "power") { if (!parse_bool(v, &g.power)) return bad(); }
      else if (key == "watts") g.watts = std::stod(v);
      else if (key == "trace") {
        std::string p = v[0] == '/' ? v : dir + "/" + v;
        if (!load_trace(p, &g.trace, err)) return *err = where + *err, false;
      } else if (key == "trace_offset_s") g.trace_offset_s = std::stod(v);
      else if (key == "energy_start_mj") g.energy_start_mj = std::stoull(v);
      else if (key == "lost_after") g.lost_after = std::stoll(v);
      else if (key == "lost_at_s") g.lost_at_s = std::stod(v);
      else if (key == "lost_error") { auto rc = parse_error(v); if (!rc) return bad(); g.lost_error = *rc; }
      else if (key == "fail_calls") { for (auto& c : split_list(v)) g.fail_calls.push_back(std::stoll(c)); }
      else if (key == "fail_error") { auto rc = parse_error(v); if (!rc) return bad(); g.fail_error = *rc; }
      else if (key == "delay_us") g.energy_delay_us = g.power_delay_us = std::stoll(v);
      else if (key == "energy_delay_us") g.energy_delay_us = std::stoll(v);
      else if (key == "power_delay_us") g.power_delay_us = std::stoll(v);
      else if (key == "compute_pids") { for (auto& p : split_list(v)) g.compute_pids.push_back(static_cast<unsigned int>(std::stoul(p))); }
      else if (key == "pids_from_s") g.pids_from_s = std::stod(v);
      else if (key == "pids_until_s") g.pids_until_s = std::stod(v);
      else if (key == "graphics_pids") { for (auto& p : split_list(v)) g.graphics_pids.push_back(static_cast<unsigned int>(std::stoul(p))); }
      else if (key == "handle_error") { auto rc = parse_error(v); if (!rc) return bad(); g.handle_error = *rc; }
      else return *err = where + "unknown gpu key " + key, false;
    } catch (const std::exception&) {
      return bad();
    }
  }
  return true;
}

bool initialised(const State& s) { return s.init_depth > 0; }

FakeGpu* gpu_of(State& s, nvmlDevice_t d) {
  if (!d || d->gpu < 0 || static_cast<std::size_t>(d->gpu) >= s.gpus.size()) return nullptr;
  return &s.gpus[static_cast<std::size_t>(d->gpu)];
}

const TraceRow& trace_at(const FakeGpu& g, double t) {
  // Latest row at or before t (a real read returns the last published value).
  std::size_t lo = 0, hi = g.trace.size();
  while (hi - lo > 1) {
    std::size_t mid = (lo + hi) / 2;
    if (g.trace[mid].t_s <= t) lo = mid; else hi = mid;
  }
  return g.trace[lo];
}

// One reading call (energy or power) on g at time t: counts it and applies lost/fail rules.
nvmlReturn_t reading_call(FakeGpu& g, double t) {
  ++g.read_calls;
  if (g.lost_after >= 0 && g.read_calls > g.lost_after) return g.lost_error;
  if (g.lost_at_s >= 0 && t >= g.lost_at_s) return g.lost_error;
  for (long long c : g.fail_calls)
    if (c == g.read_calls) return g.fail_error;
  return NVML_SUCCESS;
}

void sleep_us(long long us) {
  if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
}

void copy_string(const std::string& v, char* buf, unsigned int length, nvmlReturn_t* rc) {
  if (!buf || length == 0 || v.size() + 1 > length) {
    *rc = NVML_ERROR_INSUFFICIENT_SIZE;
    return;
  }
  std::memcpy(buf, v.c_str(), v.size() + 1);
  *rc = NVML_SUCCESS;
}

[[maybe_unused]] nvmlReturn_t processes(nvmlDevice_t device, unsigned int* count, nvmlProcessInfo_t* infos, bool compute) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  FakeGpu* g = gpu_of(s, device);
  if (!g || !count) return NVML_ERROR_INVALID_ARGUMENT;
  if (g->lost_after >= 0 && g->read_calls > g->lost_after) return g->lost_error;
  static const std::vector<unsigned int> kNone;
  double t = now_s(s);
  bool window = (g->pids_from_s < 0 || t >= g->pids_from_s) && (g->pids_until_s < 0 || t < g->pids_until_s);
  const auto& pids = !window ? kNone : compute ? g->compute_pids : g->graphics_pids;
  unsigned int n = static_cast<unsigned int>(pids.size());
  if (*count < n || (!infos && n > 0)) {
    *count = n;
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  for (unsigned int i = 0; i < n; ++i) {
    infos[i] = nvmlProcessInfo_t{};
    infos[i].pid = pids[i];
    infos[i].usedGpuMemory = 1ull << 30;
    infos[i].gpuInstanceId = 0xFFFFFFFFu;
    infos[i].computeInstanceId = 0xFFFFFFFFu;
  }
  *count = n;
  return NVML_SUCCESS;
}

}  // namespace

// ---------------------------------------------------------------- NVML symbols

FAKE_EXPORT nvmlReturn_t nvmlInit_v2() {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (s.init_depth > 0) {
    ++s.init_depth;
    ++s.inits_total;
    return NVML_SUCCESS;
  }
  s.gpus.clear();
  s.handles.clear();
  s.driver = "580.159.04";
  s.manual_clock = false;
  s.init_result = NVML_SUCCESS;
  const char* path = std::getenv("FAKE_NVML_SCENARIO");
  if (path && *path) {
    std::string err;
    if (!load_scenario(s, path, &err)) {
      std::fprintf(stderr, "fake_nvml: %s\n", err.c_str());
      s.gpus.clear();
      return NVML_ERROR_UNKNOWN;
    }
  }
  if (s.init_result != NVML_SUCCESS) return s.init_result;
  for (std::size_t i = 0; i < s.gpus.size(); ++i) s.handles.push_back({static_cast<int>(i), -1});
  for (std::size_t i = 0; i < s.gpus.size(); ++i)
    for (std::size_t m = 0; m < s.gpus[i].mig_uuids.size(); ++m)
      s.handles.push_back({static_cast<int>(i), static_cast<int>(m)});
  s.t0 = monotonic_s();
  s.init_depth = 1;
  ++s.inits_total;
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlShutdown() {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (s.init_depth == 0) return NVML_ERROR_UNINITIALIZED;
  if (--s.init_depth == 0) {
    s.gpus.clear();
    s.handles.clear();
  }
  return NVML_SUCCESS;
}

FAKE_EXPORT const char* nvmlErrorString(nvmlReturn_t rc) {
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

FAKE_EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  nvmlReturn_t rc;
  copy_string(s.driver, version, length, &rc);
  return rc;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  *count = static_cast<unsigned int>(s.gpus.size());
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  if (!device || index >= s.gpus.size()) return NVML_ERROR_INVALID_ARGUMENT;
  if (s.gpus[index].handle_error != NVML_SUCCESS) return s.gpus[index].handle_error;
  *device = &s.handles[index];
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  FakeGpu* g = gpu_of(s, device);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t rc;
  copy_string(device->mig < 0 ? g->name : g->name + " MIG instance", name, length, &rc);
  return rc;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  FakeGpu* g = gpu_of(s, device);
  if (!g) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t rc;
  copy_string(device->mig < 0 ? g->uuid : g->mig_uuids[static_cast<std::size_t>(device->mig)], uuid, length, &rc);
  return rc;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power) {
  State& s = state();
  long long delay;
  nvmlReturn_t rc;
  {
    std::lock_guard lk(s.mu);
    if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
    FakeGpu* g = gpu_of(s, device);
    if (!g || !power || device->mig >= 0) return NVML_ERROR_INVALID_ARGUMENT;
    delay = g->power_delay_us;
    double t = now_s(s);
    rc = reading_call(*g, t);
    if (rc == NVML_SUCCESS && !g->power) rc = NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
      *power = g->trace.empty() ? static_cast<unsigned int>(std::llround(g->watts * 1000.0))
                                : trace_at(*g, t + g->trace_offset_s).power_mw;
  }
  sleep_us(delay);
  return rc;
}

#ifndef FAKE_NVML_MINIMAL
// The symbols below are optional for epochwatt; the "minimal" build of this library leaves them
// out to stand for an old driver.

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* energy) {
  State& s = state();
  long long delay;
  nvmlReturn_t rc;
  {
    std::lock_guard lk(s.mu);
    if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
    FakeGpu* g = gpu_of(s, device);
    if (!g || !energy || device->mig >= 0) return NVML_ERROR_INVALID_ARGUMENT;
    delay = g->energy_delay_us;
    double t = now_s(s);
    rc = reading_call(*g, t);
    if (rc == NVML_SUCCESS && !g->energy) rc = NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS) {
      if (!g->trace.empty()) {
        *energy = trace_at(*g, t + g->trace_offset_s).energy_mj;
      } else {
        // The hardware counter publishes every 100 ms.
        double steps = std::floor(std::max(0.0, t) / 0.1 + 1e-9);
        *energy = g->energy_start_mj + static_cast<unsigned long long>(std::llround(steps * g->watts * 100.0));
      }
    }
  }
  sleep_us(delay);
  return rc;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char* uuid, nvmlDevice_t* device) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  if (!uuid || !device) return NVML_ERROR_INVALID_ARGUMENT;
  for (auto& h : s.handles) {
    const FakeGpu& g = s.gpus[static_cast<std::size_t>(h.gpu)];
    const std::string& u = h.mig < 0 ? g.uuid : g.mig_uuids[static_cast<std::size_t>(h.mig)];
    if (u == uuid) {
      *device = &h;
      return NVML_SUCCESS;
    }
  }
  return NVML_ERROR_NOT_FOUND;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int* index) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  if (!gpu_of(s, device) || !index || device->mig >= 0) return NVML_ERROR_INVALID_ARGUMENT;
  *index = static_cast<unsigned int>(device->gpu);
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int* count,
                                                                 nvmlProcessInfo_t* infos) {
  return processes(device, count, infos, true);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned int* count,
                                                                  nvmlProcessInfo_t* infos) {
  return processes(device, count, infos, false);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t device, unsigned int* is_mig) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  if (!gpu_of(s, device) || !is_mig) return NVML_ERROR_INVALID_ARGUMENT;
  *is_mig = device->mig >= 0 ? 1u : 0u;
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t mig, nvmlDevice_t* device) {
  State& s = state();
  std::lock_guard lk(s.mu);
  if (!initialised(s)) return NVML_ERROR_UNINITIALIZED;
  if (!gpu_of(s, mig) || !device) return NVML_ERROR_INVALID_ARGUMENT;
  if (mig->mig < 0) return NVML_ERROR_NOT_FOUND;
  *device = &s.handles[static_cast<std::size_t>(mig->gpu)];
  return NVML_SUCCESS;
}
#endif  // FAKE_NVML_MINIMAL

// ---------------------------------------------------------------- test controls (not NVML)

// Set the time of a `clock = manual` scenario, in seconds.
FAKE_EXPORT void fake_nvml_set_time(double t) {
  std::lock_guard lk(g_time_mu);
  g_manual_time = t;
}

// The fake's current time (manual or seconds since nvmlInit_v2).
FAKE_EXPORT double fake_nvml_time() {
  State& s = state();
  std::lock_guard lk(s.mu);
  return now_s(s);
}

// NVML's init depth: nvmlInit_v2 calls not yet matched by nvmlShutdown.
FAKE_EXPORT int fake_nvml_init_depth() {
  State& s = state();
  std::lock_guard lk(s.mu);
  return s.init_depth;
}

// Reading calls (energy + power) made on GPU `index` since init; -1 for no such GPU.
FAKE_EXPORT long long fake_nvml_read_calls(unsigned int index) {
  State& s = state();
  std::lock_guard lk(s.mu);
  return index < s.gpus.size() ? s.gpus[index].read_calls : -1;
}
