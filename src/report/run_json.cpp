#include "report/run_json.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <type_traits>
#include <utility>

#include "core/format.hpp"
#include "report/ct_report.hpp"
#include "epochwatt/version.hpp"

namespace epochwatt {

namespace detail {

const nlohmann::json& json_field(const nlohmann::json& j, const char* key) {
  static const nlohmann::json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

}  // namespace detail

namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using detail::json_field;

// An integer that T holds exactly, from a JSON integer or an integral float; else nullopt.
// nlohmann's get<int>() would cast instead: 1e308 or -1e300 into an int is undefined behaviour, and
// 2^40 would wrap (found by fuzz/json_summary).
template <class T>
std::optional<T> integer_in_range(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (std::in_range<T>(u)) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    auto i = v.get<std::int64_t>();
    if (std::in_range<T>(i)) return static_cast<T>(i);
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    // [-2^63, 2^63): where the cast to int64 is defined; NaN fails both comparisons.
    if (d >= -0x1p63 && d < 0x1p63 && d == std::trunc(d)) {
      auto i = static_cast<std::int64_t>(d);
      if (std::in_range<T>(i)) return static_cast<T>(i);
    }
  }
  return std::nullopt;
}

template <class T>
void read(const json& j, const char* key, T& out) {
  const json& v = json_field(j, key);
  if constexpr (std::is_same_v<T, bool>) {
    if (v.is_boolean()) out = v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (auto n = integer_in_range<T>(v)) out = *n;  // out of range or fractional: the default stands
  } else if constexpr (std::is_arithmetic_v<T>) {
    if (v.is_number()) out = v.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (v.is_string()) out = v.get<std::string>();
  } else {
    if (!v.is_null()) {
      try {
        out = v.get<T>();
      } catch (const json::exception&) {
        // tolerant: the default stands
      }
    }
  }
}
template <class T>
void read_array(const json& j, const char* key, std::vector<T>& out) {
  const json& v = json_field(j, key);
  if (!v.is_array()) return;
  for (const auto& item : v) {
    T x{};
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      auto n = integer_in_range<T>(item);
      if (!n) continue;
      x = *n;
    } else if constexpr (std::is_arithmetic_v<T>) {
      if (!item.is_number()) continue;
      x = item.get<T>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!item.is_string()) continue;
      x = item.get<std::string>();
    } else {
      from_json(item, x);
    }
    out.push_back(std::move(x));
  }
}

Component component_named(const std::string& s, Component fallback) {
  for (Component c : {Component::cpu, Component::dram, Component::gpu})
    if (to_string(c) == s) return c;
  return fallback;
}
Method method_named(const std::string& s, Method fallback) {
  for (Method m : {Method::counter, Method::integrated_power, Method::estimate, Method::simulated, Method::replay,
                   Method::sampled_power, Method::unknown})
    if (to_string(m) == s) return m;
  return fallback;
}
std::chrono::system_clock::time_point utc_time(const json& j, const char* key) {
  std::string s;
  read(j, key, s);
  return detail::parse_utc_iso8601(s).value_or(std::chrono::system_clock::time_point{});
}

// The err log is created at its first line: named only when something was logged there.
bool log_error_written(const Run& r) {
  std::error_code ec;
  return !r.log_error.empty() && !r.log_std.empty() && std::filesystem::exists(r.log_error, ec);
}

}  // namespace

void to_json(ordered_json& j, const MeterInfo& m) {
  j = {{"id", m.id},
       {"component", std::string(to_string(m.component))},
       {"device", m.device_name},
       {"method", std::string(to_string(m.method))},
       {"basis", std::string(detail::to_string(detail::basis_of(m.method)))},
       {"method_description", detail::method_phrase(m.component, m.method)},
       {"detail", m.detail}};
  std::vector<std::string> also;
  for (Component c : m.also_covers) also.emplace_back(to_string(c));
  j["also_covers"] = also;
  j["coverage"] = m.coverage;
  // Multi-process jobs (docs/cluster.md): written only for a shared meter, so that a single
  // process's summary is as before.
  if (!m.hardware_id.empty()) j["hardware_id"] = m.hardware_id;
  if (!m.shared.empty()) {
    j["shared"] = m.shared;
    j["claim"] = m.claim;
  }
}
void from_json(const json& j, MeterInfo& m) {
  std::string comp, method;
  read(j, "id", m.id);
  read(j, "component", comp);
  read(j, "device", m.device_name);
  read(j, "method", method);
  read(j, "detail", m.detail);
  read(j, "coverage", m.coverage);
  read(j, "hardware_id", m.hardware_id);
  read(j, "shared", m.shared);
  read(j, "claim", m.claim);
  std::vector<std::string> also;
  read_array(j, "also_covers", also);
  for (const auto& a : also)
    for (Component c : {Component::cpu, Component::dram, Component::gpu})
      if (to_string(c) == a) m.also_covers.push_back(c);
  m.component = component_named(comp, m.component);
  m.method = method_named(method, m.method);
}

void to_json(ordered_json& j, const DeviceEnergy& d) {
  j = {{"meter", d.meter_id},
       {"device", d.device_name},
       {"component", std::string(to_string(d.component))},
       {"method", std::string(to_string(d.method))},
       {"joules", d.joules},
       {"complete", d.complete}};
}
void from_json(const json& j, DeviceEnergy& d) {
  std::string comp, method;
  read(j, "meter", d.meter_id);
  read(j, "device", d.device_name);
  read(j, "component", comp);
  read(j, "method", method);
  read(j, "joules", d.joules);
  read(j, "complete", d.complete);
  d.component = component_named(comp, d.component);
  d.method = method_named(method, d.method);
}

void to_json(ordered_json& j, const EpochSummary& e) {
  // joules_by_component is derived (the devices summed per component), for readers' convenience.
  ordered_json by_component = ordered_json::object();
  for (const auto& d : e.devices) {
    std::string comp(to_string(d.component));
    by_component[comp] = by_component.value(comp, 0.0) + d.joules;
  }
  j = {{"epoch", e.index},
       {"interrupted", e.interrupted},
       {"duration_s", e.duration_s},
       {"joules", e.joules},
       {"joules_by_component", by_component},
       {"devices", e.devices}};
}
void from_json(const json& j, EpochSummary& e) {
  read(j, "epoch", e.index);
  read(j, "interrupted", e.interrupted);
  read(j, "duration_s", e.duration_s);
  read(j, "joules", e.joules);
  read_array(j, "devices", e.devices);
}

namespace {

// Fills in what a device entry that names only its meter leaves out (older summaries, hand-edited
// files): the meter's component, device name and method.
void fill_from_meter(const json& entry, const std::vector<MeterInfo>& meters, DeviceEnergy& d) {
  for (const auto& m : meters) {
    if (m.id != d.meter_id) continue;
    if (!json_field(entry, "component").is_string()) d.component = m.component;
    if (!json_field(entry, "method").is_string()) d.method = m.method;
    if (!json_field(entry, "device").is_string()) d.device_name = m.device_name;
  }
}

// Row numbers (0-based, < rows) listed under `key`; others ignored.
std::vector<bool> row_flags(const json& j, const char* key, std::size_t rows) {
  std::vector<bool> flags(rows, false);
  const json& v = json_field(j, key);
  if (!v.is_array()) return flags;
  for (const auto& item : v)
    if (auto n = integer_in_range<std::size_t>(item); n && *n < rows) flags[*n] = true;
  return flags;
}

}  // namespace

void read_epochs(const json& v, const std::vector<MeterInfo>& meters, EpochTable& out) {
  out.clear();
  if (v.is_array()) {  // schema versions 1 and 2: one object per epoch
    for (const auto& item : v) {
      EpochSummary e;
      from_json(item, e);
      const json& devs = json_field(item, "devices");
      for (std::size_t k = 0; devs.is_array() && k < devs.size() && k < e.devices.size(); ++k)
        fill_from_meter(devs[k], meters, e.devices[k]);
      out.push_back(e);
    }
    return;
  }
  if (!v.is_object()) return;
  // Schema version 3: columns (docs/json-summary.md). The rows are those of "epoch"; a missing or
  // mistyped cell keeps its default (index: the row's position + 1; figures: 0; device: no entry).
  const json& index = json_field(v, "epoch");
  if (!index.is_array()) return;
  const std::size_t rows = index.size();
  const json& duration = json_field(v, "duration_s");
  const json& joules = json_field(v, "joules");
  auto number = [](const json& arr, std::size_t i) -> std::optional<double> {
    if (!arr.is_array() || i >= arr.size() || !arr[i].is_number()) return std::nullopt;
    return arr[i].get<double>();
  };
  std::vector<bool> interrupted = row_flags(v, "interrupted_rows", rows);
  struct Column {
    DeviceEnergy device;  // the descriptor; joules per row below
    const json* joules;
    std::vector<bool> incomplete;
  };
  std::vector<Column> columns;
  const json& devs = json_field(v, "devices");
  if (devs.is_array())
    for (const auto& d : devs) {
      Column col;
      from_json(d, col.device);
      fill_from_meter(d, meters, col.device);
      col.joules = &json_field(d, "joules");
      col.incomplete = row_flags(d, "incomplete_rows", rows);
      columns.push_back(std::move(col));
    }
  for (std::size_t i = 0; i < rows; ++i) {
    EpochSummary e;
    e.index = integer_in_range<int>(index[i]).value_or(static_cast<int>(std::min<std::size_t>(i + 1, 1u << 30)));
    e.duration_s = number(duration, i).value_or(0.0);
    e.joules = number(joules, i).value_or(0.0);
    e.interrupted = interrupted[i];
    for (const auto& col : columns) {
      auto j = number(*col.joules, i);
      if (!j) continue;  // null: no entry for this device in this epoch
      DeviceEnergy d = col.device;
      d.joules = *j;
      d.complete = !col.incomplete[i];
      e.devices.push_back(std::move(d));
    }
    out.push_back(e);
  }
}

void to_json(ordered_json& j, const EpochTable& t) {
  ordered_json index = ordered_json::array(), duration = ordered_json::array(), joules = ordered_json::array();
  for (std::size_t i = 0; i < t.size(); ++i) {
    index.push_back(t.index(i));
    duration.push_back(t.duration_s(i));
    joules.push_back(t.joules(i));
  }
  ordered_json devices = ordered_json::array();
  for (std::size_t c = 0; c < t.devices().size(); ++c) {
    const EpochTable::Device& d = t.devices()[c];
    ordered_json cells = ordered_json::array(), incomplete = ordered_json::array();
    for (std::size_t i = 0; i < t.size(); ++i) {
      auto v = t.device_joules(i, c);
      cells.push_back(v ? ordered_json(*v) : ordered_json(nullptr));
    }
    for (const auto& [row, col] : t.incomplete_cells())
      if (col == c) incomplete.push_back(row);
    devices.push_back({{"meter", d.meter_id},
                       {"device", d.device_name},
                       {"component", std::string(to_string(d.component))},
                       {"method", std::string(to_string(d.method))},
                       {"joules", cells},
                       {"incomplete_rows", incomplete}});
  }
  j = {{"layout", "columns"},
       {"count", t.size()},
       {"epoch", index},
       {"duration_s", duration},
       {"joules", joules},
       {"interrupted_rows", t.interrupted_rows()},
       {"devices", devices}};
}
void from_json(const json& j, EpochTable& t) { read_epochs(j, {}, t); }

void to_json(ordered_json& j, const Consumption& c) {
  j = {{"epochs", c.epochs},
       {"duration_s", c.duration_s},
       {"energy_kwh", c.energy_kwh},
       {"co2_g", c.co2_g},
       {"intensity_g_per_kwh", c.intensity_g_per_kwh},
       {"intensity_source", c.intensity_source},
       {"intensity_forecast", c.intensity_forecast},
       {"km_by_car", c.km_by_car}};
}
void from_json(const json& j, Consumption& c) {
  read(j, "epochs", c.epochs);
  read(j, "duration_s", c.duration_s);
  read(j, "energy_kwh", c.energy_kwh);
  read(j, "co2_g", c.co2_g);
  read(j, "intensity_g_per_kwh", c.intensity_g_per_kwh);
  read(j, "intensity_source", c.intensity_source);
  read(j, "intensity_forecast", c.intensity_forecast);
  read(j, "km_by_car", c.km_by_car);
}

void to_json(ordered_json& j, const Setup& s) {
  j = {{"duration_s", s.duration_s}, {"joules", s.joules}, {"devices", s.devices}};
}
void from_json(const json& j, Setup& s) {
  read(j, "duration_s", s.duration_s);
  read(j, "joules", s.joules);
  read_array(j, "devices", s.devices);
}

namespace {
ordered_json range_json(const Range& r) { return ordered_json::array({r.low, r.high}); }
void read_range(const json& j, const char* key, Range& r) {
  const json& v = json_field(j, key);
  if (v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number())
    r = {v[0].get<double>(), v[1].get<double>()};
}
}  // namespace

void to_json(ordered_json& j, const PredictionDetail& d) {
  j = {{"rule", std::string(to_string(d.rule))},
       {"after_epochs", d.after_epochs},
       {"steady_epochs", d.steady_epochs},
       {"warmup_epochs", d.warmup_epochs},
       {"outlier_epochs", d.outlier_epochs},
       {"period", d.period},
       {"period_first", d.period_first},
       {"periodic_remaining", d.periodic_remaining},
       {"period_extra_s", d.period_extra_s},
       {"period_extra_joules", d.period_extra_joules},
       {"trend_s_per_epoch", d.trend_s_per_epoch},
       {"trend_joules_per_epoch", d.trend_joules_per_epoch},
       {"first_epoch_includes_setup", d.first_epoch_includes_setup},
       {"setup_s", d.setup_s},
       {"setup_joules", d.setup_joules},
       {"level", d.level},
       {"range_known", d.range_known},
       {"duration_s_range", range_json(d.duration_s)},
       {"energy_kwh_range", range_json(d.energy_kwh)},
       {"co2_g_range", range_json(d.co2_g)}};
}
void from_json(const json& j, PredictionDetail& d) {
  std::string rule;
  read(j, "rule", rule);
  d.rule = prediction_rule_from_string(rule).value_or(d.rule);
  read(j, "after_epochs", d.after_epochs);
  read(j, "steady_epochs", d.steady_epochs);
  read_array(j, "warmup_epochs", d.warmup_epochs);
  read_array(j, "outlier_epochs", d.outlier_epochs);
  read(j, "period", d.period);
  read(j, "period_first", d.period_first);
  read(j, "periodic_remaining", d.periodic_remaining);
  read(j, "period_extra_s", d.period_extra_s);
  read(j, "period_extra_joules", d.period_extra_joules);
  read(j, "trend_s_per_epoch", d.trend_s_per_epoch);
  read(j, "trend_joules_per_epoch", d.trend_joules_per_epoch);
  read(j, "first_epoch_includes_setup", d.first_epoch_includes_setup);
  read(j, "setup_s", d.setup_s);
  read(j, "setup_joules", d.setup_joules);
  read(j, "level", d.level);
  read(j, "range_known", d.range_known);
  read_range(j, "duration_s_range", d.duration_s);
  read_range(j, "energy_kwh_range", d.energy_kwh);
  read_range(j, "co2_g_range", d.co2_g);
}

void to_json(ordered_json& j, const Prediction& p) {
  j = p.footprint;
  j["detail"] = p.detail;
}
void from_json(const json& j, Prediction& p) {
  from_json(j, p.footprint);
  if (json_field(j, "detail").is_object()) from_json(json_field(j, "detail"), p.detail);
}

void to_json(ordered_json& j, const PowerSeries& p) {
  j = {{"meter", p.meter_id},
       {"device", p.device_name},
       {"component", std::string(to_string(p.component))},
       {"method", std::string(to_string(p.method))},
       {"start_s", p.start_s},
       {"end_s", p.end_s},
       {"watts", p.watts}};
}
void from_json(const json& j, PowerSeries& p) {
  std::string comp, method;
  read(j, "meter", p.meter_id);
  read(j, "device", p.device_name);
  read(j, "component", comp);
  read(j, "method", method);
  read(j, "start_s", p.start_s);
  // A series is read up to its first broken point (mistyped, or a time that does not advance).
  const json& end = json_field(j, "end_s");
  const json& watts = json_field(j, "watts");
  if (end.is_array() && watts.is_array()) {
    for (std::size_t i = 0; i < std::min(end.size(), watts.size()); ++i) {
      if (!end[i].is_number() || !watts[i].is_number()) break;
      p.end_s.push_back(end[i].get<double>());
      p.watts.push_back(watts[i].get<double>());
    }
  }
  p.component = component_named(comp, p.component);
  p.method = method_named(method, p.method);
}

// A process's place in its job (JobIdentity): the same keys in the JSON summary's context and
// every JSON Lines record. `warnings` is not written: the run's warnings hold those lines.
void to_json(ordered_json& j, const JobIdentity& id) {
  j = {{"job_id", id.job_id},
       {"step_id", id.step_id},
       {"rank", id.rank},
       {"local_rank", id.local_rank},
       {"world_size", id.world_size},
       {"local_world_size", id.local_world_size},
       {"node", id.node},
       {"node_rank", id.node_rank},
       {"launcher", id.launcher}};
}
void from_json(const json& j, JobIdentity& id) {
  read(j, "job_id", id.job_id);
  read(j, "step_id", id.step_id);
  read(j, "rank", id.rank);
  read(j, "local_rank", id.local_rank);
  read(j, "world_size", id.world_size);
  read(j, "local_world_size", id.local_world_size);
  read(j, "node", id.node);
  read(j, "node_rank", id.node_rank);
  read(j, "launcher", id.launcher);
}

// The context block: one definition for the JSON summary and every JSON Lines record
// (jsonl_output.cpp), so that a reader finds the same keys, in the same order, in both.
void to_json(ordered_json& j, const RunContext& c) {
  j = {{"tool", c.tool_name},
       {"version", c.version},
       {"json_schema_version", kJsonSchemaVersion},
       {"run_id", c.run_id},
       {"host", c.host},
       {"job", c.job},
       {"os", c.os},
       {"pid", c.pid},
       {"started_utc", detail::utc_iso8601(c.started)},
       {"components", c.components},
       {"devices", c.meters},
       {"process_tracking", c.process_tracking},
       {"pue", c.pue},
       {"epochs_planned", c.epochs_planned},
       {"epochs_before_pred", c.epochs_before_pred},
       {"monitor_epochs", c.monitor_epochs},
       {"prediction_skips_first_epoch", c.prediction_skips_first_epoch},
       {"prediction_rule", std::string(to_string(c.prediction_rule))},
       {"first_epoch_includes_setup", c.first_epoch_includes_setup},
       {"intensity_refresh_s", c.intensity_refresh_s},
       {"decimal_precision", c.decimal_precision},
       {"interpretable", c.interpretable}};
}
void from_json(const json& j, RunContext& c) {
  read(j, "tool", c.tool_name);
  read(j, "version", c.version);
  read(j, "run_id", c.run_id);
  read(j, "host", c.host);
  // Summaries written before job identities (issue 14) have none: a single process.
  if (json_field(j, "job").is_object()) from_json(json_field(j, "job"), c.job);
  read(j, "os", c.os);
  read(j, "pid", c.pid);
  c.started = utc_time(j, "started_utc");
  read_array(j, "components", c.components);
  read_array(j, "devices", c.meters);
  read(j, "process_tracking", c.process_tracking);
  read(j, "pue", c.pue);
  read(j, "epochs_planned", c.epochs_planned);
  read(j, "epochs_before_pred", c.epochs_before_pred);
  read(j, "monitor_epochs", c.monitor_epochs);
  read(j, "prediction_skips_first_epoch", c.prediction_skips_first_epoch);
  // Summaries written before epochwatt had its own rule name none: theirs was carbontracker's.
  std::string rule;
  read(j, "prediction_rule", rule);
  c.prediction_rule = prediction_rule_from_string(rule).value_or(PredictionRule::carbontracker);
  read(j, "first_epoch_includes_setup", c.first_epoch_includes_setup);
  read(j, "intensity_refresh_s", c.intensity_refresh_s);
  read(j, "decimal_precision", c.decimal_precision);
  read(j, "interpretable", c.interpretable);
}

void to_json(ordered_json& j, const Run& r) {
  j = detail::run_json_except_epochs(r);
  j["epochs"] = r.epochs;  // columns: to_json(EpochTable), in the place kept for them
}

ordered_json detail::run_json_except_epochs(const Run& r) {
  ordered_json j = ordered_json::object();
  j["context"] = r.context;
  j["finished_utc"] = detail::utc_iso8601(r.finished);
  j["log_files"] = {{"standard", r.log_std},
                    {"output", r.log_output},
                    {"error", log_error_written(r) ? ordered_json(r.log_error) : ordered_json(nullptr)}};
  j["epochs"] = nullptr;  // the caller writes them
  j["setup"] = r.setup ? ordered_json(*r.setup) : ordered_json(nullptr);
  j["prediction"] = r.prediction ? ordered_json(*r.prediction) : ordered_json(nullptr);
  j["prediction_detail"] = r.prediction_detail ? ordered_json(*r.prediction_detail) : ordered_json(nullptr);
  j["latest_prediction"] = r.latest_prediction ? ordered_json(*r.latest_prediction) : ordered_json(nullptr);
  j["actual"] = r.actual ? ordered_json(*r.actual) : ordered_json(nullptr);
  // Which part of the counted energy was measured and which estimated (derived from the epochs'
  // device entries; written for readers, not read back).
  detail::EnergyByBasis basis = detail::energy_by_basis(r.epochs, r.setup);
  j["energy_basis"] = {{"measured_joules", basis.measured_j},
                       {"estimated_joules", basis.estimated_j},
                       {"unknown_joules", basis.unknown_j},
                       {"measured", basis.measured},
                       {"estimated", basis.estimated},
                       {"unknown", basis.unknown},
                       {"sentence", detail::basis_sentence(basis)}};
  j["early_stop"] = r.early_stop;
  j["intensity"] = {{"g_per_kwh", r.intensity.g_per_kwh},
                    {"source", r.intensity.source},
                    {"description", r.intensity.description},
                    {"live", r.intensity.live},
                    {"location", r.location.country},
                    {"location_rule", r.location.rule},
                    {"values", r.intensity_values}};
  j["warnings"] = r.warnings;
  j["power_series"] = r.power_series;
  return j;
}

void from_json(const json& j, Run& r) {
  const json& ctx = json_field(j, "context");
  const RunContext& c = r.context;
  from_json(ctx, r.context);
  // Schema version 1 held finished_utc and log_files inside the context block.
  const json& holder = json_field(j, "finished_utc").is_null() && json_field(j, "log_files").is_null() ? ctx : j;
  r.finished = utc_time(holder, "finished_utc");
  const json& logs = json_field(holder, "log_files");
  read(logs, "standard", r.log_std);
  read(logs, "output", r.log_output);
  read(logs, "error", r.log_error);
  read_epochs(json_field(j, "epochs"), c.meters, r.epochs);
  if (json_field(j, "setup").is_object()) r.setup = json_field(j, "setup").get<Setup>();
  if (json_field(j, "prediction").is_object()) r.prediction = json_field(j, "prediction").get<Consumption>();
  if (json_field(j, "prediction_detail").is_object())
    r.prediction_detail = json_field(j, "prediction_detail").get<PredictionDetail>();
  if (json_field(j, "latest_prediction").is_object())
    r.latest_prediction = json_field(j, "latest_prediction").get<Prediction>();
  if (json_field(j, "actual").is_object()) r.actual = json_field(j, "actual").get<Consumption>();
  read(j, "early_stop", r.early_stop);
  const json& in = json_field(j, "intensity");
  read(in, "g_per_kwh", r.intensity.g_per_kwh);
  read(in, "source", r.intensity.source);
  read(in, "description", r.intensity.description);
  read(in, "live", r.intensity.live);
  read(in, "location", r.location.country);
  read(in, "location_rule", r.location.rule);
  read_array(in, "values", r.intensity_values);
  read_array(j, "warnings", r.warnings);
  read_array(j, "power_series", r.power_series);
  r.complete = r.actual.has_value();
}

}  // namespace epochwatt
