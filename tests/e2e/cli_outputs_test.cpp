// --output FORMAT:PATH (repeatable): the CLI writes the CodeCarbon-compatible CSV, the JSON Lines
// and the Prometheus textfile of a tracked command; bad values and carbontracker's PDF --output
// are refused with one line and status 2, before the command starts.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "e2e/cli_harness.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;

TEST(CliOutputs, WritesCsvJsonlAndPrometheusForATrackedCommand) {
  TempDir tmp;
  const std::string csv = tmp / "emissions.csv", jsonl = tmp / "run.jsonl", prom = tmp / "epochwatt.prom";
  auto r = e2e::run(cli({"--log_dir", tmp / "logs", "--sim-cpu", "X", "--sim-cpu-tdp", "10", "--components", "cpu",
                         "--epochs", "2", "--epoch-regex", "epoch \\d+ done", "--output", "csv:" + csv,
                         "--output", "prom:" + prom, "--output=jsonl:" + jsonl, "--", "sh", "-c",
                         "sleep 0.1; echo 'epoch 1 done'; sleep 0.1; echo 'epoch 2 done'"}),
                    tmp.path());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.out, "epoch 1 done\nepoch 2 done\n");
  EXPECT_EQ(r.err.find("output not written"), std::string::npos) << r.err;

  auto csv_lines = e2e::lines(e2e::read_file(csv));
  ASSERT_EQ(csv_lines.size(), 2u);
  EXPECT_EQ(csv_lines[0].rfind("timestamp,project_name,run_id,experiment_id,duration,emissions,", 0), 0u);
  EXPECT_EQ(e2e::count(csv_lines[1], ","), 43u) << csv_lines[1];  // CodeCarbon's 38 and the job's 6

  auto json_lines = e2e::lines(e2e::read_file(jsonl));
  ASSERT_EQ(json_lines.size(), 3u);  // two epochs and the run
  auto first = nlohmann::json::parse(json_lines[0]);
  auto last = nlohmann::json::parse(json_lines[2]);
  EXPECT_EQ(first["type"], "epoch");
  EXPECT_EQ(last["type"], "run");
  EXPECT_EQ(last["epochs_counted"], 2);
  const std::string run_id = last["context"]["run_id"];
  EXPECT_EQ(first["context"]["run_id"], run_id);
  EXPECT_NE(csv_lines[1].find("," + run_id + ","), std::string::npos) << "one run id across the outputs";

  std::string text = e2e::read_file(prom);
  // After the run id, the job's labels (docs/cluster.md): a single process, on this host.
  const std::string node = last["context"]["job"]["node"];
  EXPECT_FALSE(node.empty());
  const std::string labels = "run_id=\"" + run_id + "\",job=\"\",step=\"\",rank=\"0\",local_rank=\"0\",node=\"" + node + "\"";
  EXPECT_NE(text.find("epochwatt_epochs_done{" + labels + "} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("epochwatt_run_finished{" + labels + "} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE epochwatt_energy_joules_total counter\n"), std::string::npos);
  if (std::filesystem::exists("/usr/bin/promtool")) {
    auto check = e2e::run({"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + prom}, tmp.path());
    EXPECT_EQ(check.exit_status, 0) << check.out << check.err;
    EXPECT_EQ(check.out + check.err, "");
  }
}

struct BadOutput {
  const char* name;
  std::string value;
  std::string err;
};

class CliBadOutput : public ::testing::TestWithParam<BadOutput> {};

TEST_P(CliBadOutput, IsRefusedWithOneLineAndStatus2) {
  TempDir tmp;
  auto r = e2e::run(cli({"--log_dir", tmp / "logs", "--sim-cpu", "X", "--sim-cpu-tdp", "1", "--output",
                         GetParam().value, "--", "sh", "-c", "echo started"}),
                    tmp.path());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, GetParam().err);
  EXPECT_EQ(r.out, "") << "the command must not start";
}

INSTANTIATE_TEST_SUITE_P(
    Values, CliBadOutput,
    ::testing::Values(
        BadOutput{"CarbontrackersPdf", "report.pdf",
                  "epochwatt: --output report.pdf: a PDF is written only with --report STD_LOG (or `epochwatt "
                  "report LOG --pdf report.pdf`); --output otherwise takes FORMAT:PATH\n"},
        BadOutput{"UnknownFormat", "xml:out.xml",
                  "epochwatt: --output: 'xml:out.xml' is not FORMAT:PATH with FORMAT csv, jsonl or prometheus "
                  "(e.g. csv:emissions.csv)\n"},
        BadOutput{"NoPath", "csv:", "epochwatt: --output: 'csv:' has no path after 'csv:'\n"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CliOutputs, APathGivenTwiceIsRefused) {
  TempDir tmp;
  auto r = e2e::run(cli({"--log_dir", "", "--sim-cpu", "X", "--sim-cpu-tdp", "1", "--output", "csv:" + (tmp / "a"),
                         "--output", "jsonl:" + (tmp / "a"), "--", "sh", "-c", "echo started"}),
                    tmp.path());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, "epochwatt: outputs: '" + (tmp / "a") + "' is given twice; each output needs its own file.\n");
  EXPECT_EQ(r.out, "");
}

}  // namespace
