// Backends: each one declares its name, description and the components it serves as data, and
// discovers meters or says, in one line, why it found none. `epochwatt devices` prints them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "epochwatt/meter.hpp"
#include "epochwatt/options.hpp"
#include "epochwatt/reporter.hpp"
#include "epochwatt/tracker.hpp"

namespace epochwatt {

struct Discovery {
  std::vector<std::shared_ptr<Meter>> meters;
  std::string reason;  // why nothing was found, and the fix; empty when meters were found
  std::vector<std::string> notes;  // what was skipped and why (duplicates, unreadable parts)
};

struct BackendSpec {
  std::string name;         // "simulated", "replay", "rapl", "nvml", "hwmon", "estimate"
  std::string description;  // one line
  std::vector<Component> components;
  std::vector<std::string> option_names;  // the options this backend reads
  std::function<Discovery(const Options&)> discover;
};

// The ordered list of backends. The built-in registry is filled once at start-up; adding
// backends concurrently with discovery is not supported (thread-safety: read-only after setup).
class BackendRegistry {
 public:
  static BackendRegistry& builtin();
  void add(BackendSpec spec);
  const std::vector<BackendSpec>& backends() const { return backends_; }

 private:
  std::vector<BackendSpec> backends_;
};

// The meters of a run, one report component at a time (Options::components): the simulated or
// replayed meter if one was asked for, else the first backend, in registry order (counters before
// estimates), that finds meters for it; then Options::meters. Backends run lazily, once each, so
// an estimate is never built where a counter answered. `notes` holds what the run should say about
// it: the simulated devices (console lines) and, per component with no meter, why (err channel:
// WARNING when asked for by name, INFO as part of "all").
struct RunDiscovery {
  std::vector<MeterChoice> meters;
  std::vector<Message> notes;
};
RunDiscovery discover_for_run(const Options& options, const BackendRegistry& registry = BackendRegistry::builtin());

}  // namespace epochwatt
