#include "report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/format.hpp"
#include "report/ct_report.hpp"
#include "report/html_charts.hpp"
#include "report/log_parse.hpp"
#include "report/run_json.hpp"

namespace epochwatt::detail {
namespace {

using nlohmann::json;

constexpr double kJoulesPerWh = 3600.0;

std::string utc_or_empty(std::chrono::system_clock::time_point t) {
  return t == std::chrono::system_clock::time_point{} ? "" : utc_iso8601(t);
}

// A meter's power series as cumulative energy at its bucket edges: edges t[0..n], energy e[0..n].
struct Cumulative {
  std::vector<double> t, e;
  double at(double x) const {
    if (t.empty() || x <= t.front()) return 0.0;
    if (x >= t.back()) return e.back();
    auto hi = std::upper_bound(t.begin(), t.end(), x) - t.begin();
    auto lo = hi - 1;
    double span = t[hi] - t[lo];
    return e[lo] + (span > 0 ? (x - t[lo]) / span : 1.0) * (e[hi] - e[lo]);
  }
};

Cumulative cumulative_of(const PowerSeries& s) {
  Cumulative c;
  std::size_t n = std::min(s.end_s.size(), s.watts.size());
  double t = s.start_s, e = 0.0;
  c.t.push_back(t);
  c.e.push_back(0.0);
  for (std::size_t i = 0; i < n; ++i) {
    double t1 = s.end_s[i];
    double w = s.watts[i];
    if (!(t1 > t) || !std::isfinite(w)) break;  // a broken series ends where it breaks
    e += w * (t1 - t);
    t = t1;
    c.t.push_back(t);
    c.e.push_back(e);
  }
  return c;
}

// Per component: the devices' energy summed on the edges of the finest series among them, so
// the component's power over each bucket is exact whatever the devices' own buckets.
std::vector<ReportPowerSeries> power_by_component(const std::vector<PowerSeries>& series) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<Cumulative>> by_component;
  for (const auto& s : series) {
    std::string comp(to_string(s.component));
    Cumulative c = cumulative_of(s);
    if (c.t.size() < 2) continue;
    if (!by_component.count(comp)) order.push_back(comp);
    by_component[comp].push_back(std::move(c));
  }
  std::vector<ReportPowerSeries> out;
  for (const auto& comp : order) {
    const auto& devs = by_component[comp];
    const Cumulative& grid = *std::max_element(devs.begin(), devs.end(), [](const Cumulative& a, const Cumulative& b) {
      return a.t.size() < b.t.size();
    });
    ReportPowerSeries p;
    p.component = comp;
    for (std::size_t i = 1; i < grid.t.size(); ++i) {
      double t0 = grid.t[i - 1], t1 = grid.t[i], joules = 0;
      for (const auto& d : devs) joules += d.at(t1) - d.at(t0);
      p.t_s.push_back((t0 + t1) / 2);
      p.watts.push_back(joules / (t1 - t0));
    }
    out.push_back(std::move(p));
  }
  return out;
}

// ---------------------------------------------------------------- formatting

// `significant` digits, fixed notation, locale-independent (at most 12 decimals).
std::string sig(double v, int significant = 4) {
  if (!std::isfinite(v)) return "n/a";
  if (v == 0) return "0";
  int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  int decimals = std::clamp(significant - 1 - magnitude, 0, 12);
  return fixed(v, decimals);
}

// ---------------------------------------------------------------- page parts

// What each method means for the figures (docs/design.md: every figure says how it was obtained).
std::string method_meaning(const std::string& method) {
  if (method == "counter") return "the device's energy counter";
  if (method == "integrated-power") return "power readings integrated";
  if (method == "estimate") return "TDP x load, not measured";
  if (method == "simulated") return "fixed power, not measured";
  if (method == "replay") return "a recorded trace";
  if (method == "sampled-power") return "carbontracker's mean of power samples x duration";
  return "see the device table";
}

std::string card(const std::string& label, const std::string& value, const std::string& note) {
  return "<div class=\"card\"><div class=\"label\">" + html_escape(label) + "</div><div class=\"value\">" +
         html_escape(value) + "</div><div class=\"note\">" + html_escape(note) + "</div></div>\n";
}


// The charts' layout (html_charts.cpp: kTickFont, kLabelFont) assumes the font sizes of svg .tick
// (12px) and svg .label (13px) here: change both together.
constexpr const char* kStyle = R"CSS(
:root { --ink:#1d2430; --muted:#5b6575; --line:#d5dae2; --panel:#f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px 32px 48px; color: var(--ink); background: #fff;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); font-size: 13px; margin: 0; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin-top: 20px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 600; margin: 2px 0; }
.card .note { color: var(--muted); font-size: 12px; }
.caption { color: var(--muted); font-size: 13px; margin: 4px 0 0; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: #e6e9ee; stroke-width: 1; }
svg .axis, svg .tickmark { stroke: #7a8394; stroke-width: 1; }
svg .tick { fill: var(--muted); font-size: 12px; }
svg .label { fill: var(--ink); font-size: 13px; }
svg .nodata { fill: var(--muted); font-size: 16px; }
.legend { font-size: 13px; margin: 6px 0 0 72px; }
.legend span { margin-right: 18px; white-space: nowrap; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.method { display: inline-block; padding: 0 6px; border-radius: 3px; background: #e8eef8; font-size: 12px; }
.sentence { background: var(--panel); border-left: 4px solid #1b7f6b; padding: 10px 14px; margin: 8px 0; }
pre { background: var(--panel); border: 1px solid var(--line); padding: 10px 14px; overflow-x: auto; font-size: 12px; }
.warnings li { color: #8a4b00; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; margin-top: 18px; }
  section, .card, table, pre, svg.chart { break-inside: avoid; }
  .cards { grid-template-columns: repeat(3, 1fr); }
  pre { white-space: pre-wrap; }
}
)CSS";

}  // namespace

ReportFigures report_figures(const std::optional<Consumption>& c) {
  ReportFigures f;
  if (!c) return f;
  f.present = true;
  f.epochs = c->epochs;
  f.duration_s = c->duration_s;
  f.energy_kwh = c->energy_kwh;
  f.co2_g = c->co2_g;
  f.intensity_g_per_kwh = c->intensity_g_per_kwh;
  f.intensity_source = c->intensity_source;
  f.km_by_car = c->km_by_car;
  return f;
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string aggregate_sentence(double kwh, double co2_g, double km_by_car) {
  Aggregate a;
  a.energy_kwh = kwh;
  a.co2_g = co2_g;
  a.equivalents = {{"km travelled by car", km_by_car}};
  return aggregate_sentence(a, kMeasuredByEpochwatt);
}

namespace {

Method method_from_name(const std::string& name) {
  for (Method m : {Method::counter, Method::integrated_power, Method::estimate, Method::simulated, Method::replay,
                   Method::sampled_power})
    if (to_string(m) == name) return m;
  return Method::unknown;
}

Component component_from_name(const std::string& name) {
  for (Component c : {Component::cpu, Component::dram, Component::gpu})
    if (to_string(c) == name) return c;
  return Component::cpu;
}

struct BasisPart {
  double joules;
  const std::vector<std::string>* how;
  const char* word;
};

std::vector<BasisPart> basis_parts(const EnergyByBasis& b) {
  std::vector<BasisPart> parts;
  if (b.measured_j > 0) parts.push_back({b.measured_j, &b.measured, "measured"});
  if (b.estimated_j > 0) parts.push_back({b.estimated_j, &b.estimated, "estimated"});
  if (b.unknown_j > 0) parts.push_back({b.unknown_j, &b.unknown, "of a method not stated"});
  return parts;
}

// "73.2% measured (GPU: energy counter) and 26.8% estimated (CPU: TDP x utilisation)", with
// `first` before the first part ("was ").
std::string percent_parts(const std::vector<BasisPart>& parts, double total, const std::string& first) {
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i)
    s += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + readable(100 * parts[i].joules / total, 3) + "% " +
         (i == 0 ? first : "") + parts[i].word + " (" + join(*parts[i].how, "; ") + ")";
  return s;
}

}  // namespace

EnergyByBasis energy_by_basis(const std::vector<ReportDevice>& devices) {
  EnergyByBasis e;
  for (const auto& d : devices)
    add_energy(e, component_from_name(d.component), method_from_name(d.method), d.joules);
  return e;
}

std::string basis_words(const EnergyByBasis& basis) {
  auto parts = basis_parts(basis);
  double total = basis.total_j();
  if (parts.empty() || !(total > 0)) return "";
  if (parts.size() == 1) {
    std::string w = parts[0].word;
    return w == "estimated" ? "all estimated, not measured" : "all " + w;
  }
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i)
    s += (i ? ", " : "") + readable(100 * parts[i].joules / total, 3) + "% " + parts[i].word;
  return s;
}

std::string citation_sentence(double kwh, double co2_g, const std::vector<std::pair<std::string, double>>& equivalents,
                              const EnergyByBasis& basis, bool predicted, std::string_view by) {
  auto parts = basis_parts(basis);
  double total = basis.total_j();
  bool known = basis.measured_j > 0 || basis.estimated_j > 0;  // carbontracker's logs do not say
  bool all_measured = parts.size() == 1 && std::string(parts[0].word) == "measured";
  bool all_estimated = parts.size() == 1 && std::string(parts[0].word) == "estimated";
  std::string energy = readable(kwh) + " kWh of electricity";
  std::string use, credit = "Measured by ";
  if (!known) {
    use = (predicted ? "is predicted to use " : "is estimated to use ") + energy + " contributing to ";
  } else if (predicted) {
    std::string whose = all_measured    ? "measured (" + join(*parts[0].how, "; ") + ")"
                        : all_estimated ? "estimated, not measured (" + join(*parts[0].how, "; ") + ")"
                                        : percent_parts(parts, total, "");
    use = "is predicted to use " + energy + ", extrapolated from epochs whose energy was " + whose + ", contributing to ";
    if (all_estimated) credit = "Estimated by ";
    else if (!all_measured) credit = "Measured and estimated by ";
  } else if (all_measured) {
    use = "used " + energy + ", measured (" + join(*parts[0].how, "; ") + "), contributing to ";
  } else if (all_estimated) {
    use = "is estimated to use " + energy + ", not measured (" + join(*parts[0].how, "; ") + "), contributing to ";
    credit = "Estimated by ";
  } else {
    use = "used " + energy + ", of which " + percent_parts(parts, total, "was ") + ", contributing to ";
    credit = "Measured and estimated by ";
  }
  std::string s = "The training of models in this work " + use + readable(co2_g / 1000) + " kg of CO2eq. ";
  if (!equivalents.empty()) {
    s += "This is equivalent to ";
    for (std::size_t i = 0; i < equivalents.size(); ++i)
      s += (i ? " or " : "") + readable(equivalents[i].second) + " " + equivalents[i].first;
    s += ". ";
  }
  return s + credit + std::string(by) + ".";
}

double as_logged(double value, int decimals) {
  if (!std::isfinite(value)) return value;
  return parse_float(fixed(value, decimals)).value_or(value);
}

std::string carbontracker_bibtex() {
  return "@inproceedings{anthony2020carbontracker,\n"
         "  title         = {Carbontracker: Tracking and Predicting the Carbon Footprint of Training Deep Learning Models},\n"
         "  author        = {Anthony, Lasse F. Wolff and Kanding, Benjamin and Selvan, Raghavendra},\n"
         "  booktitle     = {ICML Workshop on Challenges in Deploying and monitoring Machine Learning Systems},\n"
         "  year          = {2020},\n"
         "  eprint        = {2007.03051},\n"
         "  archivePrefix = {arXiv},\n"
         "  note          = {arXiv:2007.03051}\n"
         "}\n";
}

std::vector<ReportPredictionPoint> prediction_series(const std::vector<ReportEpoch>& epochs, const PredictionInput& how) {
  // The tracker's own rule (epochwatt/run.hpp: predict_run), as if the prediction had been made
  // after each counted epoch.
  std::vector<EpochSummary> seen;
  std::vector<ReportPredictionPoint> out;
  double joules_so_far = how.setup && how.rule == PredictionRule::steady_epochs ? how.setup->joules : 0.0;
  for (const auto& e : epochs) {
    if (e.interrupted) continue;
    EpochSummary s;
    s.index = e.index;
    s.duration_s = e.duration_s;
    s.joules = e.joules;
    seen.push_back(s);
    joules_so_far += e.joules;
    PredictionInput in = how;
    if (in.planned <= 0) in.planned = static_cast<int>(seen.size());
    Prediction p = predict_run(seen, in);
    out.push_back({e.index, p.footprint.energy_kwh, joules_so_far * how.pue / kJoulesPerKwh, p.detail.range_known,
                   p.detail.energy_kwh.low, p.detail.energy_kwh.high});
  }
  return out;
}

ReportData report_data_from_json_summary(const json& summary) {
  if (!json_field(summary, "context").is_object())
    throw std::invalid_argument("not an epochwatt JSON summary (no \"context\" object)");
  return report_data_from_run(summary.get<Run>());
}

ReportData report_data_from_run(const Run& r) {
  const RunContext& ctx = r.context;
  ReportData d;
  if (!ctx.tool_name.empty()) d.tool = ctx.tool_name;
  d.version = ctx.version;
  d.host = ctx.host;
  d.started_utc = utc_or_empty(ctx.started);
  d.finished_utc = utc_or_empty(r.finished);
  d.pue = ctx.pue;
  d.epochs_planned = ctx.epochs_planned;
  d.early_stop = r.early_stop;
  d.actual = report_figures(r.actual);
  d.prediction = report_figures(r.prediction);
  d.intensity_source = r.intensity.source;
  d.intensity_description = r.intensity.description;
  d.intensity_live = r.intensity.live;
  d.location = r.location.country;
  d.location_rule = r.location.rule;
  d.intensity_g_per_kwh = d.actual.present ? d.actual.intensity_g_per_kwh : r.intensity.g_per_kwh;

  for (const auto& m : ctx.meters) {
    ReportDevice rd{m.id, std::string(to_string(m.component)), m.device_name, std::string(to_string(m.method)), m.detail, 0, 0};
    if (!m.also_covers.empty()) {
      std::vector<std::string> also;
      for (Component c : m.also_covers) also.emplace_back(to_string(c));
      rd.covers = "covers " + join(also, " and ") + " as well" + (m.coverage.empty() ? "" : ": " + m.coverage) +
                  "; they are not measured separately";
    }
    if (std::find(d.methods.begin(), d.methods.end(), rd.method) == d.methods.end()) d.methods.push_back(rd.method);
    d.devices.push_back(std::move(rd));
  }
  for (const auto& e : r.epochs) {
    ReportEpoch re;
    re.index = e.index;
    re.interrupted = e.interrupted;
    re.duration_s = e.duration_s;
    re.joules = e.joules;
    std::vector<bool> taken(d.devices.size(), false);  // rows matched in this epoch
    for (const auto& de : e.devices) {
      std::string comp(to_string(de.component));
      auto it = std::find_if(re.by_component.begin(), re.by_component.end(),
                             [&](const ReportComponentEnergy& c) { return c.component == comp; });
      if (it == re.by_component.end()) re.by_component.push_back({comp, de.joules});
      else it->joules += de.joules;
      if (e.interrupted) continue;
      // A device entry is its meter's (by id). Without an id (a run read from logs, which name no
      // meters) it is the first row not yet matched in this epoch with its component and device
      // name: two devices may share a name.
      for (std::size_t k = 0; k < d.devices.size(); ++k) {
        ReportDevice& rd = d.devices[k];
        bool same = de.meter_id.empty()
                        ? !taken[k] && rd.meter_id.empty() && rd.component == comp && rd.device == de.device_name
                        : rd.meter_id == de.meter_id;
        if (!same) continue;
        rd.joules += de.joules;
        rd.duration_s += re.duration_s;
        taken[k] = true;
        if (de.meter_id.empty()) break;
      }
    }
    d.epochs.push_back(std::move(re));
  }
  d.prediction_skips_first_epoch = ctx.prediction_skips_first_epoch;
  d.decimal_precision = ctx.decimal_precision;
  d.prediction_rule = ctx.prediction_rule;
  d.first_epoch_includes_setup = ctx.first_epoch_includes_setup;
  d.setup = r.setup;
  if (r.prediction && r.prediction_detail) {
    d.prediction_lines = prediction_lines(*r.prediction, *r.prediction_detail);
    const PredictionDetail& pd = *r.prediction_detail;
    d.prediction_range = pd.range_known ? significant(100 * pd.level, 3) + "% range " + sig(pd.energy_kwh.low) + " to " +
                                              sig(pd.energy_kwh.high) + " kWh"
                                        : "range unknown (fewer than two steady epochs)";
  }
  PredictionInput how;
  how.planned = d.epochs_planned;
  how.pue = d.pue;
  how.rule = d.prediction_rule;
  how.skip_first = d.prediction_skips_first_epoch;
  how.setup = d.setup;
  how.first_epoch_includes_setup = d.first_epoch_includes_setup;
  if (r.prediction_detail) how.level = r.prediction_detail->level;
  d.prediction_level = how.level;
  d.prediction_series = prediction_series(d.epochs, how);

  // Components in the devices' order (the tracker lists gpu first).
  auto rank = [&](const std::string& comp) {
    for (std::size_t i = 0; i < d.devices.size(); ++i)
      if (d.devices[i].component == comp) return i;
    return d.devices.size();
  };
  for (auto& e : d.epochs)
    std::stable_sort(e.by_component.begin(), e.by_component.end(),
                     [&](const ReportComponentEnergy& a, const ReportComponentEnergy& b) { return rank(a.component) < rank(b.component); });
  d.power = power_by_component(r.power_series);
  d.warnings = r.warnings;

  // Which block a paper should quote (spec §8.7's rule with the true epoch count): the measured
  // one after an early stop, a complete run or without prediction; the prediction when monitoring
  // ended on purpose before training did.
  const ReportFigures* use = nullptr;
  if (d.actual.present && (!d.prediction.present || d.early_stop || d.actual.epochs >= d.prediction.epochs))
    use = &d.actual;
  else if (d.prediction.present)
    use = &d.prediction;
  // With the figures as the run's log blocks print them (decimal_precision decimals), so that
  // `epochwatt parse` of the logs and this report print the same digits.
  EnergyByBasis basis = energy_by_basis(d.devices);
  d.energy_basis = basis_words(basis);
  double kwh = use ? as_logged(use->energy_kwh, d.decimal_precision) : 0.0;
  double co2 = use ? as_logged(use->co2_g, d.decimal_precision) : 0.0;
  double km = use ? as_logged(use->km_by_car, d.decimal_precision) : 0.0;
  d.aggregate_sentence = citation_sentence(kwh, co2, {{"km travelled by car", km}}, basis,
                                           use != nullptr && use == &d.prediction, kMeasuredByEpochwatt);
  return d;
}

std::string render_html(const ReportData& d) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Nothing may load from anywhere: a test renders the page and fails on any console message.
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<meta name=\"generator\" content=\"" + html_escape(d.tool + " " + d.version) + "\">\n";
  h += "<title>Energy and carbon report: " + html_escape(d.started_utc) + "</title>\n";
  h += std::string("<style>") + kStyle + "</style>\n</head>\n<body>\n";

  h += "<header>\n<h1>Energy and carbon report</h1>\n";
  h += "<p class=\"meta\">" + html_escape(d.tool + " " + d.version) + (d.host.empty() ? "" : " on " + html_escape(d.host)) +
       ", " + html_escape(d.started_utc) + " to " + html_escape(d.finished_utc) + "</p>\n";
  if (!d.source.empty()) h += "<p class=\"meta\">From " + html_escape(d.source) + "</p>\n";
  h += "</header>\n";

  // Headline figures: the measured run where there is one, else the prediction.
  const ReportFigures& f = d.actual.present ? d.actual : d.prediction;
  std::string basis = d.actual.present ? "over " + std::to_string(d.actual.epochs) + " epoch(s)"
                                       : (d.prediction.present ? "predicted for " + std::to_string(d.prediction.epochs) + " epoch(s)"
                                                               : "nothing measured");
  if (d.actual.present && d.early_stop) basis += ", stopped early";
  if (!d.energy_basis.empty()) basis += "; " + d.energy_basis;
  std::string location = d.location.empty() ? "location unknown" : "location " + d.location;
  if (!d.location_rule.empty()) location += " (" + d.location_rule + ")";
  h += "<section class=\"cards\" id=\"headline\">\n";
  h += card("Energy", sig(f.energy_kwh) + " kWh", basis + "; PUE " + sig(d.pue, 3) + " included");
  h += card("Carbon", sig(f.co2_g) + " gCO2e", sig(f.km_by_car) + " km travelled by car");
  h += card("Duration", report_time(f.duration_s), std::to_string(d.epochs.size()) + " epoch(s) recorded of " +
                                                       std::to_string(d.epochs_planned) + " planned");
  h += card("Carbon intensity", sig(d.intensity_g_per_kwh) + " gCO2e/kWh",
            (d.intensity_source.empty() ? std::string("source unknown") : d.intensity_source) +
                (d.intensity_live ? ", live" : "") + "; " + location);
  std::vector<std::string> meanings;
  for (const auto& m : d.methods) meanings.push_back(m + ": " + method_meaning(m));
  h += card("Methods", d.methods.empty() ? "none" : join(d.methods, ", "),
            std::to_string(d.devices.size()) + " device(s). " + join(meanings, "; "));
  if (d.prediction.present)
    h += card("Prediction", sig(d.prediction.energy_kwh) + " kWh",
              "for " + std::to_string(d.prediction.epochs) + " epochs: " + report_time(d.prediction.duration_s) + ", " +
                  sig(d.prediction.co2_g) + " gCO2e" + (d.prediction_range.empty() ? "" : "; " + d.prediction_range));
  else
    h += card("Prediction", "none", "no prediction was made in this run");
  if (d.setup)
    h += card("Set-up", report_time(d.setup->duration_s),
              sig(d.setup->joules * d.pue / kJoulesPerKwh) + " kWh before epoch 1, in the measured total once");
  h += "</section>\n";
  if (!d.intensity_description.empty())
    h += "<p class=\"caption\">Intensity: " + html_escape(d.intensity_description) + "</p>\n";

  h += "<section id=\"power\">\n<h2>Power over time</h2>\n" + power_chart(d);
  h += "<p class=\"caption\">" +
       (d.power_caption.empty() ? std::string("Mean power of each component (its devices summed) over consecutive "
                                              "intervals, from the meters' energy readings; without PUE.")
                                : html_escape(d.power_caption)) +
       "</p>\n</section>\n";

  h += "<section id=\"epochs\">\n<h2>Energy per epoch</h2>\n" + epoch_energy_chart(d);
  h += "<p class=\"caption\">Energy the devices drew in each epoch, stacked by component, without PUE";
  bool interrupted = std::any_of(d.epochs.begin(), d.epochs.end(), [](const ReportEpoch& e) { return e.interrupted; });
  if (interrupted) h += "; * an interrupted epoch, not counted in the totals";
  h += ".</p>\n</section>\n";

  h += "<section id=\"prediction\">\n<h2>Prediction as epochs accrue</h2>\n" + prediction_chart(d);
  std::string rule = d.prediction_rule == PredictionRule::carbontracker
                         ? "carbontracker's rule: " + std::to_string(d.epochs_planned) + " x the mean of epochs 1..k"
                         : "the steady-epochs rule: what was measured up to k (set-up included) + the remaining epochs x "
                           "the mean steady epoch (warm-up and one-off outliers left out)";
  h += "<p class=\"caption\">After each epoch k: the total predicted for " + std::to_string(d.epochs_planned) +
       " epochs by " + rule + ", against the energy measured up to k (both with PUE).</p>\n";
  for (const auto& line : d.prediction_lines) h += "<p class=\"caption\">" + html_escape(line) + "</p>\n";
  h += "</section>\n";

  h += "<section id=\"devices\">\n<h2>Devices</h2>\n<table>\n<thead><tr><th>meter</th><th>component</th><th>device</th>"
       "<th>method</th><th class=\"num\">energy (Wh)</th><th class=\"num\">mean power (W)</th><th>detail</th></tr></thead>\n<tbody>\n";
  for (const auto& dev : d.devices)
    h += "<tr><td>" + html_escape(dev.meter_id) + "</td><td>" + html_escape(dev.component) + "</td><td>" +
         html_escape(dev.device) + "</td><td><span class=\"method\">" + html_escape(dev.method) + "</span> (" +
         html_escape(method_phrase(component_from_name(dev.component), method_from_name(dev.method))) +
         ")</td><td class=\"num\">" +
         sig(dev.joules / kJoulesPerWh) + "</td><td class=\"num\">" +
         (dev.duration_s > 0 ? sig(dev.joules / dev.duration_s) : std::string("n/a")) + "</td><td>" +
         html_escape(dev.detail) + (dev.covers.empty() ? "" : "; " + html_escape(dev.covers)) + "</td></tr>\n";
  h += "</tbody>\n</table>\n<p class=\"caption\">Over the counted epochs, without PUE.</p>\n</section>\n";

  h += "<section id=\"epoch-table\">\n<h2>Epochs</h2>\n<table>\n<thead><tr><th>epoch</th><th class=\"num\">duration</th>"
       "<th class=\"num\">energy (Wh)</th><th>by component (Wh)</th></tr></thead>\n<tbody>\n";
  for (const auto& e : d.epochs) {
    std::vector<std::string> parts;
    for (const auto& c : e.by_component) parts.push_back(html_escape(c.component) + " " + sig(c.joules / kJoulesPerWh));
    h += "<tr><td>" + std::to_string(e.index) + (e.interrupted ? " (interrupted)" : "") + "</td><td class=\"num\">" +
         log_duration(e.duration_s) + "</td><td class=\"num\">" + sig(e.joules / kJoulesPerWh) + "</td><td>" +
         join(parts, ", ") + "</td></tr>\n";
  }
  h += "</tbody>\n</table>\n</section>\n";

  if (!d.warnings.empty()) {
    h += "<section id=\"warnings\">\n<h2>Warnings</h2>\n<ul class=\"warnings\">\n";
    for (const auto& w : d.warnings) h += "<li>" + html_escape(w) + "</li>\n";
    h += "</ul>\n</section>\n";
  }

  h += "<section id=\"cite\">\n<h2>For your paper</h2>\n<p class=\"sentence\">" + html_escape(d.aggregate_sentence) + "</p>\n";
  h += "<pre class=\"bibtex\">" + html_escape(carbontracker_bibtex()) + "</pre>\n</section>\n";
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace epochwatt::detail
