// The replay meter (src/meters/replay) on the real H100 trace of tests/data: per-epoch energy
// against the hardware counter, the power mode, bad trace files, and the end of a trace.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "epochwatt/epochwatt.hpp"
#include "meters/replay/replay.hpp"
#include "unit/summary_epochs.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using meters::TraceSample;

const std::string kTrace = std::string(EPOCHWATT_TEST_DATA_DIR) + "/h100-cnn-training.csv";
const std::string kEpochs = std::string(EPOCHWATT_TEST_DATA_DIR) + "/h100-cnn-training.epochs.csv";

struct Bounds {
  double start, end;
};

std::vector<Bounds> load_epoch_bounds() {
  std::ifstream in(kEpochs);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "epoch,start_s,end_s");
  std::vector<Bounds> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
    Bounds b{};
    std::from_chars(line.data() + c1 + 1, line.data() + c2, b.start);
    std::from_chars(line.data() + c2 + 1, line.data() + line.size(), b.end);
    out.push_back(b);
  }
  return out;
}

// The reference of the trace's README: the counter (J) at t, linearly interpolated between samples.
double counter_interpolated(const std::vector<TraceSample>& tr, double t) {
  auto hi = std::upper_bound(tr.begin(), tr.end(), t, [](double v, const TraceSample& s) { return v < s.t_s; });
  if (hi == tr.begin()) return tr.front().energy_mj / 1000.0;
  if (hi == tr.end()) return tr.back().energy_mj / 1000.0;
  auto lo = hi - 1;
  double f = hi->t_s > lo->t_s ? (t - lo->t_s) / (hi->t_s - lo->t_s) : 1.0;
  return (lo->energy_mj + f * (static_cast<double>(hi->energy_mj) - lo->energy_mj)) / 1000.0;
}

// What a real counter read returns at t: the value of the latest sample at or before t.
double counter_read(const std::vector<TraceSample>& tr, double t) {
  auto hi = std::upper_bound(tr.begin(), tr.end(), t, [](double v, const TraceSample& s) { return v < s.t_s; });
  return (hi == tr.begin() ? tr.front() : *(hi - 1)).energy_mj / 1000.0;
}

// Moves the clock to `target` in steps of `step`, calling on_step after each move.
template <typename F>
void step_clock_to(ManualClock& clock, double target, double step, F on_step) {
  while (clock.now() + step < target) {
    clock.advance(step);
    on_step();
  }
  clock.set(target);
  on_step();
}

TEST(ReplayTrace, LoadsTheH100Trace) {
  auto tr = meters::load_trace(kTrace);
  ASSERT_EQ(tr.size(), 2609u);
  EXPECT_DOUBLE_EQ(tr.front().t_s, 0.0);
  EXPECT_DOUBLE_EQ(tr.front().power_mw, 73278.0);
  EXPECT_EQ(tr.front().energy_mj, 2817310u);
  EXPECT_DOUBLE_EQ(tr.back().t_s, 43.5945);
  EXPECT_EQ(tr.back().energy_mj, 18788696u);
  EXPECT_EQ(load_epoch_bounds().size(), 6u);
}

TEST(ReplayTracker, PerEpochEnergyMatchesTheCounter) {
  ewtest::ScopedEnv no_country("EPOCHWATT_COUNTRY", std::nullopt);
  auto trace = meters::load_trace(kTrace);
  auto bounds = load_epoch_bounds();
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 6);
  o.components = "gpu";
  o.replay_trace = kTrace;
  Tracker t(o);
  ASSERT_EQ(t.meters().size(), 1u);
  EXPECT_EQ(t.meters()[0].method, Method::replay);
  EXPECT_EQ(t.meters()[0].device_name, "replay:" + kTrace);

  auto no_op = [] {};
  for (const auto& b : bounds) {
    step_clock_to(*clock, b.start, 0.01, no_op);
    t.epoch_start();
    t.flush();
    step_clock_to(*clock, b.end, 0.01, no_op);
    t.epoch_end();
    t.flush();
  }
  t.stop();
  auto epochs = t.epochs();
  ASSERT_EQ(epochs.size(), bounds.size());
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    double reference = counter_interpolated(trace, bounds[i].end) - counter_interpolated(trace, bounds[i].start);
    double measured = epochs[i].devices.at(0).joules;
    EXPECT_NEAR(measured, reference, 0.01 * reference) << "epoch " << i + 1;
    // Stronger: the boundary reads are exact counter reads, whatever the sampler did between.
    EXPECT_NEAR(measured, counter_read(trace, bounds[i].end) - counter_read(trace, bounds[i].start), 1e-6)
        << "epoch " << i + 1;
    EXPECT_TRUE(epochs[i].devices[0].complete);
    EXPECT_NEAR(epochs[i].duration_s, bounds[i].end - bounds[i].start, 1e-9);
  }
}

TEST(ReplayMeter, PowerModeIntegratesTheOneSecondAverage) {
  // nvmlDeviceGetPowerUsage on this driver is a 1 s average: integrating it lags the counter.
  // Read every 10 ms, it stays within 7 % of the counter, always below it on this trace.
  auto trace = meters::load_trace(kTrace);
  auto bounds = load_epoch_bounds();
  auto m = meters::make_replay_meter(trace, Component::gpu, "H100", true, 0.0);
  EXPECT_EQ(m->info().method, Method::replay);
  EXPECT_DOUBLE_EQ(m->info().poll_period_s, 0.05);
  m->open(0.0);
  ManualClock clock;
  double last = 0;
  auto read = [&] {
    MeterReading r = m->read(clock.now());
    ASSERT_TRUE(r.ok);
    ASSERT_GE(r.joules, last);
    last = r.joules;
  };
  for (const auto& b : bounds) {
    step_clock_to(clock, b.start, 0.01, read);
    double at_start = last;
    step_clock_to(clock, b.end, 0.01, read);
    double measured = last - at_start;
    double reference = counter_interpolated(trace, b.end) - counter_interpolated(trace, b.start);
    EXPECT_LT(measured, reference);
    EXPECT_GT(measured, 0.93 * reference) << "epoch from " << b.start;
  }
}

TEST(ReplayMeter, CounterModeReadsTheLatestSample) {
  auto trace = meters::load_trace(kTrace);
  auto m = meters::make_replay_meter(trace, Component::gpu, "H100", false, 10.0);
  EXPECT_DOUBLE_EQ(m->info().poll_period_s, 0.1);
  m->open(100.0);  // trace time = 10 + (t - 100)
  EXPECT_DOUBLE_EQ(m->read(100.0).joules, 0.0);
  MeterReading r = m->read(105.0);
  EXPECT_TRUE(r.ok);
  EXPECT_NEAR(r.joules, counter_read(trace, 15.0) - counter_read(trace, 10.0), 1e-9);
}

// A meter decorator that records the time of its latest read, so a test can wait for the sampler.
class WatchedMeter final : public Meter {
 public:
  explicit WatchedMeter(std::shared_ptr<Meter> inner) : inner_(std::move(inner)) {}
  const MeterInfo& info() const override { return inner_->info(); }
  void open(double t) override { inner_->open(t); }
  MeterReading read(double t) override {
    MeterReading r = inner_->read(t);
    last_read_.store(t);
    return r;
  }
  double last_read() const { return last_read_.load(); }

 private:
  std::shared_ptr<Meter> inner_;
  std::atomic<double> last_read_{-1.0};
};

TEST(ReplayTracker, PowerModeThroughTheSampler) {
  ewtest::ScopedEnv no_country("EPOCHWATT_COUNTRY", std::nullopt);
  auto trace = meters::load_trace(kTrace);
  auto bounds = load_epoch_bounds();
  bounds.resize(2);  // keep the test short
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 2);
  o.components = "gpu";
  o.update_interval = 0.001;  // the sampler reads at every 20 ms step of the test clock
  auto watched = std::make_shared<WatchedMeter>(meters::make_replay_meter(trace, Component::gpu, "H100", true, 0.0));
  o.meters = {watched};
  Tracker t(o);
  // Wait until the sampler has read at the current time, unless it is not due yet (the last,
  // shorter step to a bound); the bound itself is read by the epoch event.
  auto wait_for_read = [&] {
    if (clock->now() - watched->last_read() < 0.002) return;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (watched->last_read() < clock->now() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    ASSERT_GE(watched->last_read(), clock->now()) << "the sampler did not read at t=" << clock->now();
  };
  for (const auto& b : bounds) {
    step_clock_to(*clock, b.start, 0.02, wait_for_read);
    t.epoch_start();
    t.flush();
    step_clock_to(*clock, b.end, 0.02, wait_for_read);
    t.epoch_end();
    t.flush();
  }
  t.stop();
  auto epochs = t.epochs();
  ASSERT_EQ(epochs.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    double reference = counter_interpolated(trace, bounds[i].end) - counter_interpolated(trace, bounds[i].start);
    EXPECT_LT(epochs[i].joules, reference) << "epoch " << i + 1;
    EXPECT_GT(epochs[i].joules, 0.93 * reference) << "epoch " << i + 1;
  }
}

// ------------------------------------------------------------------ bad files

struct BadTrace {
  ewtest::TempDir dir;
  std::string path = (dir.path() / "trace.csv").string();
  explicit BadTrace(const std::string& content) { ewtest::write_file(path, content); }
  std::string error() const {
    try {
      meters::load_trace(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

TEST(ReplayTraceFile, MissingHeader) {
  BadTrace b("0.0,73278,2817310\n0.1,73278,2817310\n");
  EXPECT_EQ(b.error(), "replay trace " + b.path +
                           " line 1: expected header t_s,power_mw,energy_mj, got '0.0,73278,2817310'");
}

TEST(ReplayTraceFile, GarbageRow) {
  BadTrace b("t_s,power_mw,energy_mj\n0.0,73278,2817310\n0.1,lots,2817310\n");
  EXPECT_EQ(b.error(), "replay trace " + b.path + " line 3: cannot parse '0.1,lots,2817310'");
  BadTrace short_row("t_s,power_mw,energy_mj\n0.0,73278\n");
  EXPECT_EQ(short_row.error(), "replay trace " + short_row.path + " line 2: cannot parse '0.0,73278'");
  BadTrace negative_counter("t_s,power_mw,energy_mj\n0.0,73278,-5\n");
  EXPECT_NE(negative_counter.error().find(" line 2: cannot parse"), std::string::npos);
}

TEST(ReplayTraceFile, TimeGoingBackwards) {
  BadTrace b("t_s,power_mw,energy_mj\r\n0.0,1,10\r\n1.0,1,20\r\n\r\n0.5,1,30\r\n");
  EXPECT_EQ(b.error(), "replay trace " + b.path + " line 5: time goes backwards");
}

TEST(ReplayTraceFile, EmptyMissingAndHeaderOnly) {
  BadTrace empty("");
  EXPECT_EQ(empty.error(), "replay trace " + empty.path + " is empty");
  BadTrace header_only("t_s,power_mw,energy_mj\n");
  EXPECT_EQ(header_only.error(), "replay trace " + header_only.path + " has no samples");
  EXPECT_THROW(meters::load_trace(empty.path + ".absent"), Error);
}

TEST(ReplayTraceFile, TrackerWithABadTraceSaysWhy) {
  BadTrace b("t_s,power_mw,energy_mj\n0.0,73278,2817310\n0.1,lots,2817310\n");
  std::ostringstream console;
  Options o = ewtest::deterministic_options(std::make_shared<ManualClock>(), &console, 1);
  o.components = "gpu";
  o.replay_trace = b.path;
  EXPECT_THROW(Tracker t(o), Error);
  EXPECT_NE(console.str().find("replay trace " + b.path + " line 3: cannot parse"), std::string::npos);
}

// ------------------------------------------------------------------ end of the trace

TEST(ReplayTracker, TraceEndLosesTheMeterAndTheRunCompletes) {
  ewtest::ScopedEnv no_country("EPOCHWATT_COUNTRY", std::nullopt);
  auto trace = meters::load_trace(kTrace);
  ewtest::TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 3);
  o.log_dir = dir.str();
  o.replay_trace = kTrace;
  o.replay_offset_s = 30.0;  // the trace (43.5945 s) ends 13.5945 s into the run
  o.meters = {std::make_shared<ewtest::ScriptedMeter>("test:cpu0", Component::cpu, "cpu:0", 40.0)};
  Tracker t(o);
  for (int i = 0; i < 3; ++i) ewtest::run_epoch(t, *clock, 10.0);
  ASSERT_TRUE(t.finished());
  t.stop();

  auto epochs = t.epochs();
  ASSERT_EQ(epochs.size(), 3u);
  const auto& gpu1 = epochs[0].devices.at(0);
  const auto& gpu2 = epochs[1].devices.at(0);
  const auto& gpu3 = epochs[2].devices.at(0);
  ASSERT_EQ(gpu1.component, Component::gpu);
  EXPECT_NEAR(gpu1.joules, counter_read(trace, 40.0) - counter_read(trace, 30.0), 1e-6);
  EXPECT_TRUE(gpu1.complete);
  // Energy until the end of the trace is kept; the epoch is marked incomplete.
  EXPECT_NEAR(gpu2.joules, counter_read(trace, 43.5945) - counter_read(trace, 40.0), 1e-6);
  EXPECT_GT(gpu2.joules, 500.0);
  EXPECT_FALSE(gpu2.complete);
  EXPECT_DOUBLE_EQ(gpu3.joules, 0.0);
  EXPECT_FALSE(gpu3.complete);
  // The CPU goes on as before.
  for (const auto& e : epochs) {
    EXPECT_DOUBLE_EQ(e.devices.at(1).joules, 400.0);
    EXPECT_TRUE(e.devices.at(1).complete);
  }
  EXPECT_EQ(t.totals().epochs, 3);

  std::string expected_warning = "Meter replay:gpu (replay:" + kTrace +
                                 ") stopped: replay trace ended at 43.5945 s. Energy measured until then "
                                 "is kept; the run goes on without it.";
  EXPECT_EQ(ewtest::count_occurrences(console.str(), expected_warning), 1u);
  std::string err_log = ewtest::read_file(t.error_log_path());
  EXPECT_NE(err_log.find(" - CarbonTrackerThread - WARNING - " + expected_warning + "\n"), std::string::npos);
  std::string std_log = ewtest::read_file(t.standard_log_path());
  EXPECT_EQ(ewtest::count_occurrences(std_log, "Note for gpu: a device stopped answering during this epoch"), 2u);
  EXPECT_NE(std_log.find("Power by device (W) for gpu [replay]: replay:" + kTrace), std::string::npos);

  auto json = nlohmann::json::parse(ewtest::read_file(t.json_summary_path()));
  EXPECT_EQ(std::count(json["warnings"].begin(), json["warnings"].end(), expected_warning), 1);
  EXPECT_EQ(ewtest::summary_epochs(json)[1]["devices"][0]["complete"], false);
  EXPECT_EQ(ewtest::summary_epochs(json)[0]["devices"][0]["complete"], true);
  EXPECT_EQ(ewtest::summary_epochs(json)[1]["devices"][0]["method"], "replay");
}

}  // namespace

// A row whose time or power is negative, not finite or above one device's power (50 kW,
// limits::kMaxDeviceWatts) is left out with the file and the line; the rows around it are kept
// (issue 12, item 11).
TEST(ReplayTraceFile, OutOfRangeRowIsLeftOutWithFileAndLine) {
  BadTrace b("t_s,power_mw,energy_mj\n0.0,1000,0\n0.5,-1000,1\n0.7,inf,2\n0.8,60000000,2\n1.0,1000,3\n");
  std::vector<std::string> warnings;
  auto trace = meters::load_trace(b.path, &warnings);
  ASSERT_EQ(trace.size(), 2u);
  EXPECT_EQ(trace[1].t_s, 1.0);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0], "replay trace " + b.path +
                             " line 3: a time or power that is negative, not finite or above 50000 W; row left out");
  EXPECT_NE(warnings[1].find(" line 4: "), std::string::npos);
  EXPECT_NE(warnings[2].find(" line 5: "), std::string::npos);
}

// A trace of many bad rows names the first ten and counts the rest in one line, so that it cannot
// flood the console, the err log and the JSON warnings.
TEST(ReplayTraceFile, ManyBadRowsGiveTenWarningsAndOneCount) {
  std::string text = "t_s,power_mw,energy_mj\n0.0,1000,0\n";
  for (int i = 1; i <= 25; ++i) text += std::to_string(i) + ",-1,0\n";
  text += "30,1000,5\n";
  BadTrace b(text);
  std::vector<std::string> warnings;
  auto trace = meters::load_trace(b.path, &warnings);
  ASSERT_EQ(trace.size(), 2u);
  ASSERT_EQ(warnings.size(), 11u);
  EXPECT_NE(warnings[9].find(" line 12: "), std::string::npos) << warnings[9];
  EXPECT_EQ(warnings[10], "replay trace " + b.path + ": 15 more rows left out for the same reasons");
}
