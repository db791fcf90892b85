// The report model built from carbontracker-format logs (src/report/report_from_log.cpp): hand-made
// carbontracker 2.3 and 2.4 logs, a standard log read alone, and logs our own tracker wrote,
// checked against the model the same run's JSON summary gives.
#include "report/report_from_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "golden_check.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt::detail;
using nlohmann::json;

const std::string kData = std::string(EPOCHWATT_TEST_DATA_DIR) + "/ct_logs";
const std::string kRun24 = kData + "/v2.4/48213.70211_2025-03-04T101500Z";
const std::string kRun23 = kData + "/v2.3/31337.90210_2024-11-20T080000Z";
constexpr const char* kStd = "_carbontracker.log";
constexpr const char* kOut = "_carbontracker_output.log";

bool has_warning(const ReportData& d, const std::string& part) {
  return std::any_of(d.warnings.begin(), d.warnings.end(),
                     [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

int data_points(const std::string& html, const std::string& chart, const std::string& series) {
  auto start = html.find("id=\"" + chart + "\"");
  auto end = html.find("</svg>", start);
  if (start == std::string::npos || end == std::string::npos) return -1;
  std::string svg = html.substr(start, end - start);
  std::smatch m;
  if (!std::regex_search(svg, m, std::regex("data-series=\"" + series + "\" data-points=\"(\\d+)\""))) return -1;
  return std::stoi(m[1]);
}

TEST(ReportFromLog, Carbontracker24PairGivesTheBlocksEpochsAndDevices) {
  ParsedRun run = parse_log_pair(kRun24 + kStd, kRun24 + kOut);
  ReportData d = report_data_from_parsed_run(run);
  EXPECT_EQ(d.tool, "carbontracker");
  EXPECT_EQ(d.version, "2.4.3");
  EXPECT_EQ(d.started_utc, "2025-03-04 10:00:00");
  EXPECT_EQ(d.finished_utc, "2025-03-04 10:00:30");
  EXPECT_DOUBLE_EQ(d.pue, 1.58);
  ASSERT_TRUE(d.actual.present && d.prediction.present);
  EXPECT_EQ(d.actual.epochs, 3);
  EXPECT_DOUBLE_EQ(d.actual.energy_kwh, run.actual->energy_kwh);
  EXPECT_DOUBLE_EQ(d.actual.co2_g, run.actual->co2_g);
  EXPECT_DOUBLE_EQ(d.actual.km_by_car, *run.actual->km);
  EXPECT_EQ(d.epochs_planned, run.predicted->epochs);
  EXPECT_DOUBLE_EQ(d.intensity_g_per_kwh, 445.0);
  EXPECT_EQ(d.location, "Unknown");

  // 3 epochs of 10 s at gpu 150 W + cpu 25 W.
  ASSERT_EQ(d.epochs.size(), 3u);
  for (const auto& e : d.epochs) {
    EXPECT_DOUBLE_EQ(e.joules, 1750.0);
    ASSERT_EQ(e.by_component.size(), 2u);
    EXPECT_EQ(e.by_component[0].component, "gpu");
    EXPECT_DOUBLE_EQ(e.by_component[0].joules, 1500.0);
  }
  ASSERT_EQ(d.prediction_series.size(), 3u);
  EXPECT_NEAR(d.prediction_series[2].actual_kwh, 3 * 1750.0 * 1.58 / 3.6e6, 1e-15);
  EXPECT_NEAR(d.prediction_series[0].predicted_kwh, 1750.0 * d.epochs_planned * 1.58 / 3.6e6, 1e-15);

  // The log has one total per component: one row each, with both devices named, and the
  // warning that carbontracker 2.x logged the mean of the two GPUs (D1).
  ASSERT_EQ(d.devices.size(), 2u);
  EXPECT_EQ(d.devices[0].device, "NVIDIA A100-SXM4-40GB, NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(d.devices[0].method, "sampled-power");
  EXPECT_DOUBLE_EQ(d.devices[0].joules, 4500.0);
  EXPECT_DOUBLE_EQ(d.devices[1].joules / d.devices[1].duration_s, 25.0);
  EXPECT_TRUE(has_warning(d, "not their sum")) << "D1";
  EXPECT_EQ(d.methods, std::vector<std::string>{"sampled-power"});

  // Power: one point per epoch at its middle.
  ASSERT_EQ(d.power.size(), 2u);
  EXPECT_EQ(d.power[0].t_s, std::vector<double>({5.0, 15.0, 25.0}));
  EXPECT_EQ(d.power[1].watts, std::vector<double>({25.0, 25.0, 25.0}));

  // The report's sentence (4 significant digits, carbontracker's mean of power samples named as a
  // measurement) credits carbontracker, for the block spec §8.7 picks.
  EXPECT_NE(d.aggregate_sentence.find("used 0.002304 kWh of electricity, measured (GPU: mean of power samples x duration"),
            std::string::npos)
      << d.aggregate_sentence;
  EXPECT_NE(d.aggregate_sentence.find("Measured by carbontracker"), std::string::npos);

  std::string html = render_html(d);
  EXPECT_EQ(data_points(html, "chart-power", "gpu"), 3);
  EXPECT_EQ(data_points(html, "chart-prediction", "measured so far"), 3);
  EXPECT_NE(html.find("one point per epoch"), std::string::npos) << "the caption says what the chart holds";
}

// The whole page for the carbontracker 2.4 pair, byte for byte (the data folder masked).
TEST(ReportFromLog, GoldenPage) {
  std::string html = render_html(report_data_from_parsed_run(parse_log_pair(kRun24 + kStd, kRun24 + kOut)));
  for (auto pos = html.find(kData); pos != std::string::npos; pos = html.find(kData, pos))
    html.replace(pos, kData.size(), "&lt;data&gt;");
  golden::expect_matches("report/ct24_pair.html", html);
}

TEST(ReportFromLog, StandardLogAloneGivesTheSameFiguresFromItsEpochs) {
  ReportData pair = report_data_from_parsed_run(parse_log_pair(kRun24 + kStd, kRun24 + kOut));
  ParsedRun alone_run = parse_standard_log(kRun24 + kStd);
  EXPECT_TRUE(alone_run.output_log.empty());
  EXPECT_FALSE(alone_run.actual || alone_run.predicted);
  ReportData alone = report_data_from_parsed_run(alone_run);
  ASSERT_TRUE(alone.actual.present);
  EXPECT_FALSE(alone.prediction.present);
  EXPECT_EQ(alone.actual.epochs, 3);
  EXPECT_DOUBLE_EQ(alone.actual.duration_s, 30.0);
  // The output log prints 12 decimals; the epochs give the unrounded values.
  EXPECT_NEAR(alone.actual.energy_kwh, pair.actual.energy_kwh, 1e-12);
  EXPECT_NEAR(alone.actual.co2_g, pair.actual.co2_g, 1e-9);
  EXPECT_NEAR(alone.actual.km_by_car, pair.actual.km_by_car, 1e-11);
  EXPECT_TRUE(has_warning(alone, "standard log alone"));
  EXPECT_NE(alone.aggregate_sentence.find("0.002304 kWh"), std::string::npos) << alone.aggregate_sentence;
}

TEST(ReportFromLog, Carbontracker23RunStoppedEarly) {
  ParsedRun run = parse_log_pair(kRun23 + kStd, kRun23 + kOut);
  ReportData d = report_data_from_parsed_run(run);
  EXPECT_EQ(d.tool, "carbontracker");
  EXPECT_EQ(d.early_stop, run.early_stop);
  EXPECT_EQ(static_cast<int>(d.epochs.size()), static_cast<int>(run.epochs.size()));
  ASSERT_EQ(d.actual.present, run.actual.has_value());
  if (run.actual) {
    EXPECT_EQ(d.actual.epochs, run.actual->epochs);
  }
  EXPECT_EQ(d.prediction_series.size(), static_cast<std::size_t>(run.epochs_done()));
  EXPECT_NE(d.aggregate_sentence.find(aggregate({run}).measured_by), std::string::npos) << d.aggregate_sentence;
}

TEST(ReportFromLog, LogWithoutPueLineAssumesTheDefaultAndSaysSo) {
  ewtest::TempDir dir;
  std::string text = ewtest::read_file(kRun24 + kStd);
  text = std::regex_replace(text, std::regex("[^\n]*PUE coefficient[^\n]*\n"), "");
  std::string path = dir.str() + "/1.2_2025-01-01T000000Z_carbontracker.log";
  ewtest::write_file(path, text);
  ReportData d = report_data_from_parsed_run(parse_standard_log(path));
  EXPECT_DOUBLE_EQ(d.pue, 1.58);
  EXPECT_TRUE(has_warning(d, "no PUE line"));
}

// Our own logs hold the per-device values and methods: the model from them matches the one from
// the JSON summary of the same run.
class ReportFromOwnLogs : public ::testing::TestWithParam<ewtest::Scenario> {};
INSTANTIATE_TEST_SUITE_P(Section14, ReportFromOwnLogs,
                         ::testing::Values(ewtest::Scenario::full_run, ewtest::Scenario::stopped_after_epoch_2,
                                           ewtest::Scenario::stopped_mid_epoch),
                         [](const auto& info) { return ewtest::scenario_name(info.param); });

TEST_P(ReportFromOwnLogs, MatchTheJsonSummarysModel) {
  ewtest::ScenarioRun s = ewtest::run_scenario(GetParam());
  ReportData from_json = report_data_from_json_summary(json::parse(ewtest::read_file(s.json_path)));
  ReportData from_log = report_data_from_parsed_run(parse_log_pair(s.standard_log_path, s.output_log_path));
  EXPECT_EQ(from_log.tool, "epochwatt");
  EXPECT_EQ(from_log.actual.present, from_json.actual.present);
  EXPECT_EQ(from_log.actual.epochs, from_json.actual.epochs);
  EXPECT_NEAR(from_log.actual.energy_kwh, from_json.actual.energy_kwh, 1e-12);
  EXPECT_NEAR(from_log.actual.co2_g, from_json.actual.co2_g, 1e-12);
  EXPECT_NEAR(from_log.prediction.energy_kwh, from_json.prediction.energy_kwh, 1e-12);
  EXPECT_EQ(from_log.early_stop, from_json.early_stop);
  EXPECT_EQ(from_log.epochs_planned, from_json.epochs_planned);
  EXPECT_EQ(from_log.methods, from_json.methods);
  ASSERT_EQ(from_log.epochs.size(), from_json.epochs.size());
  for (std::size_t i = 0; i < from_log.epochs.size(); ++i) {
    EXPECT_EQ(from_log.epochs[i].interrupted, from_json.epochs[i].interrupted);
    EXPECT_NEAR(from_log.epochs[i].joules, from_json.epochs[i].joules, 1e-6 * from_json.epochs[i].joules);
  }
  ASSERT_EQ(from_log.prediction_series.size(), from_json.prediction_series.size());
  for (std::size_t i = 0; i < from_log.prediction_series.size(); ++i)
    EXPECT_NEAR(from_log.prediction_series[i].predicted_kwh, from_json.prediction_series[i].predicted_kwh,
                1e-6 * from_json.prediction_series[i].predicted_kwh);
  // One row per device: the extension lines give each device's power.
  ASSERT_EQ(from_log.devices.size(), from_json.devices.size());
  for (std::size_t i = 0; i < from_log.devices.size(); ++i) {
    EXPECT_EQ(from_log.devices[i].device, from_json.devices[i].device);
    EXPECT_EQ(from_log.devices[i].method, from_json.devices[i].method);
    EXPECT_NEAR(from_log.devices[i].joules, from_json.devices[i].joules, 1e-6 * from_json.devices[i].joules);
  }
  EXPECT_NE(from_log.aggregate_sentence.find("Measured by epochwatt"), std::string::npos);
}

}  // namespace
