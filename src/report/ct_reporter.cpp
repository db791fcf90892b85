#include "report/ct_reporter.hpp"

#include <cmath>

#include "core/format.hpp"
#include "report/ct_report.hpp"
#include "report/job_line.hpp"

namespace epochwatt::detail {

void CarbontrackerReporter::pass_notices() {
  for (const auto& text : log_->take_notices()) warn(text);
}

void CarbontrackerReporter::run_started(const Run& run) {
  pass_notices();
  log_->standard(run.context.tool_name + " version " + run.context.version);
  log_->standard(pue_line(run.context.pue));
  // Only in a multi-process job: a single process's log stays as it always was.
  if (run.context.job.multi_process()) log_->standard(job_line(run.context.job));
  pass_notices();
}

void CarbontrackerReporter::meters_ready(const Run& run) {
  std::vector<ComponentDevices> segs, with_methods;
  std::string methods;  // the output log's extension line
  for (const auto& comp : run.context.components) {
    ComponentDevices cd{comp, {}};
    ComponentDevices cm{comp, {}};
    for (const auto& m : run.context.meters)
      if (report_component_of(m.component) == comp) {
        cd.devices.push_back(m.device_name);
        cm.devices.push_back(m.device_name);
        std::string how = method_phrase(m.component, m.method);
        if (!m.also_covers.empty()) {
          std::vector<std::string> also;
          for (Component c : m.also_covers) also.emplace_back(to_string(c));
          how += "; covers " + join(also, " and ") + " as well";
        }
        cm.methods.push_back(how);
        methods += (methods.empty() ? "" : "; ") + m.device_name + " (" + std::string(to_string(m.component)) + "): " + how;
      }
    if (!cd.devices.empty()) {
      segs.push_back(std::move(cd));
      with_methods.push_back(std::move(cm));
    }
  }
  // The logs keep carbontracker's exact line (its parsers read the device names from it); the
  // console names each device's method beside it, and the output log says it on its own line.
  std::string line = "The following components were found: " + components_segments(segs);
  log_->standard(line);
  log_->output(line, "The following components were found: " + components_segments(with_methods));
  if (!methods.empty()) log_->output("Methods: " + methods + ".", "");
  for (const auto& m : run.context.meters)
    log_->standard("Measuring " + m.device_name + " (" + std::string(to_string(m.component)) + ") by " +
                   std::string(to_string(m.method)) + " through meter " + m.id +
                   (m.detail.empty() ? "." : ": " + m.detail + "."));
  for (const auto& m : run.context.meters)
    if (!m.also_covers.empty()) log_->standard(coverage_line(m));
  pass_notices();
}

void CarbontrackerReporter::sampling_started(const Run& run) {
  log_->standard("Intensity source: " + run.intensity.source + ", " + run.intensity.description + "; location " +
                 run.location.address() + " by rule " + run.location.rule + ".");
  log_->standard("Monitoring thread started.");
  pass_notices();
}

void CarbontrackerReporter::message(const Message& m) {
  switch (m.channel) {
    case Message::Channel::output: log_->output(m.text); break;
    case Message::Channel::standard: log_->standard(m.text); break;
    case Message::Channel::err: log_->err(m.severity, m.text, m.thread); break;
    case Message::Channel::console:
      if (m.severity == Severity::info) log_->console_info(m.text);
      else log_->console_line(m.text);
      break;
  }
}

void CarbontrackerReporter::epoch_ended(const Run& run) {
  const EpochSummary& ep = run.epochs.back();
  if (run.epochs.size() == 1 && run.setup && run.setup->duration_s > 0) log_->standard(setup_line(*run.setup));
  log_->standard("Epoch " + std::to_string(ep.index) + ":");
  log_->standard("Duration: " + log_duration(ep.duration_s));
  for (const auto& comp : run.context.components) {
    std::vector<DeviceEnergy> devs;
    for (const auto& d : ep.devices)
      if (report_component_of(d.component) == comp) devs.push_back(d);
    if (devs.empty()) continue;
    for (const auto& line : epoch_component_lines(comp, devs, ep.duration_s)) log_->standard(line);
  }
  pass_notices();
}

void CarbontrackerReporter::predicted(const Run& run) {
  log_->output(consumption_block("Predicted consumption for " + std::to_string(run.context.epochs_planned) + " epoch(s):",
                                 *run.prediction, run.context.decimal_precision, run.context.interpretable));
  if (run.prediction_detail)
    for (const auto& line : prediction_lines(*run.prediction, *run.prediction_detail)) log_->output(line);
  std::string basis = basis_sentence(energy_by_basis(run.epochs, run.setup), "the energy it extrapolates from");
  if (!basis.empty()) log_->output(basis);
  pass_notices();
}

void CarbontrackerReporter::prediction_moved(const Run& run) {
  if (run.latest_prediction) log_->output(prediction_moved_line(run.latest_prediction->footprint, run.latest_prediction->detail));
}

void CarbontrackerReporter::run_finished(const Run& run) {
  const RunContext& ctx = run.context;
  const Consumption& c = *run.actual;
  std::vector<double> values = run.intensity_values;
  if (values.empty()) values.push_back(c.intensity_g_per_kwh);
  log_->standard("Carbon intensities (gCO2eq/kWh) fetched every " +
                 (ctx.intensity_refresh_s == std::floor(ctx.intensity_refresh_s)
                      ? std::to_string(static_cast<long long>(ctx.intensity_refresh_s))
                      : python_float_repr(ctx.intensity_refresh_s)) +
                 " s at detected location: " + run.location.address() + ": " + python_rounded_list(values));
  std::string avg = "Average carbon intensity during training was " + fixed(c.intensity_g_per_kwh, 2) + " gCO2eq/kWh. ";
  log_->standard(avg);
  log_->output(avg);
  std::string title = ctx.epochs_before_pred == 0 ? "Actual consumption:"
                                                  : "Actual consumption for " + std::to_string(c.epochs) + " epoch(s):";
  log_->output(consumption_block(title, c, ctx.decimal_precision, ctx.interpretable));
  std::string basis = basis_sentence(energy_by_basis(run.epochs, run.setup));
  if (!basis.empty()) log_->output(basis);
  // The set-up is in the actual; said where it is large enough to be seen in its Time.
  if (run.setup && run.setup->duration_s >= 0.5)
    log_->output("Of which set-up before epoch 1: " + report_time(run.setup->duration_s) + " and " +
                 fixed(run.setup->joules * ctx.pue / kJoulesPerKwh, ctx.decimal_precision) + " kWh.");
  log_->output("Finished monitoring.");
  log_->standard("Monitoring thread ended.");
  pass_notices();
}

}  // namespace epochwatt::detail
