#include "epochwatt/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "core/format.hpp"
#include "epochwatt/errors.hpp"
#include "meters/estimate/estimate.hpp"
#include "meters/hwmon/hwmon.hpp"
#include "meters/nvml/nvml.hpp"
#include "meters/rapl/rapl.hpp"
#include "meters/replay/replay.hpp"
#include "meters/simulated/simulated.hpp"
#include "meters/sysfs/proc_root.hpp"

namespace epochwatt {
namespace {

// Each backend's discovery, from the values of its own options (BackendConfig) and nothing else.

Discovery discover_simulated(const BackendConfig& c) {
  Discovery d;
  if (c.has("sim_gpu") && c.has("sim_gpu_watts"))
    d.meters.push_back(meters::make_simulated_meter(Component::gpu, c.text("sim_gpu"),
                                                    c.number("sim_gpu_watts") * c.number("sim_gpu_util")));
  if (c.has("sim_cpu") && c.has("sim_cpu_tdp"))
    d.meters.push_back(meters::make_simulated_meter(Component::cpu, c.text("sim_cpu"),
                                                    c.number("sim_cpu_tdp") * c.number("sim_cpu_util")));
  if (d.meters.empty())
    d.reason = "not requested: give --sim-cpu NAME --sim-cpu-tdp W and/or --sim-gpu NAME --sim-gpu-watts W";
  return d;
}

Discovery discover_replay(const BackendConfig& c) {
  Discovery d;
  if (!c.has("replay_trace")) {
    d.reason = "not requested: give --replay TRACE.csv (columns t_s,power_mw,energy_mj)";
    return d;
  }
  try {
    const std::string& path = c.text("replay_trace");
    std::vector<std::string> left_out;  // rows out of range, with file and line: the total lacks them
    auto trace = meters::load_trace(path, &left_out);
    for (auto& w : left_out) d.notes.push_back(coverage_note(std::move(w)));
    d.meters.push_back(meters::make_replay_meter(std::move(trace), c.component("replay_component"), "replay:" + path,
                                                 c.boolean("replay_use_power"), c.number("replay_offset_s")));
  } catch (const Error& e) {
    d.reason = e.what();
  }
  return d;
}

Discovery discover_rapl_backend(const BackendConfig& c) {
  meters::RaplConfig cfg;
  cfg.root = c.text("powercap_root");
  cfg.domains = c.list("rapl_domains");
  return meters::discover_rapl(cfg);
}

Discovery discover_nvml_backend(const BackendConfig& c) {
  meters::NvmlConfig cfg;
  if (!c.text("nvml_library").empty()) cfg.library = c.text("nvml_library");
  cfg.devices_by_pid = c.boolean("devices_by_pid");
  meters::ProcRoot proc = cfg.devices_by_pid ? meters::locate_proc_root(*cfg.reader, c.text("proc_root"))
                                             : meters::ProcRoot{c.text("proc_root"), "", ""};
  cfg.proc_root = proc.root;
  Discovery d = meters::discover_nvml(cfg);
  for (const auto* n : {&proc.note, &proc.problem})
    if (!n->empty()) d.notes.push_back(*n);
  return d;
}

Discovery discover_hwmon_backend(const BackendConfig& c) {
  meters::HwmonConfig cfg;
  cfg.drm_root = c.text("drm_root");
  return meters::discover_hwmon(cfg);
}

Discovery discover_estimate_backend(const BackendConfig& c) {
  meters::EstimateConfig cfg;
  meters::ProcRoot proc = meters::locate_proc_root(*cfg.reader, c.text("proc_root"));
  cfg.proc_root = proc.root;
  cfg.process_tree = c.boolean("estimate_process_tree");
  Discovery d = meters::discover_estimate(cfg, true, true);
  if (!proc.note.empty()) d.notes.insert(d.notes.begin(), proc.note);
  if (!proc.problem.empty()) {
    if (d.meters.empty()) d.reason += (d.reason.empty() ? "" : "; ") + proc.problem;
    else d.notes.push_back(proc.problem);
  }
  return d;
}

// The backends and their options. A row of `options` is all an option needs (BackendOption); the
// field binding keeps the public Options members the Python package and C++ users set.
BackendRegistry make_builtin() {
  BackendRegistry r;
  r.add({"simulated", "constant power from carbontracker's sim_cpu/sim_gpu options",
         {Component::cpu, Component::gpu},
         {{"sim_cpu", "string", "", "--sim-cpu", "name of a simulated CPU (with sim_cpu_tdp)", "NAME", false,
           options_field(&Options::sim_cpu)},
          {"sim_cpu_tdp", "number", "", "--sim-cpu-tdp", "its TDP in W", "W", false, options_field(&Options::sim_cpu_tdp)},
          {"sim_cpu_util", "number", "0.5", "--sim-cpu-util", "its utilisation: it draws TDP x utilisation", "U", false,
           options_field(&Options::sim_cpu_util)},
          {"sim_gpu", "string", "", "--sim-gpu", "name of a simulated GPU (with sim_gpu_watts)", "NAME", false,
           options_field(&Options::sim_gpu)},
          {"sim_gpu_watts", "number", "", "--sim-gpu-watts", "its power in W", "W", false,
           options_field(&Options::sim_gpu_watts)},
          {"sim_gpu_util", "number", "0.5", "--sim-gpu-util", "its utilisation: it draws watts x utilisation", "U", false,
           options_field(&Options::sim_gpu_util)}},
         discover_simulated});
  r.add({"replay", "plays a recorded power/energy-counter trace as a meter",
         {Component::cpu, Component::dram, Component::gpu},
         {{"replay_trace", "path", "", "--replay", "a recorded trace (CSV columns t_s,power_mw,energy_mj) played as a meter",
           "TRACE.csv", false, options_field(&Options::replay_trace)},
          {"replay_component", "component", "gpu", "--replay-component", "the component the trace measures: gpu, cpu or dram",
           "gpu|cpu|dram", false, options_field(&Options::replay_component)},
          {"replay_use_power", "bool", "false", "--replay-power", "integrate power_mw instead of reading energy_mj", "",
           false, options_field(&Options::replay_use_power)},
          {"replay_offset_s", "number", "0", "--replay-offset", "trace time, in s, that corresponds to the tracker's start",
           "S", false, options_field(&Options::replay_offset_s)}},
         discover_replay});
  // Real hardware, in order of preference per component: counters first, estimates last.
  r.add({"rapl", "CPU package and DRAM energy counters through Linux powercap (Intel RAPL, AMD)",
         {Component::cpu, Component::dram},
         {{"powercap_root", "path", "/sys/class/powercap", "--powercap-root", "where the RAPL zones are read (a test seam)",
           "DIR", true, options_field(&Options::powercap_root)},
          {"rapl_domains", "list", "package,dram", "--rapl-domains",
           "RAPL domains: package, dram, core, uncore, psys (never a parent with its child)", "LIST", false,
           options_field(&Options::rapl_domains)}},
         discover_rapl_backend});
  r.add({"nvml", "NVIDIA GPUs through NVML: energy counter (Volta and newer), else integrated power",
         {Component::gpu},
         {{"nvml_library", "path", "", "--nvml-library",
           "NVML library to dlopen; empty: EPOCHWATT_NVML_LIBRARY, else libnvidia-ml.so.1", "PATH", true,
           options_field(&Options::nvml_library)},
          {"devices_by_pid", "bool", "false", "--devices-by-pid",
           "count a GPU only while a process of this process tree runs on it", "", false,
           options_field(&Options::devices_by_pid)}},
         discover_nvml_backend,
         {"proc_root"}});
  r.add({"hwmon", "AMD (amdgpu) and Intel (i915, xe) GPU energy or power through hwmon",
         {Component::gpu},
         {{"drm_root", "path", "/sys/class/drm", "--drm-root", "where the hwmon GPUs are read (a test seam)", "DIR", true,
           options_field(&Options::drm_root)}},
         discover_hwmon_backend});
  r.add({"estimate", "CPU TDP x utilisation from /proc/stat and DRAM from installed memory, where nothing can be read",
         {Component::cpu, Component::dram},
         {{"proc_root", "path", "/proc", "--proc-root", "where cpuinfo, stat and meminfo are read (a test seam)", "DIR",
           true, options_field(&Options::proc_root)},
          {"estimate_process_tree", "bool", "false", "--cpu-estimate-process-tree",
           "CPU estimate from the process tree's CPU time instead of the machine's utilisation", "", false,
           options_field(&Options::estimate_process_tree)}},
         discover_estimate_backend});
  return r;
}

}  // namespace

BackendRegistry& BackendRegistry::builtin() {
  static BackendRegistry registry = make_builtin();
  return registry;
}

void BackendRegistry::add(BackendSpec spec) { backends_.push_back(std::move(spec)); }

}  // namespace epochwatt

namespace epochwatt {

RunDiscovery discover_for_run(const Options& opt, const BackendRegistry& registry) {
  validate_backend_options(opt, registry);
  const auto& backends = registry.backends();
  std::vector<BackendConfig> configs;
  for (const auto& spec : backends) configs.push_back(backend_config(spec, opt, registry));

  RunDiscovery out;
  auto console = [&](const std::string& text) {
    out.notes.push_back({Message::Channel::console, Severity::info, text, "MainThread"});
  };
  // carbontracker's lines for its simulated devices, from the simulated backend's own values.
  for (const auto& c : configs) {
    if (c.backend() != "simulated") continue;
    if (c.has("sim_cpu") && c.has("sim_cpu_tdp")) {
      double util = c.number("sim_cpu_util");
      console("Using simulated CPU: " + c.text("sim_cpu") + " with TDP: " + detail::fixed(c.number("sim_cpu_tdp") * util, 2) +
              "W (at " + detail::fixed(util * 100, 0) + "% utilization)");
    }
    if (c.has("sim_gpu") && c.has("sim_gpu_watts")) {
      double util = c.number("sim_gpu_util");
      console("Using simulated GPU: " + c.text("sim_gpu") + " with power consumption: " +
              detail::fixed(c.number("sim_gpu_watts") * util, 2) + "W (at " + detail::fixed(util * 100, 0) +
              "% utilization)");
    }
  }

  std::vector<std::optional<Discovery>> found(backends.size());
  auto discovered = [&](std::size_t i) -> Discovery& {
    if (!found[i]) {
      try {
        found[i] = backends[i].discover(configs[i]);
      } catch (const std::exception& e) {
        found[i] = Discovery{};
        found[i]->reason = std::string("discovery failed: ") + e.what();
      }
    }
    return *found[i];
  };
  // The components (DRAM in "cpu") a chosen meter's figure includes besides its own.
  auto covered_by = [&](Component c) -> std::shared_ptr<Meter> {
    for (const auto& m : out.meters) {
      const auto& also = m->info().also_covers;
      if (std::find(also.begin(), also.end(), c) != also.end()) return m;
    }
    return nullptr;
  };
  std::vector<std::size_t> used;  // backends whose meters the run uses
  for (const auto& comp : parse_components(opt.components)) {
    // A report component whose every part another meter already covers is not measured again.
    bool whole = comp == "gpu" ? covered_by(Component::gpu) != nullptr
                               : covered_by(Component::cpu) != nullptr && covered_by(Component::dram) != nullptr;
    if (whole) continue;
    std::vector<std::shared_ptr<Meter>> chosen;
    std::vector<std::string> reasons;
    for (std::size_t i = 0; i < backends.size() && chosen.empty(); ++i) {
      const auto& spec = backends[i];
      bool serves = std::any_of(spec.components.begin(), spec.components.end(),
                                [&](Component c) { return report_component_of(c) == comp; });
      bool explicit_source = spec.name == "simulated" || spec.name == "replay";
      if (!serves || (!explicit_source && !opt.discover_meters)) continue;
      Discovery& disc = discovered(i);
      for (const auto& m : disc.meters)
        if (report_component_of(m->info().component) == comp) chosen.push_back(m);
      if (!chosen.empty() && std::find(used.begin(), used.end(), i) == used.end()) used.push_back(i);
      // An explicit source's reason is noise ("not requested") unless the user asked for it.
      bool requested = spec.name == "replay" && configs[i].has("replay_trace");
      if (chosen.empty() && !disc.reason.empty() && (!explicit_source || requested))
        reasons.push_back(spec.name + ": " + disc.reason);
    }
    for (const auto& m : opt.meters)
      if (m && report_component_of(m->info().component) == comp) chosen.push_back(m);
    if (chosen.empty()) {
      // Asked for by name: a warning; part of "all": for information (a CPU-only machine).
      Severity level = opt.components == "all" ? Severity::info : Severity::warning;
      out.notes.push_back({Message::Channel::err, level, comp == "gpu" ? "No GPU(s) available." : "No CPU(s) available.",
                           "MainThread"});
      for (const auto& r : reasons) out.notes.push_back({Message::Channel::err, level, "  " + r, "MainThread"});
    }
    for (auto& m : chosen) out.meters.push_back(m);
  }

  // Never count a component twice: a meter of a component that another meter's figure includes is
  // dropped (a CPU estimate beside a Grace Hopper module counter), and what covers what is said.
  std::vector<std::shared_ptr<Meter>> kept;
  std::vector<std::pair<std::shared_ptr<Meter>, std::vector<std::string>>> coverers;
  for (const auto& m : out.meters)
    if (!m->info().also_covers.empty()) coverers.push_back({m, {}});
  for (const auto& m : out.meters) {
    bool dropped = false;
    if (m->info().also_covers.empty())
      for (auto& [c, left_out] : coverers) {
        const auto& also = c->info().also_covers;
        if (std::find(also.begin(), also.end(), m->info().component) == also.end()) continue;
        left_out.push_back(m->info().device_name + " (" + std::string(to_string(m->info().method)) + ")");
        dropped = true;
        break;
      }
    if (!dropped) kept.push_back(m);
  }
  out.meters = std::move(kept);
  for (const auto& [c, left_out] : coverers) {
    const MeterInfo& info = c->info();
    std::vector<std::string> parts;
    for (Component k : info.also_covers) parts.emplace_back(to_string(k));
    std::string text = info.device_name + " (" + info.id + ", " + std::string(to_string(info.method)) +
                       ") covers " + detail::join(parts, " and ") + " as well as its " +
                       std::string(to_string(info.component)) + ": " +
                       (info.coverage.empty() ? std::string("its figure includes them") : info.coverage) +
                       ". They are not measured separately, so that nothing is counted twice";
    if (!left_out.empty()) text += "; left out: " + detail::join(left_out, ", ");
    out.notes.push_back({Message::Channel::err, Severity::info, text + ".", "MainThread"});
  }

  // What discovery learned that changes what the total covers, from the backends the run uses.
  for (std::size_t i : used)
    for (const auto& n : found[i]->notes)
      if (n.affects_coverage) out.coverage_warnings.push_back(backends[i].name + ": " + n.text);
  return out;
}

}  // namespace epochwatt

namespace epochwatt {

// ---- backend options: values, their text, and where they live in Options

namespace {

std::string quoted(const std::string& text) { return "'" + text + "'"; }

const char* type_of(const BackendValue& v) {
  switch (v.index()) {
    case 0: return "string";
    case 1: return "number";
    case 2: return "bool";
    case 3: return "component";
    default: return "list";
  }
}

// Whether `v` holds what `type` ("path" is a string) says.
bool holds_type(const BackendValue& v, const std::string& type) {
  return type_of(v) == type || (type == "path" && std::holds_alternative<std::string>(v));
}

// The option `name` as `backend` declares it or, for a shared option, as the backend that
// declares it does.
const BackendOption* find_option(const BackendSpec& backend, const std::string& name, const BackendRegistry& registry) {
  for (const auto& o : backend.options)
    if (o.name == name) return &o;
  for (const auto& b : registry.backends())
    for (const auto& o : b.options)
      if (o.name == name) return &o;
  return nullptr;
}

}  // namespace

void BackendConfig::set(const std::string& name, std::optional<BackendValue> value) { values_[name] = std::move(value); }

bool BackendConfig::has(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    throw std::logic_error("backend " + backend_ + " reads the option " + name + ", which it does not declare");
  return it->second.has_value();
}

template <class T>
const T& BackendConfig::get(const std::string& name) const {
  if (!has(name)) throw std::logic_error("backend " + backend_ + " reads the option " + name + ", which is unset");
  const BackendValue& v = *values_.at(name);
  if (!std::holds_alternative<T>(v))
    throw std::logic_error("backend " + backend_ + " reads the option " + name + " as another type than its " +
                           type_of(v));
  return std::get<T>(v);
}

const std::string& BackendConfig::text(const std::string& name) const { return get<std::string>(name); }
double BackendConfig::number(const std::string& name) const { return get<double>(name); }
bool BackendConfig::boolean(const std::string& name) const { return get<bool>(name); }
Component BackendConfig::component(const std::string& name) const { return get<Component>(name); }
const std::vector<std::string>& BackendConfig::list(const std::string& name) const {
  return get<std::vector<std::string>>(name);
}

BackendValue parse_backend_value(const BackendOption& option, const std::string& text) {
  const std::string& t = option.type;
  if (t == "number") {
    // from_chars: the whole text must be the number, and no locale can turn "0.5" into another.
    double x = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, x);
    if (text.empty() || ec != std::errc() || p != end || !std::isfinite(x))
      throw OptionsError(quoted(text) + " is not a finite number");
    return x;
  }
  if (t == "bool") {
    if (text == "true") return true;
    if (text == "false") return false;
    throw OptionsError(quoted(text) + " is not true or false");
  }
  if (t == "component") {
    for (Component c : {Component::gpu, Component::cpu, Component::dram})
      if (text == to_string(c)) return c;
    throw OptionsError(quoted(text) + " is not one of gpu, cpu, dram");
  }
  if (t == "list") {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t comma = text.find(',', start);
      std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!item.empty()) out.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }
  if (t == "string" || t == "path") return text;
  throw std::logic_error("the option " + option.name + " has the unknown type " + t);
}

std::string backend_value_text(const BackendValue& value) {
  struct Text {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(double x) const {
      char buf[32];
      auto res = std::to_chars(buf, buf + sizeof buf, x);  // shortest round trip, no locale
      return std::string(buf, res.ptr);
    }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(Component c) const { return std::string(to_string(c)); }
    std::string operator()(const std::vector<std::string>& items) const {
      std::string out;
      for (const auto& item : items) {  // appends only: g++ 12 -O3 -Wrestrict (GCC bug 105651)
        if (!out.empty()) out += ',';
        out += item;
      }
      return out;
    }
  };
  return std::visit(Text{}, value);
}

void set_backend_option(Options& options, const BackendOption& option, const BackendValue& value) {
  if (!holds_type(value, option.type))
    throw std::logic_error("the option " + option.name + " (" + option.type + ") was given a " + type_of(value));
  if (option.field.write)
    option.field.write(options, value);
  else
    options.backend_options[option.name] = backend_value_text(value);
}

BackendConfig backend_config(const BackendSpec& backend, const Options& options, const BackendRegistry& registry) {
  BackendConfig config(backend.name);
  auto resolve = [&](const BackendOption& o) -> std::optional<BackendValue> {
    if (o.field.read) return o.field.read(options);
    auto given = options.backend_options.find(o.name);
    if (given != options.backend_options.end()) {
      try {
        return parse_backend_value(o, given->second);
      } catch (const OptionsError& e) {
        throw OptionsError("backend option " + o.name + ": " + e.what());
      }
    }
    if (o.default_value.empty() && o.type != "list") return std::nullopt;
    return parse_backend_value(o, o.default_value);
  };
  for (const auto& o : backend.options) config.set(o.name, resolve(o));
  for (const auto& name : backend.shared_options) {
    const BackendOption* o = find_option(backend, name, registry);
    if (!o) throw std::logic_error("backend " + backend.name + " shares the option " + name + ", which no backend declares");
    config.set(name, resolve(*o));
  }
  return config;
}

void validate_backend_options(const Options& options, const BackendRegistry& registry) {
  for (const auto& [name, text] : options.backend_options) {
    const BackendOption* declared = nullptr;
    for (const auto& b : registry.backends())
      for (const auto& o : b.options)
        if (o.name == name) declared = &o;
    if (!declared) throw OptionsError("backend_options: no backend declares an option named " + quoted(name));
    if (declared->field.read)
      throw OptionsError("backend_options: " + name + " has its own member, Options::" + name + "; set that instead");
    try {
      (void)parse_backend_value(*declared, text);
    } catch (const OptionsError& e) {
      throw OptionsError("backend option " + name + ": " + e.what());
    }
  }
}

std::string backend_options_markdown(const BackendRegistry& registry) {
  std::string out = "| option | backend | type | default | CLI flag | meaning |\n|---|---|---|---|---|---|\n";
  for (const auto& b : registry.backends())
    for (const auto& o : b.options)
      out += "| `" + o.name + "` | " + b.name + " | " + o.type + " | " +
             (o.default_value.empty() ? std::string("none") : "`" + o.default_value + "`") + " | `" + o.cli_flag +
             "` | " + o.help + " |\n";
  return out;
}

}  // namespace epochwatt
