// What the real NVML calls cost on this machine's GPUs, and how often their values change:
// nvmlDeviceGetTotalEnergyConsumption, nvmlDeviceGetPowerUsage, and epochwatt's own
// Meter::read() on top of them (the NVML backend found by discovery, as the sampler reads it).
//
//   bench_nvml_calls [CALLS [WATCH_SECONDS]]     (defaults 200 and 2)
//
// Needs a real NVIDIA driver (libnvidia-ml.so.1, or EPOCHWATT_NVML_LIBRARY). Without one it prints
// why and exits 0, so that scripts can run it anywhere. Not a Google Benchmark binary: it times
// each call separately and prints the median, the 90th percentile, the minimum and the maximum.
//
// "Changes" polls one value back to back for WATCH_SECONDS and reports the median time between two
// successive changes of the value (how often the driver publishes it) and the smallest step of the
// energy counter.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "meters/nvml/nvml.hpp"
#include "meters/nvml/nvml_api.hpp"

using namespace epochwatt;
using namespace epochwatt::meters;
using namespace epochwatt::meters::nvml;

namespace {

using Clock = std::chrono::steady_clock;

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

struct Stats {
  double median, p90, min, max;
};

Stats stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))]; };
  return {at(0.5), at(0.9), v.front(), v.back()};
}

void print_stats(const char* what, int calls, int failures, const std::vector<double>& us) {
  if (us.empty()) {
    std::printf("%-44s %5d calls, all failed\n", what, calls);
    return;
  }
  Stats s = stats_of(us);
  std::printf("%-44s %5d calls  median %10.2f us  p90 %10.2f us  min %10.2f us  max %10.2f us%s\n", what,
              calls, s.median, s.p90, s.min, s.max, failures ? "  (some calls failed)" : "");
}

template <class F>
std::vector<double> time_calls(int n, int& failures, F&& call) {
  std::vector<double> us;
  us.reserve(static_cast<size_t>(n));
  failures = 0;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    bool ok = call();
    auto t1 = Clock::now();
    if (!ok) {
      ++failures;
      continue;
    }
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return us;
}

// Polls get() back to back for `seconds`; prints the median interval between changes of its value.
template <class F>
void watch_changes(const char* what, double seconds, F&& get) {
  unsigned long long last = 0;
  if (!get(last)) {
    std::printf("%-44s cannot read\n", what);
    return;
  }
  std::vector<double> change_times;
  unsigned long long min_step = ~0ULL;
  double end = now_s() + seconds;
  while (now_s() < end) {
    unsigned long long v = 0;
    if (!get(v)) continue;
    if (v != last) {
      change_times.push_back(now_s());
      if (v > last) min_step = std::min(min_step, v - last);
      last = v;
    }
  }
  std::vector<double> gaps;
  for (size_t i = 1; i < change_times.size(); ++i) gaps.push_back((change_times[i] - change_times[i - 1]) * 1e3);
  if (gaps.empty()) {
    std::printf("%-44s %zu changes in %.1f s\n", what, change_times.size(), seconds);
    return;
  }
  Stats s = stats_of(gaps);
  std::printf("%-44s %zu changes in %.1f s: interval median %.1f ms (min %.1f, max %.1f)", what,
              change_times.size(), seconds, s.median, s.min, s.max);
  if (min_step != ~0ULL) std::printf(", smallest increase %llu", min_step);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  int calls = argc > 1 ? std::atoi(argv[1]) : 200;
  double watch = argc > 2 ? std::atof(argv[2]) : 2.0;
  if (calls < 1) calls = 1;

  const char* env = std::getenv("EPOCHWATT_NVML_LIBRARY");
  std::string lib = env && *env ? env : "libnvidia-ml.so.1";
  void* h = ::dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    std::printf("bench_nvml_calls: cannot open %s (no NVIDIA driver here): nothing measured\n", lib.c_str());
    return 0;
  }
  auto init = reinterpret_cast<nvmlInit_v2_fn>(::dlsym(h, "nvmlInit_v2"));
  auto shutdown = reinterpret_cast<nvmlShutdown_fn>(::dlsym(h, "nvmlShutdown"));
  auto count_fn = reinterpret_cast<nvmlDeviceGetCount_v2_fn>(::dlsym(h, "nvmlDeviceGetCount_v2"));
  auto by_index = reinterpret_cast<nvmlDeviceGetHandleByIndex_v2_fn>(::dlsym(h, "nvmlDeviceGetHandleByIndex_v2"));
  auto energy = reinterpret_cast<nvmlDeviceGetTotalEnergyConsumption_fn>(
      ::dlsym(h, "nvmlDeviceGetTotalEnergyConsumption"));
  auto power = reinterpret_cast<nvmlDeviceGetPowerUsage_fn>(::dlsym(h, "nvmlDeviceGetPowerUsage"));
  auto name_fn = reinterpret_cast<nvmlDeviceGetName_fn>(::dlsym(h, "nvmlDeviceGetName"));
  auto driver_fn = reinterpret_cast<nvmlSystemGetDriverVersion_fn>(::dlsym(h, "nvmlSystemGetDriverVersion"));
  if (!init || !shutdown || !count_fn || !by_index || !power) {
    std::printf("bench_nvml_calls: %s is not a usable NVML library: nothing measured\n", lib.c_str());
    return 0;
  }
  nvmlReturn_t rc = init();
  unsigned int n = 0;
  if (rc != NVML_SUCCESS || count_fn(&n) != NVML_SUCCESS || n == 0) {
    std::printf("bench_nvml_calls: nvmlInit_v2 returned %d, %u GPU(s): nothing measured\n", rc, n);
    return 0;
  }
  char driver[kDriverVersionBufferSize] = "?";
  if (driver_fn) driver_fn(driver, sizeof driver);
  std::printf("NVML %s, driver %s, %u GPU(s); %d timed calls each\n", lib.c_str(), driver, n, calls);

  for (unsigned int i = 0; i < n; ++i) {
    nvmlDevice_t dev = nullptr;
    if (by_index(i, &dev) != NVML_SUCCESS) continue;
    char name[kNameBufferSize] = "?";
    if (name_fn) name_fn(dev, name, sizeof name);
    std::printf("GPU %u: %s\n", i, name);
    int failures = 0;
    if (energy) {
      auto us = time_calls(calls, failures, [&] {
        unsigned long long mj = 0;
        return energy(dev, &mj) == NVML_SUCCESS;
      });
      print_stats("  nvmlDeviceGetTotalEnergyConsumption", calls, failures, us);
    }
    auto us = time_calls(calls, failures, [&] {
      unsigned int mw = 0;
      return power(dev, &mw) == NVML_SUCCESS;
    });
    print_stats("  nvmlDeviceGetPowerUsage", calls, failures, us);
    if (energy)
      watch_changes("  energy counter (mJ) changes", watch, [&](unsigned long long& v) {
        return energy(dev, &v) == NVML_SUCCESS;
      });
    watch_changes("  power (mW) changes", watch, [&](unsigned long long& v) {
      unsigned int mw = 0;
      bool ok = power(dev, &mw) == NVML_SUCCESS;
      v = mw;
      return ok;
    });
  }
  shutdown();

  // The same through epochwatt's NVML backend: what one sampler read of one GPU costs.
  NvmlConfig cfg;
  NvmlDiscovery d = find_nvml(cfg);
  if (d.meters.empty()) {
    std::printf("epochwatt NVML backend: no meter (%s)\n", d.reason.c_str());
  } else {
    for (auto& m : d.meters) {
      m->open(now_s());
      int failures = 0;
      auto us = time_calls(calls, failures, [&] { return m->read(now_s()).ok; });
      std::string label = "  epochwatt Meter::read " + m->info().id + " [" + std::string(to_string(m->info().method)) + "]";
      print_stats(label.c_str(), calls, failures, us);
    }
  }
  ::dlclose(h);
  return 0;
}
