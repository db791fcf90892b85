#include "report/metrics_exposition.hpp"

#include <string_view>

#include "report/prometheus_output.hpp"

namespace epochwatt::detail {
namespace {

std::string label(std::string_view name, std::string_view value) {
  std::string s(name);
  s += "=\"";
  s += prometheus_label_value(value);
  s += '"';
  return s;
}

// HELP and TYPE once per family, then its samples ("{labels} value" lines).
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;  // our own texts: no backslash or newline to escape
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, const std::string& labels, const std::string& value) {
  out += name;
  out += '{';
  out += labels;
  out += "} ";
  out += value;
  out += '\n';
}

}  // namespace

void LiveMetricsReporter::run_started(const Run& run) {
  const JobIdentity& j = run.context.job;
  // The job id (detect_job: the options', else the launcher's, the same in every rank). A process
  // outside a multi-process job is a job of its own: its run id keeps two such runs on one node
  // apart in a sum by job. The ranks of a job without any id must still agree, so they get an
  // empty label (each rank's run id would split the job into one series per rank); Prometheus
  // reads an empty label as none, so a sum by job takes all such ranks together, as parse
  // --by-job does (docs/cluster.md, "Live metrics").
  std::string job = !j.job_id.empty() ? j.job_id : j.multi_process() ? std::string() : run.context.run_id;
  std::string labels = label("job", job) + "," + label("rank", std::to_string(j.rank)) + "," + label("node", j.node);
  std::string info = labels + "," + label("run_id", run.context.run_id) + "," + label("step", j.step_id) + "," +
                     label("local_rank", std::to_string(j.local_rank)) + "," +
                     label("world_size", std::to_string(j.world_size)) + "," + label("launcher", j.launcher) + "," +
                     label("tool", run.context.tool_name) + "," + label("version", run.context.version);
  std::lock_guard lk(mu_);
  job_labels_ = std::move(labels);
  info_labels_ = std::move(info);
  pue_ = run.context.pue;
}

void LiveMetricsReporter::meters_ready(const Run& run) {
  std::vector<Device> devices;
  std::lock_guard lk(mu_);
  for (const auto& m : run.context.meters) {
    Device d;
    d.labels = job_labels_ + "," + label("component", to_string(m.component)) + "," + label("device", m.device_name) +
               "," + label("method", to_string(m.method)) + "," + label("meter", m.id);
    devices.push_back(std::move(d));
  }
  devices_ = std::move(devices);
}

void LiveMetricsReporter::sampling_started(const Run& run) {
  std::lock_guard lk(mu_);
  take_run_figures(run);
}

void LiveMetricsReporter::sampled(const Run& run, const std::vector<LiveReading>& readings) {
  (void)run;
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < readings.size() && i < devices_.size(); ++i) {
    Device& d = devices_[i];
    const LiveReading& r = readings[i];
    d.joules = r.joules;
    if (!d.anchored) {
      d.anchored = true;
      d.anchor_t = r.t;
      d.anchor_joules = r.joules;
    } else if (r.t - d.anchor_t >= kPowerSpanS) {
      d.watts = (r.joules - d.anchor_joules) / (r.t - d.anchor_t);
      d.anchor_t = r.t;
      d.anchor_joules = r.joules;
    }
    if (r.lost) d.watts.reset();  // a device that is gone draws nothing we know of
  }
}

void LiveMetricsReporter::epoch_ended(const Run& run) {
  std::lock_guard lk(mu_);
  take_run_figures(run);
}

void LiveMetricsReporter::run_finished(const Run& run) {
  std::lock_guard lk(mu_);
  take_run_figures(run);
  finished_ = true;
}

void LiveMetricsReporter::take_run_figures(const Run& run) {
  epochs_ended_ = run.epochs.counted_epochs();
  if (run.actual) emissions_g_ = run.actual->co2_g;
  if (run.latest_prediction) {
    const Consumption& p = run.latest_prediction->footprint;
    predicted_joules_ = p.energy_kwh * kJoulesPerKwh;
    predicted_grams_ = p.co2_g;
    predicted_seconds_ = p.duration_s;
  }
  if (!run.intensity.source.empty()) {
    intensity_g_per_kwh_ = run.intensity.g_per_kwh;
    intensity_source_ = run.intensity.source;
  }
}

std::string LiveMetricsReporter::exposition() const {
  std::string out;
  std::lock_guard lk(mu_);
  out.reserve(512 + devices_.size() * 400);
  if (job_labels_.empty()) return out;  // before run_started: nothing known yet
  family(out, "epochwatt_run_info", "gauge",
         "Always 1; the labels name the run, its place in the job, and the tool and version.");
  sample(out, "epochwatt_run_info", info_labels_, "1");
  family(out, "epochwatt_run_finished", "gauge", "1 once the run has ended (the final values), else 0.");
  sample(out, "epochwatt_run_finished", job_labels_, finished_ ? "1" : "0");
  if (!devices_.empty()) {
    family(out, "epochwatt_device_energy_joules_total", "counter",
           "Energy drawn by the device since its meter opened, in joules, without PUE; the newest reading.");
    for (const auto& d : devices_) sample(out, "epochwatt_device_energy_joules_total", d.labels, prometheus_number(d.joules));
    family(out, "epochwatt_device_power_watts", "gauge",
           "Mean power of the device between its newest readings at least 1 s apart, in watts, without PUE.");
    for (const auto& d : devices_)
      if (d.watts) sample(out, "epochwatt_device_power_watts", d.labels, prometheus_number(*d.watts));
  }
  family(out, "epochwatt_epochs_ended_total", "counter", "Epochs that ended and were counted.");
  sample(out, "epochwatt_epochs_ended_total", job_labels_, std::to_string(epochs_ended_));
  family(out, "epochwatt_pue", "gauge", "Power usage effectiveness applied to energy totals and emissions.");
  sample(out, "epochwatt_pue", job_labels_, prometheus_number(pue_));
  if (emissions_g_) {
    family(out, "epochwatt_emissions_grams_total", "counter",
           "Emissions of the set-up and the counted epochs, in grams of CO2e, with PUE; updated at epoch ends.");
    sample(out, "epochwatt_emissions_grams_total", job_labels_, prometheus_number(*emissions_g_));
  }
  if (predicted_joules_) {
    family(out, "epochwatt_predicted_energy_joules", "gauge",
           "The newest prediction of the energy of all planned epochs, in joules, with PUE.");
    sample(out, "epochwatt_predicted_energy_joules", job_labels_, prometheus_number(*predicted_joules_));
    family(out, "epochwatt_predicted_emissions_grams", "gauge",
           "The newest prediction of the emissions of all planned epochs, in grams of CO2e.");
    sample(out, "epochwatt_predicted_emissions_grams", job_labels_, prometheus_number(*predicted_grams_));
    family(out, "epochwatt_predicted_duration_seconds", "gauge",
           "The newest prediction of the duration of all planned epochs, in seconds.");
    sample(out, "epochwatt_predicted_duration_seconds", job_labels_, prometheus_number(*predicted_seconds_));
  }
  if (intensity_g_per_kwh_) {
    family(out, "epochwatt_carbon_intensity_grams_per_joule", "gauge",
           "Carbon intensity in use, in grams of CO2e per joule (x 3.6e6 = gCO2e/kWh); updated at epoch ends.");
    sample(out, "epochwatt_carbon_intensity_grams_per_joule", job_labels_,
           prometheus_number(*intensity_g_per_kwh_ / kJoulesPerKwh));
    family(out, "epochwatt_carbon_intensity_source_info", "gauge",
           "Always 1; the source label says where the carbon intensity in use came from.");
    sample(out, "epochwatt_carbon_intensity_source_info", job_labels_ + "," + label("source", intensity_source_), "1");
  }
  return out;
}

}  // namespace epochwatt::detail
