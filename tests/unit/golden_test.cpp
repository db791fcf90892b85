// Golden files of the console and the three carbontracker-format logs for the runs of spec §14
// (tests/golden/<scenario>/), and the format rules every such file must keep (§5.2-§5.4, §6, §8.2,
// §8.6). The runs are deterministic: ManualClock, TZ=UTC, no provider, no location.
//
// To rewrite the golden files after an intended change, run the unit tests with
// EPOCHWATT_UPDATE_GOLDEN=1, then review every changed line against the spec before committing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>

#include "epochwatt/version.hpp"
#include "golden_check.hpp"
#include "unit/support.hpp"

namespace {

using ewtest::Scenario;
using ewtest::ScenarioRun;

// The version changes with every release; the golden files should not.
std::string mask_version(std::string text) {
  const std::string from = std::string("epochwatt version ") + epochwatt::kVersion + "\n";
  const std::string to = "epochwatt version <version>\n";
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

void expect_golden(Scenario s, const std::string& file, const std::string& actual_text) {
  golden::expect_matches(ewtest::scenario_name(s) + "/" + file, mask_version(actual_text));
}

class Golden : public ::testing::TestWithParam<Scenario> {
 protected:
  static void SetUpTestSuite() {
    for (Scenario s : {Scenario::full_run, Scenario::stopped_after_epoch_2, Scenario::stopped_mid_epoch})
      runs_[static_cast<int>(s)] = std::make_unique<ScenarioRun>(ewtest::run_scenario(s));
  }
  static void TearDownTestSuite() {
    for (auto& r : runs_) r.reset();
  }
  const ScenarioRun& run() const { return *runs_[static_cast<int>(GetParam())]; }

 private:
  static std::unique_ptr<ScenarioRun> runs_[3];
};
std::unique_ptr<ScenarioRun> Golden::runs_[3];

std::string param_name(const ::testing::TestParamInfo<Scenario>& info) {
  return ewtest::scenario_name(info.param);
}

INSTANTIATE_TEST_SUITE_P(Section14, Golden,
                         ::testing::Values(Scenario::full_run, Scenario::stopped_after_epoch_2,
                                           Scenario::stopped_mid_epoch),
                         param_name);

TEST_P(Golden, Console) { expect_golden(GetParam(), "console.txt", run().console); }
TEST_P(Golden, OutputLog) { expect_golden(GetParam(), "output_log.txt", run().output_log); }
TEST_P(Golden, StandardLog) { expect_golden(GetParam(), "standard_log.txt", run().standard_log); }
TEST_P(Golden, ErrorLog) { expect_golden(GetParam(), "err_log.txt", run().err_log); }

// ------------------------------------------------------------------ format rules

const std::regex kTsPrefix(R"(^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - )");

// Lines of a log file with their "<ts> - " removed; continuation lines (no time stamp) kept whole
// and flagged.
struct LogLine {
  std::string text;
  bool continuation;
};
std::vector<LogLine> log_lines(const std::string& file) {
  std::vector<LogLine> out;
  for (const auto& l : ewtest::split_lines(file)) {
    std::smatch m;
    if (std::regex_search(l, m, kTsPrefix))
      out.push_back({m.suffix().str(), false});
    else
      out.push_back({l, true});
  }
  return out;
}

TEST_P(Golden, FilesAreUtf8TextWithLfLineEnds) {
  for (const std::string* f : {&run().output_log, &run().standard_log, &run().err_log, &run().console}) {
    EXPECT_EQ(f->find('\r'), std::string::npos);
    ASSERT_FALSE(f->empty());
    EXPECT_EQ(f->back(), '\n');
  }
}

TEST_P(Golden, StandardLogKeepsReservedPhrasesToTheirLines) {
  // Spec §8.6: in the standard log only the lines of §5.3 may hold these phrases.
  struct Rule {
    std::regex phrase, line;
  };
  const std::vector<Rule> rules = {
      {std::regex("The following components were found:"),
       std::regex(R"(The following components were found: (\S+ with device\(s\) [^\n]+\.)( \S+ with device\(s\) [^\n]+\.)*)")},
      {std::regex(R"(Duration: \d)"), std::regex(R"(Duration: \d+:\d{2}:\d{2}\.\d{2})")},
      {std::regex(R"(Average power usage \(W\) for)"), std::regex(R"(Average power usage \(W\) for (gpu|cpu): \d+\.\d+)")},
      {std::regex("training was interrupted", std::regex::icase),
       std::regex(R"(Training was interrupted before all \d+ epochs were monitored\.)")},
      {std::regex(R"(Epoch \d+:)"), std::regex(R"(Epoch \d+:)")},
      {std::regex("carbontracker version"), std::regex("$^")},  // epochwatt names itself
      {std::regex("PUE coefficient of"),
       std::regex(R"(Only predicted and actual consumptions are multiplied by a PUE coefficient of 1\.58 \(Daniel Bizo, 2023, Uptime Institute Global Data Center Survey\)\.)")},
      {std::regex("Average carbon intensity during training was"),
       std::regex(R"(Average carbon intensity during training was \d+\.\d{2} gCO2eq/kWh\. )")},
      {std::regex("Carbon intensities "),
       std::regex(R"(Carbon intensities \(gCO2eq/kWh\) fetched every 900 s at detected location: [^:]+: \[\d+\.\d+(, \d+\.\d+)*\])")},
  };
  auto lines = log_lines(run().standard_log);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "epochwatt version " + std::string(epochwatt::kVersion));
  EXPECT_TRUE(std::regex_match(lines[1].text, rules[6].line)) << lines[1].text;
  for (const auto& l : lines) {
    EXPECT_FALSE(l.continuation) << "continuation line in the standard log: " << l.text;
    for (const auto& r : rules) {
      if (std::regex_search(l.text, r.phrase)) {
        EXPECT_TRUE(std::regex_match(l.text, r.line)) << "reserved phrase outside its line: " << l.text;
      }
    }
  }
}

TEST_P(Golden, OutputLogKeepsReportPhrasesInsideBlocks) {
  // Spec §6 and §8.6: a block is one record, "<ts> - CarbonTracker: " and then exactly these lines.
  const std::regex title(R"((Predicted consumption for \d+ epoch\(s\):|Actual consumption for \d+ epoch\(s\):|Actual consumption:))");
  const std::vector<std::regex> body = {
      std::regex(R"(\tTime:\t\d+:\d{2}:\d{2})"), std::regex(R"(\tEnergy:\t\d+\.\d{12} kWh)"),
      std::regex(R"(\tCO2eq:\t\d+\.\d{12} g)"), std::regex(R"(\tThis is equivalent to:)"),
      std::regex(R"(\t\d+\.\d{12} km travelled by car)")};
  const std::regex reserved(R"(actual consumption|predicted consumption for|Time:|Energy:|CO2eq:|This is equivalent to:)",
                            std::regex::icase);
  auto lines = log_lines(run().output_log);
  int blocks = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ASSERT_FALSE(lines[i].continuation) << "unexpected continuation line: " << lines[i].text;
    ASSERT_EQ(lines[i].text.rfind("CarbonTracker: ", 0), 0u) << lines[i].text;
    if (lines[i].text == "CarbonTracker: ") {  // a block starts (the record's first line ends with a space)
      ASSERT_LT(i + body.size() + 1, lines.size());
      EXPECT_TRUE(std::regex_match(lines[i + 1].text, title)) << lines[i + 1].text;
      for (std::size_t k = 0; k < body.size(); ++k) {
        const auto& l = lines[i + 2 + k];
        EXPECT_TRUE(l.continuation);
        EXPECT_TRUE(std::regex_match(l.text, body[k])) << l.text;
        // The parser ends a block at the next "\d{4}-\d{2}-\d{2}": no continuation may look like one.
        EXPECT_FALSE(std::regex_search(l.text, std::regex(R"(\d{4}-\d{2}-\d{2})"))) << l.text;
      }
      i += 1 + body.size();
      ++blocks;
      continue;
    }
    EXPECT_FALSE(lines[i].continuation);
    EXPECT_FALSE(std::regex_search(lines[i].text, reserved)) << "report phrase outside a block: " << lines[i].text;
  }
  EXPECT_EQ(blocks, 2);  // the prediction after epoch 1 and the actual block
  EXPECT_EQ(lines.back().text, "CarbonTracker: Finished monitoring.");
}

TEST_P(Golden, ErrorLogRecordsHaveCarbontrackersLayout) {
  const std::regex record(
      R"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (MainThread|CarbonTrackerThread|CarbonIntensityThread) - (DEBUG|INFO|WARNING|CRITICAL) - .+)");
  for (const auto& l : ewtest::split_lines(run().err_log)) EXPECT_TRUE(std::regex_match(l, record)) << l;
}

TEST_P(Golden, ConsoleIsTheOutputChannelWithoutTimeStamps) {
  // Every output-log record appears on the console, in order, without "<ts> - ".
  std::string stripped;
  // Except the components line, whose console form names each device's method (the log keeps
  // carbontracker's exact line and says the methods on its own `Methods:` line; issue 12, item 5).
  const std::string components = "The following components were found: ";
  for (const auto& l : log_lines(run().output_log))
    if (l.text.rfind("CarbonTracker: " + components, 0) != 0 && l.text.rfind("CarbonTracker: Methods: ", 0) != 0)
      stripped += l.text + "\n";
  std::string console_output_only;
  for (const auto& l : ewtest::split_lines(run().console))
    if (l.rfind("CarbonTracker: WARNING - ", 0) != 0 && l.rfind("CarbonTracker: INFO - ", 0) != 0 &&
        l.rfind("CarbonTracker: CRITICAL - ", 0) != 0 && l.rfind("CarbonTracker: " + components, 0) != 0)
      console_output_only += l + "\n";
  EXPECT_EQ(console_output_only, stripped);
}

// ------------------------------------------------------------------ what each scenario must say

std::vector<std::string> std_messages(const ScenarioRun& r) {
  std::vector<std::string> out;
  for (const auto& l : log_lines(r.standard_log)) out.push_back(l.text);
  return out;
}

bool contains_line(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST_P(Golden, ScenarioFiguresMatchTheSpec) {
  const ScenarioRun& r = run();
  auto std_lines = std_messages(r);
  const std::string prediction_block =
      "CarbonTracker: \nPredicted consumption for 3 epoch(s):\n\tTime:\t0:00:30\n\tEnergy:\t0.004608333333 kWh\n"
      "\tCO2eq:\t2.050708333333 g\n\tThis is equivalent to:\n\t0.019201388889 km travelled by car\n";
  EXPECT_NE(r.console.find(prediction_block), std::string::npos);
  EXPECT_NE(r.output_log.find("2025-01-01 00:00:10 - " + prediction_block), std::string::npos);
  EXPECT_TRUE(contains_line(std_lines, "Carbon intensities (gCO2eq/kWh) fetched every 900 s at detected location: Unknown: [445.0]"));
  EXPECT_TRUE(contains_line(std_lines, "Average carbon intensity during training was 445.00 gCO2eq/kWh. "));
  EXPECT_EQ(std_lines.back(), "Monitoring thread ended.");
  EXPECT_NE(r.err_log.find("2025-01-01 00:00:00,000 - CarbonTrackerThread - WARNING - No carbon intensity provider "
                           "specified and no location detected. Defaulting to global average carbon intensity for "
                           "2024: 445.00 gCO2eq/kWh.\n"),
            std::string::npos);

  switch (GetParam()) {
    case Scenario::full_run:
      EXPECT_NE(r.output_log.find("2025-01-01 00:00:30 - CarbonTracker: \nActual consumption for 3 epoch(s):\n"
                                  "\tTime:\t0:00:30\n\tEnergy:\t0.004608333333 kWh\n\tCO2eq:\t2.050708333333 g\n"),
                std::string::npos);
      EXPECT_FALSE(contains_line(std_lines, "Training was interrupted before all 3 epochs were monitored."));
      EXPECT_EQ(ewtest::count_occurrences(r.standard_log, " - Duration: 0:00:10.00\n"), 3u);
      break;
    case Scenario::stopped_after_epoch_2:
      EXPECT_NE(r.output_log.find("2025-01-01 00:00:20 - CarbonTracker: \nActual consumption for 2 epoch(s):\n"
                                  "\tTime:\t0:00:20\n\tEnergy:\t0.003072222222 kWh\n"),
                std::string::npos);
      EXPECT_TRUE(contains_line(std_lines, "Training was interrupted before all 3 epochs were monitored."));
      EXPECT_EQ(ewtest::count_occurrences(r.standard_log, " - Duration: 0:00:10.00\n"), 2u);
      break;
    case Scenario::stopped_mid_epoch:
      EXPECT_NE(r.output_log.find("2025-01-01 00:00:25 - CarbonTracker: \nActual consumption for 2 epoch(s):\n"
                                  "\tTime:\t0:00:20\n\tEnergy:\t0.003072222222 kWh\n"),
                std::string::npos);
      EXPECT_TRUE(contains_line(std_lines, "Interrupted epoch 3 (not counted): ran 0:00:05.00 and drew 1750.0 J."));
      EXPECT_TRUE(contains_line(std_lines, "Training was interrupted before all 3 epochs were monitored."));
      EXPECT_FALSE(contains_line(std_lines, "Epoch 3:"));
      EXPECT_EQ(ewtest::count_occurrences(r.standard_log, " - Duration: "), 2u);
      ASSERT_EQ(r.epochs.size(), 3u);
      EXPECT_TRUE(r.epochs[2].interrupted);
      EXPECT_DOUBLE_EQ(r.epochs[2].joules, 1750.0);
      break;
  }
}

}  // namespace
