// Discovery and streaming of log folders (issue 13): for_each_log_run lists a folder once and
// pairs its logs by name, hands the runs over one at a time in the original's order, reads a file
// reached twice once; Aggregator sums them as aggregate() does.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "report/log_parse.hpp"
#include "unit/support.hpp"

namespace {

namespace fs = std::filesystem;
using epochwatt::detail::aggregate;
using epochwatt::detail::Aggregator;
using epochwatt::detail::for_each_log_run;
using epochwatt::detail::parse_log_dirs;
using epochwatt::detail::ParsedRun;
using epochwatt::detail::ParseWarning;

const std::string kData = std::string(EPOCHWATT_TEST_DATA_DIR) + "/ct_logs";
const std::string kRun = "48213.70211_2025-03-04T101500Z";  // a carbontracker 2.4.3 pair in kData/v2.4
constexpr const char* kStd = "_carbontracker.log";
constexpr const char* kOut = "_carbontracker_output.log";

// The pair kRun of v2.4 copied into `dir` under the key `key`.
void put_pair(const std::string& dir, const std::string& key, bool std_log = true, bool output_log = true) {
  if (std_log) fs::copy_file(kData + "/v2.4/" + kRun + kStd, dir + "/" + key + kStd);
  if (output_log) fs::copy_file(kData + "/v2.4/" + kRun + kOut, dir + "/" + key + kOut);
}

struct Streamed {
  std::vector<std::string> events;  // "run ID" and "warning FILE: MESSAGE", in the order they came
  std::vector<std::string> ids;
};

Streamed stream(const std::vector<std::string>& dirs) {
  Streamed s;
  for_each_log_run(
      dirs,
      [&](ParsedRun& r) {
        s.events.push_back("run " + r.id);
        s.ids.push_back(r.id);
      },
      [&](ParseWarning&& w) { s.events.push_back("warning " + w.file + ": " + w.message); });
  return s;
}

TEST(LogDiscovery, PairsTheLogsOfOneFolderByNameInKeyOrder) {
  ewtest::TempDir tmp;
  const std::string dir = tmp.str();
  // Keys whose order differs from the files' creation order; two logs without their partner;
  // files that are not logs; a folder with a pair (not read: this folder holds pairs itself).
  for (const char* key : {"9.1_b", "10.2_a", "10.1_a"}) put_pair(dir, key);
  put_pair(dir, "11.1_alone", true, false);
  put_pair(dir, "12.1_orphan", false, true);
  ewtest::write_file(dir + "/10.1_a_carbontracker.log.1", "rotated\n");
  ewtest::write_file(dir + "/10.1_a_carbontracker_err.log", "err\n");
  fs::create_directory(dir + "/sub");
  put_pair(dir + "/sub", "1.1_sub");

  Streamed s = stream({dir});
  EXPECT_EQ(s.ids, (std::vector<std::string>{"10.1_a", "10.2_a", "9.1_b"}));
  // Runs and the warnings of the runs skipped, in the order of the names.
  EXPECT_EQ(s.events, (std::vector<std::string>{
                          "run 10.1_a", "run 10.2_a",
                          "warning " + dir + "/11.1_alone" + kStd + ": no output log 11.1_alone" + kOut +
                              " beside it: run skipped",
                          "warning " + dir + "/12.1_orphan" + kOut + ": no standard log 12.1_orphan" + kStd +
                              " beside it: run skipped",
                          "run 9.1_b"}));
  // The same runs and warnings, in the same order, as the vector form.
  std::vector<ParseWarning> warnings;
  auto runs = parse_log_dirs({dir}, &warnings);
  ASSERT_EQ(runs.size(), s.ids.size());
  for (std::size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].id, s.ids[i]);
  EXPECT_EQ(warnings.size(), 2u);
  EXPECT_EQ(runs[0].std_log, dir + "/10.1_a" + kStd);
  EXPECT_EQ(runs[0].output_log, dir + "/10.1_a" + kOut);
}

TEST(LogDiscovery, AFolderGivenWithATrailingSlashGivesTheSamePaths) {
  ewtest::TempDir tmp;
  put_pair(tmp.str(), "1.1_x");
  std::vector<ParseWarning> warnings;
  auto runs = parse_log_dirs({tmp.str() + "/"}, &warnings);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].std_log, tmp.str() + "/1.1_x" + kStd);  // as std::filesystem joins them
}

TEST(LogDiscovery, ARunReachedTwiceIsReadOnce) {
  ewtest::TempDir tmp;
  const std::string dir = tmp.str() + "/logs";
  fs::create_directory(dir);
  put_pair(dir, "1.1_x");
  put_pair(dir, "2.1_y");
  // A link to the folder, and the run's own file given beside its folder.
  fs::create_directory_symlink(dir, tmp.str() + "/alias");
  Streamed s = stream({dir, tmp.str() + "/alias", dir + "/1.1_x" + kStd, tmp.str() + "/alias/2.1_y" + kOut});
  EXPECT_EQ(s.ids, (std::vector<std::string>{"1.1_x", "2.1_y"}));
  EXPECT_EQ(s.events.size(), 2u);
}

TEST(LogDiscovery, LinkedLogsAreFollowedAndAFileLinkedTwiceIsReadOnce) {
  ewtest::TempDir tmp;
  const std::string store = tmp.str() + "/store", dir = tmp.str() + "/logs";
  fs::create_directory(store);
  fs::create_directory(dir);
  put_pair(store, "1.1_x");
  // The folder holds links to the stored pair under its own name and under a second name.
  for (const char* key : {"1.1_x", "1.2_same"}) {
    fs::create_symlink(store + "/1.1_x" + kStd, dir + "/" + key + kStd);
    fs::create_symlink(store + "/1.1_x" + kOut, dir + "/" + key + kOut);
  }
  // A dangling link is no log.
  fs::create_symlink(store + "/gone" + std::string(kStd), dir + "/3.1_gone" + kStd);
  Streamed s = stream({dir, store});
  // The first link is read; the second name and the store lead to the same standard log.
  EXPECT_EQ(s.ids, (std::vector<std::string>{"1.1_x"}));
  EXPECT_EQ(s.events.size(), 1u);
}

TEST(LogDiscovery, RunsComeOneAtATimeWithTheirWarningsBeforeTheNext) {
  ewtest::TempDir tmp;
  const std::string dir = tmp.str();
  put_pair(dir, "1.1_a");
  put_pair(dir, "2.1_b");
  // The second run's standard log lacks its PUE line: a note, which comes with that run.
  std::string text = ewtest::read_file(dir + "/2.1_b" + kStd);
  std::size_t pue = text.find("PUE coefficient of 1.58");
  ASSERT_NE(pue, std::string::npos);
  text.replace(pue, 23, "PUE coefficient of 99.0");
  ewtest::write_file(dir + "/2.1_b" + kStd, text);
  put_pair(dir, "3.1_c");
  Streamed s = stream({dir});
  ASSERT_EQ(s.events.size(), 4u);
  EXPECT_EQ(s.events[0], "run 1.1_a");
  EXPECT_EQ(s.events[1].rfind("warning " + dir + "/2.1_b" + kStd + ": line 2: PUE 99.00", 0), 0u) << s.events[1];
  EXPECT_EQ(s.events[2], "run 2.1_b");
  EXPECT_EQ(s.events[3], "run 3.1_c");
}

TEST(LogDiscovery, AggregatorSumsAsAggregateDoes) {
  std::vector<ParseWarning> warnings;
  auto runs = parse_log_dirs({kData + "/v2.4", kData + "/v2.3", kData + "/edge"}, &warnings);
  ASSERT_GT(runs.size(), 3u);
  Aggregator sum;
  std::vector<ParsedRun> so_far;
  for (const auto& r : runs) {
    sum.add(r);
    so_far.push_back(r);
    auto expected = aggregate(so_far);
    auto got = sum.result();
    EXPECT_EQ(got.energy_kwh, expected.energy_kwh);
    EXPECT_EQ(got.co2_g, expected.co2_g);
    EXPECT_EQ(got.equivalents, expected.equivalents);
    EXPECT_EQ(got.runs, expected.runs);
    EXPECT_EQ(got.runs_summed, expected.runs_summed);
    EXPECT_EQ(got.nan_skipped, expected.nan_skipped);
    EXPECT_EQ(got.measured_by, expected.measured_by);
  }
}

}  // namespace

namespace {

// A log the folder's listing gives as a regular file is read without asking its size (one read
// into a buffer of 64 KiB or more, grown while reads fill it): a log of several such reads comes
// whole, the same run as read by its path (open, fstat, read), and an empty one is still refused.
TEST(LogDiscovery, AListedLogLargerThanOneReadIsReadWholeAndAnEmptyOneRefused) {
  ewtest::TempDir tmp;
  const std::string dir = tmp.str();
  std::string text = ewtest::read_file(kData + "/v2.4/" + kRun + kStd);
  std::size_t first_line_end = text.find('\n') + 1;
  std::string filler;
  for (int i = 0; i < 6000; ++i) filler += "2025-03-04 10:00:00 - Monitoring thread started, line " + std::to_string(i) + ".\n";
  text.insert(first_line_end, filler);
  ASSERT_GT(text.size(), 300u * 1024) << "more than four reads of 64 KiB";
  ewtest::write_file(dir + "/1.1_big" + kStd, text);
  fs::copy_file(kData + "/v2.4/" + kRun + kOut, dir + "/1.1_big" + kOut);
  put_pair(dir, "2.2_empty", false, true);
  ewtest::write_file(dir + "/2.2_empty" + kStd, "");

  std::vector<ParseWarning> warnings;
  std::vector<ParsedRun> runs = parse_log_dirs({dir}, &warnings);
  ASSERT_EQ(runs.size(), 1u);
  ParsedRun by_path = epochwatt::detail::parse_log_pair(dir + "/1.1_big" + kStd, dir + "/1.1_big" + kOut);
  EXPECT_EQ(runs[0].epochs.size(), by_path.epochs.size());
  EXPECT_EQ(runs[0].epochs_done(), 3);
  EXPECT_EQ(runs[0].started, by_path.started);
  EXPECT_EQ(runs[0].finished, by_path.finished);
  EXPECT_EQ(runs[0].version, "2.4");
  ASSERT_TRUE(runs[0].actual && by_path.actual);
  EXPECT_EQ(runs[0].actual->energy_kwh, by_path.actual->energy_kwh);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].file, dir + "/2.2_empty" + kStd);
  EXPECT_EQ(warnings[0].message, "empty file: run skipped");
}

}  // namespace
