// Accounting, prediction and carbon intensity of the Tracker (spec §2.1, §2.2, §3, §11.6, §14),
// driven by a ManualClock and constant-power meters, so every figure is exact.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>

#include "epochwatt/epochwatt.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using ewtest::run_epoch;
using ewtest::ScopedEnv;
using ewtest::ScriptedMeter;

constexpr double kJPerKwh = 3.6e6;
constexpr double kPue = 1.58;
constexpr double kCarGPerKm = 106.8;

// A tracked run on a ManualClock with the §14 devices unless told otherwise.
struct TrackedRun {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  ewtest::TempDir dir;
  Options options;
  ScopedEnv no_country{"EPOCHWATT_COUNTRY", std::nullopt};

  explicit TrackedRun(int epochs) {
    options = ewtest::deterministic_options(clock, &console, epochs);
    options.meters = ewtest::section14_meters();
    options.log_dir = dir.str();
  }
};

double kwh_with_pue(double joules) { return joules * kPue / kJPerKwh; }

// ------------------------------------------------------------------ §14

TEST(Accounting, Section14WorkedExample) {
  TrackedRun r(3);
  Tracker t(r.options);
  run_epoch(t, *r.clock, 10.0);

  // After epoch 1: the prediction for all 3 epochs.
  auto p = t.prediction();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->epochs, 3);
  EXPECT_DOUBLE_EQ(p->duration_s, 30.0);
  EXPECT_NEAR(p->energy_kwh, 0.004608333333333333, 1e-15);
  EXPECT_DOUBLE_EQ(p->intensity_g_per_kwh, 445.0);
  EXPECT_EQ(p->intensity_source, "world-average");
  EXPECT_FALSE(p->intensity_forecast);
  EXPECT_NEAR(p->co2_g, 2.0507083333333333, 1e-13);
  EXPECT_NEAR(p->km_by_car, 0.019201388888888888, 1e-15);
  EXPECT_FALSE(t.finished());

  run_epoch(t, *r.clock, 10.0);
  run_epoch(t, *r.clock, 10.0);
  EXPECT_TRUE(t.finished());  // monitor_epochs = -1 means `epochs`: shut down after epoch 3

  Consumption a = t.totals();
  EXPECT_EQ(a.epochs, 3);
  EXPECT_DOUBLE_EQ(a.duration_s, 30.0);
  EXPECT_NEAR(a.energy_kwh, 0.004608333333333333, 1e-15);
  EXPECT_DOUBLE_EQ(a.intensity_g_per_kwh, 445.0);
  EXPECT_NEAR(a.co2_g, 2.0507083333333333, 1e-13);
  EXPECT_NEAR(a.km_by_car, a.co2_g / kCarGPerKm, 1e-15);

  auto epochs = t.epochs();
  ASSERT_EQ(epochs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto& e = epochs[i];
    EXPECT_EQ(e.index, i + 1);
    EXPECT_FALSE(e.interrupted);
    EXPECT_DOUBLE_EQ(e.duration_s, 10.0);
    EXPECT_DOUBLE_EQ(e.joules, 3500.0);  // (300 + 50) W x 10 s, summed over devices, no PUE
    ASSERT_EQ(e.devices.size(), 4u);
    EXPECT_EQ(e.devices[0].device_name, ewtest::kGpuName);
    EXPECT_DOUBLE_EQ(e.devices[0].joules, 1500.0);
    EXPECT_DOUBLE_EQ(e.devices[1].joules, 1500.0);
    EXPECT_EQ(e.devices[2].device_name, "cpu:0");
    EXPECT_DOUBLE_EQ(e.devices[2].joules, 450.0);
    EXPECT_EQ(e.devices[3].device_name, "dram:0");
    EXPECT_EQ(e.devices[3].component, Component::dram);
    EXPECT_DOUBLE_EQ(e.devices[3].joules, 50.0);
    for (const auto& d : e.devices) {
      EXPECT_TRUE(d.complete);
      EXPECT_EQ(d.method, Method::counter);
    }
  }
  t.stop();

  // The per-epoch lines carry the component sums (spec D1), without PUE.
  std::string std_log = ewtest::read_file(t.standard_log_path());
  EXPECT_EQ(ewtest::count_occurrences(std_log, " - Duration: 0:00:10.00\n"), 3u);
  EXPECT_EQ(ewtest::count_occurrences(std_log, " - Average power usage (W) for gpu: 300.0\n"), 3u);
  EXPECT_EQ(ewtest::count_occurrences(std_log, " - Average power usage (W) for cpu: 50.0\n"), 3u);
  EXPECT_NE(std_log.find(" - The following components were found: GPU with device(s) NVIDIA A100-SXM4-40GB, "
                         "NVIDIA A100-SXM4-40GB. CPU with device(s) cpu:0, dram:0.\n"),
            std::string::npos);
  EXPECT_NE(std_log.find("detected location: Unknown: [445.0]\n"), std::string::npos);
  EXPECT_EQ(std_log.find("Training was interrupted"), std::string::npos);

  const std::string block_body =
      "\tTime:\t0:00:30\n\tEnergy:\t0.004608333333 kWh\n\tCO2eq:\t2.050708333333 g\n"
      "\tThis is equivalent to:\n\t0.019201388889 km travelled by car\n";
  std::string out_log = ewtest::read_file(t.output_log_path());
  EXPECT_NE(out_log.find(" - CarbonTracker: \nPredicted consumption for 3 epoch(s):\n" + block_body),
            std::string::npos);
  EXPECT_NE(out_log.find(" - CarbonTracker: \nActual consumption for 3 epoch(s):\n" + block_body),
            std::string::npos);
  EXPECT_LT(out_log.find("Predicted consumption"), out_log.find("Actual consumption"));
  std::string console = r.console.str();
  EXPECT_NE(console.find("CarbonTracker: \nPredicted consumption for 3 epoch(s):\n" + block_body),
            std::string::npos);
}

TEST(Accounting, EnergyIsSummedOverDevicesNeverAveraged) {
  TrackedRun r(1);
  r.options.meters = {
      std::make_shared<ScriptedMeter>("g0", Component::gpu, "gpu-a", 250.0),
      std::make_shared<ScriptedMeter>("g1", Component::gpu, "gpu-b", 250.0),
      std::make_shared<ScriptedMeter>("c0", Component::cpu, "cpu:0", 50.0),
      std::make_shared<ScriptedMeter>("d0", Component::dram, "dram:0", 5.0),
  };
  Tracker t(r.options);
  run_epoch(t, *r.clock, 4.0);
  t.stop();
  std::string std_log = ewtest::read_file(t.standard_log_path());
  // carbontracker 2.x would print 250.0 and 27.5 (spec D1).
  EXPECT_NE(std_log.find("Average power usage (W) for gpu: 500.0\n"), std::string::npos);
  EXPECT_NE(std_log.find("Average power usage (W) for cpu: 55.0\n"), std::string::npos);
  EXPECT_NE(std_log.find("Power by device (W) for gpu [counter]: gpu-a=250.0; gpu-b=250.0\n"), std::string::npos);
  EXPECT_NE(std_log.find("Power by device (W) for cpu [counter]: cpu:0=50.0; dram:0=5.0\n"), std::string::npos);
  EXPECT_DOUBLE_EQ(t.epochs().at(0).joules, 555.0 * 4.0);
  EXPECT_NEAR(t.totals().energy_kwh, kwh_with_pue(2220.0), 1e-15);
}

TEST(Accounting, OnlyTimeInsideEpochsIsMeasured) {
  TrackedRun r(2);
  Tracker t(r.options);
  run_epoch(t, *r.clock, 10.0);
  r.clock->advance(100.0);  // validation between epochs: not measured
  run_epoch(t, *r.clock, 10.0);
  Consumption a = t.totals();
  EXPECT_DOUBLE_EQ(a.duration_s, 20.0);
  EXPECT_NEAR(a.energy_kwh, kwh_with_pue(7000.0), 1e-15);
  EXPECT_DOUBLE_EQ(t.epochs().at(1).joules, 3500.0);
}

// ------------------------------------------------------------------ prediction
// carbontracker's rule (prediction_rule = carbontracker); epochwatt's own: prediction_test.cpp.

TEST(Prediction, MeanOfTheFirstEpochsTimesAllEpochs) {
  TrackedRun r(5);
  r.options.epochs_before_pred = 2;
  r.options.prediction_rule = PredictionRule::carbontracker;
  Tracker t(r.options);
  run_epoch(t, *r.clock, 10.0);
  EXPECT_DOUBLE_EQ(t.prediction()->duration_s, 50.0);  // remade after every epoch...
  EXPECT_EQ(r.console.str().find("Predicted consumption"), std::string::npos);  // ...printed after epoch 2
  run_epoch(t, *r.clock, 20.0);
  auto p = t.prediction();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->epochs, 5);
  EXPECT_DOUBLE_EQ(p->duration_s, 75.0);  // 5 x mean(10, 20): the whole run, not what remains
  EXPECT_NEAR(p->energy_kwh, kwh_with_pue(5 * 350.0 * 15.0), 1e-15);
  EXPECT_NEAR(p->co2_g, p->energy_kwh * 445.0, 1e-12);
  EXPECT_NE(r.console.str().find("Predicted consumption for 5 epoch(s):\n\tTime:\t0:01:15\n"), std::string::npos);
  run_epoch(t, *r.clock, 30.0);
  EXPECT_DOUBLE_EQ(t.prediction()->duration_s, 100.0);  // the newest: 5 x mean(10, 20, 30)
  EXPECT_EQ(t.latest_prediction()->detail.after_epochs, 3);
}

TEST(Prediction, SkipsFirstEpochWhenAsked) {
  TrackedRun r(4);
  r.options.epochs_before_pred = 3;
  r.options.prediction_skips_first_epoch = true;
  r.options.prediction_rule = PredictionRule::carbontracker;
  Tracker t(r.options);
  run_epoch(t, *r.clock, 40.0);  // warm-up
  run_epoch(t, *r.clock, 10.0);
  run_epoch(t, *r.clock, 20.0);
  auto p = t.prediction();
  ASSERT_TRUE(p.has_value());
  EXPECT_DOUBLE_EQ(p->duration_s, 60.0);  // 4 x mean(10, 20)
  EXPECT_NEAR(p->energy_kwh, kwh_with_pue(4 * 350.0 * 15.0), 1e-15);
}

TEST(Prediction, SkipFirstEpochIsOffByDefault) {
  TrackedRun r(4);
  r.options.epochs_before_pred = 3;
  r.options.prediction_rule = PredictionRule::carbontracker;
  Tracker t(r.options);
  run_epoch(t, *r.clock, 40.0);
  run_epoch(t, *r.clock, 10.0);
  run_epoch(t, *r.clock, 20.0);
  EXPECT_DOUBLE_EQ(t.prediction()->duration_s, 4 * 70.0 / 3.0);
}

TEST(Prediction, SkipFirstEpochNeedsMoreThanOneEpoch) {
  TrackedRun r(4);
  r.options.prediction_skips_first_epoch = true;  // epochs_before_pred = 1: nothing to skip
  r.options.prediction_rule = PredictionRule::carbontracker;
  Tracker t(r.options);
  run_epoch(t, *r.clock, 10.0);
  EXPECT_DOUBLE_EQ(t.prediction()->duration_s, 40.0);
}

TEST(Prediction, MinusOneMeansAfterAllEpochs) {
  TrackedRun r(3);
  r.options.epochs_before_pred = -1;
  Tracker t(r.options);
  run_epoch(t, *r.clock, 10.0);
  run_epoch(t, *r.clock, 10.0);
  EXPECT_EQ(r.console.str().find("Predicted consumption"), std::string::npos);
  run_epoch(t, *r.clock, 10.0);
  ASSERT_TRUE(t.prediction().has_value());
  EXPECT_DOUBLE_EQ(t.prediction()->duration_s, 30.0);
  t.stop();
  std::string out_log = ewtest::read_file(t.output_log_path());
  auto pred = out_log.find("Predicted consumption for 3 epoch(s):");
  auto actual = out_log.find("Actual consumption for 3 epoch(s):");
  ASSERT_NE(pred, std::string::npos);
  ASSERT_NE(actual, std::string::npos);
  EXPECT_LT(pred, actual);  // both on the same epoch: the prediction comes first (§2.2)
}

TEST(Prediction, ZeroMeansNeverAndAnUncountedTitle) {
  TrackedRun r(2);
  r.options.epochs_before_pred = 0;
  Tracker t(r.options);
  run_epoch(t, *r.clock, 10.0);
  run_epoch(t, *r.clock, 10.0);
  EXPECT_FALSE(t.prediction().has_value());
  EXPECT_TRUE(t.finished());
  t.stop();
  std::string out_log = ewtest::read_file(t.output_log_path());
  EXPECT_EQ(out_log.find("Predicted consumption"), std::string::npos);
  EXPECT_NE(out_log.find(" - CarbonTracker: \nActual consumption:\n\tTime:\t0:00:20\n"), std::string::npos);
  EXPECT_EQ(out_log.find("Actual consumption for"), std::string::npos);
}

TEST(Monitoring, MonitorEpochsEndsTheRunEarly) {
  TrackedRun r(5);
  r.options.monitor_epochs = 2;
  Tracker t(r.options);
  run_epoch(t, *r.clock, 10.0);
  EXPECT_FALSE(t.finished());
  run_epoch(t, *r.clock, 10.0);
  EXPECT_TRUE(t.finished());
  Consumption a = t.totals();
  EXPECT_EQ(a.epochs, 2);
  EXPECT_DOUBLE_EQ(a.duration_s, 20.0);
  std::string out_before = ewtest::read_file(t.output_log_path());
  std::string std_before = ewtest::read_file(t.standard_log_path());
  EXPECT_NE(out_before.find("Actual consumption for 2 epoch(s):\n\tTime:\t0:00:20\n"), std::string::npos);
  EXPECT_NE(out_before.find("Finished monitoring."), std::string::npos);

  // Every later call is a no-op: no error, no epoch, no second report.
  EXPECT_NO_THROW(run_epoch(t, *r.clock, 10.0));
  EXPECT_NO_THROW(t.epoch_end());
  t.stop();
  EXPECT_EQ(t.epochs().size(), 2u);
  EXPECT_EQ(t.totals().epochs, 2);
  EXPECT_EQ(ewtest::read_file(t.output_log_path()), out_before);
  EXPECT_EQ(ewtest::read_file(t.standard_log_path()), std_before);
  EXPECT_EQ(std_before.find("Training was interrupted"), std::string::npos);
}

// ------------------------------------------------------------------ carbon intensity

struct IntensityCase {
  TrackedRun run{1};
  Consumption actual;
  std::optional<Consumption> prediction;
  std::string std_log, err_log, console;

  void go() {
    Tracker t(run.options);
    run_epoch(t, *run.clock, 10.0);
    t.stop();
    actual = t.totals();
    prediction = t.prediction();
    std_log = ewtest::read_file(t.standard_log_path());
    err_log = ewtest::read_file(t.error_log_path());
    console = run.console.str();
  }
};

TEST(Intensity, FixedValueOption) {
  IntensityCase c;
  c.run.options.intensity_g_per_kwh = 100.0;
  c.run.options.country = "DK";  // a fixed value wins over the location
  c.go();
  EXPECT_DOUBLE_EQ(c.actual.intensity_g_per_kwh, 100.0);
  EXPECT_EQ(c.actual.intensity_source, "fixed");
  EXPECT_NEAR(c.actual.co2_g, c.actual.energy_kwh * 100.0, 1e-12);
  ASSERT_TRUE(c.prediction.has_value());
  EXPECT_DOUBLE_EQ(c.prediction->intensity_g_per_kwh, 100.0);
  EXPECT_NE(c.std_log.find("detected location: DK: [100.0]\n"), std::string::npos);
  EXPECT_NE(c.std_log.find("Average carbon intensity during training was 100.00 gCO2eq/kWh. \n"), std::string::npos);
}

TEST(Intensity, CountryOptionUsesTheEmbeddedTable) {
  IntensityCase c;
  c.run.options.country = "DK";
  c.go();
  EXPECT_DOUBLE_EQ(c.actual.intensity_g_per_kwh, 143.3);
  EXPECT_EQ(c.actual.intensity_source, "embedded-table");
  EXPECT_NEAR(c.actual.co2_g, c.actual.energy_kwh * 143.3, 1e-12);
  EXPECT_DOUBLE_EQ(c.prediction->intensity_g_per_kwh, 143.3);
  EXPECT_NE(c.std_log.find("detected location: DK: [143.3]\n"), std::string::npos);
  EXPECT_NE(c.std_log.find("Average carbon intensity during training was 143.30 gCO2eq/kWh. \n"), std::string::npos);
  EXPECT_NE(c.err_log.find("WARNING - No carbon intensity provider specified. Using average carbon intensity for DK: 143.30 gCO2eq/kWh.\n"),
            std::string::npos);
}

TEST(Intensity, CountryFromEnvironmentVariable) {
  IntensityCase c;
  ScopedEnv env("EPOCHWATT_COUNTRY", "dk");
  c.go();
  EXPECT_DOUBLE_EQ(c.actual.intensity_g_per_kwh, 143.3);
  EXPECT_EQ(c.actual.intensity_source, "embedded-table");
  EXPECT_NE(c.std_log.find("location DK by rule env:EPOCHWATT_COUNTRY"), std::string::npos);
}

TEST(Intensity, OptionBeatsEnvironmentVariable) {
  IntensityCase c;
  ScopedEnv env("EPOCHWATT_COUNTRY", "DK");
  c.run.options.country = "fr";
  c.go();
  EXPECT_DOUBLE_EQ(c.actual.intensity_g_per_kwh, 44.18);
}

TEST(Intensity, UnknownCountryFallsBackToTheWorldAverage) {
  IntensityCase c;
  c.run.options.country = "ZZ";
  c.go();
  EXPECT_DOUBLE_EQ(c.actual.intensity_g_per_kwh, 445.0);
  EXPECT_EQ(c.actual.intensity_source, "world-average");
  EXPECT_NE(c.err_log.find("Country 'ZZ' is not in the embedded intensity table"), std::string::npos);
}

TEST(Intensity, NoLocationUsesTheWorldAverageWithCarbontrackersWarning) {
  IntensityCase c;
  c.go();
  EXPECT_DOUBLE_EQ(c.actual.intensity_g_per_kwh, 445.0);
  EXPECT_NE(c.console.find("CarbonTracker: WARNING - No carbon intensity provider specified and no location "
                           "detected. Defaulting to global average carbon intensity for 2024: 445.00 gCO2eq/kWh.\n"),
            std::string::npos);
}

TEST(Intensity, EmbeddedTableLookup) {
  auto dk = embedded_country_intensity("DK");
  ASSERT_TRUE(dk.has_value());
  EXPECT_EQ(dk->year, 2024);
  EXPECT_DOUBLE_EQ(dk->g_per_kwh, 143.3);
  EXPECT_FALSE(embedded_country_intensity("ZZ").has_value());
  EXPECT_GT(embedded_country_count(), 150u);
}

// A live provider whose value changes at t = 900 s of the run's clock, with a forecast of 200.
class SteppedProvider final : public IntensityProvider {
 public:
  explicit SteppedProvider(std::shared_ptr<ManualClock> clock) : clock_(std::move(clock)) {}
  std::string name() const override { return "stepped"; }
  std::optional<IntensityValue> current(const Location&, std::string*) override {
    double v = clock_->now() < 900.0 ? 100.0 : 300.0;
    return IntensityValue{v, "stepped", "test provider", true, false};
  }
  std::optional<IntensityForecast> forecast_series(const Location&, std::chrono::system_clock::time_point from,
                                                   std::chrono::system_clock::time_point,
                                                   std::string*) override {
    IntensityForecast f;
    f.source = "stepped";
    f.points.push_back({from - std::chrono::hours(1), 48 * 3600.0, 200.0});
    return f;
  }

 private:
  std::shared_ptr<ManualClock> clock_;
};

TEST(Intensity, ActualIsWeightedByEnergyAndPredictionFollowsCarbontracker) {
  TrackedRun r(10);
  r.options.intensity_providers = {std::make_shared<SteppedProvider>(r.clock)};
  r.options.monitor_epochs = 2;
  Tracker t(r.options);
  // Live values come from the intensity worker, never on the caller's thread: flush() waits until
  // the first one (asked for at the start) is applied.
  t.flush();
  run_epoch(t, *r.clock, 100.0);  // [0, 100] s at 100 g/kWh
  // Prediction: 1000 s, so the forecast counts 1 + floor(1000 / 900) = 2 times beside the one
  // live value stored: (100 + 200 + 200) / 3.
  auto p = t.prediction();
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->intensity_forecast);
  EXPECT_NEAR(p->intensity_g_per_kwh, 500.0 / 3.0, 1e-12);
  EXPECT_NEAR(p->co2_g, p->energy_kwh * 500.0 / 3.0, 1e-12);

  r.clock->set(1000.0);  // the value is refreshed every 900 s: now 300 g/kWh
  t.epoch_start();       // the sampler asks for the refresh at this boundary...
  t.flush();             // ...and the value it gets holds from t = 1000 s
  r.clock->advance(300.0);
  t.epoch_end();  // [1000, 1300] s, three times the energy of epoch 1
  t.flush();
  ASSERT_TRUE(t.finished());
  Consumption a = t.totals();
  // Energy-weighted (spec D17): (1 x 100 + 3 x 300) / 4 = 250; carbontracker's mean says 200.
  EXPECT_NEAR(a.intensity_g_per_kwh, 250.0, 1e-9);
  EXPECT_NEAR(a.co2_g, a.energy_kwh * 250.0, 1e-9);
  t.stop();
  std::string std_log = ewtest::read_file(t.standard_log_path());
  EXPECT_NE(std_log.find("Carbon intensity fetched: 100.00 gCO2/kWh at Unknown\n"), std::string::npos);
  EXPECT_NE(std_log.find("Carbon intensity fetched: 300.00 gCO2/kWh at Unknown\n"), std::string::npos);
  EXPECT_NE(std_log.find("detected location: Unknown: [100.0, 300.0]\n"), std::string::npos);
  EXPECT_NE(std_log.find("Average carbon intensity during training was 250.00 gCO2eq/kWh. \n"), std::string::npos);
}

}  // namespace
