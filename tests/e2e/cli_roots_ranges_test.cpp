// The real binary on roots given one level off (issue 12, item 1), on values out of range from
// logs, options and the environment (item 11), and on --quiet and `plan`'s notes (item 7).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_harness.hpp"

namespace {

namespace fs = std::filesystem;
using e2e::cli;
using e2e::TempDir;
using nlohmann::json;

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// A two-socket host as the kernel lays it out: real zones nested under devices/virtual/powercap,
// flat links in class/powercap; plus a proc folder and an empty drm folder.
struct Host {
  TempDir dir;
  Host() {
    const std::string real = dir / "sys/devices/virtual/powercap/intel-rapl";
    for (int s = 0; s < 2; ++s) {
      std::string pkg = real + "/intel-rapl:" + std::to_string(s);
      write(pkg + "/name", "package-" + std::to_string(s) + "\n");
      write(pkg + "/energy_uj", "1000000\n");
      write(pkg + "/max_energy_range_uj", "262143328850\n");
      write(pkg + "/intel-rapl:" + std::to_string(s) + ":0/name", "dram\n");
      write(pkg + "/intel-rapl:" + std::to_string(s) + ":0/energy_uj", "500000\n");
      write(pkg + "/intel-rapl:" + std::to_string(s) + ":0/max_energy_range_uj", "65712999613\n");
      fs::create_directories(dir / "sys/class/powercap");
      fs::create_directory_symlink(pkg, dir / ("sys/class/powercap/intel-rapl:" + std::to_string(s)));
    }
    fs::create_directory_symlink(real, dir / "sys/class/powercap/intel-rapl");
    write(dir / "proc/cpuinfo", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n");
    write(dir / "proc/stat", "cpu  10 0 10 80 0 0 0 0\ncpu0 10 0 10 80\n");
    write(dir / "proc/meminfo", "MemTotal:       8388608 kB\n");
    fs::create_directories(dir / "drm");
  }
  e2e::Outcome devices(const std::string& powercap, const std::string& proc) {
    return e2e::run(cli({"devices", "--powercap-root", powercap, "--drm-root", dir / "drm", "--proc-root", proc,
                         "--nvml-library", dir / "no-libnvidia-ml.so.1"}),
                    dir.path());
  }
};

}  // namespace

// case04: the RAPL tree given as .../powercap/intel-rapl (or any level around it) lists both DRAM
// zones; a folder that holds none is refused with the level to give.
TEST(CliRoots, DevicesFindsNestedDramFromEveryPowercapLevel) {
  Host h;
  for (const std::string rel : {"sys/class/powercap", "sys/class/powercap/intel-rapl", "sys/devices/virtual/powercap",
                                "sys/class"}) {
    e2e::Outcome o = h.devices(h.dir / rel, h.dir / "proc");
    ASSERT_EQ(o.exit_status, 0) << o.err;
    EXPECT_EQ(e2e::count(o.out, "dram:0  [counter]") + e2e::count(o.out, "dram:1  [counter]"), 2u) << rel << "\n"
                                                                                                   << o.out;
  }
  e2e::Outcome wrong = h.devices(h.dir / "sys", h.dir / "proc");
  EXPECT_NE(wrong.out.find("give the folder that holds the intel-rapl:N zones (normally /sys/class/powercap)"),
            std::string::npos)
      << wrong.out;
}

TEST(CliRoots, ProcRootGivenAsAFileOrOneLevelUpStillEstimates) {
  Host h;
  for (const std::string& given : {h.dir / "proc/stat", std::string(h.dir.path())}) {
    e2e::Outcome o = h.devices(h.dir / "sys/class/powercap", given);
    ASSERT_EQ(o.exit_status, 0) << o.err;
    EXPECT_NE(o.out.find("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz  [estimate]"), std::string::npos) << given << o.out;
    EXPECT_NE(o.out.find("read " + (h.dir / "proc")), std::string::npos) << o.out;
  }
}

namespace {

const char* kStd =
    "2020-06-01 10:00:00 - The following components were found: GPU with device(s) Tesla V100.\n"
    "2020-06-01 10:01:00 - Epoch 1:\n"
    "2020-06-01 10:01:00 - Duration: 0:01:00\n"
    "2020-06-01 10:01:00 - Average power usage (W) for gpu: 100\n";

std::string out_log(const std::string& energy, const std::string& co2) {
  return "2020-06-01 10:00:00 - The following components were found: GPU with device(s) Tesla V100.\n"
         "2020-06-01 10:02:00 - CarbonTracker: \nActual consumption for 1 epoch(s):\n\tTime:\t0:01:00\n\tEnergy:\t" +
         energy + " kWh\n\tCO2eq:\t" + co2 + " g\n";
}

void add_run(const std::string& dir, const std::string& id, const std::string& energy, const std::string& co2) {
  write(dir + "/" + id + "_carbontracker.log", kStd);
  write(dir + "/" + id + "_carbontracker_output.log", out_log(energy, co2));
}

// Every number in the JSON: finite, and not negative.
void expect_sane_numbers(const json& j, const std::string& path = "") {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) expect_sane_numbers(it.value(), path + "." + it.key());
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) expect_sane_numbers(j[i], path + "[" + std::to_string(i) + "]");
  } else if (j.is_number_float()) {
    EXPECT_TRUE(std::isfinite(j.get<double>()) && j.get<double>() >= 0) << path << " = " << j.dump();
  }
}

}  // namespace

// fuzz-negative / fuzz-nonfinite: damaged records never reach parse's totals or report's page,
// and the warning names the file and the line; the NaN warning is in the JSON too.
TEST(CliRanges, ParseAndReportLeaveDamagedRecordsOut) {
  TempDir tmp;
  const std::string logs = tmp / "logs";
  add_run(logs, "1.1_2020-06-01T1000Z", "-5", "14.8");
  add_run(logs, "2.2_2020-06-01T1100Z", "inf", "0.03");
  add_run(logs, "3.3_2020-06-01T1200Z", "0.25", "50");
  add_run(logs, "4.4_2020-06-01T1300Z", "nan", "nan");
  e2e::Outcome o = e2e::run(cli({"parse", "--json", logs}), tmp.path());
  ASSERT_EQ(o.exit_status, 0) << o.err;
  json j = json::parse(o.out);
  EXPECT_DOUBLE_EQ(j["aggregate"]["energy_kwh"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(j["aggregate"]["co2_g"].get<double>(), 50.0);
  std::string warnings = j["warnings"].dump();
  EXPECT_NE(warnings.find("1.1_2020-06-01T1000Z_carbontracker_output.log"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("line 5: Energy negative"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("line 5: Energy not finite"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("logged nan energy or CO2eq"), std::string::npos) << warnings;
  EXPECT_NE(o.err.find("line 5: Energy negative"), std::string::npos) << o.err;
  json without_nan = j;
  without_nan["runs"].erase(3);  // the NaN run's own figures are the original's `nan`, written as null
  expect_sane_numbers(without_nan);

  e2e::Outcome r = e2e::run(cli({"report", logs + "/1.1_2020-06-01T1000Z_carbontracker.log", "--html", tmp / "r.html"}),
                            tmp.path());
  EXPECT_NE(r.err.find("Energy negative"), std::string::npos) << r.err;
  std::string page = e2e::read_file(tmp / "r.html");
  EXPECT_EQ(page.find("-5 kWh"), std::string::npos);
  EXPECT_EQ(page.find("-5.0"), std::string::npos);
}

// A log folder given one level up or down is read; one with nothing at either level is refused
// with the level to give.
TEST(CliRoots, ParseAndReportFindLogsOneLevelOff) {
  TempDir tmp;
  add_run(tmp / "project/logs", "1.1_2020-06-01T1000Z", "0.25", "50");
  add_run(tmp / "project/other", "2.2_2020-06-01T1100Z", "0.5", "100");
  e2e::Outcome up = e2e::run(cli({"parse", "--json", tmp / "project"}), tmp.path());
  ASSERT_EQ(up.exit_status, 0) << up.err;
  EXPECT_DOUBLE_EQ(json::parse(up.out)["aggregate"]["energy_kwh"].get<double>(), 0.75);
  EXPECT_NE(up.err.find("read the 2 subfolder(s)"), std::string::npos) << up.err;

  e2e::Outcome file = e2e::run(cli({"parse", "--json", tmp / "project/logs/1.1_2020-06-01T1000Z_carbontracker.log"}),
                               tmp.path());
  ASSERT_EQ(file.exit_status, 0) << file.err;
  EXPECT_DOUBLE_EQ(json::parse(file.out)["aggregate"]["energy_kwh"].get<double>(), 0.25);

  fs::create_directories(tmp / "empty/deeper");
  e2e::Outcome none = e2e::run(cli({"parse", tmp / "empty"}), tmp.path());
  EXPECT_EQ(none.exit_status, 1);
  EXPECT_NE(none.err.find("give the folder that holds the *_carbontracker.log"), std::string::npos) << none.err;

  e2e::Outcome report = e2e::run(cli({"report", tmp / "project", "--html", tmp / "r.html"}), tmp.path());
  EXPECT_EQ(report.exit_status, 0) << report.err;
  EXPECT_NE(report.err.find("reading its subfolder"), std::string::npos) << report.err;
  e2e::Outcome report_none = e2e::run(cli({"report", tmp / "empty", "--html", tmp / "r2.html"}), tmp.path());
  EXPECT_EQ(report_none.exit_status, 1);
  EXPECT_NE(report_none.err.find("give the folder that holds the run's"), std::string::npos) << report_none.err;
}

// Finite but absurd options are refused in one line, before anything runs.
TEST(CliRanges, AbsurdOptionsAreRefusedInOneLine) {
  TempDir tmp;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--pue", "1e308", "--sim-cpu", "X", "--sim-cpu-tdp", "100"},
           {"--intensity", "1e308", "--sim-cpu", "X", "--sim-cpu-tdp", "100"},
           {"--sim-cpu", "X", "--sim-cpu-tdp", "1e308"},
           {"--sim-gpu", "Y", "--sim-gpu-watts", "1e308"}}) {
    std::vector<std::string> argv = args;
    for (const char* a : {"--log_dir", "logs", "--offline", "--", "true"}) argv.push_back(a);
    e2e::Outcome o = e2e::run(cli(argv), tmp.path());
    EXPECT_EQ(o.exit_status, 2) << args[1] << "\n" << o.err;
    EXPECT_EQ(e2e::lines(o.err).size(), 1u) << o.err;
    EXPECT_FALSE(fs::exists(tmp / "logs")) << args[1];
  }
  e2e::Outcome plan = e2e::run(cli({"plan", "--duration", "1h", "--energy-kwh", "1e308", "--offline"}), tmp.path());
  EXPECT_EQ(plan.exit_status, 2) << plan.err;
  EXPECT_NE(plan.err.find("--energy-kwh: '1e308' is not a number of kWh from 0 to 1e9"), std::string::npos) << plan.err;
}

// EPOCHWATT_COUNTRY=garbage and friends: one warning each, the run goes on.
TEST(CliRanges, GarbageLocationVariablesWarnOnce) {
  TempDir tmp;
  std::vector<std::string> argv = {"/usr/bin/env", "EPOCHWATT_COUNTRY=garbage", "EPOCHWATT_CLOUD=nowhere",
                                   "EPOCHWATT_LAT=500", "EPOCHWATT_LON=10"};
  for (const auto& a : cli({"intensity", "--offline", "--json"})) argv.push_back(a);
  e2e::Outcome o = e2e::run(argv, tmp.path());
  ASSERT_EQ(o.exit_status, 0) << o.err;
  for (const std::string w : {"EPOCHWATT_COUNTRY='garbage'", "EPOCHWATT_CLOUD='nowhere'", "EPOCHWATT_LAT='500'"}) {
    EXPECT_EQ(e2e::count(o.err, w), 1u) << w << "\n" << o.err;
    EXPECT_NE(json::parse(o.out)["warnings"].dump().find(w), std::string::npos);
  }
}

// --quiet keeps INFO lines (absent vendors, the intensity source) off the console; warnings stay.
TEST(CliQuiet, QuietSuppressesInfoLines) {
  Host h;
  std::vector<std::string> base = {"--powercap-root", h.dir / "none", "--drm-root", h.dir / "drm", "--proc-root",
                                   h.dir / "proc", "--nvml-library", h.dir / "no-libnvidia-ml.so.1", "--offline",
                                   "--intensity", "100", "--sim-gpu", "Y", "--sim-gpu-watts", "100"};
  std::vector<std::string> loud = base, quiet = base;
  loud.insert(loud.end(), {"--log_dir", h.dir / "loud"});
  quiet.insert(quiet.end(), {"--log_dir", h.dir / "quiet", "--quiet"});
  for (auto* v : {&loud, &quiet})
    for (const char* a : {"--", "true"}) v->push_back(a);
  e2e::Outcome l = e2e::run(cli(loud), h.dir.path());
  e2e::Outcome q = e2e::run(cli(quiet), h.dir.path());
  ASSERT_EQ(l.exit_status, 0) << l.err;
  ASSERT_EQ(q.exit_status, 0) << q.err;
  EXPECT_NE((l.out + l.err).find("INFO - "), std::string::npos) << l.out << l.err;
  EXPECT_EQ((q.out + q.err).find("INFO - "), std::string::npos) << q.out << q.err;
  EXPECT_NE((l.out + l.err).find("Using simulated GPU: Y"), std::string::npos) << l.out << l.err;
  EXPECT_EQ((q.out + q.err).find("Using simulated GPU: Y"), std::string::npos) << q.out << q.err;
  // The err log keeps everything.
  std::string err_log = e2e::read_file(e2e::file_ending_with(h.dir / "quiet", "_err.log"));
  EXPECT_NE(err_log.find("INFO - "), std::string::npos);
}
