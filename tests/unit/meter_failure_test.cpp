// Meters that fail or vanish (spec §13 D6, D13): one warning, the epoch marked incomplete, what
// was measured kept, the run completed.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "epochwatt/epochwatt.hpp"
#include "unit/summary_epochs.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using ewtest::run_epoch;
using ewtest::ScriptedMeter;

struct FaultRun {
  ewtest::ScopedEnv no_country{"EPOCHWATT_COUNTRY", std::nullopt};
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  ewtest::TempDir dir;
  std::shared_ptr<ScriptedMeter> gpu_a = std::make_shared<ScriptedMeter>("test:gpu0", Component::gpu, "gpu-a", 150.0);
  std::shared_ptr<ScriptedMeter> gpu_b = std::make_shared<ScriptedMeter>("test:gpu1", Component::gpu, "gpu-b", 150.0);
  std::shared_ptr<ScriptedMeter> cpu = std::make_shared<ScriptedMeter>("test:cpu0", Component::cpu, "cpu:0", 50.0);
  Options options;
  std::vector<EpochSummary> epochs;
  Consumption actual;
  std::string std_log, err_log, console_text;
  nlohmann::json json;

  FaultRun() {
    options = ewtest::deterministic_options(clock, &console, 3);
    options.log_dir = dir.str();
    options.meters = {gpu_a, gpu_b, cpu};
  }
  // Three epochs of 10 s: [0, 10], [10, 20], [20, 30].
  void go() {
    Tracker t(options);
    for (int i = 0; i < 3; ++i) run_epoch(t, *clock, 10.0);
    EXPECT_TRUE(t.finished());
    t.stop();
    epochs = t.epochs();
    actual = t.totals();
    std_log = ewtest::read_file(t.standard_log_path());
    err_log = ewtest::read_file(t.error_log_path());
    console_text = console.str();
    json = nlohmann::json::parse(ewtest::read_file(t.json_summary_path()));
  }
};

TEST(MeterFailure, FailingReadsMarkTheEpochIncompleteAndWarnOnce) {
  FaultRun r;
  r.gpu_a->fail_between(15.0, 25.0);  // the reads at 20 s fail; the one at 30 s works again
  r.go();
  ASSERT_EQ(r.epochs.size(), 3u);
  EXPECT_GE(r.gpu_a->failed_reads(), 2);  // the end of epoch 2 and the start of epoch 3

  // Epoch 1: measured normally.
  EXPECT_DOUBLE_EQ(r.epochs[0].devices[0].joules, 1500.0);
  EXPECT_TRUE(r.epochs[0].devices[0].complete);
  // Epoch 2: its end could not be read: the last value stands and the epoch says so.
  EXPECT_DOUBLE_EQ(r.epochs[1].devices[0].joules, 0.0);
  EXPECT_FALSE(r.epochs[1].devices[0].complete);
  EXPECT_DOUBLE_EQ(r.epochs[1].devices[1].joules, 1500.0);
  EXPECT_TRUE(r.epochs[1].devices[1].complete);
  EXPECT_TRUE(r.epochs[1].devices[2].complete);
  // Epoch 3: the counter is read again at its end, so its energy is whole again.
  EXPECT_DOUBLE_EQ(r.epochs[2].devices[0].joules, 1500.0);
  EXPECT_TRUE(r.epochs[2].devices[0].complete);
  // No garbage value from a failed read leaks into any figure.
  for (const auto& e : r.epochs)
    for (const auto& d : e.devices) EXPECT_GE(d.joules, 0.0);

  const std::string warning =
      "Meter test:gpu0 (gpu-a): read failed: read timed out. Its last value stands until a read succeeds.";
  EXPECT_EQ(ewtest::count_occurrences(r.console_text, "CarbonTracker: WARNING - " + warning + "\n"), 1u);
  EXPECT_EQ(ewtest::count_occurrences(r.err_log, " - CarbonTrackerThread - WARNING - " + warning + "\n"), 1u);
  EXPECT_NE(r.std_log.find("Power by device (W) for gpu [counter]: gpu-a=0.0 (incomplete); gpu-b=150.0\n"),
            std::string::npos);
  EXPECT_EQ(ewtest::count_occurrences(r.std_log, "Note for gpu: a device stopped answering during this epoch"), 1u);
  EXPECT_EQ(ewtest::summary_epochs(r.json)[1]["devices"][0]["complete"], false);
  EXPECT_EQ(ewtest::summary_epochs(r.json)[2]["devices"][0]["complete"], true);
  EXPECT_EQ(std::count(r.json["warnings"].begin(), r.json["warnings"].end(), warning), 1);

  EXPECT_EQ(r.actual.epochs, 3);
  // gpu-a 1500 + 0 + 1500, gpu-b 3 x 1500, cpu 3 x 500.
  EXPECT_NEAR(r.actual.energy_kwh, 9000.0 * 1.58 / 3.6e6, 1e-15);
}

TEST(MeterFailure, LostMeterKeepsItsEnergyAndTheRunCompletes) {
  FaultRun r;
  r.gpu_a->lost_from(15.0);  // vanishes in the middle of epoch 2
  r.go();
  ASSERT_EQ(r.epochs.size(), 3u);
  EXPECT_DOUBLE_EQ(r.epochs[0].devices[0].joules, 1500.0);
  EXPECT_TRUE(r.epochs[0].devices[0].complete);
  EXPECT_DOUBLE_EQ(r.epochs[1].devices[0].joules, 750.0);  // 10 s to 15 s, kept
  EXPECT_FALSE(r.epochs[1].devices[0].complete);
  EXPECT_DOUBLE_EQ(r.epochs[2].devices[0].joules, 0.0);
  EXPECT_FALSE(r.epochs[2].devices[0].complete);
  for (const auto& e : r.epochs) {
    EXPECT_DOUBLE_EQ(e.devices[1].joules, 1500.0);
    EXPECT_TRUE(e.devices[1].complete);
    EXPECT_DOUBLE_EQ(e.devices[2].joules, 500.0);
  }
  // After the loss the sampler stops reading the meter.
  EXPECT_EQ(r.gpu_a->lost_reads(), 1);

  const std::string warning =
      "Meter test:gpu0 (gpu-a) stopped: device vanished. Energy measured until then is kept; the run goes on without it.";
  EXPECT_EQ(ewtest::count_occurrences(r.console_text, warning), 1u);
  EXPECT_EQ(ewtest::count_occurrences(r.std_log, "Note for gpu: a device stopped answering during this epoch"), 2u);
  EXPECT_EQ(r.actual.epochs, 3);
  EXPECT_NEAR(r.actual.energy_kwh, (1500.0 + 750.0 + 3 * 1500.0 + 3 * 500.0) * 1.58 / 3.6e6, 1e-15);
  EXPECT_EQ(ewtest::summary_epochs(r.json)[1]["devices"][0]["complete"], false);
  EXPECT_EQ(std::count(r.json["warnings"].begin(), r.json["warnings"].end(), warning), 1);
}

// A meter whose read() throws: the sampler must survive it and treat it as a failed read.
class ThrowingMeter final : public Meter {
 public:
  ThrowingMeter() {
    info_.id = "test:throw";
    info_.component = Component::gpu;
    info_.device_name = "flaky";
    info_.method = Method::counter;
  }
  const MeterInfo& info() const override { return info_; }
  void open(double) override {}
  MeterReading read(double) override { throw std::runtime_error("driver exploded"); }

 private:
  MeterInfo info_;
};

TEST(MeterFailure, ThrowingMeterIsAFailedRead) {
  FaultRun r;
  r.options.meters.push_back(std::make_shared<ThrowingMeter>());
  r.go();
  ASSERT_EQ(r.epochs.size(), 3u);
  for (const auto& e : r.epochs) {
    ASSERT_EQ(e.devices.size(), 4u);
    EXPECT_EQ(e.devices[2].device_name, "flaky");
    EXPECT_DOUBLE_EQ(e.devices[2].joules, 0.0);
    EXPECT_FALSE(e.devices[2].complete);
    EXPECT_DOUBLE_EQ(e.joules, 3500.0);
  }
  EXPECT_EQ(ewtest::count_occurrences(r.console_text, "Meter test:throw (flaky): read failed: driver exploded."), 1u);
  EXPECT_EQ(r.actual.epochs, 3);
}

}  // namespace
