// The JSON summary (src/report/json_summary.cpp): where it goes, what it holds, that the original
// parser never takes it for a log (spec §1 rule 5, §8.1), and that no global locale changes any
// number written in the logs or the JSON.
#include <gtest/gtest.h>

#include <clocale>
#include <filesystem>
#include <locale>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "core/format.hpp"
#include "epochwatt/epochwatt.hpp"
#include "report/run_json.hpp"
#include "unit/summary_epochs.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using ewtest::Scenario;
using nlohmann::json;

TEST(JsonSummary, WrittenBesideTheLogsWithANameNoLogPatternMatches) {
  auto r = ewtest::run_scenario(Scenario::full_run);
  ASSERT_FALSE(r.json_path.empty());
  std::filesystem::path p(r.json_path);
  EXPECT_EQ(p.parent_path(), r.dir.path());
  ASSERT_TRUE(std::filesystem::exists(p));
  const std::string name = p.filename().string();
  EXPECT_TRUE(std::regex_match(name, std::regex(R"(\d+\.\d+_2025-01-01T000000Z_epochwatt\.json)"))) << name;
  // The original matches its patterns with re.match against the joined path: "carbontracker",
  // any character, "log" anywhere means a log file (§8.1).
  EXPECT_FALSE(std::regex_search(r.json_path, std::regex("carbontracker.log")));
  EXPECT_FALSE(std::regex_search(r.json_path, std::regex("carbontracker_output.log")));
  // And the logs carry the original's names, stamp in real UTC (D19).
  const std::string stem = name.substr(0, name.size() - std::string("_epochwatt.json").size());
  EXPECT_EQ(std::filesystem::path(r.standard_log_path).filename().string(), stem + "_carbontracker.log");
  EXPECT_EQ(std::filesystem::path(r.output_log_path).filename().string(), stem + "_carbontracker_output.log");
  EXPECT_EQ(std::filesystem::path(r.err_log_path).filename().string(), stem + "_carbontracker_err.log");
  // No temporary file is left behind.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(r.dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 4);
}

TEST(JsonSummary, HoldsContextDevicesEpochsPredictionActualAndIntensity) {
  auto r = ewtest::run_scenario(Scenario::full_run);
  json j = json::parse(ewtest::read_file(r.json_path));

  const json& ctx = j["context"];
  EXPECT_EQ(ctx["tool"], "epochwatt");
  EXPECT_EQ(ctx["version"], kVersion);
  EXPECT_EQ(ctx["json_schema_version"], kJsonSchemaVersion);
  EXPECT_EQ(ctx["started_utc"], "2025-01-01T00:00:00.000Z");
  EXPECT_EQ(j["finished_utc"], "2025-01-01T00:00:30.000Z");
  EXPECT_EQ(ctx["components"], json({"gpu", "cpu"}));
  EXPECT_DOUBLE_EQ(ctx["pue"].get<double>(), 1.58);
  EXPECT_EQ(ctx["epochs_planned"], 3);
  EXPECT_EQ(ctx["epochs_before_pred"], 1);
  EXPECT_EQ(ctx["monitor_epochs"], 3);
  EXPECT_EQ(j["log_files"]["standard"], r.standard_log_path);
  EXPECT_EQ(j["log_files"]["output"], r.output_log_path);
  ASSERT_EQ(ctx["devices"].size(), 4u);
  EXPECT_EQ(ctx["devices"][0]["id"], "test:gpu0");
  EXPECT_EQ(ctx["devices"][0]["component"], "gpu");
  EXPECT_EQ(ctx["devices"][0]["device"], ewtest::kGpuName);
  EXPECT_EQ(ctx["devices"][0]["method"], "counter");
  EXPECT_EQ(ctx["devices"][3]["id"], "test:dram0");
  EXPECT_EQ(ctx["devices"][3]["component"], "dram");
  EXPECT_EQ(ctx["devices"][3]["device"], "dram:0");
  EXPECT_EQ(ctx["devices"][3]["method"], "counter");

  // The epochs as columns (schema version 3): one array per figure and per device.
  EXPECT_EQ(j["epochs"]["layout"], "columns");
  EXPECT_EQ(j["epochs"]["count"], 3);
  EXPECT_EQ(j["epochs"]["epoch"], json({1, 2, 3}));
  EXPECT_EQ(j["epochs"]["interrupted_rows"], json::array());
  ASSERT_EQ(j["epochs"]["devices"].size(), 4u);
  EXPECT_EQ(j["epochs"]["devices"][2]["meter"], "test:cpu0");
  EXPECT_EQ(j["epochs"]["devices"][2]["joules"], json({450.0, 450.0, 450.0}));
  const json epochs = ewtest::summary_epochs(j);
  ASSERT_EQ(epochs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const json& e = epochs[i];
    EXPECT_EQ(e["epoch"], i + 1);
    EXPECT_EQ(e["interrupted"], false);
    EXPECT_DOUBLE_EQ(e["duration_s"].get<double>(), 10.0);
    EXPECT_DOUBLE_EQ(e["joules"].get<double>(), 3500.0);
    ASSERT_EQ(e["devices"].size(), 4u);
    EXPECT_EQ(e["devices"][1]["meter"], "test:gpu1");
    EXPECT_EQ(e["devices"][1]["method"], "counter");
    EXPECT_EQ(e["devices"][1]["complete"], true);
    EXPECT_DOUBLE_EQ(e["devices"][1]["joules"].get<double>(), 1500.0);
  }
  for (const char* key : {"prediction", "actual"}) {
    const json& c = j[key];
    const Consumption& expected = std::string(key) == "prediction" ? *r.prediction : r.totals;
    EXPECT_EQ(c["epochs"], 3) << key;
    EXPECT_DOUBLE_EQ(c["duration_s"].get<double>(), 30.0) << key;
    EXPECT_DOUBLE_EQ(c["energy_kwh"].get<double>(), expected.energy_kwh) << key;  // shortest round trip
    EXPECT_DOUBLE_EQ(c["co2_g"].get<double>(), expected.co2_g) << key;
    EXPECT_DOUBLE_EQ(c["intensity_g_per_kwh"].get<double>(), 445.0) << key;
    EXPECT_EQ(c["intensity_source"], "world-average") << key;
    EXPECT_DOUBLE_EQ(c["km_by_car"].get<double>(), expected.km_by_car) << key;
  }
  EXPECT_EQ(j["early_stop"], false);
  EXPECT_EQ(j["intensity"]["source"], "world-average");
  EXPECT_DOUBLE_EQ(j["intensity"]["g_per_kwh"].get<double>(), 445.0);
  EXPECT_EQ(j["intensity"]["live"], false);
  EXPECT_EQ(j["intensity"]["location"], "");
  EXPECT_EQ(j["intensity"]["location_rule"], "none");
  EXPECT_EQ(j["intensity"]["values"], json({445.0}));
  EXPECT_NE(j["intensity"]["description"].get<std::string>().find("IEA"), std::string::npos);
}

// Schema version 1 (epochwatt 0.1.0) held finished_utc and log_files inside the context block;
// `epochwatt report` and from_json still read such a summary as they read a version 2 one.
TEST(JsonSummary, ReadsSchemaVersion1) {
  auto r = ewtest::run_scenario(Scenario::full_run);
  json v2 = json::parse(ewtest::read_file(r.json_path));
  json v1 = v2;
  v1["context"]["json_schema_version"] = 1;
  v1["context"]["finished_utc"] = v1["finished_utc"];
  v1["context"]["log_files"] = v1["log_files"];
  v1.erase("finished_utc");
  v1.erase("log_files");

  const epochwatt::Run a = v1.get<epochwatt::Run>(), b = v2.get<epochwatt::Run>();
  EXPECT_EQ(a.finished, b.finished);
  EXPECT_EQ(detail::utc_iso8601(a.finished), "2025-01-01T00:00:30.000Z");
  EXPECT_EQ(a.log_std, r.standard_log_path);
  EXPECT_EQ(a.log_output, r.output_log_path);
  EXPECT_EQ(nlohmann::ordered_json(a).dump(), nlohmann::ordered_json(b).dump()) << "the same run, whatever its version";
}

// An integer field holding a number its type cannot hold (a damaged or hostile summary given to
// `epochwatt report`) keeps its default, as a mistyped field does; an integral float is read.
// nlohmann's own conversion would cast 1e308 into an int, which is undefined (fuzz/json_summary).
TEST(JsonSummary, IntegersOutOfTheirTypesRangeKeepTheirDefault) {
  auto r = ewtest::run_scenario(Scenario::full_run);
  json j = json::parse(ewtest::read_file(r.json_path));
  ASSERT_TRUE(j["epochs"].is_object() && !j["epochs"]["epoch"].empty());
  const epochwatt::Run defaults;
  const epochwatt::EpochSummary default_epoch;
  j["context"]["epochs_planned"] = 1e308;
  j["context"]["decimal_precision"] = 4294967296LL;  // 2^32: fits in int64, not in int
  j["context"]["monitor_epochs"] = -1e300;
  j["context"]["epochs_before_pred"] = 2.5;
  j["context"]["pid"] = 18446744073709551615ULL;  // 2^64 - 1: no long holds it
  j["epochs"]["epoch"][0] = 7.0;                  // integral: read
  j["prediction_detail"]["outlier_epochs"] = json::array({3, 1e300, -4294967296LL, 5});

  const epochwatt::Run run = j.get<epochwatt::Run>();
  EXPECT_EQ(run.context.epochs_planned, defaults.context.epochs_planned);
  EXPECT_EQ(run.context.decimal_precision, defaults.context.decimal_precision);
  EXPECT_EQ(run.context.monitor_epochs, defaults.context.monitor_epochs);
  EXPECT_EQ(run.context.epochs_before_pred, defaults.context.epochs_before_pred);
  EXPECT_EQ(run.context.pid, defaults.context.pid);
  ASSERT_FALSE(run.epochs.empty());
  EXPECT_EQ(run.epochs[0].index, 7);
  EXPECT_NE(default_epoch.index, 7);
  ASSERT_TRUE(run.prediction_detail.has_value());
  EXPECT_EQ(run.prediction_detail->outlier_epochs, (std::vector<int>{3, 5}));
}

TEST(JsonSummary, StoppedRunsSayEarlyStopAndKeepTheInterruptedEpoch) {
  auto r = ewtest::run_scenario(Scenario::stopped_mid_epoch);
  json j = json::parse(ewtest::read_file(r.json_path));
  EXPECT_EQ(j["early_stop"], true);
  ASSERT_EQ(j["epochs"]["count"], 3);
  EXPECT_EQ(j["epochs"]["interrupted_rows"], json({2}));
  EXPECT_DOUBLE_EQ(j["epochs"]["duration_s"][2].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(j["epochs"]["joules"][2].get<double>(), 1750.0);
  EXPECT_EQ(j["actual"]["epochs"], 2);
  EXPECT_DOUBLE_EQ(j["actual"]["duration_s"].get<double>(), 20.0);
}

TEST(JsonSummary, ExplicitPathAndSwitchingItOff) {
  ewtest::ScopedEnv no_country("EPOCHWATT_COUNTRY", std::nullopt);
  ewtest::TempDir dir;
  std::ostringstream console;
  {
    auto clock = std::make_shared<ManualClock>();
    Options o = ewtest::deterministic_options(clock, &console, 1);
    o.meters = ewtest::section14_meters();
    o.json_path = (dir.path() / "summary.json").string();  // no log_dir needed
    Tracker t(o);
    EXPECT_EQ(t.json_summary_path(), *o.json_path);
    ewtest::run_epoch(t, *clock, 10.0);
    t.stop();
    json j = json::parse(ewtest::read_file(*o.json_path));
    EXPECT_EQ(j["epochs"]["count"], 1);
    EXPECT_EQ(j["log_files"]["standard"], "");
  }
  {
    ewtest::TempDir logs;
    auto clock = std::make_shared<ManualClock>();
    Options o = ewtest::deterministic_options(clock, &console, 1);
    o.meters = ewtest::section14_meters();
    o.log_dir = logs.str();
    o.write_json_summary = false;
    Tracker t(o);
    EXPECT_EQ(t.json_summary_path(), "");
    ewtest::run_epoch(t, *clock, 10.0);
    t.stop();
    for (const auto& entry : std::filesystem::directory_iterator(logs.path()))
      EXPECT_EQ(entry.path().string().find(".json"), std::string::npos) << entry.path();
  }
}

// ------------------------------------------------------------------ locale

// A locale whose decimal point is ',' (de_DE first), or "" when the system has none installed.
std::string comma_locale() {
  std::vector<std::string> candidates = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                         "nl_NL.UTF-8", "da_DK.UTF-8", "it_IT.UTF-8", "es_ES.UTF-8"};
  auto installed = ewtest::run_command("locale -a 2>/dev/null");
  for (const auto& l : ewtest::split_lines(installed.out))
    if (!l.empty()) candidates.push_back(l);
  std::string found;
  for (const auto& name : candidates) {
    if (name == "C" || name == "POSIX" || name.rfind("C.", 0) == 0) continue;
    if (!std::setlocale(LC_ALL, name.c_str())) continue;
    bool comma = std::string(std::localeconv()->decimal_point) == ",";
    std::setlocale(LC_ALL, "C");
    if (!comma) continue;
    try {
      std::locale probe(name);
      (void)probe;
    } catch (const std::exception&) {
      continue;
    }
    found = name;
    break;
  }
  return found;
}

// Installs a global C++ and C locale for the scope.
class GlobalLocale {
 public:
  explicit GlobalLocale(const std::string& name) {
    std::locale::global(std::locale(name));
    std::setlocale(LC_ALL, name.c_str());
  }
  ~GlobalLocale() {
    std::locale::global(std::locale::classic());
    std::setlocale(LC_ALL, "C");
  }
};

// Everything a run writes, with the parts that differ between two runs (random log names,
// temporary folders) taken out.
struct LocaleProbe {
  std::string console, std_log, output_log, err_log;
  json summary;
};

LocaleProbe run_locale_probe() {
  ewtest::ScopedEnv tz("TZ", "UTC");
  ewtest::ScopedEnv no_country("EPOCHWATT_COUNTRY", std::nullopt);
  ewtest::TempDir dir;
  LocaleProbe p;
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = ewtest::deterministic_options(clock, &console, 4);
  o.log_dir = dir.str();
  o.country = "DK";  // 143.3: a value with decimals in the intensity list
  o.replay_trace = std::string(EPOCHWATT_TEST_DATA_DIR) + "/h100-cnn-training.csv";
  o.replay_offset_s = 35.0;  // the trace ends during epoch 3: a warning with a decimal time
  o.meters = {std::make_shared<ewtest::ScriptedMeter>("test:cpu0", Component::cpu, "cpu:0", 47.123),
              std::make_shared<ewtest::ScriptedMeter>("test:dram0", Component::dram, "dram:0", 0.00003)};
  std::string std_path, out_path, err_path, json_path;
  {
    Tracker t(o);
    ewtest::run_epoch(t, *clock, 2.5);
    ewtest::run_epoch(t, *clock, 3.25);
    ewtest::run_epoch(t, *clock, 4.125);
    t.epoch_start();
    t.flush();
    clock->advance(1.5);
    t.stop();
    std_path = t.standard_log_path();
    out_path = t.output_log_path();
    err_path = t.error_log_path();
    json_path = t.json_summary_path();
  }
  p.console = console.str();
  p.std_log = ewtest::read_file(std_path);
  p.output_log = ewtest::read_file(out_path);
  p.err_log = ewtest::read_file(err_path);
  p.summary = json::parse(ewtest::read_file(json_path));
  p.summary.erase("log_files");
  p.summary["context"].erase("run_id");  // a fresh UUID per run
  return p;
}

TEST(Locale, GlobalLocaleDoesNotChangeAnyNumber) {
  const std::string name = comma_locale();
  if (name.empty()) GTEST_SKIP() << "no locale with a ',' decimal point is installed (see `locale -a`)";

  LocaleProbe c = run_locale_probe();
  // The reference run says what it must.
  EXPECT_NE(c.std_log.find("detected location: DK: [143.3]\n"), std::string::npos);
  EXPECT_NE(c.std_log.find("Average carbon intensity during training was 143.30 gCO2eq/kWh. \n"), std::string::npos);
  EXPECT_NE(c.err_log.find("replay trace ended at 43.5945 s."), std::string::npos);
  EXPECT_NE(c.std_log.find("Duration: 0:00:03.25\n"), std::string::npos);
  EXPECT_NE(c.std_log.find("; dram:0=0.0000"), std::string::npos);  // fixed notation, never 3e-05
  EXPECT_EQ(c.std_log.find("e-05"), std::string::npos);

  LocaleProbe l;
  {
    GlobalLocale global(name);
    ASSERT_EQ(std::string(std::localeconv()->decimal_point), ",");
    l = run_locale_probe();
  }
  EXPECT_EQ(l.console, c.console);
  EXPECT_EQ(l.std_log, c.std_log);
  EXPECT_EQ(l.output_log, c.output_log);
  EXPECT_EQ(l.err_log, c.err_log);
  EXPECT_EQ(l.summary, c.summary);
  EXPECT_EQ(l.summary.dump(), c.summary.dump());
  // No decimal comma anywhere but in the ",mmm" of the err log's time stamps.
  std::string err_messages;
  for (const auto& line : ewtest::split_lines(l.err_log)) err_messages += line.substr(23) + "\n";
  for (const std::string* text : {&l.std_log, &l.output_log, &err_messages, &l.console})
    EXPECT_FALSE(std::regex_search(*text, std::regex(R"(\d,\d)"))) << "a decimal comma in:\n" << *text;
}

}  // namespace
