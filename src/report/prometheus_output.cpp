#include "report/prometheus_output.hpp"

#include <chrono>
#include <cmath>
#include <vector>

#include "core/format.hpp"
#include "epochwatt/version.hpp"

namespace epochwatt::detail {
namespace {


struct Label {
  std::string_view name;
  std::string value;
};

class Exposition {
 public:
  // `common`: the labels of every sample after run_id (the job's: job, step, rank, local_rank, node).
  Exposition(std::string run_id, std::vector<Label> common) : run_id_(std::move(run_id)), common_(std::move(common)) {}
  // HELP and TYPE once per metric family, before its first sample.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP " + std::string(name) + " " + escape_help(help) + "\n";
    out_ += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
  }
  void sample(std::string_view name, double value, const std::vector<Label>& labels = {}) {
    line(name, prometheus_number(value), labels);
  }
  // Counts and flags as integers ("3", not "3.0").
  void sample(std::string_view name, int value, const std::vector<Label>& labels = {}) {
    line(name, std::to_string(value), labels);
  }
  const std::string& text() const { return out_; }

 private:
  void line(std::string_view name, const std::string& value, const std::vector<Label>& labels) {
    out_ += std::string(name) + "{run_id=\"" + prometheus_label_value(run_id_) + "\"";
    // Appends only: `"," + std::string` trips g++ 12's -Wrestrict at -O3 (GCC bug 105651).
    const std::vector<Label>& common = common_;
    for (const std::vector<Label>* set : {&common, &labels})
      for (const auto& l : *set) {
        out_ += ',';
        out_ += l.name;
        out_ += "=\"";
        out_ += prometheus_label_value(l.value);
        out_ += '"';
      }
    out_ += "} " + value + "\n";
  }
  static std::string escape_help(std::string_view help) {
    std::string s;
    for (char c : help) {
      if (c == '\\') s += "\\\\";
      else if (c == '\n') s += "\\n";
      else s += c;
    }
    return s;
  }
  std::string run_id_;
  std::vector<Label> common_;
  std::string out_;
};

}  // namespace

std::string prometheus_label_value(std::string_view value) {
  std::string s;
  for (char c : value) {
    if (c == '\\') s += "\\\\";
    else if (c == '"') s += "\\\"";
    else if (c == '\n') s += "\\n";
    else s += c;
  }
  return s;
}

std::string prometheus_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return python_float_repr(value);
}

std::string prometheus_text(const Run& r) {
  // Per meter: joules over the counted epochs, and the last counted epoch's mean power.
  struct PerMeter {
    const MeterInfo* info;
    double joules = 0;
    std::optional<double> last_watts;
  };
  std::vector<PerMeter> meters;
  for (const auto& m : r.context.meters) meters.push_back({&m, 0.0, std::nullopt});
  // From the table's running sums and its newest counted row: written at every epoch's end, this
  // costs O(meters), not O(epochs).
  const EpochTable& t = r.epochs;
  int counted = t.counted_epochs();
  double seconds = t.counted_s();
  // The power: the newest counted epoch that lasted some time and has an entry for the meter,
  // looked for among the newest kPowerLookBack epochs only (two epoch lines read together end a
  // 0 s epoch; a meter gone for longer than that has no current power to show).
  constexpr std::size_t kPowerLookBack = 64;
  for (std::size_t c = 0; c < t.devices().size(); ++c)
    for (auto& pm : meters)
      if (pm.info->id == t.devices()[c].meter_id) {
        pm.joules += t.counted_device_joules(c);
        for (std::size_t row = t.size(), seen = 0; row > 0 && seen < kPowerLookBack && !pm.last_watts; --row, ++seen) {
          if (t.interrupted(row - 1) || !(t.duration_s(row - 1) > 0)) continue;
          if (auto j = t.device_joules(row - 1, c)) pm.last_watts = *j / t.duration_s(row - 1);
        }
      }
  auto device_labels = [](const MeterInfo& m) {
    return std::vector<Label>{{"component", std::string(to_string(m.component))},
                              {"device", m.device_name},
                              {"meter", m.id}};
  };

  // Every sample says which process of which job measured it (docs/cluster.md).
  const JobIdentity& job = r.context.job;
  Exposition x(r.context.run_id, {{"job", job.job_id},
                                  {"step", job.step_id},
                                  {"rank", std::to_string(job.rank)},
                                  {"local_rank", std::to_string(job.local_rank)},
                                  {"node", job.node}});
  x.family("epochwatt_info", "gauge", "Always 1; the labels name the tool and version of the run.");
  x.sample("epochwatt_info", 1, {{"tool", r.context.tool_name}, {"version", r.context.version}});
  x.family("epochwatt_run_start_time_seconds", "gauge", "Start of the run, seconds since 1970-01-01 UTC.");
  x.sample("epochwatt_run_start_time_seconds",
           std::chrono::duration<double>(r.context.started.time_since_epoch()).count());
  x.family("epochwatt_run_finished", "gauge", "1 once the run has ended, else 0.");
  x.sample("epochwatt_run_finished", r.complete ? 1 : 0);
  x.family("epochwatt_epochs_planned", "gauge", "Epochs the run was planned for.");
  x.sample("epochwatt_epochs_planned", r.context.epochs_planned);
  x.family("epochwatt_epochs_done", "gauge", "Epochs that ended and were counted.");
  x.sample("epochwatt_epochs_done", counted);
  x.family("epochwatt_measured_seconds_total", "counter", "Duration of the counted epochs, in seconds.");
  x.sample("epochwatt_measured_seconds_total", seconds);
  x.family("epochwatt_energy_joules_total", "counter",
           "Energy drawn by each device during the counted epochs, in joules, without PUE.");
  for (const auto& pm : meters) x.sample("epochwatt_energy_joules_total", pm.joules, device_labels(*pm.info));
  x.family("epochwatt_power_watts", "gauge", "Mean power of each device over the last counted epoch, in watts, without PUE.");
  for (const auto& pm : meters)
    if (pm.last_watts) x.sample("epochwatt_power_watts", *pm.last_watts, device_labels(*pm.info));
  x.family("epochwatt_pue", "gauge", "Power usage effectiveness applied to energy totals and emissions.");
  x.sample("epochwatt_pue", r.context.pue);
  double energy_kwh = 0;
  for (const auto& pm : meters) energy_kwh += pm.joules * r.context.pue / kJoulesPerKwh;
  x.family("epochwatt_energy_with_pue_joules_total", "counter",
           "Energy of the set-up and the counted epochs over all devices, in joules, multiplied by the PUE.");
  x.sample("epochwatt_energy_with_pue_joules_total", r.actual ? r.actual->energy_kwh * kJoulesPerKwh : energy_kwh * kJoulesPerKwh);
  x.family("epochwatt_emissions_grams_total", "counter", "Emissions of the set-up and the counted epochs, in grams of CO2e, with PUE.");
  x.sample("epochwatt_emissions_grams_total", r.actual ? r.actual->co2_g : 0.0);
  x.family("epochwatt_carbon_intensity_grams_per_kwh", "gauge",
           "Carbon intensity in use, in grams of CO2e per kWh; the source label says where it came from.");
  x.sample("epochwatt_carbon_intensity_grams_per_kwh", r.intensity.g_per_kwh, {{"source", r.intensity.source}});
  // The newest prediction (remade after every epoch), else the printed one (a run read back).
  std::optional<Consumption> predicted = r.latest_prediction ? std::optional(r.latest_prediction->footprint) : r.prediction;
  if (predicted) {
    x.family("epochwatt_predicted_duration_seconds", "gauge", "Predicted duration of all planned epochs, in seconds.");
    x.sample("epochwatt_predicted_duration_seconds", predicted->duration_s);
    x.family("epochwatt_predicted_energy_kwh", "gauge", "Predicted energy of all planned epochs, in kWh, with PUE.");
    x.sample("epochwatt_predicted_energy_kwh", predicted->energy_kwh);
    x.family("epochwatt_predicted_emissions_grams", "gauge", "Predicted emissions of all planned epochs, in grams of CO2e.");
    x.sample("epochwatt_predicted_emissions_grams", predicted->co2_g);
  }
  if (r.latest_prediction) {
    const PredictionDetail& d = r.latest_prediction->detail;
    x.family("epochwatt_prediction_epochs", "gauge", "Epochs that had ended when the newest prediction was made.");
    x.sample("epochwatt_prediction_epochs", d.after_epochs, {{"rule", std::string(to_string(d.rule))}});
    if (d.range_known) {
      std::string level = shortest_fixed(d.level);
      x.family("epochwatt_predicted_energy_range_kwh", "gauge",
               "Ends of the prediction's range of energy (level label: its share, 0.9 = 90 %), in kWh, with PUE.");
      x.sample("epochwatt_predicted_energy_range_kwh", d.energy_kwh.low, {{"bound", "low"}, {"level", level}});
      x.sample("epochwatt_predicted_energy_range_kwh", d.energy_kwh.high, {{"bound", "high"}, {"level", level}});
      x.family("epochwatt_predicted_duration_range_seconds", "gauge", "Ends of the prediction's range of duration, in seconds.");
      x.sample("epochwatt_predicted_duration_range_seconds", d.duration_s.low, {{"bound", "low"}, {"level", level}});
      x.sample("epochwatt_predicted_duration_range_seconds", d.duration_s.high, {{"bound", "high"}, {"level", level}});
    }
  }
  return x.text();
}

RecordFormat prometheus_format() {
  RecordFormat f;
  f.ours = [](std::string_view first) { return first.rfind("# HELP epochwatt_", 0) == 0; };
  return f;
}

void PrometheusReporter::write(const Run& r) {
  guarded([&] { return replace_file(sink(), path(), prometheus_format(), prometheus_text(r)); });
}

}  // namespace epochwatt::detail
