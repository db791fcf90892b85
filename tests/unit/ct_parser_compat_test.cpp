// Contract rule 1 (spec §1): the logs epochwatt writes are read by the original carbontracker
// parser (tests/compat/ct_parser.py, its rules re-implemented) back to the numbers epochwatt
// reported. Runs the §14 scenarios of the golden tests and the parser as a separate process.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "unit/support.hpp"

namespace {

using ewtest::Scenario;
using ewtest::ScenarioRun;
using nlohmann::json;

// The logs hold P = 12 decimals, so a parsed value is the reported one rounded to 12 places.
constexpr double kTwelveDecimals = 0.5e-12 + 1e-15;

std::string parser_command(const std::string& mode, const std::string& dir) {
  return ewtest::shell_quote(EPOCHWATT_PYTHON) + " " + ewtest::shell_quote(EPOCHWATT_CT_PARSER) + " " + mode +
         " " + ewtest::shell_quote(dir);
}

json parse_with_original(const ScenarioRun& r) {
  auto res = ewtest::run_command(parser_command("json", r.dir.str()));
  EXPECT_EQ(res.status, 0) << res.out;
  return json::parse(res.out);
}

// Per-epoch component power as epochwatt measured it: component energy / duration.
double component_watts(const epochwatt::EpochSummary& e, const std::string& component) {
  double joules = 0;
  for (const auto& d : e.devices)
    if ((d.component == epochwatt::Component::gpu) == (component == "gpu")) joules += d.joules;
  return joules / e.duration_s;
}

void expect_block(const json& block, const epochwatt::Consumption& c, int parsed_epochs) {
  ASSERT_TRUE(block.is_object());
  EXPECT_EQ(block["epochs"], parsed_epochs);
  EXPECT_DOUBLE_EQ(block["duration (s)"].get<double>(), std::nearbyint(c.duration_s));
  EXPECT_NEAR(block["energy (kWh)"].get<double>(), c.energy_kwh, kTwelveDecimals);
  EXPECT_NEAR(block["co2eq (g)"].get<double>(), c.co2_g, kTwelveDecimals);
  ASSERT_TRUE(block["equivalents"].is_object());
  EXPECT_EQ(block["equivalents"].size(), 1u);
  EXPECT_NEAR(block["equivalents"]["km travelled by car"].get<double>(), c.km_by_car, kTwelveDecimals);
}

class OriginalParser : public ::testing::TestWithParam<Scenario> {};

INSTANTIATE_TEST_SUITE_P(Section14, OriginalParser,
                         ::testing::Values(Scenario::full_run, Scenario::stopped_after_epoch_2,
                                           Scenario::stopped_mid_epoch),
                         [](const ::testing::TestParamInfo<Scenario>& info) { return ewtest::scenario_name(info.param); });

TEST_P(OriginalParser, ReadsBackWhatTheTrackerReported) {
  ScenarioRun r = ewtest::run_scenario(GetParam());
  json parsed = parse_with_original(r);
  ASSERT_EQ(parsed["logs"].size(), 1u) << "the JSON summary or the err log must not look like a log pair";
  const json& log = parsed["logs"][0];
  EXPECT_EQ(log["standard_filename"], r.standard_log_path);
  EXPECT_EQ(log["output_filename"], r.output_log_path);

  std::vector<epochwatt::EpochSummary> ended;
  for (const auto& e : r.epochs)
    if (!e.interrupted) ended.push_back(e);
  ASSERT_EQ(ended.size(), GetParam() == Scenario::full_run ? 3u : 2u);

  const json& comps = log["components"];
  ASSERT_EQ(comps.size(), 2u);
  EXPECT_EQ(comps["gpu"]["devices"], json({ewtest::kGpuName, std::string(" ") + ewtest::kGpuName}));
  EXPECT_EQ(comps["cpu"]["devices"], json({"cpu:0", " dram:0"}));
  for (const std::string comp : {"gpu", "cpu"}) {
    const json& c = comps[comp];
    ASSERT_EQ(c["avg_power_usages (W)"].size(), ended.size()) << comp;
    ASSERT_EQ(c["epoch_durations (s)"].size(), ended.size()) << comp;
    for (std::size_t i = 0; i < ended.size(); ++i) {
      double watts = component_watts(ended[i], comp);
      ASSERT_EQ(c["avg_power_usages (W)"][i].size(), 1u);  // one plain scalar per line
      EXPECT_DOUBLE_EQ(c["avg_power_usages (W)"][i][0].get<double>(), watts) << comp << " epoch " << i + 1;
      EXPECT_NEAR(c["epoch_durations (s)"][i].get<double>(), ended[i].duration_s, 0.005);
      EXPECT_NEAR(c["avg_energy_usages (J)"][i][0].get<double>(), watts * ended[i].duration_s, 1e-9);
    }
  }
  EXPECT_DOUBLE_EQ(comps["gpu"]["avg_power_usages (W)"][0][0].get<double>(), 300.0);  // §14: summed, not 150
  EXPECT_DOUBLE_EQ(comps["cpu"]["avg_power_usages (W)"][0][0].get<double>(), 50.0);   // not 25

  EXPECT_EQ(log["early_stop"], GetParam() != Scenario::full_run);
  ASSERT_TRUE(r.prediction.has_value());
  // The rule and the range are on epochwatt's extension lines right after the Predicted block;
  // the original's parser still reads the block's figures.
  std::string out_log = ewtest::read_file(r.output_log_path);
  EXPECT_NE(out_log.find("km travelled by car\n"), std::string::npos);
  EXPECT_NE(out_log.find(" - CarbonTracker: Prediction rule: steady-epochs: "), std::string::npos) << out_log;
  expect_block(log["pred"], *r.prediction, 3);
  expect_block(log["actual"], r.totals, 1);  // the original's actual pattern has no epoch count (D22)

  // Aggregation: a completed run is summed with its predicted block (equal here), a stopped one
  // with its actual block.
  const json& agg = parsed["aggregate"];
  const epochwatt::Consumption& chosen = GetParam() == Scenario::full_run ? *r.prediction : r.totals;
  EXPECT_NEAR(agg["kwh"].get<double>(), chosen.energy_kwh, kTwelveDecimals);
  EXPECT_NEAR(agg["gco2"].get<double>(), chosen.co2_g, kTwelveDecimals);
  EXPECT_NEAR(agg["equivalents"]["km travelled by car"].get<double>(), chosen.km_by_car, kTwelveDecimals);
}

TEST(OriginalParser, AggregateSentenceOfTheFullRun) {
  ScenarioRun r = ewtest::run_scenario(Scenario::full_run);
  auto res = ewtest::run_command(parser_command("aggregate", r.dir.str()));
  ASSERT_EQ(res.status, 0);
  EXPECT_EQ(res.out,
            "The training of models in this work is estimated to use 0.0046083333330000 kWh of electricity "
            "contributing to 0.0020507083333330 kg of CO2eq. This is equivalent to 0.0192013888890000 km "
            "travelled by car. Measured by carbontracker (https://github.com/lfwa/carbontracker).\n");
}

TEST(OriginalParser, AggregateSentenceOfTheStoppedRun) {
  ScenarioRun r = ewtest::run_scenario(Scenario::stopped_after_epoch_2);
  auto res = ewtest::run_command(parser_command("aggregate", r.dir.str()));
  ASSERT_EQ(res.status, 0);
  // 2 epochs x 3500 J x 1.58 = 0.003072222222 kWh; x 445 = 1.367138888889 g.
  EXPECT_EQ(res.out,
            "The training of models in this work is estimated to use 0.0030722222220000 kWh of electricity "
            "contributing to 0.0013671388888890 kg of CO2eq. This is equivalent to 0.0128009259260000 km "
            "travelled by car. Measured by carbontracker (https://github.com/lfwa/carbontracker).\n");
}

}  // namespace
