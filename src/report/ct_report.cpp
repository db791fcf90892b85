#include "report/ct_report.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/format.hpp"

namespace epochwatt::detail {

std::string consumption_block(const std::string& title, const Consumption& c, int precision,
                              bool interpretable) {
  std::string s = "\n" + title + "\n\tTime:\t" + report_time(c.duration_s) + "\n\tEnergy:\t" +
                  fixed(c.energy_kwh, precision) + " kWh\n\tCO2eq:\t" + fixed(c.co2_g, precision) + " g";
  if (interpretable && !std::isnan(c.co2_g) && c.co2_g >= 0)
    s += "\n\tThis is equivalent to:\n\t" + fixed(c.co2_g / kCarGramsPerKm, precision) + " km travelled by car";
  return s;
}

std::string components_segments(const std::vector<ComponentDevices>& components) {
  std::string s;
  for (const auto& c : components) {
    if (!s.empty()) s += " ";
    std::string name = c.component;
    for (char& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    s += name + " with device(s) ";
    for (std::size_t i = 0; i < c.devices.size(); ++i) {
      s += (i ? ", " : "") + c.devices[i];
      if (i < c.methods.size() && !c.methods[i].empty()) s += " (" + c.methods[i] + ")";
    }
    s += ".";
  }
  return s;
}

// The joules of `method`'s basis, and the list of its parts ("GPU: energy counter").
double& basis_joules(EnergyByBasis& e, Method method) {
  switch (basis_of(method)) {
    case Basis::measured: return e.measured_j;
    case Basis::estimated: return e.estimated_j;
    case Basis::unknown: break;
  }
  return e.unknown_j;
}
std::vector<std::string>& basis_parts(EnergyByBasis& e, Method method) {
  switch (basis_of(method)) {
    case Basis::measured: return e.measured;
    case Basis::estimated: return e.estimated;
    case Basis::unknown: break;
  }
  return e.unknown;
}

// Names the part of a device's energy in its basis's list, once.
void note_part(EnergyByBasis& e, Component component, Method method) {
  std::string comp(to_string(component));
  for (char& ch : comp) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string how = method_phrase(component, method);
  if (auto colon = how.find(": "); colon != std::string::npos) how = how.substr(colon + 2);
  std::string part = comp + ": " + how;
  std::vector<std::string>& parts = basis_parts(e, method);
  if (std::find(parts.begin(), parts.end(), part) == parts.end()) parts.push_back(part);
}

void add_energy(EnergyByBasis& e, Component component, Method method, double joules) {
  basis_joules(e, method) += joules;
  note_part(e, component, method);
}

EnergyByBasis energy_by_basis(const std::vector<EpochSummary>& epochs, const std::optional<Setup>& setup) {
  EnergyByBasis e;
  for (const auto& ep : epochs)
    if (!ep.interrupted)
      for (const auto& d : ep.devices) add_energy(e, d.component, d.method, d.joules);
  if (setup)
    for (const auto& d : setup->devices) add_energy(e, d.component, d.method, d.joules);
  return e;
}

EnergyByBasis energy_by_basis(const EpochTable& epochs, const std::optional<Setup>& setup) {
  // The same sums in the same order as the vector's form; each column's part is named once, where
  // it first counts (so the lists come out in the same order too).
  EnergyByBasis e;
  const auto& devices = epochs.devices();
  std::vector<bool> noted(devices.size(), false);
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    if (epochs.interrupted(i)) continue;
    for (std::size_t c = 0; c < devices.size(); ++c) {
      auto j = epochs.device_joules(i, c);
      if (!j) continue;
      basis_joules(e, devices[c].method) += *j;
      if (!noted[c]) note_part(e, devices[c].component, devices[c].method), noted[c] = true;
    }
  }
  if (setup)
    for (const auto& d : setup->devices) add_energy(e, d.component, d.method, d.joules);
  return e;
}

std::string basis_sentence(const EnergyByBasis& e, const std::string& what) {
  double total = e.total_j();
  if (!(total > 0)) return "";
  struct Part {
    double j;
    const std::vector<std::string>* how;
    const char* word;
  };
  std::vector<Part> parts;
  if (e.measured_j > 0) parts.push_back({e.measured_j, &e.measured, "measured"});
  if (e.estimated_j > 0) parts.push_back({e.estimated_j, &e.estimated, "estimated"});
  if (e.unknown_j > 0) parts.push_back({e.unknown_j, &e.unknown, "of a method the log does not state"});
  std::string s = "Of " + what + ", ";
  if (parts.size() == 1) {
    std::string word = parts[0].word;
    if (word == "estimated") word = "estimated, not measured";
    return s + "all was " + word + " (" + join(*parts[0].how, "; ") + ").";
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    s += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + readable(100 * parts[i].j / total, 3) + "% " +
         (i == 0 ? "was " : "") + parts[i].word + " (" + join(*parts[i].how, "; ") + ")";
  }
  return s + ".";
}

std::string coverage_line(const MeterInfo& m) {
  std::vector<std::string> also;
  for (Component c : m.also_covers) also.emplace_back(to_string(c));
  return "Coverage: " + m.device_name + " (" + m.id + ") covers " + join(also, " and ") + " as well as its " +
         std::string(to_string(m.component)) + (m.coverage.empty() ? std::string() : ": " + m.coverage) +
         "; they are not measured separately.";
}

std::vector<std::string> epoch_component_lines(const std::string& component,
                                               const std::vector<DeviceEnergy>& devices,
                                               double duration_s) {
  double joules = 0;
  std::string methods;
  std::string per_device;
  bool incomplete = false;
  for (const auto& d : devices) {
    joules += d.joules;
    std::string m(to_string(d.method));
    if (methods.find(m) == std::string::npos) methods += (methods.empty() ? "" : ",") + m;
    double w = duration_s > 0 ? d.joules / duration_s : 0.0;
    per_device += (per_device.empty() ? "" : "; ") + d.device_name + "=" + shortest_fixed(w);
    if (!d.complete) {
      per_device += " (incomplete)";
      incomplete = true;
    }
  }
  double watts = duration_s > 0 ? joules / duration_s : 0.0;
  std::vector<std::string> lines;
  lines.push_back("Average power usage (W) for " + component + ": " + shortest_fixed(watts));
  lines.push_back("Power by device (W) for " + component + " [" + methods + "]: " + per_device);
  if (incomplete)
    lines.push_back("Note for " + component + ": a device stopped answering during this epoch; its energy until then is counted.");
  return lines;
}

namespace {

std::string epoch_list(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s;
}

std::string range_text(const PredictionDetail& d) {
  return significant(d.level * 100, 3) + "% range: " + report_time(d.duration_s.low) + " to " +
         report_time(d.duration_s.high) + ", " + significant(d.energy_kwh.low, 3) + " to " +
         significant(d.energy_kwh.high, 3) + " kWh, " + significant(d.co2_g.low, 3) + " to " +
         significant(d.co2_g.high, 3) + " g CO2eq";
}

}  // namespace

std::vector<std::string> prediction_lines(const Consumption& c, const PredictionDetail& d) {
  std::vector<std::string> lines;
  std::string how = "Prediction rule: " + std::string(to_string(d.rule)) + ": ";
  if (d.rule == PredictionRule::carbontracker) {
    how += std::to_string(c.epochs) + " x the mean of " + std::to_string(d.steady_epochs) + " epoch(s)";
    if (!d.warmup_epochs.empty()) how += " (epoch 1 left out)";
    how += "; the set-up is not in it.";
  } else {
    how += std::to_string(d.after_epochs) + " epoch(s) measured";
    if (d.setup_s >= 0.5) how += ", set-up " + report_time(d.setup_s) + " counted once,";
    if (d.trend_s_per_epoch != 0.0 || d.trend_joules_per_epoch != 0.0) {
      auto signed_sig = [](double v) { return (v >= 0 ? "+" : "") + significant(v, 3); };
      how += " + " + std::to_string(std::max(0, c.epochs - d.after_epochs)) + " epoch(s) on the trend of " +
             std::to_string(d.steady_epochs) + " steady epoch(s) (" + signed_sig(d.trend_s_per_epoch) + " s and " +
             signed_sig(d.trend_joules_per_epoch) + " J per epoch)";
    } else {
      how += " + " + std::to_string(std::max(0, c.epochs - d.after_epochs)) + " x the mean of " +
             std::to_string(d.steady_epochs) + " steady epoch(s)";
    }
    if (!d.warmup_epochs.empty()) how += "; left out as warm-up: epoch " + epoch_list(d.warmup_epochs);
    if (!d.outlier_epochs.empty()) how += "; left out as one-off: epoch " + epoch_list(d.outlier_epochs);
    if (d.period > 0)
      how += "; extra work every " + std::to_string(d.period) + " epochs from epoch " + std::to_string(d.period_first) +
             " (" + std::to_string(d.periodic_remaining) + " more to come)";
    how += ".";
  }
  lines.push_back(how);
  if (d.first_epoch_includes_setup && d.after_epochs == 1)
    lines.push_back("Epoch 1 began with the job, so it includes the set-up (imports, data loading): this prediction "
                    "may be far too high. Give --epoch-start-regex to measure the set-up apart.");
  if (d.range_known)
    lines.push_back(range_text(d) + ".");
  else
    lines.push_back("Range unknown: " + std::to_string(d.steady_epochs) +
                    " steady epoch(s) so far, and the spread needs two; the figures above may be far off.");
  return lines;
}

std::string prediction_moved_line(const Consumption& c, const PredictionDetail& d) {
  std::string s = "Prediction after epoch " + std::to_string(d.after_epochs) + " (" + std::string(to_string(d.rule)) +
                  "): " + report_time(c.duration_s) + ", " + significant(c.energy_kwh, 3) + " kWh, " +
                  significant(c.co2_g, 3) + " g CO2eq";
  if (d.range_known) s += "; " + range_text(d);
  return s + ".";
}

std::string setup_line(const Setup& s) {
  return "Set-up before epoch 1: " + log_duration(s.duration_s) + " and " + shortest_fixed(s.joules) +
         " J (included in the actual; never multiplied).";
}

std::string pue_line(double pue) {
  std::string v = shortest_fixed(pue);
  if (pue == 1.58)
    return "Only predicted and actual consumptions are multiplied by a PUE coefficient of 1.58 (Daniel Bizo, 2023, Uptime Institute Global Data Center Survey).";
  return "Only predicted and actual consumptions are multiplied by a PUE coefficient of " + v + " (set by option).";
}

}  // namespace epochwatt::detail
