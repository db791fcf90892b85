// Option validation (spec §2.1, §2.5): carbontracker's messages, thrown as exceptions (never an
// exit), and what happens when nothing can be measured.
#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <string>

#include "epochwatt/epochwatt.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;

Options valid_options() {
  Options o;
  o.epochs = 3;
  o.discover_meters = false;
  o.clock = std::make_shared<ManualClock>();
  o.meters = ewtest::section14_meters();
  return o;
}

// The message validate() and the Tracker constructor throw, as OptionsError, for this change.
std::string options_error(const std::function<void(Options&)>& change) {
  Options o = valid_options();
  change(o);
  std::string from_validate, from_tracker;
  try {
    validate(o);
  } catch (const OptionsError& e) {
    from_validate = e.what();
  }
  std::ostringstream console;
  o.console = &console;
  try {
    Tracker t(o);
  } catch (const OptionsError& e) {
    from_tracker = e.what();
  }
  EXPECT_EQ(from_validate, from_tracker);
  return from_tracker;
}

TEST(Options, ValidOptionsPass) {
  EXPECT_NO_THROW(validate(valid_options()));
  EXPECT_EQ(options_error([](Options&) {}), "");
}

TEST(Options, SimulatedCpuMessages) {
  EXPECT_EQ(options_error([](Options& o) { o.sim_cpu = "Xeon"; }),
            "When using simulated CPU (sim_cpu), you must also specify the CPU TDP (sim_cpu_tdp)");
  EXPECT_EQ(options_error([](Options& o) { o.sim_cpu = ""; o.sim_cpu_tdp = 100; }),
            "CPU name must be a non-empty string.");
  EXPECT_EQ(options_error([](Options& o) { o.sim_cpu = "Xeon"; o.sim_cpu_tdp = -1; }),
            "CPU TDP must be a non-negative number.");
  EXPECT_EQ(options_error([](Options& o) { o.sim_cpu = "Xeon"; o.sim_cpu_tdp = 100; o.sim_cpu_util = 1.5; }),
            "CPU utilization must be between 0.0 and 1.0.");
  EXPECT_EQ(options_error([](Options& o) { o.sim_cpu = "Xeon"; o.sim_cpu_tdp = 100; o.sim_cpu_util = -0.1; }),
            "CPU utilization must be between 0.0 and 1.0.");
  // 0 W and 0 % are allowed since 2.3.1.
  EXPECT_EQ(options_error([](Options& o) { o.sim_cpu = "Xeon"; o.sim_cpu_tdp = 0; o.sim_cpu_util = 0.0; }), "");
}

TEST(Options, SimulatedGpuMessages) {
  EXPECT_EQ(options_error([](Options& o) { o.sim_gpu = "A100"; }),
            "When using simulated GPU (sim_gpu), you must also specify the GPU power consumption (sim_gpu_watts)");
  EXPECT_EQ(options_error([](Options& o) { o.sim_gpu = ""; o.sim_gpu_watts = 300; }),
            "GPU name must be a non-empty string.");
  EXPECT_EQ(options_error([](Options& o) { o.sim_gpu = "A100"; o.sim_gpu_watts = -300; }),
            "GPU watts must be a non-negative number.");
  EXPECT_EQ(options_error([](Options& o) { o.sim_gpu = "A100"; o.sim_gpu_watts = 300; o.sim_gpu_util = 2; }),
            "GPU utilization must be between 0.0 and 1.0.");
  EXPECT_EQ(options_error([](Options& o) { o.sim_gpu = "A100"; o.sim_gpu_watts = 0; o.sim_gpu_util = 1.0; }), "");
}

TEST(Options, MonitorEpochsMessages) {
  // carbontracker checks "less than" before "zero" (tracker.py 2.4.3).
  EXPECT_EQ(options_error([](Options& o) { o.monitor_epochs = 0; }),
            "monitor_epochs cannot be less than epochs_before_pred");
  EXPECT_EQ(options_error([](Options& o) { o.monitor_epochs = 0; o.epochs_before_pred = 0; }),
            "monitor_epochs cannot be zero");
  EXPECT_EQ(options_error([](Options& o) { o.monitor_epochs = 0; o.epochs_before_pred = -1; }),
            "monitor_epochs cannot be zero");
  EXPECT_EQ(options_error([](Options& o) { o.monitor_epochs = 2; o.epochs_before_pred = 3; }),
            "monitor_epochs cannot be less than epochs_before_pred");
  // epochs_before_pred = -1 means after all epochs here (spec D12), so monitoring must last as long.
  EXPECT_EQ(options_error([](Options& o) { o.monitor_epochs = 2; o.epochs_before_pred = -1; }),
            "monitor_epochs cannot be less than epochs_before_pred");
  EXPECT_EQ(options_error([](Options& o) { o.monitor_epochs = 3; o.epochs_before_pred = -1; }), "");
  EXPECT_EQ(options_error([](Options& o) { o.monitor_epochs = 2; o.epochs_before_pred = 2; }), "");
  EXPECT_EQ(options_error([](Options& o) { o.monitor_epochs = 7; }), "");  // beyond `epochs` is allowed
}

TEST(Options, UnknownComponent) {
  EXPECT_EQ(options_error([](Options& o) { o.components = "gpu,tpu"; }), "No component found with name 'tpu'.");
  // A std::string, not `= "x"`: a one-character literal assigned trips g++ 12's -Wrestrict at -O3
  // (GCC bug 105329).
  EXPECT_EQ(options_error([](Options& o) { o.components = std::string("x"); }), "No component found with name 'x'.");
}

TEST(Options, ComponentsAreParsedAsCarbontrackerDoes) {
  EXPECT_EQ(parse_components("all"), (std::vector<std::string>{"gpu", "cpu"}));
  EXPECT_EQ(parse_components(" ALL "), (std::vector<std::string>{"gpu", "cpu"}));
  EXPECT_EQ(parse_components("cpu, GPU"), (std::vector<std::string>{"cpu", "gpu"}));
  EXPECT_EQ(parse_components("cpu"), (std::vector<std::string>{"cpu"}));
  EXPECT_THROW(parse_components("cpu,,gpu"), OptionsError);
}

TEST(Options, EpochwattsOwnChecks) {
  EXPECT_NE(options_error([](Options& o) { o.epochs = 0; }), "");
  EXPECT_NE(options_error([](Options& o) { o.epochs_before_pred = -2; }), "");
  EXPECT_NE(options_error([](Options& o) { o.update_interval = 0; }), "");
  EXPECT_NE(options_error([](Options& o) { o.pue = 0.9; }), "");
  EXPECT_NE(options_error([](Options& o) { o.intensity_g_per_kwh = -1.0; }), "");
  EXPECT_NE(options_error([](Options& o) { o.decimal_precision = -1; }), "");
  EXPECT_NE(options_error([](Options& o) { o.replay_offset_s = -1; }), "");
}

TEST(Options, ErrorsAreExceptionsOfTheLibraryHierarchy) {
  Options o = valid_options();
  o.components = "nope";
  EXPECT_THROW(validate(o), Error);
  EXPECT_THROW(validate(o), std::runtime_error);
}

TEST(Options, OnlyTheRequestedComponentsAreMeasured) {
  Options o = valid_options();
  std::ostringstream console;
  o.console = &console;
  o.components = "cpu";
  Tracker t(o);
  auto meters = t.meters();
  ASSERT_EQ(meters.size(), 2u);
  EXPECT_EQ(meters[0].device_name, "cpu:0");
  EXPECT_EQ(meters[1].device_name, "dram:0");
  EXPECT_NE(console.str().find("CarbonTracker: The following components were found: CPU with device(s) cpu:0 ("),
            std::string::npos);
}

TEST(NoComponents, ThrowsError) {
  Options o = valid_options();
  o.meters.clear();
  std::ostringstream console;
  o.console = &console;
  try {
    Tracker t(o);
    FAIL() << "a tracker without meters must throw";
  } catch (const OptionsError&) {
    FAIL() << "not an options error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("No components were available."), std::string::npos);
  }
  // Part of "all": for information (a CPU-only machine is normal); asked for by name: a warning.
  EXPECT_NE(console.str().find("CarbonTracker: INFO - No GPU(s) available.\n"), std::string::npos);
  EXPECT_NE(console.str().find("CarbonTracker: INFO - No CPU(s) available.\n"), std::string::npos);
  EXPECT_NE(console.str().find("CarbonTracker: CRITICAL - No components were available."), std::string::npos);
}

TEST(NoComponents, ComponentAskedForByNameIsAWarning) {
  Options o = valid_options();
  o.components = "gpu";
  o.meters = {std::make_shared<ewtest::ScriptedMeter>("c", Component::cpu, "cpu:0", 10.0)};
  std::ostringstream console;
  o.console = &console;
  EXPECT_THROW(Tracker t(o), Error);  // the only meter is a CPU, and only the GPU was asked for
  EXPECT_NE(console.str().find("CarbonTracker: WARNING - No GPU(s) available.\n"), std::string::npos);
}

TEST(NoComponents, IgnoreErrorsGivesAnInertTracker) {
  ewtest::TempDir dir;
  Options o = valid_options();
  o.meters.clear();
  o.ignore_errors = true;
  o.log_dir = dir.str();
  std::ostringstream console;
  o.console = &console;
  auto clock = std::make_shared<ManualClock>();
  o.clock = clock;
  std::unique_ptr<Tracker> t;
  ASSERT_NO_THROW(t = std::make_unique<Tracker>(o));
  EXPECT_NE(console.str().find("CarbonTracker: CRITICAL - Ignored error: No components were available."),
            std::string::npos);
  EXPECT_NE(console.str().find("Continued training without monitoring..."), std::string::npos);
  EXPECT_TRUE(t->finished());
  EXPECT_NO_THROW(t->epoch_start());
  clock->advance(10);
  EXPECT_NO_THROW(EXPECT_TRUE(t->epoch_end()));
  EXPECT_NO_THROW(t->epoch_end());  // no usage error either: every call is a no-op
  t->flush();
  EXPECT_NO_THROW(t->stop());
  EXPECT_TRUE(t->epochs().empty());
  EXPECT_FALSE(t->prediction().has_value());
  EXPECT_EQ(t->totals().epochs, 0);
  EXPECT_TRUE(t->meters().empty());
  std::string out_log = ewtest::read_file(t->output_log_path());
  EXPECT_EQ(out_log.find("consumption"), std::string::npos);
  t.reset();
}

}  // namespace
