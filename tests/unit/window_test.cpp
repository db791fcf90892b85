// Measurement windows (Tracker::window_start/window_end, behind Python's track()) and the tracker
// in a forked child (DataLoader workers): deterministic runs on a ManualClock.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "unit/support.hpp"

namespace {

using epochwatt::Component;
using epochwatt::ManualClock;
using epochwatt::Options;
using epochwatt::Tracker;
using epochwatt::UsageError;

Options one_meter(const std::shared_ptr<ManualClock>& clock, std::ostream* console, double watts) {
  Options o = ewtest::deterministic_options(clock, console, 3);
  o.meters = {std::make_shared<ewtest::ScriptedMeter>("test:gpu0", Component::gpu, "gpu0", watts)};
  return o;
}

TEST(Window, MeasuresNestedWindowsAcrossEpochsAndGaps) {
  ewtest::ScopedEnv tz("TZ", "UTC");
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Tracker t(one_meter(clock, &console, 100.0));
  auto outer = t.window_start("outer");
  t.flush();
  ewtest::run_epoch(t, *clock, 10.0);
  auto inner = t.window_start("inner");
  t.flush();
  clock->advance(4.0);  // a gap between epochs: in both windows, in no epoch
  auto in = t.window_end(inner);
  ewtest::run_epoch(t, *clock, 10.0);
  auto out = t.window_end(outer);
  EXPECT_EQ(in.name, "inner");
  EXPECT_DOUBLE_EQ(in.duration_s, 4.0);
  EXPECT_DOUBLE_EQ(in.joules, 400.0);
  EXPECT_EQ(out.name, "outer");
  EXPECT_DOUBLE_EQ(out.duration_s, 24.0);
  EXPECT_DOUBLE_EQ(out.joules, 2400.0);
  ASSERT_EQ(out.devices.size(), 1u);
  EXPECT_EQ(out.devices[0].meter_id, "test:gpu0");
  EXPECT_DOUBLE_EQ(out.energy_kwh, 2400.0 * 1.58 / 3.6e6);
  EXPECT_DOUBLE_EQ(out.co2_g, out.energy_kwh * 445.0);
  EXPECT_DOUBLE_EQ(out.intensity_g_per_kwh, 445.0);
  EXPECT_FALSE(out.cut_by_stop);
  // Epochs are untouched by the windows around them.
  EXPECT_DOUBLE_EQ(t.epochs().at(0).joules, 1000.0);
  EXPECT_DOUBLE_EQ(t.epochs().at(1).joules, 1000.0);
  EXPECT_THROW(t.window_end(outer), UsageError);  // collected once
  t.stop();
}

TEST(Window, OpenAtStopIsMeasuredUntilStop) {
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Tracker t(one_meter(clock, &console, 10.0));
  auto w = t.window_start("left open");
  t.flush();
  clock->advance(3.0);
  t.stop();
  clock->advance(50.0);
  auto m = t.window_end(w);
  EXPECT_DOUBLE_EQ(m.duration_s, 3.0);
  EXPECT_DOUBLE_EQ(m.joules, 30.0);
  EXPECT_TRUE(m.cut_by_stop);
  EXPECT_THROW(t.window_start("late"), UsageError);
  EXPECT_THROW(t.window_end(12345), UsageError);
}

TEST(Window, InertTrackerGivesTheTimeOnly) {
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = ewtest::deterministic_options(clock, &console, 1);
  o.ignore_errors = true;  // no meter at all: inert instead of throwing
  Tracker t(o);
  auto w = t.window_start("w");
  clock->advance(2.0);
  auto m = t.window_end(w);
  EXPECT_DOUBLE_EQ(m.duration_s, 2.0);
  EXPECT_DOUBLE_EQ(m.joules, 0.0);
}

// After fork() the child has no sampler thread: every call returns at once and the destructor
// touches nothing; the parent's run is unharmed and reports once.
TEST(ForkedChild, TrackerDoesNothingThereAndTheParentReportsOnce) {
  ewtest::ScopedEnv tz("TZ", "UTC");
  ewtest::TempDir dir;
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = one_meter(clock, &console, 100.0);
  o.log_dir = dir.str();
  auto t = std::make_unique<Tracker>(o);
  t->epoch_start();
  auto open_window = t->window_start("across the fork");
  t->flush();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Each of these would block (join, flush) or write a second report if the child ran them.
    t->epoch_end();
    t->flush();
    bool ok = t->finished() && !t->prediction() && t->epochs().empty();
    auto w = t->window_start("child");  // no mutex, no throw: nothing is measured here
    ok = ok && w == 0 && t->window_end(w).joules == 0.0 && t->window_end(open_window).duration_s == 0.0;
    t->stop();
    t.reset();
    ::_exit(ok ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  clock->advance(10.0);
  t->epoch_end();
  t->flush();
  EXPECT_DOUBLE_EQ(t->window_end(open_window).joules, 1000.0);  // the parent's window is intact
  t->stop();
  std::string output = ewtest::read_file(t->output_log_path());
  t.reset();
  EXPECT_EQ(ewtest::count_occurrences(output, "Actual consumption for 1 epoch(s):"), 1u);
  EXPECT_EQ(ewtest::count_occurrences(console.str(), "Predicted consumption for 3 epoch(s):"), 1u);
  EXPECT_EQ(ewtest::count_occurrences(console.str(), "Actual consumption for 1 epoch(s):"), 1u);
  EXPECT_EQ(ewtest::count_occurrences(console.str(), "Finished monitoring."), 1u);
}

}  // namespace
