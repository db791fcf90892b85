// `epochwatt parse --json` streams its output (issue 13): this is the tree writer it replaced,
// kept verbatim (the functions of src/cli/cmd_parse.cpp before the change, nlohmann's
// ordered_json and dump(2)), and the test that the streamed output is its output, byte for byte,
// on folders of epochwatt's own logs and of carbontracker 2.3/2.4 logs with their edge cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "e2e/cli_harness.hpp"
#include "epochwatt/run.hpp"
#include "report/ct_report.hpp"
#include "report/log_parse.hpp"
#include "report/run_from_log.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;
using epochwatt::Run;
using epochwatt::detail::ParsedConsumption;
using epochwatt::detail::ParsedRun;
using nlohmann::ordered_json;
namespace detail = epochwatt::detail;

// ---- the tree writer before issue 13 (src/cli/cmd_parse.cpp at 5119141)

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

// What parse_dirs did before it printed the JSON: the runs, their sum and the nan warnings.
std::string tree_output(const std::vector<std::string>& dirs) {
  std::vector<detail::ParseWarning> warnings;
  std::vector<ParsedRun> runs = detail::parse_log_dirs(dirs, &warnings);
  detail::Aggregate total = detail::aggregate(runs);
  for (const auto& r : runs)
    if (const ParsedConsumption* c = summed(r); c && (std::isnan(c->energy_kwh) || std::isnan(c->co2_g)))
      warnings.push_back({r.output_log, "logged nan energy or CO2eq; left out of the totals"});
  return parse_json(runs, total, warnings);
}

// ---- the test

TEST(CliParseStream, StreamedJsonIsTheTreeWritersByteForByte) {
  TempDir tmp;
  // epochwatt's own logs (per-device lines, methods, set-up), written by the real binary.
  std::string logs = tmp / "logs";
  for (const char* seconds : {"0.2", "0.4"}) {
    auto r = e2e::run(cli({"--log_dir", logs, "--sim-cpu", "X", "--sim-cpu-tdp", "100", "--sim-gpu", "Y",
                           "--sim-gpu-watts", "300", "--", "sleep", seconds}),
                      tmp.path());
    ASSERT_EQ(r.exit_status, 0) << r.err;
  }
  const std::string data = std::string(EPOCHWATT_TEST_DATA_DIR) + "/ct_logs";
  const std::vector<std::string> dirs = {logs, data + "/v2.4", data + "/v2.3", data + "/edge", tmp / "missing"};
  std::vector<std::string> args = {"parse", "--json"};
  args.insert(args.end(), dirs.begin(), dirs.end());
  auto r = e2e::run(cli(args), tmp.path());
  EXPECT_EQ(r.exit_status, 0) << r.err;
  std::string expected = tree_output(dirs);
  ASSERT_GT(expected.size(), 1000u);
  EXPECT_EQ(r.out, expected);
  // Every warning of the JSON is also on stderr, one line each.
  for (const auto& w : nlohmann::json::parse(r.out)["warnings"])
    EXPECT_NE(r.err.find(w["file"].get<std::string>() + ": " + w["message"].get<std::string>()), std::string::npos)
        << w.dump();
}

TEST(CliParseStream, EmptyResultIsTheTreeWritersToo) {
  TempDir tmp;
  std::string empty = tmp / "empty";
  std::filesystem::create_directory(empty);
  auto r = e2e::run(cli({"parse", "--json", empty}), tmp.path());
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.out, tree_output({empty}));
}

}  // namespace
