#include "report/ct_report.hpp"

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
    for (std::size_t i = 0; i < c.devices.size(); ++i) s += (i ? ", " : "") + c.devices[i];
    s += ".";
  }
  return s;
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

std::string pue_line(double pue) {
  std::string v = shortest_fixed(pue);
  if (pue == 1.58)
    return "Only predicted and actual consumptions are multiplied by a PUE coefficient of 1.58 (Daniel Bizo, 2023, Uptime Institute Global Data Center Survey).";
  return "Only predicted and actual consumptions are multiplied by a PUE coefficient of " + v + " (set by option).";
}

}  // namespace epochwatt::detail
