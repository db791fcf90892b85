// The HTML report (src/report/html_report.cpp): the model built from a JSON summary, the charts'
// point counts, escaping of every string that came from a run, a page that loads nothing from
// anywhere, and numbers no global locale can change.
#include <gtest/gtest.h>

#include <clocale>
#include <locale>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>

#include "report/html_report.hpp"
#include "golden_check.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt::detail;
using nlohmann::json;

// A summary of 3 epochs on two GPUs of 100 W and a CPU of 50 W: the GPUs' power series have 5
// buckets of 2 s, the CPU's 3 buckets of 10/3 s (different edges on purpose).
json sample_summary() {
  json j;
  j["context"] = {{"tool", "epochwatt"},
                  {"version", "0.1.0"},
                  {"host", "node<1>"},
                  {"started_utc", "2025-01-01T00:00:00.000Z"},
                  {"finished_utc", "2025-01-01T00:00:10.000Z"},
                  {"components", {"gpu", "cpu"}},
                  {"devices",
                   {{{"id", "nvml:0"}, {"component", "gpu"}, {"device", "GPU <b>A</b>"}, {"method", "counter"}, {"detail", "x"}},
                    {{"id", "nvml:1"}, {"component", "gpu"}, {"device", "GPU B"}, {"method", "counter"}, {"detail", ""}},
                    {{"id", "rapl:0"}, {"component", "cpu"}, {"device", "CPU \"Q\" & 'R'"}, {"method", "counter"}, {"detail", ""}}}},
                  {"pue", 1.5},
                  {"epochs_planned", 10}};
  json epochs = json::array();
  double durations[] = {2.0, 4.0, 4.0};
  for (int i = 0; i < 3; ++i) {
    double d = durations[i];
    epochs.push_back({{"epoch", i + 1},
                      {"interrupted", false},
                      {"duration_s", d},
                      {"joules", 250.0 * d},
                      {"joules_by_component", {{"gpu", 200.0 * d}, {"cpu", 50.0 * d}}},
                      {"devices",
                       {{{"meter", "nvml:0"}, {"joules", 100.0 * d}},
                        {{"meter", "nvml:1"}, {"joules", 100.0 * d}},
                        {{"meter", "rapl:0"}, {"joules", 50.0 * d}}}}});
  }
  j["epochs"] = epochs;
  j["prediction"] = {{"epochs", 10}, {"duration_s", 20.0}, {"energy_kwh", 0.001}, {"co2_g", 0.5},
                     {"intensity_g_per_kwh", 500.0}, {"intensity_source", "fixed"}, {"km_by_car", 0.004}};
  j["actual"] = {{"epochs", 3}, {"duration_s", 10.0}, {"energy_kwh", 0.00104166}, {"co2_g", 0.52},
                 {"intensity_g_per_kwh", 500.0}, {"intensity_source", "fixed"}, {"km_by_car", 0.0049}};
  j["early_stop"] = true;
  j["intensity"] = {{"g_per_kwh", 500.0}, {"source", "fixed"}, {"description", "given <by> the user"},
                    {"live", false}, {"location", "DK"}, {"location_rule", "option"}};
  j["warnings"] = {"meter <x> & \"y\" failed"};
  json gpu_series = {{"start_s", 0.0}, {"end_s", {2.0, 4.0, 6.0, 8.0, 10.0}}, {"watts", {100, 100, 100, 100, 100}}};
  json cpu_series = {{"start_s", 0.0}, {"end_s", {10.0 / 3, 20.0 / 3, 10.0}}, {"watts", {50, 50, 50}}};
  j["power_series"] = json::array();
  for (const char* id : {"nvml:0", "nvml:1"}) {
    json s = gpu_series;
    s["meter"] = id;
    s["component"] = "gpu";
    j["power_series"].push_back(s);
  }
  cpu_series["meter"] = "rapl:0";
  cpu_series["component"] = "cpu";
  j["power_series"].push_back(cpu_series);
  return j;
}

// data-points and the number of coordinate pairs of the polyline of `series` in chart `chart`.
std::pair<int, int> polyline_points(const std::string& html, const std::string& chart, const std::string& series) {
  auto start = html.find("id=\"" + chart + "\"");
  auto end = html.find("</svg>", start);
  if (start == std::string::npos || end == std::string::npos) return {-1, -1};
  std::string svg = html.substr(start, end - start);
  std::smatch m;
  std::regex re("<polyline[^>]*data-series=\"" + series + "\" data-points=\"(\\d+)\"[^>]*points=\"([^\"]*)\"");
  if (!std::regex_search(svg, m, re)) return {-1, -1};
  std::string pts = m[2];
  int pairs = pts.empty() ? 0 : static_cast<int>(std::count(pts.begin(), pts.end(), ' ')) + 1;
  return {std::stoi(m[1]), pairs};
}

TEST(HtmlReport, ModelSumsTheDevicesOfAComponentAndPredictsAfterEachEpoch) {
  ReportData d = report_data_from_json_summary(sample_summary());
  ASSERT_EQ(d.power.size(), 2u);
  EXPECT_EQ(d.power[0].component, "gpu");
  ASSERT_EQ(d.power[0].watts.size(), 5u);
  for (double w : d.power[0].watts) EXPECT_NEAR(w, 200.0, 1e-9);
  EXPECT_NEAR(d.power[0].t_s[0], 1.0, 1e-12);  // the middle of the first bucket
  ASSERT_EQ(d.power[1].watts.size(), 3u);
  for (double w : d.power[1].watts) EXPECT_NEAR(w, 50.0, 1e-9);

  // After epoch k: mean of epochs 1..k x 10 planned x PUE 1.5, against the sum so far x PUE.
  ASSERT_EQ(d.prediction_series.size(), 3u);
  EXPECT_NEAR(d.prediction_series[0].predicted_kwh, 500.0 * 10 * 1.5 / 3.6e6, 1e-15);
  EXPECT_NEAR(d.prediction_series[1].predicted_kwh, (500.0 + 1000.0) / 2 * 10 * 1.5 / 3.6e6, 1e-15);
  EXPECT_NEAR(d.prediction_series[2].actual_kwh, 2500.0 * 1.5 / 3.6e6, 1e-15);
  ASSERT_EQ(d.devices.size(), 3u);
  EXPECT_DOUBLE_EQ(d.devices[0].joules, 1000.0);
  EXPECT_DOUBLE_EQ(d.devices[2].joules / d.devices[2].duration_s, 50.0);
  EXPECT_EQ(d.methods, std::vector<std::string>{"counter"});
  EXPECT_EQ(d.location, "DK");
  ASSERT_EQ(d.epochs[0].by_component.size(), 2u);
  EXPECT_EQ(d.epochs[0].by_component[0].component, "gpu") << "the devices' order, not the JSON object's";
}

// The whole page for the sample summary, byte for byte.
TEST(HtmlReport, GoldenPage) { golden::expect_matches("report/sample_summary.html", render_html(report_data_from_json_summary(sample_summary()))); }

TEST(HtmlReport, ChartsHoldOnePointPerEpochAndPerPowerBucket) {
  std::string html = render_html(report_data_from_json_summary(sample_summary()));
  EXPECT_EQ(polyline_points(html, "chart-power", "gpu"), std::make_pair(5, 5));
  EXPECT_EQ(polyline_points(html, "chart-power", "cpu"), std::make_pair(3, 3));
  EXPECT_EQ(polyline_points(html, "chart-prediction", "predicted total"), std::make_pair(3, 3));
  EXPECT_EQ(polyline_points(html, "chart-prediction", "measured so far"), std::make_pair(3, 3));
  // Stacked bars: one <g> per component with one <rect> per epoch.
  std::string rest = html.substr(html.find("id=\"chart-epochs\""));
  int groups = 0;
  const std::regex bars("<g class=\"bars\" data-series=\"(\\w+)\" data-points=\"(\\d+)\"[^>]*>(.*?)</g>");
  for (std::sregex_iterator it(rest.begin(), rest.end(), bars), end;
       it != end; ++it, ++groups) {
    EXPECT_EQ((*it)[2], "3");
    std::string body = (*it)[3];
    EXPECT_EQ(ewtest::count_occurrences(body, "<rect "), 3u) << (*it)[1];
  }
  EXPECT_EQ(groups, 2);
}

TEST(HtmlReport, EveryStringFromTheRunIsEscaped) {
  EXPECT_EQ(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  json j = sample_summary();
  j["context"]["devices"][1]["device"] = "<script>alert(1)</script>";
  j["power_series"][2]["component"] = "cpu\"><script>";
  std::string html = render_html(report_data_from_json_summary(j));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>A</b>"), std::string::npos);
  EXPECT_NE(html.find("GPU &lt;b&gt;A&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("CPU &quot;Q&quot; &amp; &#39;R&#39;"), std::string::npos);
  EXPECT_NE(html.find("meter &lt;x&gt; &amp; &quot;y&quot; failed"), std::string::npos);
  EXPECT_NE(html.find("node&lt;1&gt;"), std::string::npos);
  EXPECT_NE(html.find("given &lt;by&gt; the user"), std::string::npos);
}

TEST(HtmlReport, LoadsNothingFromAnywhere) {
  std::string html = render_html(report_data_from_json_summary(sample_summary()));
  for (const char* banned : {"src=", "href=", "url(", "@import", "<script", "<link", "<img", "<iframe"})
    EXPECT_EQ(html.find(banned), std::string::npos) << banned;
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
}

TEST(HtmlReport, AggregateSentenceAndBibtex) {
  // Spec §14's figures give §8.5's sentence, naming epochwatt.
  EXPECT_EQ(aggregate_sentence(0.004608333333, 2.050708333333, 0.019201388889),
            "The training of models in this work is estimated to use 0.0046083333330000 kWh of electricity "
            "contributing to 0.0020507083333330 kg of CO2eq. This is equivalent to 0.0192013888890000 km "
            "travelled by car. Measured by epochwatt, an implementation of carbontracker "
            "(https://github.com/lfwa/carbontracker).");
  // Stopped early: the measured block; monitoring ended on purpose before the planned epochs:
  // the prediction (spec §8.7).
  json j = sample_summary();
  // The report's own sentence: 4 significant digits (issue 12, item 5).
  EXPECT_NE(report_data_from_json_summary(j).aggregate_sentence.find(" 0.001042 kWh"), std::string::npos);
  j["early_stop"] = false;
  EXPECT_NE(report_data_from_json_summary(j).aggregate_sentence.find(" 0.001 kWh"), std::string::npos);
  std::string html = render_html(report_data_from_json_summary(j));
  EXPECT_NE(html.find("@inproceedings{anthony2020carbontracker,"), std::string::npos);
  EXPECT_NE(html.find("arXiv:2007.03051"), std::string::npos);
  EXPECT_NE(carbontracker_bibtex().find("Kanding"), std::string::npos);
}

TEST(HtmlReport, BadInputGivesAClearErrorOrDefaultsNeverACrash) {
  EXPECT_THROW(report_data_from_json_summary(json::array()), std::invalid_argument);
  EXPECT_THROW(report_data_from_json_summary(json{{"epochs", 3}}), std::invalid_argument);
  json j = sample_summary();
  j["epochs"][1]["duration_s"] = "long";
  j["epochs"][2] = 7;
  j["power_series"][0]["watts"] = {100, "x", 100};
  j["actual"] = "none";
  j["intensity"] = nullptr;
  ReportData d = report_data_from_json_summary(j);
  EXPECT_EQ(d.epochs.size(), 3u);
  EXPECT_FALSE(d.actual.present);
  std::string html = render_html(d);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  // An empty run still renders, with its charts saying so.
  ReportData empty = report_data_from_json_summary(json{{"context", json::object()}});
  std::string e = render_html(empty);
  EXPECT_EQ(polyline_points(e, "chart-power", "gpu"), std::make_pair(-1, -1));
  EXPECT_NE(e.find("no power samples in this summary"), std::string::npos);
  EXPECT_NE(e.find(" 0 kWh"), std::string::npos);
}

TEST(HtmlReport, GlobalLocaleChangesNoNumber) {
  std::string before = render_html(report_data_from_json_summary(sample_summary()));
  try {
    std::locale de("de_DE.UTF-8");
    std::locale old = std::locale::global(de);
    std::setlocale(LC_ALL, "de_DE.UTF-8");
    std::string after = render_html(report_data_from_json_summary(sample_summary()));
    std::locale::global(old);
    std::setlocale(LC_ALL, "C");
    EXPECT_EQ(before, after);
  } catch (const std::runtime_error&) {
    GTEST_SKIP() << "no de_DE.UTF-8 locale (scripts/setup.sh generates it)";
  }
  EXPECT_NE(before.find("PUE 1.5"), std::string::npos);
  EXPECT_NE(before.find("500.0 gCO2e/kWh"), std::string::npos);
}

TEST(HtmlReport, RendersATrackedRunsSummary) {
  auto r = ewtest::run_scenario(ewtest::Scenario::full_run);
  ReportData d = report_data_from_json_summary(json::parse(ewtest::read_file(r.json_path)));
  ASSERT_EQ(d.epochs.size(), 3u);
  ASSERT_FALSE(d.power.empty());
  EXPECT_EQ(d.power[0].component, "gpu");
  for (double w : d.power[0].watts) EXPECT_NEAR(w, 300.0, 1e-6);  // two GPUs of 150 W (spec §14)
  std::string html = render_html(d);
  // Spec §14's aggregate: a complete run of 3 epochs, with the digits its log blocks (12 decimals)
  // give, so that `epochwatt parse` of the same run prints the same sentence.
  EXPECT_NE(html.find("used 0.004608 kWh of electricity, measured"), std::string::npos) << d.aggregate_sentence;
}

}  // namespace
