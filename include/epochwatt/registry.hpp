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

// One option a backend reads, as data: `epochwatt devices --json`, the CLI's help and the table
// in docs/options.md (checked by a test) all come from these.
struct BackendOption {
  std::string name;           // the Options field and Python keyword, e.g. "powercap_root"
  std::string type;           // "string", "path", "number", "bool", "component", "list"
  std::string default_value;  // as a user writes it ("" when none)
  std::string cli_flag;       // the CLI's flag, e.g. "--powercap-root"
  std::string help;           // one line
};

struct BackendSpec {
  std::string name;         // "simulated", "replay", "rapl", "nvml", "hwmon", "estimate"
  std::string description;  // one line
  std::vector<Component> components;
  std::vector<BackendOption> options;  // the options this backend reads
  std::function<Discovery(const Options&)> discover;
};

// The ordered list of backends. The built-in registry is filled once at start-up; adding
// backends concurrently with discovery is not supported (thread-safety: read-only after setup).
class BackendRegistry;
// The rows of docs/options.md's backend table, one per option of every backend, in registry order:
// "| `name` | backend | type | default | `--flag` | help |".
std::string backend_options_markdown(const BackendRegistry& registry);

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
  std::vector<std::shared_ptr<Meter>> meters;  // in report order
  std::vector<Message> notes;
};
RunDiscovery discover_for_run(const Options& options, const BackendRegistry& registry = BackendRegistry::builtin());

}  // namespace epochwatt
