// Backends: each one declares its name, description and the components it serves as data, and
// discovers meters or says, in one line, why it found none. `epochwatt devices` prints them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "epochwatt/meter.hpp"
#include "epochwatt/options.hpp"
#include "epochwatt/reporter.hpp"
#include "epochwatt/tracker.hpp"

namespace epochwatt {

// One thing discovery learned, for people. `affects_coverage` marks a note that changes what the
// run's total covers, so that a reader of the total must know it: a selected device that cannot be
// measured (left out), a selection entry that was ignored (CUDA_VISIBLE_DEVICES, SLURM_*), a
// device measured with more than was selected (a MIG instance measured as its whole parent), a
// selection that may name another device than meant. A run carries these to its err channel (a
// WARNING), its err log, the JSON summary's `warnings` and the HTML report's warnings
// (discover_for_run, RunDiscovery::coverage_warnings). Other notes (the driver's version, a
// duplicate measured once) are for `epochwatt devices` only.
struct DiscoveryNote {
  std::string text;
  bool affects_coverage = false;
  DiscoveryNote() = default;
  // A plain note from its text (implicit, so that a backend writes notes.push_back("...")).
  DiscoveryNote(std::string t, bool coverage = false) : text(std::move(t)), affects_coverage(coverage) {}
  DiscoveryNote(const char* t, bool coverage = false) : text(t), affects_coverage(coverage) {}
};
// A note that changes what the total covers (DiscoveryNote::affects_coverage).
inline DiscoveryNote coverage_note(std::string text) { return DiscoveryNote(std::move(text), true); }

struct Discovery {
  std::vector<std::shared_ptr<Meter>> meters;
  std::string reason;  // why nothing was found, and the fix; empty when meters were found
  std::vector<DiscoveryNote> notes;  // what was skipped and why (duplicates, unreadable parts)
};

// The value of a backend option, as its declared type says: "string" and "path" hold a
// std::string, "number" a double, "bool" a bool, "component" a Component, "list" the items of a
// comma list.
using BackendValue = std::variant<std::string, double, bool, Component, std::vector<std::string>>;

// Where a backend option lives in the public Options (Options::powercap_root, ...), which the
// Python package and C++ users set: `read` gives its value (none when an optional member is
// unset), `write` stores one of the option's type. Made by options_field(&Options::member).
struct OptionsField {
  std::function<std::optional<BackendValue>(const Options&)> read;
  std::function<void(Options&, const BackendValue&)> write;
};
template <class T>
OptionsField options_field(T Options::*member);

// One option a backend reads, as data. This row is all it takes: the CLI registers its flag from
// it (src/cli/cmd_run.cpp, one loop), `epochwatt devices --json` lists it with its value, the
// table in docs/options.md is generated from it (checked by a test), and backend_config() hands
// its value to the backend.
struct BackendOption {
  // The Options member and Python keyword, e.g. "powercap_root"; for a row without a member of
  // its own, the key in Options::backend_options.
  std::string name;
  std::string type;           // "string", "path", "number", "bool", "component", "list"
  std::string default_value;  // as a user writes it ("" when none)
  std::string cli_flag;       // the CLI's flag, e.g. "--powercap-root" (a bool's flag takes no value)
  std::string help;           // one line
  // The members below have defaults, so that a row of the five above is a whole row.
  std::string metavar = {};   // the value's name in --help ("W", "DIR"); empty: from the type
  bool seam = false;          // where meters are read from (a test seam): listed last in --help
  // The Options member that holds the value; none: Options::backend_options[name], as text.
  OptionsField field = {};
};

class BackendConfig;

struct BackendSpec {
  std::string name;         // "simulated", "replay", "rapl", "nvml", "hwmon", "estimate"
  std::string description;  // one line
  std::vector<Component> components;
  std::vector<BackendOption> options;  // the options this backend declares
  // Finds meters from the values of this backend's options, and of those alone (backend_config).
  std::function<Discovery(const BackendConfig&)> discover;
  // Options another backend declares that this one reads as well, by name (nvml: proc_root, the
  // /proc that devices_by_pid walks). They are listed (CLI, docs) once, under the declaring backend.
  std::vector<std::string> shared_options = {};
};

// The values of one backend's options (its own and its shared ones), resolved from Options by
// backend_config(): all that the backend's discover() is given. Plain data; copy freely.
class BackendConfig {
 public:
  explicit BackendConfig(std::string backend = "") : backend_(std::move(backend)) {}
  // Declares `name` with `value` (none: unset; an option without default that nobody set).
  void set(const std::string& name, std::optional<BackendValue> value);

  const std::string& backend() const { return backend_; }
  bool declares(const std::string& name) const { return values_.count(name) > 0; }
  // Whether `name` holds a value. std::logic_error for a name the backend does not declare.
  bool has(const std::string& name) const;
  // The value of `name`, as its type. std::logic_error for a name the backend does not declare,
  // another type, or an unset value (ask has() first): a backend reads only its own options.
  const std::string& text(const std::string& name) const;  // "string", "path"
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;
  Component component(const std::string& name) const;
  const std::vector<std::string>& list(const std::string& name) const;
  // Every declared option, by name, with its value or none.
  const std::map<std::string, std::optional<BackendValue>>& values() const { return values_; }

 private:
  template <class T>
  const T& get(const std::string& name) const;
  std::string backend_;
  std::map<std::string, std::optional<BackendValue>> values_;
};

// The ordered list of backends. The built-in registry is filled once at start-up; adding
// backends concurrently with discovery is not supported (thread-safety: read-only after setup).
class BackendRegistry;
// The one place where a backend's option values are read from Options: each declared or shared
// option from its Options field, else from Options::backend_options (parsed as its type), else
// its declared default, else unset. Throws OptionsError for a backend_options value that does not
// parse, std::logic_error for a shared option no backend of `registry` declares.
BackendConfig backend_config(const BackendSpec& backend, const Options& options, const BackendRegistry& registry);

// Checks Options::backend_options against `registry`: every name declared by a backend, without
// an Options member of its own, with a value of its type. Throws OptionsError. The Tracker calls it
// with validate(); discover_for_run() too.
void validate_backend_options(const Options& options, const BackendRegistry& registry);

// `text`, as a user writes it, read as `option`'s type: a finite number ("0.5"), true or false,
// gpu, cpu or dram, a comma list (empty items dropped), else the text itself. Throws OptionsError
// with what is wrong ("'10W' is not a finite number"), without the option: the caller says where
// the text came from.
BackendValue parse_backend_value(const BackendOption& option, const std::string& text);
// A value as a user writes it: parse_backend_value's inverse ("0.5", "true", "package,dram").
std::string backend_value_text(const BackendValue& value);
// Stores `value` (of the option's type) where backend_config() reads it: the option's Options
// field, else Options::backend_options[option.name] as text.
void set_backend_option(Options& options, const BackendOption& option, const BackendValue& value);

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
//
// Coverage: a meter whose figure includes other components (MeterInfo::also_covers: a Grace Hopper
// module counter covers the CPU and memory; an APU's package power, the CPU) is the only meter of
// those components: no other backend is asked for them, and a meter of theirs found before it is
// dropped, so that no component is counted twice. What covers what is said once in `notes` (err
// channel, INFO). Every discovery note that changes what the total covers
// (DiscoveryNote::affects_coverage) of a backend whose meters the run uses is in
// `coverage_warnings`, prefixed with the backend's name ("nvml: GPU 1 (...) cannot be measured: ...").
struct RunDiscovery {
  std::vector<std::shared_ptr<Meter>> meters;  // in report order
  std::vector<Message> notes;
  std::vector<std::string> coverage_warnings;  // the run reports each as a warning (TrackerParts)
};
RunDiscovery discover_for_run(const Options& options, const BackendRegistry& registry = BackendRegistry::builtin());

namespace detail {
template <class T>
struct OptionalValue {
  using type = T;
  static constexpr bool optional = false;
};
template <class T>
struct OptionalValue<std::optional<T>> {
  using type = T;
  static constexpr bool optional = true;
};
}  // namespace detail

template <class T>
OptionsField options_field(T Options::*member) {
  using Value = typename detail::OptionalValue<T>::type;
  static_assert(std::is_constructible_v<BackendValue, std::in_place_type_t<Value>, const Value&>,
                "a backend option's Options member holds one of BackendValue's types");
  OptionsField f;
  f.read = [member](const Options& o) -> std::optional<BackendValue> {
    const T& v = o.*member;
    if constexpr (detail::OptionalValue<T>::optional) {
      if (!v) return std::nullopt;
      return BackendValue(std::in_place_type<Value>, *v);
    } else {
      return BackendValue(std::in_place_type<Value>, v);
    }
  };
  // std::bad_variant_access when the value has another type than the member.
  f.write = [member](Options& o, const BackendValue& v) { o.*member = std::get<Value>(v); };
  return f;
}

}  // namespace epochwatt
