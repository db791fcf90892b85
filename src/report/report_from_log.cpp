#include "report/report_from_log.hpp"

#include <algorithm>
#include <numeric>

#include "core/format.hpp"
#include "epochwatt/options.hpp"
#include "report/ct_report.hpp"

namespace epochwatt::detail {
namespace {

constexpr const char* kTotalOnly = "the log gives only the component's total";

ReportFigures figures_of(const ParsedConsumption& c) {
  ReportFigures f;
  f.present = true;
  f.epochs = c.epochs;
  f.duration_s = c.duration_s.value_or(0.0);
  f.energy_kwh = c.energy_kwh;
  f.co2_g = c.co2_g;
  f.km_by_car = c.km.value_or(0.0);
  f.intensity_g_per_kwh = c.energy_kwh > 0 ? c.co2_g / c.energy_kwh : 0.0;
  return f;
}

// One row per device when every counted epoch gives that component's per-device values in the
// device order; else one row for the component (the log gives only its total).
void add_devices(const ParsedRun& run, const ParsedComponent& comp, bool ours, ReportData& d) {
  std::string method;
  bool per_device = !comp.devices.empty();
  bool any = false;
  for (const auto& e : run.epochs) {
    if (e.interrupted) continue;
    const ParsedPower* p = e.power(comp.name);
    if (!p) continue;
    any = true;
    if (method.empty()) method = p->method;
    if (p->device_watts.size() != comp.devices.size()) per_device = false;
  }
  if (method.empty()) method = ours ? "unknown" : "sampled-power";
  std::size_t rows = per_device ? comp.devices.size() : 1;
  for (std::size_t i = 0; i < rows; ++i) {
    ReportDevice dev;
    dev.component = comp.name;
    dev.device = per_device ? comp.devices[i] : join(comp.devices, ", ");
    dev.method = method;
    if (!any) dev.detail = "no power line in the log";
    else if (!per_device && comp.devices.size() > 1) dev.detail = kTotalOnly;
    for (const auto& e : run.epochs) {
      const ParsedPower* p = e.interrupted ? nullptr : e.power(comp.name);
      if (!p || !e.duration_s) continue;
      double w = per_device ? p->device_watts[i] : p->watts.value_or(0.0);
      dev.joules += w * *e.duration_s;
      dev.duration_s += *e.duration_s;
    }
    d.devices.push_back(std::move(dev));
  }
  if (std::find(d.methods.begin(), d.methods.end(), method) == d.methods.end()) d.methods.push_back(method);
}

}  // namespace

ReportData report_data_from_parsed_run(const ParsedRun& run) {
  ReportData d;
  const bool ours = run.version == "epochwatt";
  d.tool = ours ? "epochwatt" : run.version == "unknown" ? "unknown writer" : "carbontracker";
  d.version = run.tool_version;
  d.source = run.output_log.empty() ? run.std_log : run.std_log + " and " + run.output_log;
  d.started_utc = run.started;  // the log's own time stamps (local time of the machine that wrote it)
  d.finished_utc = run.finished;
  // Without a PUE line: the default of Options, which is carbontracker's (spec §2.1).
  const double default_pue = Options{}.pue;
  d.pue = run.pue.value_or(default_pue);
  if (!run.pue) d.warnings.push_back("The log has no PUE line; carbontracker's default " + fixed(default_pue, 2) + " is assumed.");
  d.early_stop = run.early_stop;

  // Epochs, their energy by component (watts x duration, as the original computes it).
  for (const auto& e : run.epochs) {
    ReportEpoch re;
    re.index = e.index;
    re.interrupted = e.interrupted;
    re.duration_s = e.duration_s.value_or(0.0);
    re.joules = e.joules();
    if (!e.interrupted)
      for (const auto& p : e.powers)
        if (p.watts) re.by_component.push_back({p.component, *p.watts * re.duration_s});
    d.epochs.push_back(std::move(re));
  }
  const int done = run.epochs_done();
  d.epochs_planned = run.predicted ? run.predicted->epochs : run.monitor_epochs ? *run.monitor_epochs : done;
  // A log names no rule: the curve is carbontracker's, the rule its Predicted block was made by.
  PredictionInput how;
  how.planned = d.epochs_planned;
  how.pue = d.pue;
  how.rule = PredictionRule::carbontracker;
  d.prediction_rule = how.rule;
  d.prediction_series = prediction_series(d.epochs, how);

  for (const auto& c : run.components) add_devices(run, c, ours, d);

  // Intensity: the logged average, else the mean of the logged values, else the block's ratio.
  if (run.average_intensity) {
    d.intensity_g_per_kwh = *run.average_intensity;
  } else if (!run.intensities.empty()) {
    d.intensity_g_per_kwh = std::accumulate(run.intensities.begin(), run.intensities.end(), 0.0) /
                            static_cast<double>(run.intensities.size());
  }
  const std::string prefix = "Intensity source: ";
  d.intensity_source = run.intensity_source_line.rfind(prefix, 0) == 0 ? run.intensity_source_line.substr(prefix.size())
                                                                         : run.intensity_source_line;
  if (d.intensity_source.empty() && (run.average_intensity || !run.intensities.empty()))
    d.intensity_source = "as logged by " + d.tool;
  d.location = run.address;

  if (run.predicted) d.prediction = figures_of(*run.predicted);
  if (run.actual) {
    d.actual = figures_of(*run.actual);
  } else if (run.output_log.empty()) {
    // The standard log alone: the measured figures from its epochs.
    // The one footprint rule (epochwatt/run.hpp), over the counted epochs.
    int epochs = 0;
    double seconds = 0, joules = 0;
    for (const auto& e : d.epochs)
      if (!e.interrupted) ++epochs, seconds += e.duration_s, joules += e.joules;
    d.actual = report_figures(footprint(epochs, seconds, joules, d.pue, d.intensity_g_per_kwh));
    d.warnings.push_back("Read from the standard log alone (no output log beside it): energy is the epochs' power x "
                         "duration x PUE" +
                         std::string(d.intensity_g_per_kwh > 0 ? ", CO2 at the logged average intensity"
                                                               : "; the log gives no intensity, so CO2 is 0") +
                         ", km at " + fixed(kCarGramsPerKm, 1) + " gCO2/km.");
  }
  if (d.intensity_g_per_kwh <= 0) d.intensity_g_per_kwh = d.actual.present ? d.actual.intensity_g_per_kwh : d.prediction.intensity_g_per_kwh;

  // Power over time: one point per counted epoch at its middle (the log holds nothing finer).
  double t = 0;
  std::vector<ReportPowerSeries> power;
  for (const auto& c : run.components) power.push_back({c.name, {}, {}});
  for (const auto& e : run.epochs) {
    double dur = e.duration_s.value_or(0.0);
    if (!e.interrupted)
      for (auto& s : power)
        if (const ParsedPower* p = e.power(s.component); p && p->watts) {
          s.t_s.push_back(t + dur / 2);
          s.watts.push_back(*p->watts);
        }
    t += dur;
  }
  for (auto& s : power)
    if (!s.t_s.empty()) d.power.push_back(std::move(s));
  d.power_caption = "Mean power of each component in each epoch, as the log records it (one point per epoch, at "
                    "its middle: the log holds nothing finer); without PUE.";

  for (const auto& n : run.notes) d.warnings.push_back(n);
  // carbontracker 2.x logs a component's mean over its devices, not their sum (spec D1).
  if (!ours && !run.tool_version.empty() && run.tool_version[0] >= '2' && run.tool_version[0] <= '9')
    for (const auto& dev : d.devices)
      if (dev.detail == kTotalOnly)
        d.warnings.push_back("carbontracker " + run.tool_version + " logs the mean power of the " + dev.component +
                             " devices (" + dev.device + "), not their sum (carbontracker defect D1): the " +
                             dev.component + " energy in this log, and so here, is likely under-reported.");

  // The sentence for a paper, with the block spec §8.7 picks (the measured one for a log read alone).
  Aggregate a = aggregate({run});
  if (!run.actual && !run.predicted) {
    a.energy_kwh = d.actual.energy_kwh;
    a.co2_g = d.actual.co2_g;
    a.equivalents = {{"km travelled by car", d.actual.km_by_car}};
  }
  d.aggregate_sentence = aggregate_sentence(a);  // credits epochwatt for its own logs (Aggregate::measured_by)
  return d;
}

}  // namespace epochwatt::detail
