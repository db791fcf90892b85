// The machine-readable outputs (src/report/codecarbon_csv, jsonl_output, prometheus_output, the
// outputs): golden files of each format for the runs of spec §14 (tests/golden/outputs/), what
// each file holds while the run goes on, CSV append and header mismatch, a global de_DE locale,
// promtool's verdict on the textfile, and failures that must not stop the run.
//
// Rewrite the golden files after an intended change with EPOCHWATT_UPDATE_GOLDEN=1 (see
// tests/golden/README.md) and review every changed line.
#include <gtest/gtest.h>

#include <clocale>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <locale>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "epochwatt/epochwatt.hpp"
#include "report/codecarbon_csv.hpp"
#include "core/run_id.hpp"
#include "report/prometheus_output.hpp"
#include "report/run_json.hpp"
#include "golden_check.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using nlohmann::json;
namespace fs = std::filesystem;

const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

// A /proc with a fixed CPU model and memory size, so that the CSV's host columns that come from
// it are the same on every machine.
void write_fake_proc(const fs::path& dir) {
  fs::create_directories(dir);
  ewtest::write_file((dir / "cpuinfo").string(),
                     "processor\t: 0\nmodel name\t: Test CPU, 8 cores @ 2.00GHz\n\nprocessor\t: 1\n"
                     "model name\t: Test CPU, 8 cores @ 2.00GHz\n");
  ewtest::write_file((dir / "meminfo").string(), "MemTotal:       16777216 kB\nMemFree:         1000 kB\n");
}

struct OutputRun {
  ewtest::TempDir dir;
  std::string csv_path, jsonl_path, prom_path, json_path;
  std::string console;
  // What the files held after each ended epoch (before the run's end), and at the end.
  std::vector<std::string> jsonl_after_epoch, prom_after_epoch;
  std::string csv, jsonl, prom, json_summary;
  Consumption totals;
  std::optional<Consumption> prediction;
};

enum class Ending { full_run, stopped_mid_epoch };

// The §14 run (two GPUs of 150 W, cpu:0 45 W, dram:0 5 W: 350 W; epochs of 10 s; 445 g/kWh) with all
// three outputs. `csv_path` may point at a file shared by several runs.
OutputRun run_with_outputs(Ending ending, const std::string& csv_path = "",
                           std::vector<OutputSpec> extra = {}) {
  ewtest::ScopedEnv tz("TZ", "UTC");
  ewtest::ScopedEnv country("EPOCHWATT_COUNTRY", std::nullopt);
  OutputRun run;
  write_fake_proc(run.dir.path() / "proc");
  run.csv_path = csv_path.empty() ? (run.dir.path() / "emissions.csv").string() : csv_path;
  run.jsonl_path = (run.dir.path() / "run.jsonl").string();
  run.prom_path = (run.dir.path() / "epochwatt.prom").string();
  run.json_path = (run.dir.path() / "summary.json").string();
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = ewtest::deterministic_options(clock, &console, 3);
  o.meters = ewtest::section14_meters();
  o.proc_root = (run.dir.path() / "proc").string();
  o.outputs = {{OutputSpec::Format::csv, run.csv_path},
               {OutputSpec::Format::jsonl, run.jsonl_path},
               {OutputSpec::Format::prometheus, run.prom_path}};
  for (auto& e : extra) o.outputs.push_back(e);
  o.json_path = run.json_path;
  {
    Tracker t(o);
    for (int i = 0; i < 2; ++i) {
      ewtest::run_epoch(t, *clock, 10.0);
      run.jsonl_after_epoch.push_back(ewtest::read_file(run.jsonl_path));
      run.prom_after_epoch.push_back(ewtest::read_file(run.prom_path));
    }
    if (ending == Ending::full_run) {
      ewtest::run_epoch(t, *clock, 10.0);
    } else {
      t.epoch_start();
      t.flush();
      clock->advance(5.0);
    }
    t.stop();
    run.totals = t.totals();
    run.prediction = t.prediction();
  }
  run.console = console.str();
  run.csv = ewtest::read_file(run.csv_path);
  run.jsonl = ewtest::read_file(run.jsonl_path);
  run.prom = ewtest::read_file(run.prom_path);
  run.json_summary = ewtest::read_file(run.json_path);
  return run;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

// Split one CSV line into its fields (RFC 4180 quoting).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::size_t column(std::string_view name) {
  for (std::size_t i = 0; i < detail::kCodeCarbonColumns.size(); ++i)
    if (detail::kCodeCarbonColumns[i] == name) return i;
  throw std::runtime_error("no column " + std::string(name));
}

// What changes from machine to machine or run to run: the run id, the version, the host name,
// the context's os and pid (a number, masked as 0 so that the file stays JSON), the job's node (the
// host name), and the CSV's os, cpu_count and node columns (cpu_model and ram_total_size come from the fake /proc).
std::string mask(std::string text) {
  text = std::regex_replace(text, kUuid, "<run_id>");
  text = replace_all(text, std::string("\"version\":\"") + kVersion + "\"", "\"version\":\"<version>\"");
  text = replace_all(text, std::string("version=\"") + kVersion + "\"", "version=\"<version>\"");
  text = std::regex_replace(text, std::regex("\"host\":\"[^\"]*\""), "\"host\":\"<host>\"");
  text = std::regex_replace(text, std::regex("\"os\":\"[^\"]*\""), "\"os\":\"<os>\"");
  text = std::regex_replace(text, std::regex("\"pid\":[0-9]+"), "\"pid\":0");
  text = std::regex_replace(text, std::regex("\"node\":\"[^\"]*\""), "\"node\":\"<node>\"");
  text = std::regex_replace(text, std::regex("node=\"[^\"]*\""), "node=\"<node>\"");
  return text;
}
std::string mask_csv(const std::string& csv) {
  std::string out;
  for (const auto& line : ewtest::split_lines(csv)) {
    if (line.rfind("timestamp,", 0) == 0) {
      out += line + "\n";
      continue;
    }
    auto f = csv_fields(line);
    if (f.size() == detail::kCsvColumnCount) {
      f[column("os")] = "<os>";
      f[column("cpu_count")] = "<cpu_count>";
      f.back() = "<node>";  // the job's node: the host name
    }
    std::string l;
    for (std::size_t i = 0; i < f.size(); ++i) {  // appends only: g++ 12 -O3 -Wrestrict (GCC bug 105651)
      if (i) l += ',';
      l += detail::csv_field(f[i]);
    }
    out += mask(l) + "\n";
  }
  return out;
}

void expect_golden(const std::string& relative, const std::string& actual) {
  golden::expect_matches("outputs/" + relative, actual);
}

// ------------------------------------------------------------------ golden files

TEST(Outputs, GoldenFullRun) {
  auto r = run_with_outputs(Ending::full_run);
  expect_golden("section14_full_run/emissions.csv", mask_csv(r.csv));
  expect_golden("section14_full_run/run.jsonl", mask(r.jsonl));
  expect_golden("section14_full_run/epochwatt.prom", mask(r.prom));
  expect_golden("section14_full_run/epochwatt_after_epoch_1.prom", mask(r.prom_after_epoch[0]));
}

TEST(Outputs, GoldenStoppedMidEpoch) {
  auto r = run_with_outputs(Ending::stopped_mid_epoch);
  expect_golden("section14_stopped_mid_epoch/emissions.csv", mask_csv(r.csv));
  expect_golden("section14_stopped_mid_epoch/run.jsonl", mask(r.jsonl));
  expect_golden("section14_stopped_mid_epoch/epochwatt.prom", mask(r.prom));
}

// ------------------------------------------------------------------ CSV

TEST(OutputsCsv, HeaderIsCodeCarbonsColumnsInOrderThenTheJobs) {
  EXPECT_EQ(detail::codecarbon_header(false),
            "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
            "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,"
            "country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,"
            "cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,"
            "cpu_utilization_percent,gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,"
            "wue\n");
  EXPECT_EQ(detail::codecarbon_header(), detail::codecarbon_header(false).substr(0, detail::codecarbon_header(false).size() - 1) +
                                              ",job_id,step_id,rank,local_rank,world_size,node\n");
}

// A file an earlier version began, with CodeCarbon's 38 columns alone, keeps that shape: rows of 38.
TEST(OutputsCsv, AFileWithoutTheJobColumnsGetsRowsWithoutThem) {
  ewtest::TempDir dir;
  std::string csv = dir.str() + "/emissions.csv";
  ewtest::write_file(csv, detail::codecarbon_header(false));
  epochwatt::Run r;
  r.context.run_id = "r";
  r.context.job.rank = 1;
  detail::CsvReporter rep(csv, "/proc");
  rep.run_finished(r);
  auto lines = ewtest::split_lines(ewtest::read_file(csv));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(csv_fields(lines[1]).size(), detail::kCodeCarbonColumns.size());
  std::string fresh = dir.str() + "/new.csv";
  detail::CsvReporter rep2(fresh, "/proc");
  rep2.run_finished(r);
  lines = ewtest::split_lines(ewtest::read_file(fresh));
  ASSERT_EQ(lines.size(), 2u);
  auto f = csv_fields(lines[1]);
  ASSERT_EQ(f.size(), detail::kCsvColumnCount);
  EXPECT_EQ(f[detail::kCodeCarbonColumns.size() + 2], "1");  // rank
}

// Review of issue 14: every record of a rank says its job, rank and node. A rank of a multi-process
// job appending to such a 38-column file would write a row without them; its row goes to a sibling
// with the job columns instead (the old file untouched), and the ranks' rows there tell them apart.
TEST(OutputsCsv, ARankOfAJobNeverWritesARowWithoutTheJobColumns) {
  ewtest::TempDir dir;
  std::string csv = dir.str() + "/emissions.csv";
  ewtest::write_file(csv, detail::codecarbon_header(false));
  for (int rank : {0, 1}) {
    epochwatt::Run r;
    r.context.run_id = "r" + std::to_string(rank);
    r.context.job.job_id = "j";
    r.context.job.rank = rank;
    r.context.job.world_size = 2;
    r.context.job.node = "n";
    detail::CsvReporter rep(csv, "/proc");
    rep.run_finished(r);
  }
  EXPECT_EQ(ewtest::read_file(csv), detail::codecarbon_header(false));
  auto lines = ewtest::split_lines(ewtest::read_file(dir.str() + "/emissions_1.csv"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0] + "\n", detail::codecarbon_header());
  for (int rank : {0, 1}) {
    auto f = csv_fields(lines[1 + rank]);
    ASSERT_EQ(f.size(), detail::kCsvColumnCount);
    const std::size_t c = detail::kCodeCarbonColumns.size();
    EXPECT_EQ(f[c], "j");                          // job_id
    EXPECT_EQ(f[c + 2], std::to_string(rank));     // rank
    EXPECT_EQ(f[c + 4], "2");                      // world_size
    EXPECT_EQ(f[c + 5], "n");                      // node
  }
}

TEST(OutputsCsv, RowHoldsTheRunsFiguresInCodeCarbonsUnits) {
  auto r = run_with_outputs(Ending::full_run);
  auto lines = ewtest::split_lines(r.csv);
  ASSERT_EQ(lines.size(), 2u) << r.csv;
  auto f = csv_fields(lines[1]);
  ASSERT_EQ(f.size(), detail::kCsvColumnCount) << lines[1];
  auto d = [&](std::string_view name) { return std::stod(f[column(name)]); };
  EXPECT_TRUE(std::regex_match(f[column("run_id")], kUuid)) << f[column("run_id")];
  EXPECT_EQ(f[column("timestamp")], "2025-01-01T00:00:30.000Z");
  EXPECT_EQ(f[column("project_name")], "epochwatt");
  EXPECT_DOUBLE_EQ(d("duration"), 30.0);
  // 350 W for 30 s, x 1.58, in kWh; the CSV agrees with the tracker's own totals.
  EXPECT_DOUBLE_EQ(d("energy_consumed"), r.totals.energy_kwh);
  EXPECT_NEAR(d("energy_consumed"), 350.0 * 30 * 1.58 / 3.6e6, 1e-15);
  EXPECT_NEAR(d("cpu_energy") + d("gpu_energy") + d("ram_energy"), d("energy_consumed"), 1e-15);
  EXPECT_DOUBLE_EQ(d("emissions"), r.totals.co2_g / 1000.0);
  EXPECT_DOUBLE_EQ(d("emissions_rate"), d("emissions") / 30.0);
  EXPECT_DOUBLE_EQ(d("gpu_power"), 300.0);  // mean device power, without PUE
  EXPECT_DOUBLE_EQ(d("cpu_power"), 45.0);
  EXPECT_DOUBLE_EQ(d("ram_power"), 5.0);
  EXPECT_DOUBLE_EQ(d("pue"), 1.58);
  EXPECT_EQ(f[column("gpu_count")], "2");
  EXPECT_EQ(f[column("gpu_model")], std::string("2 x ") + ewtest::kGpuName);
  EXPECT_EQ(f[column("cpu_model")], "Test CPU, 8 cores @ 2.00GHz");  // quoted in the file: a comma
  EXPECT_NE(lines[1].find("\"Test CPU, 8 cores @ 2.00GHz\""), std::string::npos);
  EXPECT_DOUBLE_EQ(d("ram_total_size"), 16.0);
  EXPECT_EQ(f[column("tracking_mode")], "machine");
  // What epochwatt cannot know stays empty.
  for (const char* empty : {"experiment_id", "water_consumed", "country_name", "country_iso_code", "python_version",
                            "codecarbon_version", "cpu_utilization_percent", "gpu_utilization_percent",
                            "ram_utilization_percent", "ram_used_gb", "wue", "longitude", "latitude",
                            "cloud_provider", "cloud_region", "on_cloud", "region"})
    EXPECT_EQ(f[column(empty)], "") << empty;
}

TEST(OutputsCsv, AppendsOneRowPerRunUnderOneHeader) {
  ewtest::TempDir shared;
  const std::string csv = (shared.path() / "emissions.csv").string();
  auto first = run_with_outputs(Ending::full_run, csv);
  auto second = run_with_outputs(Ending::stopped_mid_epoch, csv);
  auto lines = ewtest::split_lines(ewtest::read_file(csv));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0] + "\n", detail::codecarbon_header());
  auto a = csv_fields(lines[1]), b = csv_fields(lines[2]);
  ASSERT_EQ(a.size(), detail::kCsvColumnCount);
  ASSERT_EQ(b.size(), detail::kCsvColumnCount);
  EXPECT_NE(a[column("run_id")], b[column("run_id")]);
  EXPECT_EQ(a[column("duration")], "30.0");
  EXPECT_EQ(b[column("duration")], "20.0");  // the interrupted epoch is not counted
  EXPECT_EQ(fs::exists(shared.path() / "emissions_1.csv"), false);
}

TEST(OutputsCsv, AnotherHeaderIsKeptAndTheRowGoesToASibling) {
  ewtest::TempDir shared;
  const std::string csv = (shared.path() / "emissions.csv").string();
  // CodeCarbon 2.3's 31 columns: a file we must not touch.
  const std::string old =
      "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,"
      "gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,"
      "python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
      "ram_total_size,tracking_mode,on_cloud,pue\n"
      "2024-01-01T00:00:00,codecarbon,x,1.0,0.1,0.1,1.0,1.0,1.0,0.1,0.1,0.1,0.3,France,FRA,,,,Linux,3.11,2.3.4,4,"
      "CPU,1,GPU,2.0,48.0,16.0,machine,N,1.0\n";
  ewtest::write_file(csv, old);
  auto first = run_with_outputs(Ending::full_run, csv);
  EXPECT_EQ(ewtest::read_file(csv), old);
  const std::string sibling = (shared.path() / "emissions_1.csv").string();
  auto lines = ewtest::split_lines(ewtest::read_file(sibling));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0] + "\n", detail::codecarbon_header());
  // One warning line, naming both files.
  std::size_t warnings = 0;
  for (const auto& l : ewtest::split_lines(first.console))
    if (l.find("WARNING") != std::string::npos && l.find("emissions_1.csv") != std::string::npos &&
        l.find(csv) != std::string::npos)
      ++warnings;
  EXPECT_EQ(warnings, 1u) << first.console;
  // The next run appends to the sibling.
  run_with_outputs(Ending::full_run, csv);
  EXPECT_EQ(ewtest::read_file(csv), old);
  EXPECT_EQ(ewtest::split_lines(ewtest::read_file(sibling)).size(), 3u);
  EXPECT_FALSE(fs::exists(shared.path() / "emissions_2.csv"));
}

TEST(OutputsCsv, FieldsWithCommasQuotesOrNewlinesAreQuoted) {
  EXPECT_EQ(detail::csv_field("plain"), "plain");
  EXPECT_EQ(detail::csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(detail::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(detail::csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(detail::csv_field(""), "");
}

// ------------------------------------------------------------------ JSON Lines

TEST(OutputsJsonl, OneLinePerEpochAsItEndsThenOneForTheRun) {
  auto r = run_with_outputs(Ending::stopped_mid_epoch);
  ASSERT_EQ(r.jsonl_after_epoch.size(), 2u);
  EXPECT_EQ(ewtest::split_lines(r.jsonl_after_epoch[0]).size(), 1u);
  EXPECT_EQ(ewtest::split_lines(r.jsonl_after_epoch[1]).size(), 2u);
  // Lines are only ever appended.
  EXPECT_EQ(r.jsonl.rfind(r.jsonl_after_epoch[1], 0), 0u);
  auto lines = ewtest::split_lines(r.jsonl);
  ASSERT_EQ(lines.size(), 4u);  // epochs 1, 2, interrupted 3, run
  std::string run_id;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    json j = json::parse(lines[i]);
    const json& ctx = j.at("context");
    EXPECT_EQ(ctx.at("tool"), "epochwatt");
    EXPECT_EQ(ctx.at("version"), kVersion);
    EXPECT_EQ(ctx.at("json_schema_version"), kJsonSchemaVersion);
    EXPECT_FALSE(ctx.contains("jsonl_schema_version")) << "one schema-version key for every JSON output";
    EXPECT_TRUE(ctx.at("host").is_string());
    if (i == 0) run_id = ctx.at("run_id");
    EXPECT_EQ(ctx.at("run_id"), run_id);
    EXPECT_EQ(j.at("type"), i + 1 < lines.size() ? "epoch" : "run");
  }
  EXPECT_TRUE(std::regex_match(run_id, kUuid)) << run_id;
  EXPECT_EQ(json::parse(r.json_summary)["context"]["run_id"], run_id) << "the JSON summary joins the outputs by run_id";
  json e1 = json::parse(lines[0]);
  EXPECT_EQ(e1["epoch"], 1);
  EXPECT_DOUBLE_EQ(e1["joules"].get<double>(), 3500.0);
  EXPECT_DOUBLE_EQ(e1["joules_by_component"]["gpu"].get<double>(), 3000.0);
  EXPECT_EQ(e1["totals"]["epochs"], 1);
  json e3 = json::parse(lines[2]);
  EXPECT_EQ(e3["epoch"], 3);
  EXPECT_EQ(e3["interrupted"], true);
  EXPECT_DOUBLE_EQ(e3["duration_s"].get<double>(), 5.0);
  json run = json::parse(lines[3]);
  EXPECT_EQ(run["epochs_counted"], 2);
  EXPECT_EQ(run["epochs_interrupted"], 1);
  EXPECT_EQ(run["early_stop"], true);
  EXPECT_DOUBLE_EQ(run["actual"]["co2_g"].get<double>(), r.totals.co2_g);
  EXPECT_DOUBLE_EQ(run["prediction"]["energy_kwh"].get<double>(), r.prediction->energy_kwh);
}

// Every JSON Lines record carries the JSON summary's context block, key for key, and
// from_json reads the same RunContext from either.
TEST(OutputsJsonl, ContextBlockIsTheJsonSummarysAndReadsBack) {
  using nlohmann::ordered_json;
  auto r = run_with_outputs(Ending::full_run);
  const ordered_json summary_context = ordered_json::parse(r.json_summary).at("context");
  const RunContext from_summary = json::parse(r.json_summary).at("context").get<RunContext>();
  EXPECT_EQ(from_summary.meters.size(), 4u);
  EXPECT_EQ(from_summary.epochs_planned, 3);
  EXPECT_EQ(ordered_json(from_summary).dump(), summary_context.dump()) << "from_json reads what to_json wrote";
  for (const auto& line : ewtest::split_lines(r.jsonl)) {
    EXPECT_EQ(ordered_json::parse(line).at("context").dump(), summary_context.dump())
        << "same keys, in the same order, with the same values";
    const RunContext from_line = json::parse(line).at("context").get<RunContext>();
    EXPECT_EQ(ordered_json(from_line).dump(), ordered_json(from_summary).dump());
  }
}

// ------------------------------------------------------------------ Prometheus

TEST(OutputsPrometheus, CountersGaugesAndPredictionAfterEachEpoch) {
  auto r = run_with_outputs(Ending::full_run);
  const std::string& after1 = r.prom_after_epoch[0];
  const std::string id = [&] {
    std::smatch m;
    std::regex_search(after1, m, kUuid);
    return m.str();
  }();
  ASSERT_FALSE(id.empty());
  auto has = [&](const std::string& text, const std::string& sample) {
    return text.find(sample + "\n") != std::string::npos;
  };
  // After the run id, the job's labels: a single process on this host (docs/cluster.md).
  const std::string run = "run_id=\"" + id + "\",job=\"\",step=\"\",rank=\"0\",local_rank=\"0\",node=\"" +
                          detail::prometheus_label_value(detect_job(Options{}).node) + "\"";
  EXPECT_TRUE(has(after1, "epochwatt_epochs_done{" + run + "} 1")) << after1;
  EXPECT_TRUE(has(after1, "epochwatt_run_finished{" + run + "} 0"));
  EXPECT_TRUE(has(after1, "epochwatt_energy_joules_total{" + run + ",component=\"gpu\",device=\"" +
                              ewtest::kGpuName + "\",meter=\"test:gpu0\"} 1500.0"));
  EXPECT_TRUE(has(after1, "epochwatt_power_watts{" + run + ",component=\"cpu\",device=\"cpu:0\",meter=\"test:cpu0\"} 45.0"));
  EXPECT_TRUE(has(after1, "epochwatt_predicted_duration_seconds{" + run + "} 30.0"));
  EXPECT_NE(after1.find("# TYPE epochwatt_energy_joules_total counter\n"), std::string::npos);
  EXPECT_NE(after1.find("# TYPE epochwatt_power_watts gauge\n"), std::string::npos);
  EXPECT_NE(after1.find("# HELP epochwatt_emissions_grams_total "), std::string::npos);
  EXPECT_TRUE(has(r.prom, "epochwatt_epochs_done{" + run + "} 3"));
  EXPECT_TRUE(has(r.prom, "epochwatt_run_finished{" + run + "} 1"));
  EXPECT_TRUE(has(r.prom, "epochwatt_energy_joules_total{" + run + ",component=\"gpu\",device=\"" +
                              ewtest::kGpuName + "\",meter=\"test:gpu1\"} 4500.0"));
  EXPECT_TRUE(has(r.prom, "epochwatt_emissions_grams_total{" + run + "} " + detail::prometheus_number(r.totals.co2_g)));
  // Written atomically: no temporary file is left beside it.
  for (const auto& entry : fs::directory_iterator(r.dir.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

// The power gauge is the newest counted epoch's that lasted some time: two epoch lines read together
// end a 0 s epoch, which has no power to show (the gauge would vanish or read 0).
TEST(OutputsPrometheus, PowerComesFromTheNewestEpochThatLastedSomeTime) {
  epochwatt::Run r;
  r.context.run_id = "00000000-0000-4000-8000-000000000000";
  MeterInfo m;
  m.id = "m0";
  m.device_name = "cpu:0";
  r.context.meters = {m};
  auto epoch = [](int index, double s, double j) {
    EpochSummary e;
    e.index = index;
    e.duration_s = s;
    e.joules = j;
    DeviceEnergy d;
    d.meter_id = "m0";
    d.device_name = "cpu:0";
    d.joules = j;
    e.devices = {d};
    return e;
  };
  r.epochs.push_back(epoch(1, 2.0, 20.0));
  r.epochs.push_back(epoch(2, 4.0, 60.0));
  r.epochs.push_back(epoch(3, 0.0, 0.0));
  std::string text = detail::prometheus_text(r);
  EXPECT_NE(text.find("epochwatt_power_watts{run_id=\"" + r.context.run_id +
                      "\",job=\"\",step=\"\",rank=\"0\",local_rank=\"0\",node=\"\",component=\"cpu\",device=\"cpu:0\","
                      "meter=\"m0\"} 15.0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("meter=\"m0\"} 80.0\n"), std::string::npos) << "the joules of all three: " << text;
}

TEST(OutputsPrometheus, LabelValuesAndNumbersFollowTheExpositionFormat) {
  EXPECT_EQ(detail::prometheus_label_value("plain"), "plain");
  EXPECT_EQ(detail::prometheus_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(detail::prometheus_label_value("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(detail::prometheus_label_value("two\nlines"), "two\\nlines");
  EXPECT_EQ(detail::prometheus_number(std::nan("")), "NaN");
  EXPECT_EQ(detail::prometheus_number(HUGE_VAL), "+Inf");
  EXPECT_EQ(detail::prometheus_number(-HUGE_VAL), "-Inf");
  EXPECT_EQ(detail::prometheus_number(0.5), "0.5");
  EXPECT_EQ(detail::prometheus_number(5e-05), "5e-05");
}

TEST(OutputsPrometheus, DeviceNamesNeedingEscapesAreWrittenEscaped) {
  ewtest::TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 1);
  o.meters = {std::make_shared<ewtest::ScriptedMeter>("odd:0", Component::gpu, "GPU \"x\"\\y", 100.0)};
  const std::string prom = (dir.path() / "odd.prom").string();
  o.outputs = {{OutputSpec::Format::prometheus, prom}};
  {
    Tracker t(o);
    ewtest::run_epoch(t, *clock, 10.0);
    t.stop();
  }
  std::string text = ewtest::read_file(prom);
  EXPECT_NE(text.find("device=\"GPU \\\"x\\\"\\\\y\""), std::string::npos) << text;
}

// promtool (Debian's prometheus package) checks the exposition format and the naming rules.
TEST(OutputsPrometheus, PromtoolFindsNothingToComplainAbout) {
  const char* promtool = "/usr/bin/promtool";
  if (!fs::exists(promtool)) GTEST_SKIP() << "promtool not installed (apt-get install prometheus)";
  auto full = run_with_outputs(Ending::full_run);
  auto stopped = run_with_outputs(Ending::stopped_mid_epoch);
  // A run stopped inside its first epoch: no epoch counted, no power, no prediction.
  std::string none_counted;
  {
    ewtest::TempDir dir;
    auto clock = std::make_shared<ManualClock>();
    std::ostringstream console;
    Options o = ewtest::deterministic_options(clock, &console, 3);
    o.meters = ewtest::section14_meters();
    o.outputs = {{OutputSpec::Format::prometheus, (dir.path() / "early.prom").string()}};
    {
      Tracker t(o);
      t.epoch_start();
      t.flush();
      clock->advance(3.0);
      t.stop();
    }
    none_counted = ewtest::read_file((dir.path() / "early.prom").string());
  }
  ASSERT_NE(none_counted.find("epochwatt_epochs_done{"), std::string::npos) << none_counted;
  for (const std::string* text : {&full.prom, &full.prom_after_epoch[0], &stopped.prom, &none_counted}) {
    ewtest::TempDir dir;
    const std::string path = (dir.path() / "check.prom").string();
    ewtest::write_file(path, *text);
    auto res = ewtest::run_command(std::string(promtool) + " check metrics < " + ewtest::shell_quote(path) + " 2>&1");
    EXPECT_EQ(res.status, 0) << res.out << "\n" << *text;
    EXPECT_EQ(res.out, "") << *text;
  }
}

// ------------------------------------------------------------------ locale

TEST(Outputs, AGlobalGermanLocaleChangesNoNumber) {
  auto plain = run_with_outputs(Ending::full_run);
  std::locale old_global;
  std::string old_c = std::setlocale(LC_ALL, nullptr);
  try {
    std::locale::global(std::locale("de_DE.UTF-8"));
  } catch (const std::exception&) {
    GTEST_SKIP() << "locale de_DE.UTF-8 is not installed (scripts/setup.sh generates it)";
  }
  std::setlocale(LC_ALL, "de_DE.UTF-8");
  ASSERT_EQ(std::string(std::localeconv()->decimal_point), ",");
  OutputRun german = run_with_outputs(Ending::full_run);
  std::locale::global(old_global);
  std::setlocale(LC_ALL, old_c.c_str());
  EXPECT_EQ(mask_csv(german.csv), mask_csv(plain.csv));
  EXPECT_EQ(mask(german.jsonl), mask(plain.jsonl));
  EXPECT_EQ(mask(german.prom), mask(plain.prom));
  EXPECT_NE(german.prom.find("epochwatt_pue{"), std::string::npos);
  EXPECT_EQ(german.prom.find("1,58"), std::string::npos) << german.prom;
}

// ------------------------------------------------------------------ failures and options

TEST(Outputs, AnUnwritableOutputWarnsOnceAndTheRunGoesOn) {
  ewtest::TempDir elsewhere;
  const std::string missing = (elsewhere.path() / "no-such-dir" / "x.prom").string();
  auto r = run_with_outputs(Ending::full_run, "", {{OutputSpec::Format::prometheus, missing}});
  EXPECT_EQ(ewtest::count_occurrences(r.console, "Prometheus output not written"), 1u) << r.console;
  EXPECT_EQ(ewtest::count_occurrences(r.console, missing), 1u);
  EXPECT_EQ(r.totals.epochs, 3);
  // The other outputs are whole.
  EXPECT_EQ(ewtest::split_lines(r.csv).size(), 2u);
  EXPECT_EQ(ewtest::split_lines(r.jsonl).size(), 4u);
  EXPECT_NE(r.prom.find("epochwatt_run_finished"), std::string::npos);
}

TEST(Outputs, OptionsRejectAnEmptyPathAndAPathGivenTwice) {
  Options o;
  o.epochs = 1;
  o.outputs = {{OutputSpec::Format::csv, ""}};
  EXPECT_THROW(validate(o), OptionsError);
  o.outputs = {{OutputSpec::Format::csv, "a.csv"}, {OutputSpec::Format::jsonl, "a.csv"}};
  try {
    validate(o);
    ADD_FAILURE() << "a path given twice was accepted";
  } catch (const OptionsError& e) {
    EXPECT_NE(std::string(e.what()).find("'a.csv' is given twice"), std::string::npos) << e.what();
  }
  o.outputs = {{OutputSpec::Format::csv, "a.csv"}, {OutputSpec::Format::jsonl, "a.jsonl"}};
  EXPECT_NO_THROW(validate(o));
}

TEST(Outputs, RunIdsAreVersion4Uuids) {
  std::string a = detail::make_run_id(), b = detail::make_run_id();
  EXPECT_TRUE(std::regex_match(a, kUuid)) << a;
  EXPECT_TRUE(std::regex_match(b, kUuid)) << b;
  EXPECT_NE(a, b);
}

}  // namespace
