// ignore_errors (issue 12 item 10): what goes wrong around the tracker (a log folder that cannot be
// made, a meter that fails to open, calls out of order) is said once, and the training loop runs
// to its end; without ignore_errors the same faults still throw, as documented.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "epochwatt/epochwatt.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
namespace fs = std::filesystem;

class WarningsSeen final : public Reporter {
 public:
  std::vector<std::string> warnings;
  void run_finished(const Run& run) override { warnings = run.warnings; }
};

// A log folder below a regular file: create_directories fails (ENOTDIR) without root or chmod.
struct Unwritable {
  ewtest::TempDir dir;
  std::string log_dir;
  Unwritable() {
    ewtest::write_file((dir.path() / "a-file").string(), "x");
    log_dir = (dir.path() / "a-file" / "logs").string();
  }
};

TEST(IgnoreErrors, ALogFolderThatCannotBeMadeIsWarnedAboutOnceAndTheLoopRunsToItsEnd) {
  Unwritable u;
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = ewtest::deterministic_options(clock, &console, 3);
  o.meters = ewtest::section14_meters();
  o.log_dir = u.log_dir;
  o.ignore_errors = true;
  auto seen = std::make_shared<WarningsSeen>();
  std::unique_ptr<Tracker> t;
  {
    TrackerParts parts;
    ASSERT_NO_THROW(parts = default_tracker_parts(o));
    parts.reporters.push_back(seen);
    ASSERT_NO_THROW(t = std::make_unique<Tracker>(o, std::move(parts)));
  }
  for (int e = 0; e < 3; ++e) EXPECT_NO_THROW(ewtest::run_epoch(*t, *clock, 10.0));
  EXPECT_NO_THROW(t->stop());
  EXPECT_EQ(t->totals().epochs, 3);
  EXPECT_EQ(t->standard_log_path(), "");
  EXPECT_EQ(t->json_summary_path(), "");
  EXPECT_EQ(ewtest::count_occurrences(console.str(), "cannot create log directory " + u.log_dir), 1u) << console.str();
  EXPECT_NE(console.str().find("CarbonTracker: WARNING - cannot create log directory"), std::string::npos);
  EXPECT_NE(console.str().find("Actual consumption for 3 epoch(s):"), std::string::npos);
  ASSERT_FALSE(seen->warnings.empty());
  EXPECT_EQ(seen->warnings[0].rfind("cannot create log directory " + u.log_dir, 0), 0u) << seen->warnings[0];
  EXPECT_FALSE(fs::exists(u.log_dir));
}

TEST(IgnoreErrors, WithoutItALogFolderThatCannotBeMadeIsAnError) {
  Unwritable u;
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = ewtest::deterministic_options(clock, &console, 3);
  o.meters = ewtest::section14_meters();
  o.log_dir = u.log_dir;
  try {
    Tracker t(o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create log directory " + u.log_dir), std::string::npos) << e.what();
  }
}

TEST(IgnoreErrors, WindowCallsOutOfOrderAreLoggedNotThrown) {
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = ewtest::deterministic_options(clock, &console, 3);
  o.meters = ewtest::section14_meters();
  o.ignore_errors = true;
  Tracker t(o);
  WindowMeasurement w;
  EXPECT_NO_THROW(w = t.window_end(12345));
  EXPECT_EQ(w.joules, 0.0);
  t.stop();
  Tracker::WindowId id = 1;
  EXPECT_NO_THROW(id = t.window_start("after stop"));
  EXPECT_NO_THROW(t.window_end(id));
  EXPECT_NE(console.str().find("Ignored error: window_end(): no open measurement window with id 12345."), std::string::npos)
      << console.str();
  EXPECT_EQ(ewtest::count_occurrences(console.str(), "Ignored error: window_start() called after stop()"), 1u)
      << console.str();

  // Without ignore_errors they are usage errors.
  Options strict = ewtest::deterministic_options(clock, &console, 3);
  strict.meters = ewtest::section14_meters();
  Tracker s(strict);
  EXPECT_THROW(s.window_end(12345), UsageError);
  s.stop();
  EXPECT_THROW(s.window_start("after stop"), UsageError);
}

// A meter whose open() throws (a device gone between discovery and the start).
class OpenFails final : public Meter {
 public:
  OpenFails() { info_ = {"test:gone", Component::gpu, "gone GPU", Method::counter, 0.0, "", {}, ""}; }
  const MeterInfo& info() const override { return info_; }
  void open(double) override { throw std::runtime_error("device test:gone disappeared"); }
  MeterReading read(double) override { return {}; }

 private:
  MeterInfo info_;
};

TEST(IgnoreErrors, AFailureWhileStartingLeavesAnInertTrackerThatTheLoopCanCall) {
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = ewtest::deterministic_options(clock, &console, 2);
  o.meters = {std::make_shared<OpenFails>()};
  o.ignore_errors = true;
  std::unique_ptr<Tracker> t;
  ASSERT_NO_THROW(t = std::make_unique<Tracker>(o));
  EXPECT_NE(console.str().find("CarbonTracker: CRITICAL - Ignored error: device test:gone disappeared"), std::string::npos)
      << console.str();
  EXPECT_NE(console.str().find("Continued training without monitoring..."), std::string::npos);
  EXPECT_TRUE(t->finished());
  for (int e = 0; e < 2; ++e) {
    EXPECT_NO_THROW(t->epoch_start());
    EXPECT_NO_THROW(EXPECT_TRUE(t->epoch_end()));
  }
  EXPECT_NO_THROW(t->window_end(t->window_start("w")));
  EXPECT_NO_THROW(t->flush());
  EXPECT_NO_THROW(t->stop());

  o.ignore_errors = false;
  EXPECT_THROW(Tracker strict_tracker(o), std::runtime_error);
}

}  // namespace
