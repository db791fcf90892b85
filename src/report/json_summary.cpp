#include "report/json_summary.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/format.hpp"
#include "epochwatt/version.hpp"

namespace epochwatt::detail {
namespace {

using nlohmann::ordered_json;

ordered_json consumption_json(const Consumption& c) {
  return ordered_json{{"epochs", c.epochs},
                      {"duration_s", c.duration_s},
                      {"energy_kwh", c.energy_kwh},
                      {"co2_g", c.co2_g},
                      {"intensity_g_per_kwh", c.intensity_g_per_kwh},
                      {"intensity_source", c.intensity_source},
                      {"intensity_forecast", c.intensity_forecast},
                      {"km_by_car", c.km_by_car}};
}

// The err log is created at its first line: named only when something was logged there.
bool log_error_written(const Run& r) {
  std::error_code ec;
  return !r.log_error.empty() && !r.log_std.empty() && std::filesystem::exists(r.log_error, ec);
}

}  // namespace

std::string to_json(const Run& r) {
  ordered_json devices = ordered_json::array();
  for (const auto& m : r.context.meters)
    devices.push_back({{"id", m.id},
                       {"component", std::string(to_string(m.component))},
                       {"device", m.device_name},
                       {"method", std::string(to_string(m.method))},
                       {"detail", m.detail}});
  ordered_json j;
  j["context"] = {{"tool", r.context.tool_name},
                  {"version", r.context.version},
                  {"json_schema_version", kJsonSchemaVersion},
                  {"run_id", r.context.run_id},
                  {"host", r.context.host},
                  {"os", r.context.os},
                  {"pid", r.context.pid},
                  {"started_utc", utc_iso8601(r.context.started)},
                  {"finished_utc", utc_iso8601(r.finished)},
                  {"components", r.context.components},
                  {"devices", devices},
                  {"pue", r.context.pue},
                  {"epochs_planned", r.context.epochs_planned},
                  {"epochs_before_pred", r.context.epochs_before_pred},
                  {"monitor_epochs", r.context.monitor_epochs},
                  {"prediction_skips_first_epoch", r.context.prediction_skips_first_epoch},
                  {"decimal_precision", r.context.decimal_precision},
                  {"log_files", {{"standard", r.log_std},
                                 {"output", r.log_output},
                                 {"error", log_error_written(r) ? ordered_json(r.log_error) : ordered_json(nullptr)}}}};
  ordered_json epochs = ordered_json::array();
  for (const auto& e : r.epochs) {
    ordered_json by_component = ordered_json::object();
    ordered_json by_device = ordered_json::array();
    for (const auto& d : e.devices) {
      std::string comp(to_string(d.component));
      by_component[comp] = by_component.value(comp, 0.0) + d.joules;
      by_device.push_back({{"meter", d.meter_id},
                           {"device", d.device_name},
                           {"component", comp},
                           {"method", std::string(to_string(d.method))},
                           {"joules", d.joules},
                           {"complete", d.complete}});
    }
    epochs.push_back({{"epoch", e.index},
                      {"interrupted", e.interrupted},
                      {"duration_s", e.duration_s},
                      {"joules", e.joules},
                      {"joules_by_component", by_component},
                      {"devices", by_device}});
  }
  j["epochs"] = epochs;
  j["prediction"] = r.prediction ? consumption_json(*r.prediction) : ordered_json(nullptr);
  j["actual"] = r.actual ? consumption_json(*r.actual) : ordered_json(nullptr);
  j["early_stop"] = r.early_stop;
  j["intensity"] = {{"g_per_kwh", r.intensity.g_per_kwh},
                    {"source", r.intensity.source},
                    {"description", r.intensity.description},
                    {"live", r.intensity.live},
                    {"location", r.location.country},
                    {"location_rule", r.location.rule},
                    {"values", r.intensity_values}};
  j["warnings"] = r.warnings;
  ordered_json power = ordered_json::array();
  for (const auto& p : r.power_series)
    power.push_back({{"meter", p.meter_id},
                     {"device", p.device_name},
                     {"component", std::string(to_string(p.component))},
                     {"method", std::string(to_string(p.method))},
                     {"start_s", p.start_s},
                     {"end_s", p.end_s},
                     {"watts", p.watts}});
  j["power_series"] = power;
  // nlohmann-json formats numbers itself (locale-independent, shortest round-trip).
  return j.dump(2) + "\n";
}

void JsonSummaryReporter::run_finished(const Run& run) {
  std::string err = write_file_atomically(path_, to_json(run));
  if (!err.empty()) warn("JSON summary not written: " + err);
}

std::string write_file_atomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return "cannot write " + tmp + ": " + std::strerror(errno);
    f << content;
    f.flush();
    if (!f) return "cannot write " + tmp + ": " + std::strerror(errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = std::strerror(errno);
    std::remove(tmp.c_str());
    return "cannot rename " + tmp + " to " + path + ": " + e;
  }
  return "";
}

}  // namespace epochwatt::detail
