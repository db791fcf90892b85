// The Meter interface: every energy source answers one question, "how many joules since you
// opened?", as a monotone cumulative figure. Counter sources (RAPL, NVML total energy, hwmon
// energy) answer it from hardware counters with wraparound handled by WrappingCounter; power-only
// sources integrate their samples with PowerIntegrator; estimates integrate a model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace epochwatt {

// The hardware part a meter measures. DRAM is reported inside carbontracker's "cpu" component.
enum class Component { cpu, dram, gpu };

// How a meter obtains its figures; carried into every report. The last two are never a live
// meter's: they describe runs read back from carbontracker-format logs (report/run_from_log.hpp).
//   sampled_power  carbontracker's figure: one mean of power samples per component and epoch,
//                  energy = that power x the epoch's duration
//   unknown        the log does not say how the figure was obtained
enum class Method { counter, integrated_power, estimate, simulated, replay, sampled_power, unknown };

std::string_view to_string(Component c);
// "counter", "integrated-power", "estimate", "simulated", "replay", "sampled-power", "unknown".
std::string_view to_string(Method m);
// carbontracker's report component of a meter: "gpu", or "cpu" (it counts DRAM in the CPU).
std::string_view report_component_of(Component c);

struct MeterInfo {
  std::string id;           // unique within a run, e.g. "sim:cpu", "replay:gpu0", "rapl:0"
  Component component = Component::cpu;
  std::string device_name;  // what carbontracker lists as a device, e.g. "cpu:0", "sim_gpu"
  Method method = Method::simulated;
  // How often the sampler should read this meter, in seconds; 0 = the tracker's update_interval.
  // Counters need only be read often enough to see at most one wrap between reads; power-only
  // sources need frequent reads for an accurate integral.
  double poll_period_s = 0.0;
  // How the figures are obtained, for people: "TDP 150 W from the TDP table (exact match: ...)
  // x /proc/stat utilisation", "energy counter", "nvmlDeviceGetPowerUsage integrated" ...
  std::string detail;
  // Components this meter's figure includes besides its own `component`: a Grace Hopper or Grace
  // Blackwell module's NVML counter {cpu, dram} (the Grace CPU and its memory), an AMD APU's hwmon
  // package power {cpu}, a RAPL psys zone {dram}. Its energy stays in its own component; no other
  // meter is read for these (discover_for_run), so nothing is counted twice.
  std::vector<Component> also_covers;
  // For people, when also_covers is not empty: what the figure covers and the vendor documentation
  // that says so ("NVML's energy counter of a Grace Hopper module covers ... (NVIDIA: ...)").
  std::string coverage;
  // A stable identity of the hardware, the same in every process that sees it (an NVIDIA GPU's
  // UUID "GPU-..."); empty: the device is known by its id alone. Multi-process jobs claim a GPU
  // by it, so that two processes never measure one GPU (docs/cluster.md).
  std::string hardware_id = {};
  // Multi-process jobs (docs/cluster.md, "Who measures what"): "node" for a node-wide meter (RAPL,
  // the CPU and DRAM estimates, any CPU or DRAM meter) that one process per node and job measures,
  // "device" for a GPU that one process of the node's job measures; empty: not shared (a single
  // process, Options::independent, or a meter only this process can read). Such a meter reads
  // 0 J while another process of the job holds its claim.
  std::string shared = {};
  // The election's claim: "<job>/<node>/<node|gpu:UUID>" (no step); empty when not shared.
  std::string claim = {};
};

struct MeterReading {
  double joules = 0.0;  // cumulative since open(); must never decrease
  bool ok = true;       // false: this read failed, the previous value stands
  bool lost = false;    // true: the device is gone for good; the sampler stops reading it
  std::string error;    // one line, for the user, when !ok
};

// Thread-safety: a Meter is used by one thread at a time (the sampler); implementations need no
// locking of their own. open() is called once before the first read().
class Meter {
 public:
  virtual ~Meter() = default;
  virtual const MeterInfo& info() const = 0;
  // Start measuring at monotonic time t (seconds, the tracker's clock).
  virtual void open(double t) = 0;
  // Joules since open() at monotonic time t (t is the time of the call, on the same clock).
  virtual MeterReading read(double t) = 0;
};

// Turns a raw hardware counter that wraps at max_range into monotone joules.
// A reading below the previous one is taken as one wrap (the caller polls fast enough for at
// most one wrap between reads); without a known range (max_range == 0) a decrease is reported
// as a reset and contributes nothing. Not thread-safe; owned by one meter.
class WrappingCounter {
 public:
  WrappingCounter(double joules_per_unit, std::uint64_t max_range)
      : scale_(joules_per_unit), max_range_(max_range) {}
  // Feed a raw value; returns the cumulative joules since the first value fed.
  double update(std::uint64_t raw);
  double joules() const { return total_units_ * scale_; }
  std::uint64_t wraps() const { return wraps_; }
  std::uint64_t resets() const { return resets_; }

 private:
  double scale_;
  std::uint64_t max_range_;
  bool primed_ = false;
  std::uint64_t last_ = 0;
  long double total_units_ = 0;
  std::uint64_t wraps_ = 0;
  std::uint64_t resets_ = 0;
};

// Integrates power samples over time (trapezoid rule) into joules. Not thread-safe.
class PowerIntegrator {
 public:
  // Add a power sample (watts) taken at monotonic time t; returns cumulative joules.
  double add(double t, double watts);
  double joules() const { return joules_; }

 private:
  bool primed_ = false;
  double last_t_ = 0.0;
  double last_w_ = 0.0;
  double joules_ = 0.0;
};

}  // namespace epochwatt
