#include "report/run_from_log.hpp"

#include <algorithm>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "core/format.hpp"
#include "epochwatt/options.hpp"

namespace epochwatt::detail {
namespace {

std::optional<Component> component_named(std::string_view name) {
  for (Component c : {Component::cpu, Component::dram, Component::gpu})
    if (to_string(c) == name) return c;
  return std::nullopt;
}

std::optional<Method> method_named(std::string_view name) {
  for (Method m : {Method::counter, Method::integrated_power, Method::estimate, Method::simulated, Method::replay,
                   Method::sampled_power, Method::unknown})
    if (to_string(m) == name) return m;
  return std::nullopt;
}

// The methods of an extension line's `[counter,estimate]`, in order.
std::vector<std::string> split_methods(const std::string& list) {
  std::vector<std::string> out;
  for (std::size_t from = 0; from <= list.size();) {
    std::size_t comma = list.find(',', from);
    std::string m = list.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    if (!m.empty()) out.push_back(m);
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

// carbontracker's address "{city}, {region}, {CC}" (or "{CC}") as a Location; "Unknown",
// "UNDETECTED" or any other form give an empty one. The rule that located the run is not logged.
Location location_of(const std::string& address) {
  Location loc;
  loc.rule.clear();
  std::vector<std::string> parts;
  for (std::size_t from = 0; from <= address.size();) {
    std::size_t sep = address.find(", ", from);
    parts.push_back(address.substr(from, sep == std::string::npos ? std::string::npos : sep - from));
    if (sep == std::string::npos) break;
    from = sep + 2;
  }
  const std::string& cc = parts.back();
  bool alpha2 = cc.size() == 2 && std::all_of(cc.begin(), cc.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!alpha2 || (parts.size() != 1 && parts.size() != 3)) return loc;
  loc.country = cc;
  if (parts.size() == 3) loc.city = parts[0], loc.region = parts[1];
  return loc;
}

// An output log block as the run model holds it. `intensity`: the value the block was computed
// at when the log says it (> 0), else the block's own gCO2e / kWh.
Consumption consumption_of(const ParsedConsumption& c, double intensity) {
  Consumption out;
  out.epochs = c.epochs;
  out.duration_s = c.duration_s.value_or(0.0);
  out.energy_kwh = c.energy_kwh;
  out.co2_g = c.co2_g;
  out.intensity_g_per_kwh = intensity > 0 ? intensity : c.energy_kwh > 0 ? c.co2_g / c.energy_kwh : 0.0;
  out.km_by_car = c.km.value_or(0.0);
  return out;
}

// What epochwatt's `Measuring {device} ({component}) by {method} ...` lines say of the `index`-th
// device of report component `comp` (named `device`); for a meter that stands for the whole
// component (index npos), the method all its devices share. Else unknown.
Method measured_method(const ParsedRun& run, const std::string& comp, const std::string& device, std::size_t index) {
  std::vector<const ParsedMeter*> of_comp;
  for (const auto& m : run.meters)
    if (auto c = component_named(m.component); c && report_component_of(*c) == comp) of_comp.push_back(&m);
  if (index != std::string::npos)
    return index < of_comp.size() && of_comp[index]->device == device
               ? method_named(of_comp[index]->method).value_or(Method::unknown)
               : Method::unknown;
  if (of_comp.empty()) return Method::unknown;
  for (const ParsedMeter* m : of_comp)
    if (m->method != of_comp.front()->method) return Method::unknown;
  return method_named(of_comp.front()->method).value_or(Method::unknown);
}

// The meters that stand for one component of the log: `count` of them from `first` in
// RunContext::meters, one per device when `per_device`, else one for the whole component.
struct ComponentMeters {
  const ParsedComponent* log = nullptr;
  std::size_t first = 0, count = 0;
  bool per_device = false;
};

// The meters of one component (see run_from_log): per device when every counted epoch gives that
// component's per-device powers in the components line's device order, else one for the component.
// A warning goes to `open_methods` when the log leaves a device's method open.
ComponentMeters add_meters(const ParsedRun& run, const ParsedComponent& comp, Component component, bool ours,
                           std::vector<MeterInfo>& meters, std::vector<std::string>& open_methods) {
  std::string methods;  // the first extension line's `[...]`
  bool per_device = !comp.devices.empty();
  bool any = false;
  for (const auto& e : run.epochs) {
    if (e.interrupted) continue;
    const ParsedPower* p = e.power(comp.name);
    if (!p) continue;
    any = true;
    if (methods.empty()) methods = p->method;
    if (p->device_watts.size() != comp.devices.size()) per_device = false;
  }
  ComponentMeters cm{&comp, meters.size(), per_device ? comp.devices.size() : 1, per_device};
  std::vector<std::string> named = split_methods(methods);
  bool open = false;
  for (std::size_t i = 0; i < cm.count; ++i) {
    MeterInfo m;
    m.component = component;
    m.device_name = per_device ? comp.devices[i] : join(comp.devices, ", ");
    if (!ours) {
      m.method = Method::sampled_power;
    } else if (named.size() == 1) {
      m.method = method_named(named[0]).value_or(Method::unknown);
    } else {
      // Several methods on the extension line, or none: the device's own `Measuring` line.
      m.method = measured_method(run, comp.name, m.device_name, per_device ? i : std::string::npos);
    }
    open = open || m.method == Method::unknown;
    if (!any) m.detail = "no power line in the log";
    else if (!per_device && comp.devices.size() > 1) m.detail = std::string(kLogTotalOnly);
    meters.push_back(std::move(m));
  }
  if (open)
    open_methods.push_back("The log does not say how the " + comp.name + " devices were measured" +
                           (methods.empty() ? "" : " (it names " + methods + " for the component)") +
                           "; their method is given as unknown.");
  return cm;
}

double& basis_joules(EnergyByBasis& e, Method method) {
  switch (basis_of(method)) {
    case Basis::measured: return e.measured_j;
    case Basis::estimated: return e.estimated_j;
    case Basis::unknown: break;
  }
  return e.unknown_j;
}

bool same_meter(const MeterInfo& a, const MeterInfo& b) {
  return a.component == b.component && a.method == b.method && a.id == b.id && a.device_name == b.device_name;
}

}  // namespace

EnergyByBasis energy_by_basis_of_log(const ParsedRun& parsed) {
  // The meters as run_from_log makes them.
  const bool ours = parsed.version == "epochwatt";
  std::vector<MeterInfo> meters;
  std::vector<std::string> later;  // warnings: not wanted here
  std::vector<ComponentMeters> components;
  for (const auto& c : parsed.components)
    if (auto component = component_named(c.name))
      components.push_back(add_meters(parsed, c, *component, ours, meters, later));
  // The epoch table's columns (EpochTable::push_back): an entry goes to the first column of the
  // same device not yet used by its epoch, else to a new one; each epoch adds its entries in
  // column order, and a column's part is named where it first counts.
  std::vector<std::size_t> column_meter;  // the meter of each column
  std::vector<double> value;
  std::vector<char> has, noted;
  EnergyByBasis e;
  for (const auto& ep : parsed.epochs) {
    if (ep.interrupted) continue;  // no device entries, and not counted
    std::fill(has.begin(), has.end(), 0);
    for (const auto& cm : components) {
      const ParsedPower* p = ep.power(cm.log->name);
      if (!p || !p->watts || !ep.duration_s) continue;
      for (std::size_t k = 0; k < cm.count; ++k) {
        const MeterInfo& m = meters[cm.first + k];
        double w = cm.per_device ? p->device_watts[k] : *p->watts;
        std::size_t c = 0;
        while (c < column_meter.size() && (has[c] || !same_meter(meters[column_meter[c]], m))) ++c;
        if (c == column_meter.size()) {
          column_meter.push_back(cm.first + k);
          value.push_back(0.0);
          has.push_back(0);
          noted.push_back(0);
        }
        has[c] = 1;
        value[c] = w * *ep.duration_s;
      }
    }
    for (std::size_t c = 0; c < column_meter.size(); ++c) {
      if (!has[c]) continue;
      const MeterInfo& m = meters[column_meter[c]];
      if (!noted[c]) add_energy(e, m.component, m.method, value[c]), noted[c] = 1;
      else basis_joules(e, m.method) += value[c];
    }
  }
  // The set-up line gives no device entries (run_from_log's Setup has none).
  return e;
}

std::string log_writer(const ParsedRun& run) {
  if (run.version == "epochwatt") return "epochwatt";
  if (!run.tool.empty()) return run.tool;
  if (run.version != "unknown") return "carbontracker";  // recognised by its units (2.3, 2.4)
  return "";
}

Run run_from_log(const ParsedRun& parsed) {
  Run run;
  RunContext& ctx = run.context;
  const bool ours = parsed.version == "epochwatt";
  const std::string writer = log_writer(parsed);
  ctx.tool_name = writer;
  ctx.version = parsed.tool_version;
  run.log_std = parsed.std_log;
  run.log_output = parsed.output_log;
  if (parsed.job) ctx.job = *parsed.job;  // a multi-process job's rank; else a single process
  // The blocks are written by stop(); a standard log alone may be of a run still going.
  run.complete = parsed.actual.has_value();

  // Without a PUE line: the default of Options, which is carbontracker's (spec §2.1).
  const double default_pue = Options{}.pue;
  ctx.pue = parsed.pue.value_or(default_pue);
  if (!parsed.pue)
    run.warnings.push_back("The log has no PUE line; carbontracker's default " + fixed(default_pue, 2) + " is assumed.");
  if (parsed.predicted) ctx.epochs_planned = parsed.predicted->epochs;
  if (parsed.monitor_epochs) ctx.monitor_epochs = *parsed.monitor_epochs;
  run.early_stop = parsed.early_stop;

  // Components and their meters, in the components line's order. Warnings about them go last,
  // after those that reports have always shown first.
  std::vector<std::string> later;
  std::vector<ComponentMeters> components;
  for (const auto& c : parsed.components) {
    auto component = component_named(c.name);
    if (!component) {
      later.push_back("The log lists a component '" + c.name + "' that the run model does not know; it is left out.");
      continue;
    }
    ctx.components.push_back(c.name);
    components.push_back(add_meters(parsed, c, *component, ours, ctx.meters, later));
  }

  // Epochs: the original's energy (each power line's W x the duration), and each meter's share.
  for (const auto& e : parsed.epochs) {
    EpochSummary s;
    s.index = e.index;
    s.interrupted = e.interrupted;
    s.duration_s = e.duration_s.value_or(0.0);
    s.joules = e.joules();
    for (const auto& cm : components) {
      const ParsedPower* p = e.interrupted ? nullptr : e.power(cm.log->name);
      if (!p || !p->watts || !e.duration_s) continue;  // no power line, or None/nan: nothing measured
      for (std::size_t k = 0; k < cm.count; ++k) {
        const MeterInfo& m = ctx.meters[cm.first + k];
        double w = cm.per_device ? p->device_watts[k] : *p->watts;
        s.devices.push_back({m.id, m.device_name, m.component, m.method, w * *e.duration_s, true});
      }
    }
    run.epochs.push_back(std::move(s));
  }

  // Intensity: the logged average, else the mean of the logged values (else the blocks' own).
  double logged = 0.0;
  if (parsed.average_intensity) {
    logged = *parsed.average_intensity;
  } else if (!parsed.intensities.empty()) {
    logged = std::accumulate(parsed.intensities.begin(), parsed.intensities.end(), 0.0) /
             static_cast<double>(parsed.intensities.size());
  }
  const std::string prefix = "Intensity source: ";
  const std::string& line = parsed.intensity_source_line;
  run.intensity.source = line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : line;
  if (run.intensity.source.empty() && (parsed.average_intensity || !parsed.intensities.empty()))
    run.intensity.source = "as logged by " + (writer.empty() ? std::string("unknown writer") : writer);
  run.intensity_values = parsed.intensities;
  run.location = location_of(parsed.address);

  if (parsed.predicted) run.prediction = consumption_of(*parsed.predicted, 0.0);
  // The rule is named on epochwatt's extension line; a log without it was predicted by carbontracker's.
  ctx.prediction_rule = prediction_rule_from_string(parsed.prediction_rule).value_or(PredictionRule::carbontracker);
  if (parsed.setup) run.setup = Setup{parsed.setup->first, parsed.setup->second, {}};
  if (parsed.actual) {
    run.actual = consumption_of(*parsed.actual, logged);
  } else if (parsed.output_log.empty()) {
    // The standard log alone: the measured figures from its epochs, by the one footprint rule.
    run.actual = footprint_of_epochs(run.epochs, ctx.pue, logged);
    run.warnings.push_back("Read from the standard log alone (no output log beside it): energy is the epochs' power x "
                           "duration x PUE" +
                           std::string(logged > 0 ? ", CO2 at the logged average intensity"
                                                  : "; the log gives no intensity, so CO2 is 0") +
                           ", km at " + fixed(kCarGramsPerKm, 1) + " gCO2/km.");
  }
  run.intensity.g_per_kwh = logged > 0       ? logged
                            : run.actual     ? run.actual->intensity_g_per_kwh
                            : run.prediction ? run.prediction->intensity_g_per_kwh
                                             : 0.0;

  for (const auto& n : parsed.notes) run.warnings.push_back(n);
  // carbontracker 2.x logs a component's mean over its devices, not their sum (spec D1).
  if (!ours && !parsed.tool_version.empty() && parsed.tool_version[0] >= '2' && parsed.tool_version[0] <= '9')
    for (const auto& m : ctx.meters)
      if (m.detail == kLogTotalOnly) {
        std::string comp(to_string(m.component));
        run.warnings.push_back("carbontracker " + parsed.tool_version + " logs the mean power of the " + comp +
                               " devices (" + m.device_name + "), not their sum (carbontracker defect D1): the " + comp +
                               " energy in this log, and so here, is likely under-reported.");
      }
  for (auto& w : later) run.warnings.push_back(std::move(w));
  return run;
}

}  // namespace epochwatt::detail
