#include "report/ct_reporter.hpp"

#include <cmath>

#include "core/format.hpp"
#include "report/ct_report.hpp"
#include "report/job_line.hpp"

namespace epochwatt::detail {

void CarbontrackerReporter::pass_notices() {
  for (const auto& text : log_->take_notices()) warn(text);
}

void CarbontrackerReporter::own_output(const RunContext& ctx, const std::string& text) {
  if (ctx.job_reduction)
    log_->output(text, "");
  else
    log_->output(text);
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
  if (run.context.job.multi_process())
    if (std::string shared = shared_meters_line(run.context.meters); !shared.empty()) log_->standard(shared);
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
  const RunContext& ctx = run.context;
  own_output(ctx, consumption_block("Predicted consumption for " + std::to_string(ctx.epochs_planned) + " epoch(s):",
                                    *run.prediction, ctx.decimal_precision, ctx.interpretable));
  if (run.prediction_detail)
    for (const auto& line : prediction_lines(*run.prediction, *run.prediction_detail)) own_output(ctx, line);
  std::string basis = basis_sentence(energy_by_basis(run.epochs, run.setup), "the energy it extrapolates from");
  if (!basis.empty()) own_output(ctx, basis);
  pass_notices();
}

void CarbontrackerReporter::prediction_moved(const Run& run) {
  if (run.latest_prediction) own_output(run.context, prediction_moved_line(run.latest_prediction->footprint, run.latest_prediction->detail));
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
  own_output(ctx, avg);
  std::string title = ctx.epochs_before_pred == 0 ? "Actual consumption:"
                                                  : "Actual consumption for " + std::to_string(c.epochs) + " epoch(s):";
  own_output(ctx, consumption_block(title, c, ctx.decimal_precision, ctx.interpretable));
  std::string basis = basis_sentence(energy_by_basis(run.epochs, run.setup));
  if (!basis.empty()) own_output(ctx, basis);
  // The set-up is in the actual; said where it is large enough to be seen in its Time.
  if (run.setup && run.setup->duration_s >= 0.5)
    own_output(ctx, "Of which set-up before epoch 1: " + report_time(run.setup->duration_s) + " and " +
                        fixed(run.setup->joules * ctx.pue / kJoulesPerKwh, ctx.decimal_precision) + " kWh.");
  own_output(ctx, "Finished monitoring.");
  log_->standard("Monitoring thread ended.");
  pass_notices();
}

namespace {

std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (int r : ranks) s += (s.empty() ? "" : ", ") + std::to_string(r);
  return s;
}

}  // namespace

// The job's block, on the console and in the output log. Its title is not carbontracker's
// ("..., whole job (...)"), so that carbontracker's parsers, which read this rank's own block
// from the same output log, do not take it for a second one.
void CarbontrackerReporter::job_reported(const RunContext& ctx, const JobFootprint& job) {
  bool predicted = job.stage == JobReport::Stage::predicted;
  std::string who = (job.ranks == job.world_size ? std::to_string(job.ranks)
                                                 : std::to_string(job.ranks) + " of " + std::to_string(job.world_size)) +
                    " rank(s) on " + std::to_string(job.nodes) + " node(s)";
  int epochs = predicted ? job.epochs_planned : job.footprint.epochs;
  std::string title = std::string(predicted ? "Predicted" : "Actual") + " consumption for " + std::to_string(epochs) +
                      " epoch(s), whole job (" + who + "):";
  log_->output(consumption_block(title, job.footprint, ctx.decimal_precision, ctx.interpretable));
  if (predicted && job.detail)
    for (const auto& line : prediction_lines(job.footprint, *job.detail)) log_->output(line);
  if (!job.missing.empty())
    log_->output(std::string(predicted ? "Missing from this prediction (no record in time): rank(s) "
                                       : "Missing from this actual (no final record in time): rank(s) ") +
                 rank_list(job.missing) +
                 (predicted ? "." : "; their energy after their last record is not counted."));
  if (predicted && !job.late.empty())
    log_->output("Late for this prediction (epoch " + std::to_string(job.epoch) + " not in on time): rank(s) " +
                 rank_list(job.late) + ".");
  if (!job.inert.empty())
    log_->output("Measuring nothing (inert tracker): rank(s) " + rank_list(job.inert) +
                 "; nothing of theirs is counted.");
  for (const auto& [rank, n] : job.stopped_early)
    log_->output("Rank " + std::to_string(rank) + " stopped early, after " + std::to_string(n) + " epoch(s).");
}

}  // namespace epochwatt::detail
