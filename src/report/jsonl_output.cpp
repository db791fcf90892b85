#include "report/jsonl_output.hpp"

#include <nlohmann/json.hpp>

#include "core/format.hpp"
#include "report/run_json.hpp"

namespace epochwatt::detail {
namespace {

using nlohmann::ordered_json;

ordered_json consumption(const std::optional<Consumption>& c) {
  if (!c) return nullptr;
  return {{"epochs", c->epochs},
          {"duration_s", c->duration_s},
          {"energy_kwh", c->energy_kwh},
          {"co2_g", c->co2_g},
          {"intensity_g_per_kwh", c->intensity_g_per_kwh},
          {"intensity_source", c->intensity_source},
          {"intensity_forecast", c->intensity_forecast}};
}

// nlohmann-json writes numbers itself: shortest round-trip, '.' whatever the locale.
std::string line(const ordered_json& j) { return j.dump() + "\n"; }

}  // namespace

std::string jsonl_epoch_line(const Run& r, const EpochSummary& e) {
  ordered_json by_component = ordered_json::object();
  ordered_json devices = ordered_json::array();
  for (const auto& d : e.devices) {
    std::string comp(to_string(d.component));
    by_component[comp] = by_component.value(comp, 0.0) + d.joules;
    devices.push_back({{"meter", d.meter_id},
                       {"device", d.device_name},
                       {"component", comp},
                       {"method", std::string(to_string(d.method))},
                       {"joules", d.joules},
                       {"complete", d.complete}});
  }
  ordered_json j{{"type", "epoch"},
                 {"context", r.context},
                 {"time_utc", utc_iso8601(r.finished)},
                 {"epoch", e.index},
                 {"interrupted", e.interrupted},
                 {"duration_s", e.duration_s},
                 {"joules", e.joules},
                 {"joules_by_component", by_component},
                 {"devices", devices},
                 {"totals", consumption(r.actual)}};
  // The newest prediction, made at this epoch's end (docs/prediction.md).
  const std::size_t n = r.epochs.size();
  bool newest = n > 0 && !r.epochs.interrupted(n - 1) && r.epochs.index(n - 1) == e.index;
  if (!e.interrupted && newest && r.latest_prediction)
    j["prediction"] = *r.latest_prediction;
  return line(j);
}

std::string jsonl_run_line(const Run& r) {
  ordered_json devices = ordered_json::array();
  for (const auto& m : r.context.meters)
    devices.push_back({{"id", m.id},
                       {"component", std::string(to_string(m.component))},
                       {"device", m.device_name},
                       {"method", std::string(to_string(m.method))}});
  int counted = r.epochs.counted_epochs();
  auto interrupted = static_cast<int>(r.epochs.interrupted_rows().size());
  ordered_json j{{"type", "run"},
                 {"context", r.context},
                 {"started_utc", utc_iso8601(r.context.started)},
                 {"finished_utc", utc_iso8601(r.finished)},
                 {"complete", r.complete},
                 {"components", r.context.components},
                 {"devices", devices},
                 {"pue", r.context.pue},
                 {"epochs_planned", r.context.epochs_planned},
                 {"epochs_counted", counted},
                 {"epochs_interrupted", interrupted},
                 {"early_stop", r.early_stop},
                 {"setup", r.setup ? ordered_json(*r.setup) : ordered_json(nullptr)},
                 {"prediction", consumption(r.prediction)},
                 {"actual", consumption(r.actual)},
                 {"intensity", {{"g_per_kwh", r.intensity.g_per_kwh},
                                {"source", r.intensity.source},
                                {"live", r.intensity.live},
                                {"location", r.location.country},
                                {"location_rule", r.location.rule},
                                {"values", r.intensity_values}}},
                 {"warnings", r.warnings}};
  return line(j);
}

RecordFormat jsonl_format() {
  RecordFormat f;
  f.ours = [](std::string_view first) { return first.rfind("{\"type\":\"", 0) == 0; };
  f.whole = [](std::string_view last) { return nlohmann::json::accept(last); };
  return f;
}

void JsonlReporter::write(const Run& r, bool finished) {
  guarded([&]() -> WriteResult {
    std::string text;
    for (std::size_t i = epochs_written_; i < r.epochs.size(); ++i) text += jsonl_epoch_line(r, r.epochs[i]);
    if (finished) text += jsonl_run_line(r);
    if (text.empty()) return {};
    WriteResult res = append_record(sink(), path(), jsonl_format(), text);
    if (res.ok()) epochs_written_ = r.epochs.size();
    return res;
  });
}

}  // namespace epochwatt::detail
