// `epochwatt report`: a tracked run's JSON summary, or carbontracker-format logs (carbontracker's
// own or ours), become an HTML page that headless Chromium (Debian's chromium package) loads
// without a console message, whose charts hold one point per epoch and per power bucket, and
// which prints to PDF, also through carbontracker's `--report STD_LOG --output X.pdf`. The Chromium tests skip only when no
// Chromium is installed; every Chromium run is bounded by timeout(1), which kills its whole
// process group, and gets a temporary HOME and profile.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "e2e/chromium.hpp"
#include "e2e/cli_harness.hpp"

namespace {

using e2e::chromium;
using e2e::cli;
using e2e::find_chromium;
using e2e::has_page_messages;
using e2e::TempDir;

std::uint32_t big_endian_32(const std::string& s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// data-points of every chart element with `data-series`, inside the <svg id="chart"> of a DOM,
// and the number of coordinate pairs (polyline) or <circle>/<rect> children (groups) it holds.
struct SeriesCount {
  std::string series;
  int declared;
  int drawn;
};
std::vector<SeriesCount> series_in(const std::string& dom, const std::string& chart, const std::string& kind) {
  std::vector<SeriesCount> out;
  auto start = dom.find("id=\"" + chart + "\"");
  if (start == std::string::npos) return out;
  std::string svg = dom.substr(start, dom.find("</svg>", start) - start);
  if (kind == "polyline") {
    const std::regex re("<polyline[^>]*data-series=\"([^\"]*)\" data-points=\"(\\d+)\"[^>]*points=\"([^\"]*)\"");
    for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it) {
      std::string pts = (*it)[3];
      int pairs = pts.empty() ? 0 : static_cast<int>(std::count(pts.begin(), pts.end(), ' ')) + 1;
      out.push_back({(*it)[1], std::stoi((*it)[2]), pairs});
    }
  } else {
    const std::regex re("<g class=\"" + kind + "\" data-series=\"([^\"]*)\" data-points=\"(\\d+)\"[^>]*>(.*?)</g>");
    for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it) {
      std::string body = (*it)[3];
      int shapes = static_cast<int>(e2e::count(body, "<circle") + e2e::count(body, "<rect"));
      out.push_back({(*it)[1], std::stoi((*it)[2]), shapes});
    }
  }
  return out;
}

// One tracked run of 4 epochs on simulated devices, shared by the tests of this file.
class CliReportHtml : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    run_dir_ = std::make_unique<TempDir>();
    std::string logs = *run_dir_ / "logs";
    auto r = e2e::run(cli({"--epochs", "4", "--epoch-regex", "epoch \\d+ done", "--sim-gpu", "Sim GPU <0>",
                           "--sim-gpu-watts", "300", "--sim-cpu", "Sim CPU", "--sim-cpu-tdp", "100", "--log-dir", logs,
                           "--", "sh", "-c", "for i in 1 2 3 4; do sleep 1.2; echo epoch $i done; done"}),
                      run_dir_->path());
    run_status_ = r.exit_status;
    run_err_ = r.err;
    summary_path_ = e2e::file_ending_with(logs, "_epochwatt.json");
  }
  static void TearDownTestSuite() { run_dir_.reset(); }

  void SetUp() override {
    ASSERT_EQ(run_status_, 0) << run_err_;
    ASSERT_FALSE(summary_path_.empty());
  }
  static std::string logs() { return *run_dir_ / "logs"; }

  static std::unique_ptr<TempDir> run_dir_;
  static int run_status_;
  static std::string run_err_, summary_path_;
};
std::unique_ptr<TempDir> CliReportHtml::run_dir_;
int CliReportHtml::run_status_ = -1;
std::string CliReportHtml::run_err_, CliReportHtml::summary_path_;

TEST_F(CliReportHtml, ChromiumPrintsAPlantedPageErrorSoTheCheckCanFail) {
  std::string exe = find_chromium();
  if (exe.empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  TempDir tmp;
  e2e::write_file(tmp / "bad.html",
                  "<!DOCTYPE html><html><body><script>console.error('planted'); notAFunction();</script></body></html>\n");
  auto r = chromium(exe, tmp, tmp / "bad.html", {"--dump-dom"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_TRUE(has_page_messages(r.err)) << r.err;
}

TEST_F(CliReportHtml, RendersInHeadlessChromiumWithTheExpectedPoints) {
  TempDir tmp;
  std::string html = tmp / "out.html";
  auto rep = e2e::run(cli({"report", logs(), "--html", html}), tmp.path());
  ASSERT_EQ(rep.exit_status, 0) << rep.err;
  EXPECT_EQ(rep.out, "Report written: " + html + "\n");
  std::string page = e2e::read_file(html);
  EXPECT_NE(page.find("Sim GPU &lt;0&gt;"), std::string::npos);

  std::string exe = find_chromium();
  if (exe.empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";

  // The screenshot: a real PNG of the window's size, and no message from the page.
  std::string png = tmp / "out.png";
  auto shot = chromium(exe, tmp, html, {"--screenshot=" + png, "--window-size=1280,2400"});
  ASSERT_FALSE(shot.timed_out);
  EXPECT_EQ(shot.exit_status, 0) << shot.err;
  EXPECT_FALSE(has_page_messages(shot.err)) << shot.err;
  std::string bytes = e2e::read_file(png);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian_32(bytes, 16), 1280u);
  EXPECT_EQ(big_endian_32(bytes, 20), 2400u);
  EXPECT_GT(bytes.size(), 20000u) << "a page with three charts is more than a blank image";

  // The DOM as Chromium parsed it: one point per power bucket of each component's series (one
  // device each here), one bar and one marker per epoch.
  auto dom = chromium(exe, tmp, html, {"--dump-dom"});
  ASSERT_FALSE(dom.timed_out);
  EXPECT_FALSE(has_page_messages(dom.err)) << dom.err;
  auto summary = nlohmann::json::parse(e2e::read_file(summary_path_));
  std::map<std::string, int> buckets;
  for (const auto& s : summary["power_series"]) buckets[s["component"].get<std::string>()] = static_cast<int>(s["watts"].size());
  ASSERT_EQ(buckets.size(), 2u);
  auto power = series_in(dom.out, "chart-power", "polyline");
  ASSERT_EQ(power.size(), 2u) << dom.out;
  for (const auto& s : power) {
    EXPECT_EQ(s.declared, buckets.at(s.series)) << s.series;
    EXPECT_EQ(s.drawn, s.declared) << s.series;
    EXPECT_GE(s.drawn, 3) << "a run of about 5 s has buckets of about 1 s";
  }
  auto bars = series_in(dom.out, "chart-epochs", "bars");
  ASSERT_EQ(bars.size(), 2u);
  for (const auto& s : bars) {
    EXPECT_EQ(s.declared, 4) << s.series;
    EXPECT_EQ(s.drawn, 4) << s.series;
  }
  auto prediction = series_in(dom.out, "chart-prediction", "polyline");
  auto markers = series_in(dom.out, "chart-prediction", "markers");
  // The predicted total and the measured energy after each of the 4 epochs, and the two ends of
  // the prediction's range wherever two steady epochs were known (never after epoch 1).
  ASSERT_EQ(prediction.size(), 4u);
  ASSERT_EQ(markers.size(), 2u);
  for (const auto& s : prediction) {
    EXPECT_EQ(s.drawn, s.declared) << s.series;
    if (s.series.find("range") == std::string::npos)
      EXPECT_EQ(s.drawn, 4) << s.series;
    else
      EXPECT_TRUE(s.drawn >= 1 && s.drawn <= 3) << s.series << " " << s.drawn;
  }
  for (const auto& s : markers) EXPECT_EQ(s.drawn, 4) << s.series;
}

TEST_F(CliReportHtml, PrintsToPdfThroughChromium) {
  if (find_chromium().empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  TempDir tmp;
  std::string pdf = tmp / "report.pdf";
  auto r = e2e::run(cli({"report", summary_path_, "--pdf", pdf}), tmp.path(), std::chrono::seconds(150));
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(e2e::read_file(pdf).substr(0, 5), "%PDF-");
  EXPECT_NE(e2e::read_file(tmp / "report.html").find("</html>"), std::string::npos) << "the HTML beside the PDF";
  EXPECT_NE(r.out.find("Report generated: " + pdf), std::string::npos) << r.out;
}

TEST_F(CliReportHtml, PdfWithoutChromiumSaysSoAndKeepsTheHtml) {
  TempDir tmp;
  std::string pdf = tmp / "report.pdf";
  auto r = e2e::run({"env", "EPOCHWATT_CHROMIUM=/nonexistent", EPOCHWATT_CLI, "report", logs(), "--pdf", pdf}, tmp.path());
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err, "epochwatt: --pdf needs Chromium (apt-get install chromium); the HTML report was written to " +
                       (tmp / "report.html") + "\n");
  EXPECT_FALSE(std::filesystem::exists(pdf));
  EXPECT_NE(e2e::read_file(tmp / "report.html").find("</html>"), std::string::npos);
}

TEST_F(CliReportHtml, DefaultOutputNewestSummaryAndClearErrors) {
  TempDir tmp;
  // No --html, no --pdf: report.html in the working directory.
  auto r = e2e::run({"sh", "-c", "cd \"$0\" && exec \"$1\" report \"$2\"", tmp.path(), EPOCHWATT_CLI, summary_path_}, tmp.path());
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(tmp / "report.html"));

  // A directory with two summaries: the newer one, and a line saying so.
  std::string dir = tmp / "two";
  std::filesystem::create_directories(dir);
  auto older = nlohmann::json::parse(e2e::read_file(summary_path_));
  older["context"]["host"] = "older-host";
  e2e::write_file(dir + "/1.1_a_epochwatt.json", older.dump());
  auto newer = older;
  newer["context"]["host"] = "newer-host";
  e2e::write_file(dir + "/2.2_b_epochwatt.json", newer.dump());
  std::filesystem::last_write_time(dir + "/1.1_a_epochwatt.json",
                                   std::filesystem::last_write_time(dir + "/2.2_b_epochwatt.json") - std::chrono::hours(1));
  auto two = e2e::run(cli({"report", dir, "--html", tmp / "two.html"}), tmp.path());
  EXPECT_EQ(two.exit_status, 0) << two.err;
  EXPECT_NE(two.err.find("2 JSON summaries in " + dir + "; reporting the newest, " + dir + "/2.2_b_epochwatt.json"),
            std::string::npos) << two.err;
  EXPECT_NE(e2e::read_file(tmp / "two.html").find("newer-host"), std::string::npos);

  auto missing = e2e::run(cli({"report", tmp / "nothing-here"}), tmp.path());
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_EQ(missing.err, "epochwatt report: " + (tmp / "nothing-here") + " does not exist\n");
  std::string empty_dir = tmp / "empty";
  std::filesystem::create_directories(empty_dir);
  auto none = e2e::run(cli({"report", empty_dir}), tmp.path());
  EXPECT_EQ(none.exit_status, 1);
  EXPECT_EQ(none.err, "epochwatt report: no JSON summary (*_epochwatt.json) and no standard log (*_carbontracker.log) in " +
                          empty_dir +
                          " or its subfolders: give the folder that holds the run's *_epochwatt.json or "
                          "*_carbontracker.log\n");
  e2e::write_file(tmp / "broken.json", "{\"context\": ");
  auto broken = e2e::run(cli({"report", tmp / "broken.json", "--html", tmp / "b.html"}), tmp.path());
  EXPECT_EQ(broken.exit_status, 1);
  EXPECT_EQ(e2e::lines(broken.err).size(), 1u) << broken.err;
  EXPECT_NE(broken.err.find("is not valid JSON"), std::string::npos) << broken.err;
  auto bad = e2e::run(cli({"report", summary_path_, "--bogus"}), tmp.path());
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_EQ(bad.err, "epochwatt report: unexpected or incomplete argument '--bogus' (see epochwatt report --help)\n");
}

// ---- carbontracker-format logs

const std::string kCt24 = std::string(EPOCHWATT_TEST_DATA_DIR) + "/ct_logs/v2.4/48213.70211_2025-03-04T101500Z";

// Copies the hand-made carbontracker 2.4 run (both files) into `dir`; returns the standard log.
std::string copy_ct_run(const std::string& dir) {
  std::filesystem::create_directories(dir);
  for (const char* suffix : {"_carbontracker.log", "_carbontracker_output.log"})
    std::filesystem::copy_file(kCt24 + suffix, dir + "/48213.70211_2025-03-04T101500Z" + suffix);
  return dir + "/48213.70211_2025-03-04T101500Z_carbontracker.log";
}

TEST_F(CliReportHtml, ReportsCarbontrackerLogsAndRendersThemInChromium) {
  TempDir tmp;
  std::string std_log = copy_ct_run(tmp / "ct");
  std::string out_log = tmp / "ct/48213.70211_2025-03-04T101500Z_carbontracker_output.log";

  // From the output log: its standard log beside it is read too.
  auto r = e2e::run(cli({"report", out_log, "--html", tmp / "ct.html"}), tmp.path());
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::string page = e2e::read_file(tmp / "ct.html");
  EXPECT_NE(page.find("carbontracker 2.4.3"), std::string::npos);
  EXPECT_NE(page.find("Measured by carbontracker"), std::string::npos);
  EXPECT_NE(page.find("not their sum"), std::string::npos) << "the D1 warning for two GPUs logged as one mean";

  // Our own standard log: its devices and methods come from the extension lines.
  auto own = e2e::run(cli({"report", e2e::file_ending_with(logs(), "_carbontracker.log"), "--html", tmp / "own.html"}),
                      tmp.path());
  ASSERT_EQ(own.exit_status, 0) << own.err;
  std::string own_page = e2e::read_file(tmp / "own.html");
  EXPECT_NE(own_page.find("Sim GPU &lt;0&gt;"), std::string::npos);
  // Its meters are simulated: the sentence credits epochwatt, and says that nothing was measured.
  EXPECT_NE(own_page.find("Estimated by epochwatt"), std::string::npos);
  EXPECT_EQ(own_page.find("Measured by epochwatt"), std::string::npos);

  std::string exe = find_chromium();
  if (exe.empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  auto dom = chromium(exe, tmp, tmp / "ct.html", {"--dump-dom"});
  ASSERT_FALSE(dom.timed_out);
  EXPECT_FALSE(has_page_messages(dom.err)) << dom.err;
  auto power = series_in(dom.out, "chart-power", "polyline");
  ASSERT_EQ(power.size(), 2u) << dom.out;
  for (const auto& s : power) {
    EXPECT_EQ(s.declared, 3) << "one point per epoch: " << s.series;
    EXPECT_EQ(s.drawn, 3) << s.series;
  }
  for (const auto& s : series_in(dom.out, "chart-epochs", "bars")) EXPECT_EQ(s.drawn, 3) << s.series;
}

TEST_F(CliReportHtml, LogInputsThatCannotBeReportedGiveOneLine) {
  TempDir tmp;
  // A folder of logs only: its newest standard log, and a line when there are several.
  std::string dir = tmp / "ct";
  copy_ct_run(dir);
  std::string other = dir + "/1.2_2025-01-01T000000Z_carbontracker.log";
  std::filesystem::copy_file(kCt24 + "_carbontracker.log", other);
  std::filesystem::last_write_time(other, std::filesystem::last_write_time(dir + "/48213.70211_2025-03-04T101500Z_carbontracker.log") -
                                              std::chrono::hours(1));
  auto two = e2e::run(cli({"report", dir, "--html", tmp / "two.html"}), tmp.path());
  EXPECT_EQ(two.exit_status, 0) << two.err;
  EXPECT_EQ(two.err, "epochwatt report: 2 standard logs in " + dir + "; reporting the newest, " + dir +
                         "/48213.70211_2025-03-04T101500Z_carbontracker.log\n");

  // An output log whose standard log is not beside it.
  std::string lone = tmp / "9.9_x_carbontracker_output.log";
  std::filesystem::copy_file(kCt24 + "_carbontracker_output.log", lone);
  auto r = e2e::run(cli({"report", lone}), tmp.path());
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err, "epochwatt report: " + lone + " is an output log, and its standard log " + (tmp / "9.9_x_carbontracker.log") +
                       " is not beside it\n");

  // A standard log cut in the middle of a line.
  std::string text = e2e::read_file(kCt24 + "_carbontracker.log");
  std::string cut = tmp / "7.7_y_carbontracker.log";
  e2e::write_file(cut, text.substr(0, text.find("Average power usage (W) for cpu") + 20));
  auto c = e2e::run(cli({"report", cut, "--html", tmp / "cut.html"}), tmp.path());
  EXPECT_EQ(c.exit_status, 1);
  EXPECT_EQ(e2e::lines(c.err).size(), 1u) << c.err;
  EXPECT_NE(c.err.find(cut), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("truncated"), std::string::npos) << c.err;
  EXPECT_FALSE(std::filesystem::exists(tmp / "cut.html"));
}

// carbontracker's `--report STD_LOG [--output X.pdf]`: its flags in any order, its default PDF
// name, its message for a missing log.
TEST_F(CliReportHtml, CarbontrackersReportFlag) {
  TempDir tmp;
  std::string std_log = copy_ct_run(tmp / "ct");
  auto missing = e2e::run(cli({"--report", tmp / "none_carbontracker.log"}), tmp.path());
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_EQ(missing.err, "Error: Log file " + (tmp / "none_carbontracker.log") + " does not exist\n");

  std::string pdf = tmp / "x.pdf";
  auto no_chromium = e2e::run({"env", "EPOCHWATT_CHROMIUM=/nonexistent", EPOCHWATT_CLI, "--output", pdf, "--report", std_log},
                              tmp.path());
  EXPECT_EQ(no_chromium.exit_status, 1);
  EXPECT_EQ(no_chromium.err, "epochwatt: --pdf needs Chromium (apt-get install chromium); the HTML report was written to " +
                                 (tmp / "x.html") + "\n");
  EXPECT_NE(e2e::read_file(tmp / "x.html").find("carbontracker 2.4.3"), std::string::npos);

  if (find_chromium().empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  auto r = e2e::run({"sh", "-c", "cd \"$0\" && exec \"$1\" --report \"$2\"", tmp.path(), EPOCHWATT_CLI, std_log}, tmp.path(),
                    std::chrono::seconds(150));
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(e2e::read_file(tmp / "carbon_report.pdf").substr(0, 5), "%PDF-") << "the original's default name";
  EXPECT_NE(r.out.find("Report generated: carbon_report.pdf"), std::string::npos) << r.out;
}

}  // namespace
