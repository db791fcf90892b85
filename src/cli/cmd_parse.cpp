#include "cli/cmd_parse.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/format.hpp"
#include "report/ct_report.hpp"
#include "report/run_from_log.hpp"

namespace epochwatt::cli {
namespace {

using detail::ParsedConsumption;
using detail::ParsedRun;
using nlohmann::ordered_json;

// How the aggregate's energy was obtained: each summed run's block, split by the shares of its
// counted epochs' devices (measured, estimated, not stated; run_from_log reads the methods).
detail::EnergyByBasis basis_of_runs(const std::vector<ParsedRun>& runs) {
  detail::EnergyByBasis total;
  auto merge = [](std::vector<std::string>& into, const std::vector<std::string>& from) {
    for (const auto& f : from)
      if (std::find(into.begin(), into.end(), f) == into.end()) into.push_back(f);
  };
  for (const auto& r : runs) {
    detail::SummedBlock which = detail::summed_block(r);
    const std::optional<ParsedConsumption>& block = which == detail::SummedBlock::actual ? r.actual : r.predicted;
    if (which == detail::SummedBlock::none || !block || !std::isfinite(block->energy_kwh) || block->energy_kwh <= 0)
      continue;
    Run model;
    try {
      model = detail::run_from_log(r);
    } catch (const std::exception&) {
      continue;  // a run the model cannot hold: its share is left out, the sentence still counts it
    }
    detail::EnergyByBasis b = detail::energy_by_basis(model.epochs, model.setup);
    double j = b.total_j();
    double kwh = block->energy_kwh;
    if (!(j > 0)) {
      total.unknown_j += kwh;
      continue;
    }
    total.measured_j += kwh * b.measured_j / j;
    total.estimated_j += kwh * b.estimated_j / j;
    total.unknown_j += kwh * b.unknown_j / j;
    merge(total.measured, b.measured);
    merge(total.estimated, b.estimated);
    merge(total.unknown, b.unknown);
  }
  return total;
}

// The most likely number of epochs the run was meant to have: the prediction's, the early-stop
// line's, or, for a run that ended normally, the epochs it did.
std::optional<int> planned_epochs(const ParsedRun& r) {
  if (r.predicted) return r.predicted->epochs;
  if (r.monitor_epochs) return r.monitor_epochs;
  if (r.actual && !r.early_stop) return r.actual->epochs;
  return std::nullopt;
}

const ParsedConsumption* summed(const ParsedRun& r) {
  switch (detail::summed_block(r)) {
    case detail::SummedBlock::actual: return &*r.actual;
    case detail::SummedBlock::predicted: return &*r.predicted;
    case detail::SummedBlock::none: break;
  }
  return nullptr;
}

ordered_json optional_number(const std::optional<double>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }

ordered_json block_json(const std::optional<ParsedConsumption>& c) {
  if (!c) return nullptr;
  ordered_json eq = ordered_json::object();
  for (const auto& [unit, value] : c->equivalents) eq[unit] = value;
  return {{"epochs", c->epochs},
          {"title_epochs", c->title_epochs ? ordered_json(*c->title_epochs) : ordered_json(nullptr)},
          {"duration_s", optional_number(c->duration_s)},
          {"energy_kwh", c->energy_kwh},
          {"co2_g", c->co2_g},
          {"km", optional_number(c->km)},
          {"equivalents", eq}};
}

// The original parser's per-component structure (spec §8.3), with its defects corrected: one
// row per completed epoch holding the component's total power (missing values 0.0), energies
// power x duration in J without PUE, trimmed device names.
ordered_json carbontracker_components(const ParsedRun& r) {
  ordered_json out = ordered_json::object();
  ordered_json durations = ordered_json::array();
  for (const auto& e : r.epochs)
    if (!e.interrupted) durations.push_back(e.duration_s.value_or(0.0));
  for (const auto& c : r.components) {
    ordered_json power = ordered_json::array(), energy = ordered_json::array();
    bool any = false;
    for (const auto& e : r.epochs) {
      if (e.interrupted) continue;
      const detail::ParsedPower* p = e.power(c.name);
      any = any || p;
      double w = p && p->watts ? *p->watts : 0.0;
      power.push_back(ordered_json::array({w}));
      energy.push_back(ordered_json::array({w * e.duration_s.value_or(0.0)}));
    }
    out[c.name] = {{"avg_power_usages (W)", any ? power : ordered_json(nullptr)},
                   {"avg_energy_usages (J)", any && !durations.empty() ? energy : ordered_json(nullptr)},
                   {"epoch_durations (s)", durations.empty() ? ordered_json(nullptr) : durations},
                   {"devices", c.devices}};
  }
  return out;
}

ordered_json run_json(const ParsedRun& r) {
  ordered_json comps = ordered_json::array();
  for (const auto& c : r.components) comps.push_back({{"name", c.name}, {"devices", c.devices}});
  ordered_json epochs = ordered_json::array();
  for (const auto& e : r.epochs) {
    ordered_json powers = ordered_json::array();
    for (const auto& p : e.powers)
      powers.push_back({{"component", p.component},
                        {"watts", optional_number(p.watts)},
                        {"device_watts", p.device_watts},
                        {"device_names", p.device_names},
                        {"method", p.method}});
    epochs.push_back({{"index", e.index},
                      {"interrupted", e.interrupted},
                      {"duration_s", optional_number(e.duration_s)},
                      {"joules", e.joules()},
                      {"powers", powers}});
  }
  auto planned = planned_epochs(r);
  return {{"id", r.id},
          {"version", r.version},
          {"tool_version", r.tool_version},
          {"standard_log", r.std_log},
          {"output_log", r.output_log},
          {"components", comps},
          {"epochs_done", r.epochs_done()},
          {"epochs_planned", planned ? ordered_json(*planned) : ordered_json(nullptr)},
          {"early_stop", r.early_stop},
          {"pue", optional_number(r.pue)},
          {"address", r.address},
          {"intensities", r.intensities},
          {"average_intensity", optional_number(r.average_intensity)},
          {"intensity_source_line", r.intensity_source_line},
          {"predicted", block_json(r.predicted)},
          {"actual", block_json(r.actual)},
          {"summed", std::string(detail::to_string(detail::summed_block(r)))},
          {"epochs", epochs},
          {"carbontracker_components", carbontracker_components(r)}};
}

std::string or_dash(const std::optional<double>& v, int decimals) { return v ? detail::fixed(*v, decimals) : "-"; }

}  // namespace

std::string parse_table(const std::vector<ParsedRun>& runs, const detail::Aggregate& total) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"run", "version", "epochs", "time", "kWh", "gCO2e", "summed", "predicted kWh", "actual kWh", "early stop"});
  for (const auto& r : runs) {
    const ParsedConsumption* c = summed(r);
    auto planned = planned_epochs(r);
    rows.push_back({r.id, r.version,
                    std::to_string(r.actual ? r.actual->epochs : r.epochs_done()) + "/" +
                        (planned ? std::to_string(*planned) : "?"),
                    c && c->duration_s ? detail::report_time(*c->duration_s) : "-",
                    c ? detail::fixed(c->energy_kwh, 6) : "-", c ? detail::fixed(c->co2_g, 3) : "-",
                    std::string(detail::to_string(detail::summed_block(r))),
                    or_dash(r.predicted ? std::optional(r.predicted->energy_kwh) : std::nullopt, 6),
                    or_dash(r.actual ? std::optional(r.actual->energy_kwh) : std::nullopt, 6),
                    r.early_stop ? "yes" : "no"});
  }
  rows.push_back({"total (" + std::to_string(total.runs_summed) + " of " + std::to_string(total.runs) + " runs)", "", "",
                  "", detail::fixed(total.energy_kwh, 6), detail::fixed(total.co2_g, 3), "", "", "", ""});
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  // Numbers right-aligned, text left-aligned.
  const std::vector<bool> right = {false, false, true, true, true, true, false, true, true, false};
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string pad(width[i] - row[i].size(), ' ');
      line += (i ? "  " : "") + (right[i] ? pad + row[i] : row[i] + pad);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string parse_json(const std::vector<ParsedRun>& runs, const detail::Aggregate& total,
                       const std::vector<detail::ParseWarning>& warnings) {
  ordered_json j;
  j["schema"] = "epochwatt-parse/1";
  j["runs"] = ordered_json::array();
  for (const auto& r : runs) j["runs"].push_back(run_json(r));
  ordered_json eq = ordered_json::object();
  for (const auto& [unit, value] : total.equivalents) eq[unit] = value;
  j["aggregate"] = {{"energy_kwh", total.energy_kwh},
                    {"co2_g", total.co2_g},
                    {"equivalents", eq},
                    {"runs", total.runs},
                    {"runs_summed", total.runs_summed},
                    {"sentence", detail::aggregate_sentence(total)}};
  detail::EnergyByBasis basis = basis_of_runs(runs);
  j["aggregate"]["energy_basis"] = {{"measured_kwh", basis.measured_j},
                                    {"estimated_kwh", basis.estimated_j},
                                    {"unknown_kwh", basis.unknown_j},
                                    {"measured", basis.measured},
                                    {"estimated", basis.estimated},
                                    {"unknown", basis.unknown},
                                    {"sentence", detail::basis_sentence(basis)}};
  j["warnings"] = ordered_json::array();
  for (const auto& w : warnings) j["warnings"].push_back({{"file", w.file}, {"message", w.message}});
  // nlohmann-json writes numbers locale-independently (shortest round-trip).
  return j.dump(2) + "\n";
}

Subcommand add_parse_command(CLI::App& root, ParseContext& ctx) {
  struct Args {
    bool table = false, json = false;
    std::vector<std::string> dirs;
  };
  auto a = std::make_shared<Args>();
  Subcommand sub;
  sub.dash_dash_ends_options = true;
  sub.app = add_subcommand(
      root, "parse",
      "Print the energy and CO2eq of the runs logged in carbontracker-format log folders.\n"
      "Reads every carbontracker-format log pair (carbontracker 2.3, 2.4 and epochwatt's own) in the folders DIR and "
      "prints carbontracker's aggregate sentence: the energy and CO2eq of all runs. --table prints one row per run "
      "instead, --json everything read. Files that cannot be read are skipped with a warning on stderr.");
  sub.app->footer("Exit status: 0 if a run was read, 1 if none, 2 for a bad command line. More: docs/parse.md.");
  add_help(*sub.app, ctx, sub.help.get());
  add_flag(*sub.app, ctx, "--table", "Print one row per run and a total row.", [a] { a->table = true; });
  add_flag(*sub.app, ctx, "--json", "Print everything read as JSON (schema epochwatt-parse/1).", [a] { a->json = true; });
  add_positionals(*sub.app, "DIR", "Log folders to read.", [a](const std::string& dir) { a->dirs.push_back(dir); })
      ->expected(1, CLI::detail::expected_max_vector_size)
      ->allow_extra_args();
  sub.message = [](const BadArgument& bad) {
    return bad_argument_message(bad, "epochwatt parse --help");
  };
  sub.run = [a](std::ostream& out, std::ostream& err) {
    if (a->table && a->json) throw CliError("--table and --json exclude each other");
    if (a->dirs.empty()) throw CliError("needs at least one DIR (see epochwatt parse --help)");
    return parse_dirs(a->dirs, a->table, a->json, out, err);
  };
  return sub;
}

int parse_dirs(const std::vector<std::string>& dirs, bool table, bool json, std::ostream& out, std::ostream& err) {
  std::vector<detail::ParseWarning> warnings;
  std::vector<ParsedRun> runs = detail::parse_log_dirs(dirs, &warnings);
  detail::Aggregate total = detail::aggregate(runs);
  // A NaN total (the original writes `nan kWh` for a run it could not measure) is left out of the
  // aggregate; each such run gets its warning, on stderr and in the JSON `warnings`.
  for (const auto& r : runs)
    if (const ParsedConsumption* c = summed(r); c && (std::isnan(c->energy_kwh) || std::isnan(c->co2_g)))
      warnings.push_back({r.output_log, "logged nan energy or CO2eq; left out of the totals"});
  for (const auto& w : warnings) err << "epochwatt: warning: " << w.file << ": " << w.message << "\n";
  if (json) out << parse_json(runs, total, warnings);
  else if (table) out << parse_table(runs, total);
  else {
    // carbontracker's sentence word for word (it always says "estimated" and "Measured by"), then
    // on its own line which part of the energy was measured and which estimated.
    out << detail::aggregate_sentence(total) << "\n";
    std::string basis = detail::basis_sentence(basis_of_runs(runs));
    if (!basis.empty()) out << basis << "\n";
  }
  out.flush();
  if (runs.empty()) {
    err << "epochwatt: no carbontracker log pair could be read in the given folder(s)\n";
    return 1;
  }
  return 0;
}

}  // namespace epochwatt::cli
