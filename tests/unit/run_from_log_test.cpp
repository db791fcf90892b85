// The run model read from carbontracker-format logs (src/report/run_from_log.cpp): a carbontracker
// 2.4 pair, a 2.3 pair stopped early, a standard log alone, and logs our own tracker wrote, checked
// against the figures of the logs and against the run model of the same run's JSON summary. Then
// the HTML report made through the run model, byte for byte against pages the report-from-log
// path rendered before it went through the run model (tests/golden/report/*, see README there).
#include "report/run_from_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "golden_check.hpp"
#include "report/report_from_log.hpp"
#include "report/run_json.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using namespace epochwatt::detail;

const std::string kData = std::string(EPOCHWATT_TEST_DATA_DIR) + "/ct_logs";
const std::string kRun24 = kData + "/v2.4/48213.70211_2025-03-04T101500Z";
const std::string kRun23 = kData + "/v2.3/31337.90210_2024-11-20T080000Z";
const std::string kArrays = kData + "/edge/train_1234_2020-06-01T10:00Z";
constexpr const char* kStd = "_carbontracker.log";
constexpr const char* kOut = "_carbontracker_output.log";

bool has_warning(const Run& r, const std::string& part) {
  return std::any_of(r.warnings.begin(), r.warnings.end(), [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

TEST(RunFromLog, SampledPowerIsItsOwnMethod) {
  EXPECT_EQ(to_string(Method::sampled_power), "sampled-power");
  EXPECT_EQ(to_string(Method::unknown), "unknown");
  // The JSON summary reads back what it writes.
  nlohmann::ordered_json j = DeviceEnergy{"", "gpu0", Component::gpu, Method::sampled_power, 1.0, true};
  EXPECT_EQ(nlohmann::json::parse(j.dump()).get<DeviceEnergy>().method, Method::sampled_power);
}

// carbontracker 2.4: 3 epochs of 10 s at gpu 150 W (two A100s, their mean: D1) + cpu 25 W.
TEST(RunFromLog, Carbontracker24Pair) {
  ParsedRun parsed = parse_log_pair(kRun24 + kStd, kRun24 + kOut);
  epochwatt::Run r = run_from_log(parsed);
  const RunContext& c = r.context;
  EXPECT_EQ(c.tool_name, "carbontracker");
  EXPECT_EQ(c.version, "2.4.3");
  EXPECT_EQ(c.components, (std::vector<std::string>{"gpu", "cpu"}));
  EXPECT_DOUBLE_EQ(c.pue, 1.58);
  EXPECT_EQ(c.epochs_planned, 3);
  // Not in the logs: not made up.
  EXPECT_EQ(c.host, "");
  EXPECT_EQ(c.run_id, "");
  EXPECT_EQ(c.started, std::chrono::system_clock::time_point{});
  EXPECT_TRUE(r.power_series.empty());

  // One meter per component: the log gives only the component's total.
  ASSERT_EQ(c.meters.size(), 2u);
  EXPECT_EQ(c.meters[0].id, "");
  EXPECT_EQ(c.meters[0].component, Component::gpu);
  EXPECT_EQ(c.meters[0].device_name, "NVIDIA A100-SXM4-40GB, NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(c.meters[0].method, Method::sampled_power);
  EXPECT_EQ(c.meters[0].detail, kLogTotalOnly);
  EXPECT_EQ(c.meters[1].device_name, "cpu:0, dram:0");

  ASSERT_EQ(r.epochs.size(), 3u);
  for (const auto& e : r.epochs) {
    EXPECT_FALSE(e.interrupted);
    EXPECT_DOUBLE_EQ(e.duration_s, 10.0);
    EXPECT_DOUBLE_EQ(e.joules, 1750.0);  // (150 + 25) W x 10 s
    ASSERT_EQ(e.devices.size(), 2u);
    EXPECT_DOUBLE_EQ(e.devices[0].joules, 1500.0);
    EXPECT_EQ(e.devices[0].method, Method::sampled_power);
    EXPECT_DOUBLE_EQ(e.devices[1].joules, 250.0);
    EXPECT_EQ(e.devices[1].component, Component::cpu);
  }

  // The blocks as printed (PUE included).
  ASSERT_TRUE(r.prediction && r.actual);
  EXPECT_EQ(r.prediction->epochs, 3);
  EXPECT_DOUBLE_EQ(r.prediction->duration_s, 30.0);
  EXPECT_DOUBLE_EQ(r.prediction->energy_kwh, 0.002304166667);
  EXPECT_DOUBLE_EQ(r.prediction->co2_g, 1.025354166667);
  EXPECT_EQ(r.actual->epochs, 3);
  EXPECT_DOUBLE_EQ(r.actual->energy_kwh, 0.002304166667);
  EXPECT_DOUBLE_EQ(r.actual->km_by_car, 0.009600694444);
  EXPECT_DOUBLE_EQ(r.actual->intensity_g_per_kwh, 445.0) << "the logged average carbontracker used";
  // ... and they agree with the epochs through the one footprint rule, to the 12 printed decimals.
  EXPECT_NEAR(footprint_of_epochs(r.epochs, c.pue, 445.0).energy_kwh, r.actual->energy_kwh, 1e-12);
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.early_stop);

  EXPECT_DOUBLE_EQ(r.intensity.g_per_kwh, 445.0);
  EXPECT_EQ(r.intensity.source, "as logged by carbontracker");
  EXPECT_EQ(r.intensity_values, std::vector<double>{445.0});
  EXPECT_EQ(r.location.country, "") << "\"Unknown\" locates nothing";
  EXPECT_EQ(r.log_std, kRun24 + kStd);
  EXPECT_EQ(r.log_output, kRun24 + kOut);
  // D1: carbontracker 2.x logs the mean of a component's devices; both components have two.
  EXPECT_EQ(std::count_if(r.warnings.begin(), r.warnings.end(),
                          [](const std::string& w) { return w.find("not their sum") != std::string::npos; }),
            2);
  EXPECT_FALSE(has_warning(r, "PUE"));
}

// carbontracker 2.3, stopped after 2 of 4 epochs: the actual block's title says 1 (D10), the run
// model has the real count; the address gives the location.
TEST(RunFromLog, Carbontracker23StoppedEarly) {
  epochwatt::Run r = run_from_log(parse_log_pair(kRun23 + kStd, kRun23 + kOut));
  EXPECT_EQ(r.context.tool_name, "carbontracker");
  EXPECT_EQ(r.context.version, "2.3.1");
  EXPECT_EQ(r.context.epochs_planned, 4);
  EXPECT_EQ(r.context.monitor_epochs, RunContext{}.monitor_epochs) << "-1 in the log: not a count";
  EXPECT_TRUE(r.early_stop);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_DOUBLE_EQ(r.epochs[0].joules, (201.75 + 18.25) * 30.0);
  EXPECT_DOUBLE_EQ(r.epochs[1].duration_s, 29.5);
  EXPECT_DOUBLE_EQ(r.epochs[1].joules, (198.5 + 18.0) * 29.5);
  ASSERT_EQ(r.epochs[1].devices.size(), 2u);
  EXPECT_EQ(r.epochs[1].devices[0].device_name, "Tesla V100-PCIE-16GB");
  EXPECT_DOUBLE_EQ(r.epochs[1].devices[0].joules, 198.5 * 29.5);
  ASSERT_EQ(r.context.meters.size(), 2u);
  EXPECT_EQ(r.context.meters[0].detail, "") << "one device: its own total";
  ASSERT_TRUE(r.actual && r.prediction);
  EXPECT_EQ(r.actual->epochs, 2);
  EXPECT_DOUBLE_EQ(r.actual->energy_kwh, 0.005699740278);
  EXPECT_DOUBLE_EQ(r.actual->co2_g, 0.686818703472);
  EXPECT_DOUBLE_EQ(r.actual->intensity_g_per_kwh, 120.5);
  EXPECT_EQ(r.prediction->epochs, 4);
  EXPECT_DOUBLE_EQ(r.prediction->energy_kwh, 0.011586666667);
  EXPECT_EQ(r.location.city, "Copenhagen");
  EXPECT_EQ(r.location.region, "Capital Region");
  EXPECT_EQ(r.location.country, "DK");
  EXPECT_EQ(r.intensity.source, "Carbon intensity: 120.50 gCO2/kWh at Copenhagen, Capital Region, DK");
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
}

// The standard log alone: no blocks, so no prediction; the actual from the epochs by the one
// footprint rule, and a warning that says so.
TEST(RunFromLog, StandardLogAlone) {
  epochwatt::Run r = run_from_log(parse_standard_log(kRun24 + kStd));
  EXPECT_FALSE(r.prediction);
  EXPECT_FALSE(r.complete) << "nothing in a standard log says that the run finished";
  EXPECT_EQ(r.context.epochs_planned, 0) << "no predicted block: unknown";
  EXPECT_EQ(r.log_output, "");
  ASSERT_TRUE(r.actual);
  Consumption want = footprint(3, 30.0, 3 * 1750.0, 1.58, 445.0);
  EXPECT_EQ(r.actual->epochs, 3);
  EXPECT_DOUBLE_EQ(r.actual->duration_s, want.duration_s);
  EXPECT_DOUBLE_EQ(r.actual->energy_kwh, want.energy_kwh);
  EXPECT_DOUBLE_EQ(r.actual->co2_g, want.co2_g);
  EXPECT_DOUBLE_EQ(r.actual->km_by_car, want.km_by_car);
  EXPECT_TRUE(has_warning(r, "standard log alone"));
}

// carbontracker <= 1.2 (no version line, no units, no PUE): numpy arrays give each GPU's power;
// a nan CPU value is nothing measured, not 0 W.
TEST(RunFromLog, OldCarbontrackerArraysGivePerDeviceEnergy) {
  epochwatt::Run r = run_from_log(parse_log_pair(kArrays + kStd, kArrays + kOut));
  EXPECT_EQ(r.context.tool_name, "") << "the log does not name its writer";
  EXPECT_TRUE(has_warning(r, "no PUE line"));
  ASSERT_EQ(r.context.meters.size(), 5u);  // 4 GPUs, one CPU entry (epoch 2 has no per-device values)
  EXPECT_EQ(r.context.meters[3].device_name, "Tesla V100-SXM2-16GB");
  EXPECT_EQ(r.context.meters[4].device_name, "cpu:0, dram:0");
  ASSERT_EQ(r.epochs.size(), 2u);
  ASSERT_EQ(r.epochs[0].devices.size(), 5u);
  EXPECT_DOUBLE_EQ(r.epochs[0].devices[1].joules, 140.2 * 60.0);
  EXPECT_DOUBLE_EQ(r.epochs[0].devices[4].joules, (12.5 + 3.25) * 60.0);
  ASSERT_EQ(r.epochs[1].devices.size(), 4u) << "cpu: nan";
  EXPECT_DOUBLE_EQ(r.epochs[1].devices[3].joules, 152.0 * 60.0);
  EXPECT_EQ(r.epochs[1].devices[0].method, Method::sampled_power);
}

// Our own logs: the run model from them matches the one from the JSON summary of the same run, the
// meters' ids aside (the logs name devices, not meters).
class RunFromOwnLogs : public ::testing::TestWithParam<ewtest::Scenario> {};
INSTANTIATE_TEST_SUITE_P(Section14, RunFromOwnLogs,
                         ::testing::Values(ewtest::Scenario::full_run, ewtest::Scenario::stopped_after_epoch_2,
                                           ewtest::Scenario::stopped_mid_epoch),
                         [](const auto& info) { return ewtest::scenario_name(info.param); });

TEST_P(RunFromOwnLogs, MatchTheJsonSummarysRun) {
  ewtest::ScenarioRun s = ewtest::run_scenario(GetParam());
  epochwatt::Run want = nlohmann::json::parse(ewtest::read_file(s.json_path)).get<epochwatt::Run>();
  epochwatt::Run r = run_from_log(parse_log_pair(s.standard_log_path, s.output_log_path));
  EXPECT_EQ(r.context.tool_name, "epochwatt");
  EXPECT_EQ(r.context.version, want.context.version);
  EXPECT_EQ(r.context.components, want.context.components);
  EXPECT_DOUBLE_EQ(r.context.pue, want.context.pue);
  EXPECT_EQ(r.context.epochs_planned, want.context.epochs_planned);
  EXPECT_EQ(r.early_stop, want.early_stop);
  EXPECT_EQ(r.complete, want.complete);
  ASSERT_EQ(r.context.meters.size(), want.context.meters.size());
  for (std::size_t i = 0; i < r.context.meters.size(); ++i) {
    EXPECT_EQ(r.context.meters[i].id, "");
    EXPECT_EQ(r.context.meters[i].device_name, want.context.meters[i].device_name);
    EXPECT_EQ(r.context.meters[i].method, want.context.meters[i].method) << "the extension line's";
    EXPECT_EQ(report_component_of(r.context.meters[i].component), report_component_of(want.context.meters[i].component));
  }
  ASSERT_EQ(r.epochs.size(), want.epochs.size());
  for (std::size_t i = 0; i < r.epochs.size(); ++i) {
    const EpochSummary &got = r.epochs[i], &exp = want.epochs[i];
    EXPECT_EQ(got.index, exp.index);
    EXPECT_EQ(got.interrupted, exp.interrupted);
    EXPECT_NEAR(got.duration_s, exp.duration_s, 0.005);  // the log prints hundredths
    EXPECT_NEAR(got.joules, exp.joules, 1e-6 * exp.joules);
    if (got.interrupted) {
      EXPECT_TRUE(got.devices.empty()) << "the log gives the interrupted epoch's total only";
      continue;
    }
    ASSERT_EQ(got.devices.size(), exp.devices.size());
    for (std::size_t k = 0; k < got.devices.size(); ++k) {
      EXPECT_EQ(got.devices[k].device_name, exp.devices[k].device_name);
      EXPECT_EQ(got.devices[k].method, exp.devices[k].method);
      EXPECT_NEAR(got.devices[k].joules, exp.devices[k].joules, 1e-6 * exp.devices[k].joules);
    }
  }
  ASSERT_EQ(r.prediction.has_value(), want.prediction.has_value());
  EXPECT_EQ(r.prediction->epochs, want.prediction->epochs);
  EXPECT_NEAR(r.prediction->energy_kwh, want.prediction->energy_kwh, 1e-12);
  EXPECT_NEAR(r.prediction->co2_g, want.prediction->co2_g, 1e-12);
  ASSERT_EQ(r.actual.has_value(), want.actual.has_value());
  EXPECT_EQ(r.actual->epochs, want.actual->epochs);
  EXPECT_NEAR(r.actual->energy_kwh, want.actual->energy_kwh, 1e-12);
  EXPECT_NEAR(r.actual->co2_g, want.actual->co2_g, 1e-12);
  EXPECT_DOUBLE_EQ(r.intensity.g_per_kwh, want.intensity.g_per_kwh);
  EXPECT_EQ(r.intensity.source.rfind(want.intensity.source + ", ", 0), 0u) << r.intensity.source;
}

// An extension line that names several methods for a component: each device's own `Measuring`
// line tells which; without those lines the log leaves it open.
TEST(RunFromLog, SeveralMethodsOfAComponentFromTheMeasuringLines) {
  ewtest::ScenarioRun s = ewtest::run_scenario(ewtest::Scenario::full_run);
  std::string text = std::regex_replace(ewtest::read_file(s.standard_log_path), std::regex(R"(for cpu \[counter\])"),
                                        "for cpu [counter,estimate]");
  text = std::regex_replace(text, std::regex(R"(dram:0 \(dram\) by counter)"), "dram:0 (dram) by estimate");
  ewtest::TempDir dir;
  const std::string path = dir.str() + "/7.7_2025-01-01T000000Z_carbontracker.log";
  ewtest::write_file(path, text);
  epochwatt::Run r = run_from_log(parse_standard_log(path));
  ASSERT_EQ(r.context.meters.size(), 4u);
  EXPECT_EQ(r.context.meters[1].method, Method::counter);
  EXPECT_EQ(r.context.meters[2].method, Method::counter);
  EXPECT_EQ(r.context.meters[3].device_name, "dram:0");
  EXPECT_EQ(r.context.meters[3].method, Method::estimate);
  EXPECT_FALSE(has_warning(r, "does not say how"));

  ewtest::write_file(path, std::regex_replace(text, std::regex("[^\n]*Measuring [^\n]*\n"), ""));
  r = run_from_log(parse_standard_log(path));
  EXPECT_EQ(r.context.meters[0].method, Method::counter) << "gpu: one method on its line";
  EXPECT_EQ(r.context.meters[3].method, Method::unknown);
  EXPECT_TRUE(has_warning(r, "does not say how the cpu devices were measured (it names counter,estimate"));
}

// `epochwatt parse` splits each run's energy by basis without building the run model
// (energy_by_basis_of_log): the same sums, bit for bit, and the same parts in the same order as
// energy_by_basis of run_from_log's epochs, on every kind of log the tests hold.
void expect_same_basis(const ParsedRun& parsed, const std::string& what) {
  SCOPED_TRACE(what);
  epochwatt::Run model = run_from_log(parsed);
  EnergyByBasis want = energy_by_basis(model.epochs, model.setup);
  EnergyByBasis got = energy_by_basis_of_log(parsed);
  EXPECT_EQ(got.measured_j, want.measured_j);  // exact: the sentence prints 16 decimals of a share
  EXPECT_EQ(got.estimated_j, want.estimated_j);
  EXPECT_EQ(got.unknown_j, want.unknown_j);
  EXPECT_EQ(got.measured, want.measured);
  EXPECT_EQ(got.estimated, want.estimated);
  EXPECT_EQ(got.unknown, want.unknown);
}

TEST(RunFromLog, EnergyByBasisOfLogIsTheRunModels) {
  std::vector<ParseWarning> warnings;
  std::vector<ParsedRun> runs = parse_log_dirs({kData + "/v2.3", kData + "/v2.4", kData + "/edge"}, &warnings);
  ASSERT_GE(runs.size(), 6u);
  for (const auto& r : runs) expect_same_basis(r, r.std_log);
  for (auto scenario : {ewtest::Scenario::full_run, ewtest::Scenario::stopped_after_epoch_2,
                        ewtest::Scenario::stopped_mid_epoch}) {
    ewtest::ScenarioRun s = ewtest::run_scenario(scenario);
    ParsedRun r = parse_log_pair(s.standard_log_path, s.output_log_path);
    EXPECT_GT(energy_by_basis_of_log(r).total_j(), 0.0);
    expect_same_basis(r, ewtest::scenario_name(scenario));
    // Several methods on a component's extension line, and a first epoch whose GPU power is None:
    // the epoch table then makes the CPU's column first, and later epochs add in that order.
    ewtest::TempDir dir;
    const std::string path = dir.str() + "/7.7_2025-01-01T000000Z_carbontracker.log";
    std::string text = std::regex_replace(ewtest::read_file(s.standard_log_path), std::regex(R"(for cpu \[counter\])"),
                                          "for cpu [counter,estimate]");
    ewtest::write_file(path, text);
    expect_same_basis(parse_standard_log(path), "several methods");
    text = std::regex_replace(text, std::regex(R"(Average power usage \(W\) for gpu: [^\n]*)"),
                              "Average power usage (W) for gpu: None", std::regex_constants::format_first_only);
    ewtest::write_file(path, text);
    expect_same_basis(parse_standard_log(path), "first gpu power None");
  }
}

// ---- the report from logs, through the run model, against the pages the earlier path rendered

std::string page(ReportData d, const std::string& masked_source) {
  d.source = masked_source;
  if (d.tool == "epochwatt") d.version = "<version>";
  return render_html(d);
}

TEST(RunFromLogReport, SameAsBeforeForCarbontracker23Pair) {
  golden::expect_matches("report/ct23_pair.html",
                         page(report_data_from_parsed_run(parse_log_pair(kRun23 + kStd, kRun23 + kOut)), "<data>/v2.3 pair"));
}

TEST(RunFromLogReport, SameAsBeforeForAStandardLogAlone) {
  golden::expect_matches("report/ct24_alone.html",
                         page(report_data_from_parsed_run(parse_standard_log(kRun24 + kStd)), "<data>/v2.4 standard log"));
}

TEST(RunFromLogReport, SameAsBeforeForOwnLogsStoppedMidEpoch) {
  ewtest::ScenarioRun s = ewtest::run_scenario(ewtest::Scenario::stopped_mid_epoch);
  golden::expect_matches("report/own_stopped_mid_epoch_pair.html",
                         page(report_data_from_parsed_run(parse_log_pair(s.standard_log_path, s.output_log_path)),
                              "<dir> pair"));
}

// Equal field by field to what the earlier path gave for the 2.4 pair (GoldenPage checks the page).
TEST(RunFromLogReport, ModelOfThe24PairAsBefore) {
  ParsedRun parsed = parse_log_pair(kRun24 + kStd, kRun24 + kOut);
  ReportData d = report_data_from_parsed_run(parsed);
  EXPECT_EQ(d.tool, "carbontracker");
  EXPECT_EQ(d.started_utc, "2025-03-04 10:00:00") << "the log's own stamp";
  EXPECT_EQ(d.location, "Unknown");
  EXPECT_EQ(d.epochs_planned, 3);
  EXPECT_EQ(d.methods, std::vector<std::string>{"sampled-power"});
  ASSERT_EQ(d.devices.size(), 2u);
  EXPECT_EQ(d.devices[0].meter_id, "");
  EXPECT_DOUBLE_EQ(d.devices[0].joules, 4500.0);
  EXPECT_DOUBLE_EQ(d.devices[0].duration_s, 30.0);
  // The report's sentence (issue 12, item 5): 4 significant digits; carbontracker's sampled power is
  // a measurement, credited to carbontracker.
  EXPECT_NE(d.aggregate_sentence.find("measured (GPU: mean of power samples x duration"), std::string::npos)
      << d.aggregate_sentence;
  EXPECT_NE(d.aggregate_sentence.find("Measured by carbontracker"), std::string::npos) << "measured_by()";
}

}  // namespace
