// The one run model and the Reporter interface (issue 11): a caller's own reporter sees what
// epochwatt's reporters see; totals() mid-run is the snapshot's footprint, gCO2e included; the
// core tracker runs on injected parts alone; `parse` and `report` print the same sentence for the
// same run; the report's prediction curve follows prediction_skips_first_epoch.
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/format.hpp"
#include "epochwatt/epochwatt.hpp"
#include "report/html_report.hpp"
#include "report/log_parse.hpp"
#include "report/report_from_log.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using ewtest::run_epoch;

// Records the snapshot of every epoch end and the finished run.
class RecordingReporter final : public Reporter {
 public:
  void epoch_ended(const Run& run) override {
    std::lock_guard lk(mu);
    snapshots.push_back(*run.actual);
    complete_flags.push_back(run.complete);
  }
  void predicted(const Run& run) override {
    std::lock_guard lk(mu);
    prediction = run.prediction;
  }
  void run_finished(const Run& run) override {
    std::lock_guard lk(mu);
    finished = run;
  }
  void message(const Message& m) override {
    std::lock_guard lk(mu);
    messages.push_back(m.text);
  }
  std::mutex mu;
  std::vector<Consumption> snapshots;
  std::vector<bool> complete_flags;
  std::optional<Consumption> prediction;
  std::optional<Run> finished;
  std::vector<std::string> messages;
};

TEST(RunModel, TotalsMidRunCarryGramsAndEqualTheSnapshot) {
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 4);
  o.meters = ewtest::section14_meters();
  o.intensity_g_per_kwh = 200.0;
  auto rec = std::make_shared<RecordingReporter>();
  TrackerParts parts = default_tracker_parts(o);
  parts.reporters.push_back(rec);
  Tracker t(o, std::move(parts));
  run_epoch(t, *clock, 10.0);
  std::optional<Consumption> after_epoch1 = t.prediction();
  run_epoch(t, *clock, 20.0);
  Consumption mid = t.totals();
  // 350 W (2 x 150 + 45 + 5) for 30 s = 10500 J; x PUE 1.58 / 3.6e6 kWh; x 200 g/kWh.
  double kwh = 10500.0 * 1.58 / 3.6e6;
  EXPECT_EQ(mid.epochs, 2);
  EXPECT_DOUBLE_EQ(mid.energy_kwh, kwh);
  EXPECT_DOUBLE_EQ(mid.intensity_g_per_kwh, 200.0);
  EXPECT_DOUBLE_EQ(mid.co2_g, kwh * 200.0);
  EXPECT_GT(mid.co2_g, 0.0);
  {
    std::lock_guard lk(rec->mu);
    ASSERT_EQ(rec->snapshots.size(), 2u);
    EXPECT_EQ(rec->snapshots.back().co2_g, mid.co2_g);
    EXPECT_EQ(rec->snapshots.back().energy_kwh, mid.energy_kwh);
    EXPECT_EQ(rec->complete_flags.back(), false);
    ASSERT_TRUE(rec->prediction.has_value());
    // The block printed after epoch 1 is what prediction() said then (it is remade after each epoch).
    ASSERT_TRUE(after_epoch1.has_value());
    EXPECT_EQ(rec->prediction->co2_g, after_epoch1->co2_g);
    EXPECT_NE(t.prediction()->co2_g, after_epoch1->co2_g);
  }
  t.stop();
  std::lock_guard lk(rec->mu);
  ASSERT_TRUE(rec->finished.has_value());
  EXPECT_TRUE(rec->finished->complete);
  EXPECT_TRUE(rec->finished->early_stop);
  EXPECT_EQ(rec->finished->actual->co2_g, t.totals().co2_g);
  EXPECT_EQ(rec->finished->context.meters.size(), 4u);
  EXPECT_EQ(rec->finished->power_series.size(), 4u);
}

TEST(RunModel, CoreTrackerRunsOnInjectedPartsAlone) {
  auto clock = std::make_shared<ManualClock>();
  Options o;
  o.epochs = 2;
  o.clock = clock;
  o.pue = 1.0;
  TrackerParts parts;
  parts.meters.push_back(std::make_shared<ewtest::ScriptedMeter>("gpu:0", Component::gpu, "G", 100.0));
  IntensityValue v;
  v.g_per_kwh = 360.0;
  v.source = "test";
  parts.intensity = fixed_intensity_source(v);
  auto rec = std::make_shared<RecordingReporter>();
  parts.reporters.push_back(rec);
  Tracker t(o, std::move(parts));
  run_epoch(t, *clock, 36.0);
  run_epoch(t, *clock, 36.0);
  t.stop();
  // 100 W x 72 s = 7200 J = 0.002 kWh; x 360 g/kWh = 0.72 g.
  EXPECT_DOUBLE_EQ(t.totals().energy_kwh, 0.002);
  EXPECT_DOUBLE_EQ(t.totals().co2_g, 0.72);
  EXPECT_EQ(t.totals().intensity_source, "test");
  EXPECT_EQ(t.standard_log_path(), "");
  std::lock_guard lk(rec->mu);
  ASSERT_TRUE(rec->finished.has_value());
  EXPECT_FALSE(rec->finished->early_stop);
}

TEST(RunModel, CoreTrackerWithoutMetersThrowsAndSaysWhy) {
  Options o;
  o.epochs = 1;
  auto rec = std::make_shared<RecordingReporter>();
  TrackerParts parts;
  parts.reporters.push_back(rec);
  EXPECT_THROW(Tracker(o, std::move(parts)), Error);
  std::lock_guard lk(rec->mu);
  ASSERT_FALSE(rec->messages.empty());
  EXPECT_NE(rec->messages.back().find("No components were available"), std::string::npos);
}

// A reporter that throws loses its own event only: the others still get it, the error is said once
// on the err channel, and the run goes on to its actual.
TEST(RunModel, ThrowingReporterNeitherStopsTheRunNorSilencesTheOthers) {
  struct Throwing final : Reporter {
    void epoch_ended(const epochwatt::Run&) override { throw std::runtime_error("disk on fire"); }
  };
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 2);
  o.meters = ewtest::section14_meters();
  auto rec = std::make_shared<RecordingReporter>();
  TrackerParts parts = default_tracker_parts(o);
  parts.reporters.insert(parts.reporters.begin(), std::make_shared<Throwing>());
  parts.reporters.push_back(rec);
  Tracker t(o, std::move(parts));
  run_epoch(t, *clock, 10.0);
  run_epoch(t, *clock, 10.0);
  t.stop();
  std::lock_guard lk(rec->mu);
  EXPECT_EQ(rec->snapshots.size(), 2u);
  ASSERT_TRUE(rec->finished.has_value());
  EXPECT_EQ(rec->finished->actual->epochs, 2);
  std::size_t said = 0;
  for (const auto& m : rec->messages)
    if (m == "Internal error in a reporter (epoch_ended): disk on fire") ++said;
  EXPECT_EQ(said, 2u);  // once per failed event
  EXPECT_NE(console.str().find("Internal error in a reporter (epoch_ended): disk on fire"), std::string::npos);
}

// An intensity source that throws costs its own round only: the boundaries of that round (epoch
// ends, a window's end that a caller waits for) are still measured.
TEST(RunModel, ThrowingIntensitySourceLosesNoBoundary) {
  struct Throwing final : IntensitySource {
    Location location() const override { return {}; }
    IntensityValue initial() override { return {100.0, "test", "", false, false, {}}; }
    void request_refresh() override { throw std::runtime_error("provider on fire"); }
  };
  auto clock = std::make_shared<ManualClock>();
  Options o;
  o.epochs = 2;
  o.clock = clock;
  o.intensity_refresh_s = 60.0;  // the smallest allowed: refreshes asked for once the clock passes it
  auto rec = std::make_shared<RecordingReporter>();
  TrackerParts parts;
  parts.meters.push_back(std::make_shared<ewtest::ScriptedMeter>("gpu:0", Component::gpu, "G", 100.0));
  parts.intensity = std::make_shared<Throwing>();
  parts.reporters.push_back(rec);
  Tracker t(o, std::move(parts));
  auto w = t.window_start("w");
  run_epoch(t, *clock, 70.0);  // past the refresh period: the rounds from here on ask and fail
  run_epoch(t, *clock, 70.0);
  WindowMeasurement m = t.window_end(w);
  EXPECT_DOUBLE_EQ(m.joules, 14000.0);
  t.stop();
  EXPECT_EQ(t.totals().epochs, 2);
  EXPECT_DOUBLE_EQ(t.totals().co2_g, 14000.0 * 1.58 / 3.6e6 * 100.0);
  std::lock_guard lk(rec->mu);
  bool said = false;
  for (const auto& msg : rec->messages) said |= msg == "Internal error in the intensity source: provider on fire";
  EXPECT_TRUE(said);
}

TEST(RunModel, FootprintAndPredictionFunctions) {
  std::vector<EpochSummary> epochs(3);
  epochs[0] = {1, 10.0, 9000.0, {}, false};
  epochs[1] = {2, 5.0, 1000.0, {}, false};
  epochs[2] = {3, 5.0, 3000.0, {}, true};  // interrupted: never counted
  Consumption f = footprint_of_epochs(epochs, 1.5, 100.0, "x");
  EXPECT_EQ(f.epochs, 2);
  EXPECT_DOUBLE_EQ(f.duration_s, 15.0);
  EXPECT_DOUBLE_EQ(f.energy_kwh, 10000.0 * 1.5 / 3.6e6);
  EXPECT_DOUBLE_EQ(f.co2_g, f.energy_kwh * 100.0);
  EXPECT_DOUBLE_EQ(f.km_by_car, f.co2_g / 106.8);

  PredictionBasis all = prediction_basis(epochs, 2, false);
  EXPECT_EQ(all.epochs_used, 2);
  Consumption p = predict(all, 10, 1.0, 100.0);
  EXPECT_DOUBLE_EQ(p.energy_kwh, 10 * 5000.0 / 3.6e6);
  EXPECT_DOUBLE_EQ(p.duration_s, 75.0);
  PredictionBasis skip = prediction_basis(epochs, 2, true);
  EXPECT_EQ(skip.epochs_used, 1);
  EXPECT_DOUBLE_EQ(skip.measured_s, 15.0);
  EXPECT_DOUBLE_EQ(predict(skip, 10, 1.0, 100.0).energy_kwh, 10 * 1000.0 / 3.6e6);
  // carbontracker's intensity: live values and the value ahead once per started refresh period.
  EXPECT_DOUBLE_EQ(predicted_intensity({100.0}, 200.0, 1000.0, 900.0), (100.0 + 2 * 200.0) / 3);
}

// One run, logs and JSON summary: parse (of the logs), report from the logs and report from the
// JSON summary print the same sentence, crediting epochwatt.
TEST(RunModel, ParseAndReportPrintTheSameSentence) {
  ewtest::TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 3);
  o.meters = ewtest::section14_meters();
  o.intensity_g_per_kwh = 123.456;
  o.log_dir = dir.str();
  std::string json_path;
  {
    Tracker t(o);
    run_epoch(t, *clock, 10.0);
    run_epoch(t, *clock, 13.7);
    run_epoch(t, *clock, 10.3);
    t.stop();
    json_path = t.json_summary_path();
  }
  auto runs = detail::parse_log_dirs({dir.str()}, nullptr);
  ASSERT_EQ(runs.size(), 1u);
  std::string parse_sentence = detail::aggregate_sentence(detail::aggregate(runs));
  std::string from_log = detail::report_data_from_parsed_run(runs[0]).aggregate_sentence;
  std::ifstream f(json_path);
  std::string from_json = detail::report_data_from_json_summary(nlohmann::json::parse(f)).aggregate_sentence;
  // parse keeps carbontracker's 16 decimals; the report's sentence has the same figures to 4
  // significant digits, and names the method (issue 12, item 5).
  auto agg = detail::aggregate(runs);
  for (const std::string& s : {from_log, from_json}) {
    EXPECT_NE(s.find(" " + detail::readable(agg.energy_kwh) + " kWh"), std::string::npos) << s;
    EXPECT_NE(s.find(" " + detail::readable(agg.co2_g / 1000) + " kg"), std::string::npos) << s;
    EXPECT_NE(s.find("measured (GPU: energy counter"), std::string::npos) << s;
  }
  EXPECT_NE(parse_sentence.find("Measured by epochwatt"), std::string::npos) << parse_sentence;
}

// The curve's point after epoch k is the prediction the tracker would make after k epochs, so the
// point at epochs_before_pred equals the tracker's own prediction, first epoch skipped or not.
TEST(RunModel, ReportCurveFollowsPredictionSkipsFirstEpoch) {
  for (bool skip : {false, true}) {
    ewtest::TempDir dir;
    auto clock = std::make_shared<ManualClock>();
    std::ostringstream console;
    Options o = ewtest::deterministic_options(clock, &console, 4);
    o.meters = ewtest::section14_meters();
    o.epochs_before_pred = 2;
    o.prediction_skips_first_epoch = skip;
    o.prediction_rule = PredictionRule::carbontracker;
    o.json_path = (dir.path() / "run.json").string();
    Tracker t(o);
    run_epoch(t, *clock, 30.0);  // a long first epoch (warm-up)
    run_epoch(t, *clock, 10.0);
    std::optional<Consumption> printed = t.prediction();
    run_epoch(t, *clock, 10.0);
    t.stop();
    std::ifstream f(*o.json_path);
    auto d = detail::report_data_from_json_summary(nlohmann::json::parse(f));
    EXPECT_EQ(d.prediction_skips_first_epoch, skip);
    ASSERT_EQ(d.prediction_series.size(), 3u);
    ASSERT_TRUE(printed.has_value());
    EXPECT_DOUBLE_EQ(d.prediction_series[1].predicted_kwh, printed->energy_kwh) << "skip=" << skip;
    EXPECT_DOUBLE_EQ(d.prediction_series[2].predicted_kwh, t.prediction()->energy_kwh) << "skip=" << skip;
    double per_epoch_j = 350.0 * (skip ? 10.0 : 20.0);
    EXPECT_DOUBLE_EQ(d.prediction_series[1].predicted_kwh, 4 * per_epoch_j * 1.58 / 3.6e6) << "skip=" << skip;
  }
}

// The default rule's curve is the tracker's own as well: the warm-up left out once epoch 2 shows it.
TEST(RunModel, ReportCurveFollowsTheSteadyEpochsRule) {
  ewtest::TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 4);
  o.meters = ewtest::section14_meters();
  o.json_path = (dir.path() / "run.json").string();
  Tracker t(o);
  clock->advance(3.0);  // set-up: 3 s at 350 W
  run_epoch(t, *clock, 30.0);
  run_epoch(t, *clock, 10.0);
  run_epoch(t, *clock, 10.0);
  std::optional<Consumption> after3 = t.prediction();
  t.stop();
  std::ifstream f(*o.json_path);
  auto d = detail::report_data_from_json_summary(nlohmann::json::parse(f));
  ASSERT_EQ(d.prediction_series.size(), 3u);
  ASSERT_TRUE(after3.has_value());
  EXPECT_DOUBLE_EQ(d.prediction_series[2].predicted_kwh, after3->energy_kwh);
  // 3 s set-up + 50 s measured + 1 x 10 s, at 350 W.
  EXPECT_NEAR(d.prediction_series[2].predicted_kwh, 350.0 * 63.0 * 1.58 / 3.6e6, 1e-15);
  EXPECT_TRUE(d.prediction_series[2].range_known);
  ASSERT_TRUE(d.setup.has_value());
  EXPECT_DOUBLE_EQ(d.setup->duration_s, 3.0);
  EXPECT_NE(detail::render_html(d).find("Set-up"), std::string::npos);
}

}  // namespace
