// Every number read from a log, an option, the environment, the config file or the cache is
// checked for range before it reaches a total (issue 12, item 11): a damaged record is left out
// with a warning naming its file and line; an absurd option is refused in one line; an unusable
// location variable gets one warning. Also --quiet's INFO lines (item 7).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <tuple>

#include "epochwatt/epochwatt.hpp"
#include "epochwatt/limits.hpp"
#include "intensity/service.hpp"
#include "report/ct_logs.hpp"
#include "report/log_parse.hpp"
#include "unit/support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace epochwatt;
using detail::ParsedRun;
using detail::ParseWarning;

const std::string kStdHead =
    "2020-06-01 10:00:00 - carbontracker version 2.4.3\n"
    "2020-06-01 10:00:00 - The following components were found: GPU with device(s) Tesla V100. CPU with device(s) "
    "cpu:0.\n";

std::string epoch(int n, const std::string& duration, const std::string& gpu_w, const std::string& cpu_w) {
  return "2020-06-01 10:0" + std::to_string(n) + ":00 - Epoch " + std::to_string(n) + ":\n" +
         "2020-06-01 10:0" + std::to_string(n) + ":00 - Duration: " + duration + "\n" +
         "2020-06-01 10:0" + std::to_string(n) + ":00 - Average power usage (W) for gpu: " + gpu_w + "\n" +
         "2020-06-01 10:0" + std::to_string(n) + ":00 - Average power usage (W) for cpu: " + cpu_w + "\n";
}

std::string output_log(const std::string& energy, const std::string& co2, const std::string& time = "0:02:00") {
  return "2020-06-01 10:00:00 - The following components were found: GPU with device(s) Tesla V100. CPU with "
         "device(s) cpu:0.\n"
         "2020-06-01 10:02:00 - CarbonTracker: \n"
         "Actual consumption for 2 epoch(s):\n"
         "\tTime:\t" + time + "\n"
         "\tEnergy:\t" + energy + " kWh\n"
         "\tCO2eq:\t" + co2 + " g\n";
}

struct LogDir {
  ewtest::TempDir dir;
  void add(const std::string& id, const std::string& std_text, const std::string& out_text) const {
    std::ofstream(dir.str() + "/" + id + "_carbontracker.log") << std_text;
    std::ofstream(dir.str() + "/" + id + "_carbontracker_output.log") << out_text;
  }
  std::vector<ParsedRun> parse(std::vector<ParseWarning>* w) const { return detail::parse_log_dirs({dir.str()}, w); }
};

bool has_warning(const std::vector<ParseWarning>& ws, const std::string& file_end, const std::string& text) {
  for (const auto& w : ws)
    if (w.file.ends_with(file_end) && w.message.find(text) != std::string::npos) return true;
  return false;
}

std::string dump(const std::vector<ParseWarning>& ws) {
  std::string s;
  for (const auto& w : ws) s += w.file + ": " + w.message + "\n";
  return s;
}

}  // namespace

// A report block whose energy or CO2 is negative, infinite or absurdly large is left out, with the
// file and line; the aggregate never turns negative or infinite, and a healthy run beside it still counts.
TEST(LogValueRanges, DamagedReportBlockIsLeftOutWithFileAndLine) {
  for (const auto& [energy, co2, why] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"-5", "14.8", "line 5: Energy negative"},
           {"inf", "14.8", "line 5: Energy not finite"},
           {"0.02", "-0.54", "line 6: CO2eq negative"},
           {"0.02", "-inf", "line 6: CO2eq not finite"},
           // finite but absurd: two such runs would sum to inf (1 TWh and its CO2 at 2000 g/kWh and
           // PUE 10 are the bounds, limits.hpp)
           {"1e308", "14.8", "line 5: Energy above"},
           {"0.02", "1e300", "line 6: CO2eq above"}}) {
    LogDir logs;
    logs.add("bad_1", kStdHead + epoch(1, "0:01:00", "100", "50") + epoch(2, "0:01:00", "100", "50"),
             output_log(energy, co2));
    logs.add("good_2", kStdHead + epoch(1, "0:01:00", "100", "50"), output_log("0.5", "100"));
    std::vector<ParseWarning> w;
    auto runs = logs.parse(&w);
    ASSERT_EQ(runs.size(), 2u) << dump(w);
    EXPECT_FALSE(runs[0].actual.has_value()) << energy << " " << co2;
    EXPECT_TRUE(has_warning(w, "bad_1_carbontracker_output.log", why)) << dump(w);
    auto total = detail::aggregate(runs);
    EXPECT_DOUBLE_EQ(total.energy_kwh, 0.5);
    EXPECT_DOUBLE_EQ(total.co2_g, 100.0);
  }
}

// A negative duration in the block, and a negative Time, are damaged too.
TEST(LogValueRanges, NegativeBlockTimeIsLeftOut) {
  LogDir logs;
  logs.add("bad_1", kStdHead + epoch(1, "0:01:00", "100", "50"), output_log("0.1", "1", "-0:02:00"));
  std::vector<ParseWarning> w;
  auto runs = logs.parse(&w);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_FALSE(runs[0].actual.has_value());
  EXPECT_TRUE(has_warning(w, "_output.log", "line 4: Time negative")) << dump(w);
}

// `nan` is the original's own value for a run it could not measure: kept, not a damaged record.
TEST(LogValueRanges, NanBlockIsKeptAndLeftOutOfTheTotals) {
  LogDir logs;
  logs.add("nan_1", kStdHead + epoch(1, "0:01:00", "100", "50"), output_log("nan", "nan"));
  std::vector<ParseWarning> w;
  auto runs = logs.parse(&w);
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_TRUE(runs[0].actual.has_value());
  EXPECT_TRUE(std::isnan(runs[0].actual->energy_kwh));
  auto total = detail::aggregate(runs);
  EXPECT_EQ(total.nan_skipped, 1u);
  EXPECT_DOUBLE_EQ(total.energy_kwh, 0.0);
}

// An epoch whose duration or power is out of range is left out of the run; the other epochs stay.
TEST(LogValueRanges, DamagedEpochIsLeftOutWithFileAndLine) {
  struct Case {
    std::string duration, gpu, cpu, why;
  };
  for (const auto& c : std::vector<Case>{{"-0:01:00", "100", "50", "duration negative"},
                                         {"0:01:00", "-100", "50", "power negative"},
                                         {"0:01:00", "100", "inf", "power not finite"},
                                         {"0:01:00", "[100.0 -3.0]", "50", "device power negative"}}) {
    LogDir logs;
    logs.add("run_1", kStdHead + epoch(1, "0:01:00", "100", "50") + epoch(2, c.duration, c.gpu, c.cpu) +
                          epoch(3, "0:01:00", "100", "50"),
             output_log("0.1", "1"));
    std::vector<ParseWarning> w;
    auto runs = logs.parse(&w);
    ASSERT_EQ(runs.size(), 1u) << dump(w);
    ASSERT_EQ(runs[0].epochs.size(), 2u) << c.why;
    EXPECT_EQ(runs[0].epochs[0].index, 1);
    EXPECT_EQ(runs[0].epochs[1].index, 3);
    for (const auto& e : runs[0].epochs) EXPECT_GE(e.joules(), 0.0);
    EXPECT_TRUE(has_warning(w, "run_1_carbontracker.log", c.why)) << dump(w);
    EXPECT_TRUE(has_warning(w, "run_1_carbontracker.log", "epoch 2 left out")) << dump(w);
  }
}

// Values that are not totals but would reach the report: ignored, with the line.
TEST(LogValueRanges, OutOfRangePueAndIntensityAreIgnored) {
  LogDir logs;
  logs.add("run_1",
           kStdHead + "2020-06-01 10:00:00 - PUE coefficient of 158 used.\n" +
               "2020-06-01 10:00:01 - Carbon intensities (gCO2eq/kWh) fetched every 900 s at detected location: "
               "Copenhagen: [120.5, -3.0, 99999.0]\n" +
               epoch(1, "0:01:00", "100", "50"),
           output_log("0.1", "1"));
  std::vector<ParseWarning> w;
  auto runs = logs.parse(&w);
  ASSERT_EQ(runs.size(), 1u) << dump(w);
  EXPECT_FALSE(runs[0].pue.has_value());
  EXPECT_EQ(runs[0].intensities, std::vector<double>{120.5});
  EXPECT_TRUE(has_warning(w, "_carbontracker.log", "line 3: PUE 158.00 is outside 1 to 10")) << dump(w);
  EXPECT_TRUE(has_warning(w, "_carbontracker.log", "line 4: carbon intensity -3.00")) << dump(w);
}

// Finite but absurd options would overflow to inf once multiplied; they are refused in one line,
// and the largest accepted values keep every figure finite.
TEST(OptionRanges, AbsurdValuesAreRefusedAndTheBoundsStayFinite) {
  auto error = [](const std::function<void(Options&)>& change) {
    Options o;
    o.epochs = 1;
    change(o);
    try {
      validate(o);
    } catch (const OptionsError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error([](Options& o) { o.pue = 1e308; }), "pue must be at most 10 (no data centre survey reports one above 3).");
  EXPECT_NE(error([](Options& o) { o.intensity_g_per_kwh = 1e308; }).find("from 0 to 2000"), std::string::npos);
  EXPECT_NE(error([](Options& o) { o.sim_cpu = "x", o.sim_cpu_tdp = 1e308; }).find("at most 50000 W"), std::string::npos);
  EXPECT_NE(error([](Options& o) { o.sim_gpu = "x", o.sim_gpu_watts = 1e308; }).find("at most 50000 W"), std::string::npos);
  EXPECT_NE(error([](Options& o) { o.update_interval = 1e308; }).find("86400"), std::string::npos);
  EXPECT_NE(error([](Options& o) { o.intensity_refresh_s = 1e308; }).find("86400"), std::string::npos);
  EXPECT_NE(error([](Options& o) { o.replay_offset_s = 1e308; }).find("1e9"), std::string::npos);
  EXPECT_NE(error([](Options& o) { o.country = "garbage"; }).find("ISO 3166-1"), std::string::npos);
  EXPECT_NE(error([](Options& o) { o.cloud = "nowhere"; }).find("provider:region"), std::string::npos);
  // carbontracker's own messages below the range are kept.
  EXPECT_EQ(error([](Options& o) { o.sim_cpu = "x", o.sim_cpu_tdp = -1; }), "CPU TDP must be a non-negative number.");
  EXPECT_EQ(error([](Options& o) { o.pue = 0.5; }), "pue must be a finite number >= 1.0.");
  // At the bounds: accepted, and the product a total is made of stays finite.
  EXPECT_EQ(error([](Options& o) {
              o.pue = limits::kMaxPue;
              o.intensity_g_per_kwh = limits::kMaxIntensityGPerKwh;
              o.sim_cpu = "x", o.sim_cpu_tdp = limits::kMaxDeviceWatts;
            }),
            "");
  double worst_g = limits::kMaxDeviceWatts * 1e9 /*s, 31 years*/ / 3.6e6 * limits::kMaxPue * limits::kMaxIntensityGPerKwh;
  EXPECT_TRUE(std::isfinite(worst_g));
}

// A location variable that cannot be used reaches the run's warnings once (docs/intensity.md).
TEST(EnvLocation, GarbageVariablesWarnOnceThroughTheService) {
  ewtest::ScopedEnv offline("EPOCHWATT_OFFLINE", "1");
  ewtest::ScopedEnv config("EPOCHWATT_CONFIG", "/nonexistent/config.ini");
  ewtest::ScopedEnv zone("EPOCHWATT_ZONE", std::nullopt);
  ewtest::ScopedEnv postcode("EPOCHWATT_POSTCODE", std::nullopt);
  ewtest::ScopedEnv country("EPOCHWATT_COUNTRY", "garbage");
  ewtest::ScopedEnv lat("EPOCHWATT_LAT", "123");
  ewtest::ScopedEnv lon("EPOCHWATT_LON", "10");
  ewtest::ScopedEnv region("EPOCHWATT_GB_REGION_ID", "99");
  ewtest::ScopedEnv cloud("EPOCHWATT_CLOUD", "aws:nowhere-1");
  Options o;
  o.epochs = 1;
  o.cache_dir = "none";
  detail::IntensityService s(o);
  std::string text;
  for (const auto& n : s.take_notes())
    if (n.warning) text += n.text + "\n";
  for (const std::string var : {"EPOCHWATT_COUNTRY='garbage'", "EPOCHWATT_LAT='123'", "EPOCHWATT_GB_REGION_ID='99'",
                                "EPOCHWATT_CLOUD='aws:nowhere-1'"}) {
    EXPECT_NE(text.find(var), std::string::npos) << var << "\n" << text;
    EXPECT_EQ(text.find(var), text.rfind(var)) << "twice: " << var;
  }
  EXPECT_FALSE(s.location().located());
}

// --quiet (verbose -1) keeps INFO off the console but not warnings, nor the err log; verbose 0
// (carbontracker's) still prints INFO, as the original does.
TEST(QuietConsole, InfoSilencedWarningsKept) {
  ewtest::TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  for (int verbose : {-1, 0}) {
    std::ostringstream console;
    {
      detail::CtLogger log(clock, &console, verbose, dir.str() + "/v" + std::to_string(verbose + 1), "");
      log.err(detail::Level::info, "no AMD GPU found", "MainThread");
      log.err(detail::Level::warning, "a meter failed", "MainThread");
      log.output("report block");
      log.flush();
      std::stringstream all;
      all << std::ifstream(log.files().error).rdbuf();
      EXPECT_NE(all.str().find("INFO - no AMD GPU found"), std::string::npos) << verbose;
    }
    EXPECT_EQ(console.str().find("report block"), std::string::npos) << verbose;
    EXPECT_NE(console.str().find("WARNING - a meter failed"), std::string::npos) << verbose;
    EXPECT_EQ(console.str().find("INFO - no AMD GPU found") != std::string::npos, verbose == 0) << console.str();
  }
}
