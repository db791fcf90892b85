#include "epochwatt/registry.hpp"

#include <algorithm>
#include <optional>

#include "core/format.hpp"
#include "epochwatt/errors.hpp"
#include "meters/estimate/estimate.hpp"
#include "meters/hwmon/hwmon.hpp"
#include "meters/nvml/nvml.hpp"
#include "meters/rapl/rapl.hpp"
#include "meters/replay/replay.hpp"
#include "meters/simulated/simulated.hpp"

namespace epochwatt {
namespace {

Discovery discover_simulated(const Options& o) {
  Discovery d;
  if (o.sim_gpu && o.sim_gpu_watts)
    d.meters.push_back(meters::make_simulated_meter(Component::gpu, *o.sim_gpu, *o.sim_gpu_watts * o.sim_gpu_util));
  if (o.sim_cpu && o.sim_cpu_tdp)
    d.meters.push_back(meters::make_simulated_meter(Component::cpu, *o.sim_cpu, *o.sim_cpu_tdp * o.sim_cpu_util));
  if (d.meters.empty())
    d.reason = "not requested: give --sim-cpu NAME --sim-cpu-tdp W and/or --sim-gpu NAME --sim-gpu-watts W";
  return d;
}

Discovery discover_replay(const Options& o) {
  Discovery d;
  if (!o.replay_trace) {
    d.reason = "not requested: give --replay TRACE.csv (columns t_s,power_mw,energy_mj)";
    return d;
  }
  try {
    auto trace = meters::load_trace(*o.replay_trace);
    std::string name = "replay:" + *o.replay_trace;
    d.meters.push_back(meters::make_replay_meter(std::move(trace), o.replay_component, name,
                                                 o.replay_use_power, o.replay_offset_s));
  } catch (const Error& e) {
    d.reason = e.what();
  }
  return d;
}

Discovery discover_rapl_backend(const Options& o) {
  meters::RaplConfig cfg;
  cfg.root = o.powercap_root;
  cfg.domains = o.rapl_domains;
  return meters::discover_rapl(cfg);
}

Discovery discover_nvml_backend(const Options& o) {
  meters::NvmlConfig cfg;
  if (!o.nvml_library.empty()) cfg.library = o.nvml_library;
  cfg.devices_by_pid = o.devices_by_pid;
  cfg.proc_root = o.proc_root;
  return meters::discover_nvml(cfg);
}

Discovery discover_hwmon_backend(const Options& o) {
  meters::HwmonConfig cfg;
  cfg.drm_root = o.drm_root;
  return meters::discover_hwmon(cfg);
}

Discovery discover_estimate_backend(const Options& o) {
  meters::EstimateConfig cfg;
  cfg.proc_root = o.proc_root;
  cfg.process_tree = o.estimate_process_tree;
  return meters::discover_estimate(cfg, true, true);
}

BackendRegistry make_builtin() {
  BackendRegistry r;
  r.add({"simulated", "constant power from carbontracker's sim_cpu/sim_gpu options",
         {Component::cpu, Component::gpu},
         {{"sim_cpu", "string", "", "--sim-cpu", "name of a simulated CPU (with sim_cpu_tdp)"},
          {"sim_cpu_tdp", "number", "", "--sim-cpu-tdp", "its TDP in W"},
          {"sim_cpu_util", "number", "0.5", "--sim-cpu-util", "its utilisation: it draws TDP x utilisation"},
          {"sim_gpu", "string", "", "--sim-gpu", "name of a simulated GPU (with sim_gpu_watts)"},
          {"sim_gpu_watts", "number", "", "--sim-gpu-watts", "its power in W"},
          {"sim_gpu_util", "number", "0.5", "--sim-gpu-util", "its utilisation: it draws watts x utilisation"}},
         discover_simulated});
  r.add({"replay", "plays a recorded power/energy-counter trace as a meter",
         {Component::cpu, Component::dram, Component::gpu},
         {{"replay_trace", "path", "", "--replay", "a recorded trace (CSV columns t_s,power_mw,energy_mj) played as a meter"},
          {"replay_component", "component", "gpu", "--replay-component", "the component the trace measures: gpu, cpu or dram"},
          {"replay_use_power", "bool", "false", "--replay-power", "integrate power_mw instead of reading energy_mj"},
          {"replay_offset_s", "number", "0", "--replay-offset", "trace time, in s, that corresponds to the tracker's start"}},
         discover_replay});
  // Real hardware, in order of preference per component: counters first, estimates last.
  r.add({"rapl", "CPU package and DRAM energy counters through Linux powercap (Intel RAPL, AMD)",
         {Component::cpu, Component::dram},
         {{"powercap_root", "path", "/sys/class/powercap", "--powercap-root", "where the RAPL zones are read (a test seam)"},
          {"rapl_domains", "list", "package,dram", "--rapl-domains", "RAPL domains: package, dram, core, uncore, psys (never a parent with its child)"}},
         discover_rapl_backend});
  r.add({"nvml", "NVIDIA GPUs through NVML: energy counter (Volta and newer), else integrated power",
         {Component::gpu},
         {{"nvml_library", "path", "", "--nvml-library", "NVML library to dlopen; empty: EPOCHWATT_NVML_LIBRARY, else libnvidia-ml.so.1"},
          {"devices_by_pid", "bool", "false", "--devices-by-pid", "count a GPU only while a process of this process tree runs on it"}},
         discover_nvml_backend});
  r.add({"hwmon", "AMD (amdgpu) and Intel (i915, xe) GPU energy or power through hwmon",
         {Component::gpu},
         {{"drm_root", "path", "/sys/class/drm", "--drm-root", "where the hwmon GPUs are read (a test seam)"}},
         discover_hwmon_backend});
  r.add({"estimate", "CPU TDP x utilisation from /proc/stat and DRAM from installed memory, where nothing can be read",
         {Component::cpu, Component::dram},
         {{"proc_root", "path", "/proc", "--proc-root", "where cpuinfo, stat and meminfo are read (a test seam)"},
          {"estimate_process_tree", "bool", "false", "--cpu-estimate-process-tree", "CPU estimate from the process tree's CPU time instead of the machine's utilisation"}},
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
  RunDiscovery out;
  auto console = [&](const std::string& text) {
    out.notes.push_back({Message::Channel::console, Severity::info, text, "MainThread"});
  };
  if (opt.sim_cpu && opt.sim_cpu_tdp)
    console("Using simulated CPU: " + *opt.sim_cpu + " with TDP: " + detail::fixed(*opt.sim_cpu_tdp * opt.sim_cpu_util, 2) +
            "W (at " + detail::fixed(opt.sim_cpu_util * 100, 0) + "% utilization)");
  if (opt.sim_gpu && opt.sim_gpu_watts)
    console("Using simulated GPU: " + *opt.sim_gpu + " with power consumption: " +
            detail::fixed(*opt.sim_gpu_watts * opt.sim_gpu_util, 2) + "W (at " + detail::fixed(opt.sim_gpu_util * 100, 0) +
            "% utilization)");

  const auto& backends = registry.backends();
  std::vector<std::optional<Discovery>> found(backends.size());
  auto discovered = [&](std::size_t i) -> Discovery& {
    if (!found[i]) {
      try {
        found[i] = backends[i].discover(opt);
      } catch (const std::exception& e) {
        found[i] = Discovery{};
        found[i]->reason = std::string("discovery failed: ") + e.what();
      }
    }
    return *found[i];
  };
  for (const auto& comp : parse_components(opt.components)) {
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
      // An explicit source's reason is noise ("not requested") unless the user asked for it.
      bool requested = spec.name == "replay" && opt.replay_trace.has_value();
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
  return out;
}

}  // namespace epochwatt

namespace epochwatt {

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
