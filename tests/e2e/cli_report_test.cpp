// `epochwatt ... COMMAND`: what it prints, the log files it writes, and that the original
// carbontracker parser reads those files back to the numbers the console showed (spec §1 rule 1).
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "e2e/cli_harness.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;

// Simulated meters only, so the figures are exact whatever the machine has.
std::vector<std::string> sim_args(const std::string& log_dir) {
  return {"--log_dir", log_dir, "--sim-cpu", "X", "--sim-cpu-tdp", "100", "--sim-gpu", "Y", "--sim-gpu-watts", "300"};
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

nlohmann::json original_parser_json(const TempDir& io, const std::string& log_dir) {
  auto parsed = e2e::run({EPOCHWATT_PYTHON, EPOCHWATT_CT_PARSER, "json", log_dir}, io.path());
  EXPECT_EQ(parsed.exit_status, 0) << parsed.err;
  return nlohmann::json::parse(parsed.out);
}

TEST(CliReport, TheOriginalParserReadsBackThePrintedNumbers) {
  TempDir tmp;
  std::string logs = tmp / "logs";
  auto r = e2e::run(cli(concat(sim_args(logs), {"--", "sleep", "2"})), tmp.path());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.out, "") << "the tracker's console must be stderr: stdout is the child's alone";

  // The three carbontracker logs (the err log exists: with no location a WARNING is logged).
  std::string std_log = e2e::file_ending_with(logs, "_carbontracker.log");
  std::string out_log = e2e::file_ending_with(logs, "_carbontracker_output.log");
  ASSERT_FALSE(std_log.empty());
  ASSERT_FALSE(out_log.empty());
  ASSERT_FALSE(e2e::file_ending_with(logs, "_carbontracker_err.log").empty());
  EXPECT_NE(e2e::read_file(e2e::file_ending_with(logs, "_carbontracker_err.log")).find("WARNING"), std::string::npos);

  // The CLI's run is carbontracker's CLI run: one epoch, title without a count, no early stop.
  EXPECT_NE(r.err.find("\nActual consumption:\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Predicted"), std::string::npos);
  EXPECT_EQ(e2e::count(e2e::read_file(std_log), " - Epoch 1:"), 1u);
  EXPECT_EQ(e2e::read_file(std_log).find("Training was interrupted"), std::string::npos);

  auto energy = e2e::all_between(r.err, "\tEnergy:\t", " kWh");
  auto co2 = e2e::all_between(r.err, "\tCO2eq:\t", " g");
  ASSERT_EQ(energy.size(), 1u) << r.err;
  ASSERT_EQ(co2.size(), 1u) << r.err;

  nlohmann::json j = original_parser_json(tmp, logs);
  ASSERT_EQ(j["logs"].size(), 1u);
  const auto& log = j["logs"][0];
  EXPECT_DOUBLE_EQ(log["actual"]["energy (kWh)"].get<double>(), std::strtod(energy[0].c_str(), nullptr));
  EXPECT_DOUBLE_EQ(log["actual"]["co2eq (g)"].get<double>(), std::strtod(co2[0].c_str(), nullptr));
  EXPECT_TRUE(log["pred"].is_null());
  EXPECT_FALSE(log["early_stop"].get<bool>());
  EXPECT_DOUBLE_EQ(j["aggregate"]["kwh"].get<double>(), std::strtod(energy[0].c_str(), nullptr));

  // Simulated power = watts x util (0.5 by default).
  const auto& gpu = log["components"]["gpu"];
  const auto& cpu = log["components"]["cpu"];
  EXPECT_EQ(gpu["avg_power_usages (W)"], nlohmann::json::parse("[[150.0]]"));
  EXPECT_EQ(cpu["avg_power_usages (W)"], nlohmann::json::parse("[[50.0]]"));
  EXPECT_EQ(gpu["devices"], nlohmann::json::parse(R"(["Y"])"));
  EXPECT_EQ(cpu["devices"], nlohmann::json::parse(R"(["X"])"));
  double duration = gpu["epoch_durations (s)"][0].get<double>();
  EXPECT_GE(duration, 2.0);
  EXPECT_LT(duration, 4.0);
  // Energy on the console = (150 + 50) W x (the set-up + the epoch) x PUE, to the precision of
  // the logged duration (two decimals); the set-up is the few milliseconds between the tracker's
  // start and the command's (the actual includes it), under 50 ms.
  double kwh = std::strtod(energy[0].c_str(), nullptr);
  EXPECT_GE(kwh, 200.0 * (duration - 0.006) * 1.58 / 3.6e6);
  EXPECT_LE(kwh, 200.0 * (duration + 0.006 + 0.05) * 1.58 / 3.6e6);
}

TEST(CliReport, NoCommandIsAnEmptyEpochAndJsonGoesWhereAsked) {
  TempDir tmp;
  std::string logs = tmp / "logs";
  std::string json = tmp / "summary.json";
  auto r = e2e::run(cli(concat(sim_args(logs), {"--json", json})), tmp.path());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.err.find("\nActual consumption:\n"), std::string::npos) << r.err;
  auto summary = nlohmann::json::parse(e2e::read_file(json));  // throws if missing or broken
  EXPECT_TRUE(summary.is_object());
  EXPECT_EQ(e2e::file_ending_with(logs, "_epochwatt.json"), "") << "--json replaces the default path";
}

TEST(CliReport, QuietKeepsReportsOffTheConsoleButInTheLogs) {
  TempDir tmp;
  std::string logs = tmp / "logs";
  auto r = e2e::run(cli(concat(sim_args(logs), {"--quiet", "true"})), tmp.path());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.err.find("Actual consumption"), std::string::npos) << r.err;
  EXPECT_NE(e2e::read_file(e2e::file_ending_with(logs, "_carbontracker_output.log")).find("Actual consumption:"),
            std::string::npos);
}

TEST(CliReport, InlineValuesAndOurOwnSpellingsWork) {
  TempDir tmp;
  std::string logs = tmp / "my logs";
  auto r = e2e::run(cli({"--log-dir=" + logs, "--log-file-prefix=run7", "--sim-cpu=X", "--sim-cpu-tdp=10",
                         "--components=cpu", "--intensity=100", "--decimal-precision=3", "--quiet", "true"}),
                    tmp.path());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::string out_log = e2e::file_ending_with(logs, "_carbontracker_output.log");
  ASSERT_FALSE(out_log.empty()) << "no logs in " << logs;
  EXPECT_EQ(e2e::files_in(logs)[0].rfind("run7_", 0), 0u);
  std::string text = e2e::read_file(out_log);
  EXPECT_NE(text.find("Average carbon intensity during training was 100.00 gCO2eq/kWh."), std::string::npos) << text;
  EXPECT_NE(text.find("\tEnergy:\t0.000 kWh"), std::string::npos) << text;  // 3 decimals
}

// D20: options end at `--` or at the command's first word; later flags are the command's.
TEST(CliReport, FlagsAfterTheCommandBelongToTheCommand) {
  TempDir tmp;
  std::string logs = tmp / "logs";
  auto with_dashes = e2e::run(
      cli(concat(sim_args(logs), {"--", "sh", "-c", "echo \"$@\"", "x", "--log_dir", "foo"})), tmp.path());
  EXPECT_EQ(with_dashes.exit_status, 0) << with_dashes.err;
  EXPECT_EQ(with_dashes.out, "--log_dir foo\n");

  auto without = e2e::run(cli(concat(sim_args(logs), {"sh", "-c", "echo \"$@\"", "x", "--help", "--version"})),
                          tmp.path());
  EXPECT_EQ(without.exit_status, 0) << without.err;
  EXPECT_EQ(without.out, "--help --version\n");
  EXPECT_EQ(e2e::files_in(tmp / "foo").size(), 0u);
  EXPECT_EQ(e2e::files_in(logs).size(), 8u) << "two runs, four files each, all in --log_dir";
}

}  // namespace
