// The HTML report's charts as a reader sees them, in headless Chromium: in every chart of every
// report, no two text boxes (tick labels, axis titles, the "no data" line) overlap and none leaves
// its chart, over runs from very short to very long and from micro-watt-hours to giga-watt-hours,
// a tracked run and a carbontracker log. A test-only script, injected into a copy of the page
// (with `script-src 'unsafe-inline'` added to its Content-Security-Policy, which forbids scripts),
// measures each <text> with getBoundingClientRect() after layout and writes what it finds into the
// DOM, which --dump-dom returns. The pages themselves have no script. Skipped (the Chromium part)
// only when no Chromium is installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "e2e/chromium.hpp"
#include "e2e/cli_harness.hpp"

namespace {

using e2e::cli;
using e2e::TempDir;
using nlohmann::json;

// For each svg.chart: its text elements' boxes, one problem line per pair that overlaps by more
// than half a pixel both ways and per box that leaves the chart's own box.
constexpr const char* kLayoutCheck = R"JS(
(function () {
  const problems = [], texts = {};
  const charts = document.querySelectorAll('svg.chart');
  const describe = (t) => JSON.stringify(t.textContent);
  for (const svg of charts) {
    const frame = svg.getBoundingClientRect();
    const boxes = [];
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      boxes.push([t, r]);
      if (r.left < frame.left - 0.5 || r.right > frame.right + 0.5 || r.top < frame.top - 0.5 ||
          r.bottom > frame.bottom + 0.5)
        problems.push(svg.id + ': ' + describe(t) + ' leaves the chart');
    }
    for (let i = 0; i < boxes.length; ++i)
      for (let j = i + 1; j < boxes.length; ++j) {
        const a = boxes[i][1], b = boxes[j][1];
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && h > 0.5)
          problems.push(svg.id + ': ' + describe(boxes[i][0]) + ' overlaps ' + describe(boxes[j][0]) +
                        ' by ' + w.toFixed(1) + ' x ' + h.toFixed(1) + ' px');
      }
    texts[svg.id] = boxes.map((b) => b[0].textContent);
  }
  const out = document.createElement('pre');
  out.id = 'layout-check';
  out.textContent = JSON.stringify({charts: charts.length, texts: texts, problems: problems});
  document.body.appendChild(out);
})();
)JS";

std::string unescape_html(std::string s) {
  for (auto [entity, c] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}, {"&amp;", "&"}}) {
    for (auto at = s.find(entity); at != std::string::npos; at = s.find(entity, at + c.size()))
      s.replace(at, entity.size(), c);
  }
  return s;
}

// The page with the check injected before </body>, and scripts allowed by its policy.
std::string with_layout_check(std::string page, const std::string& extra_svg_text = "") {
  const std::string policy = "default-src 'none'; style-src 'unsafe-inline'";
  auto at = page.find(policy);
  if (at == std::string::npos) return "";
  page.insert(at + policy.size(), "; script-src 'unsafe-inline'");
  if (!extra_svg_text.empty()) page.insert(page.find("</svg>"), extra_svg_text);
  page.insert(page.rfind("</body>"), std::string("<script>") + kLayoutCheck + "</script>\n");
  return page;
}

struct Layout {
  int charts = 0;
  json texts;
  std::vector<std::string> problems;
  std::string error;  // why nothing was measured
};

Layout layout_in_chromium(const std::string& exe, const TempDir& tmp, const std::string& name, const std::string& page) {
  Layout l;
  std::string checked = with_layout_check(page);
  if (checked.empty()) return l.error = "the page has not the expected Content-Security-Policy", l;
  std::string path = tmp / (name + ".checked.html");
  e2e::write_file(path, checked);
  auto dom = e2e::chromium(exe, tmp, path, {"--dump-dom", "--window-size=1280,2400"});
  if (dom.timed_out || dom.exit_status != 0) return l.error = "chromium failed: " + dom.err, l;
  if (e2e::has_page_messages(dom.err)) return l.error = "page messages: " + dom.err, l;
  auto found = e2e::all_between(dom.out, "<pre id=\"layout-check\">", "</pre>");
  if (found.size() != 1) return l.error = "no result in the DOM", l;
  json j = json::parse(unescape_html(found[0]));
  l.charts = j["charts"].get<int>();
  l.texts = j["texts"];
  l.problems = j["problems"].get<std::vector<std::string>>();
  return l;
}

// A JSON summary of a synthetic run: `epochs` epochs of `epoch_s` s each planned of `planned`,
// `gpus` GPUs of `gpu_w` W and a CPU of `cpu_w` W, PUE 1.58, and a power series per meter with
// at most 1000 buckets (as the tracker keeps them). `interrupted_last`: the last epoch did not end.
json synthetic_summary(int epochs, int planned, double epoch_s, int gpus, double gpu_w, double cpu_w,
                       bool interrupted_last = false) {
  json j;
  json devices = json::array();
  for (int g = 0; g < gpus; ++g)
    devices.push_back({{"id", "nvml:" + std::to_string(g)}, {"component", "gpu"}, {"device", "GPU " + std::to_string(g)},
                       {"method", "counter"}, {"detail", ""}});
  devices.push_back({{"id", "rapl:0"}, {"component", "cpu"}, {"device", "CPU"}, {"method", "counter"}, {"detail", ""}});
  j["context"] = {{"tool", "epochwatt"}, {"version", "test"}, {"host", "h"},
                  {"started_utc", "2025-01-01T00:00:00.000Z"}, {"finished_utc", "2025-01-02T00:00:00.000Z"},
                  {"devices", devices}, {"pue", 1.58}, {"epochs_planned", planned}};
  j["epochs"] = json::array();
  int counted = 0;
  for (int i = 0; i < epochs; ++i) {
    bool interrupted = interrupted_last && i + 1 == epochs;
    double d = interrupted ? epoch_s / 2 : epoch_s * (1 + 0.1 * ((i * 7) % 5) / 4.0);
    json devs = json::array();
    for (int g = 0; g < gpus; ++g) devs.push_back({{"meter", "nvml:" + std::to_string(g)}, {"joules", gpu_w * d}});
    devs.push_back({{"meter", "rapl:0"}, {"joules", cpu_w * d}});
    j["epochs"].push_back({{"epoch", i + 1}, {"interrupted", interrupted}, {"duration_s", d},
                           {"joules", (gpus * gpu_w + cpu_w) * d}, {"devices", devs}});
    if (!interrupted) ++counted;
  }
  double total_s = epochs * epoch_s;
  double kwh = counted * epoch_s * (gpus * gpu_w + cpu_w) * 1.58 / 3.6e6;
  j["actual"] = {{"epochs", counted}, {"duration_s", total_s}, {"energy_kwh", kwh}, {"co2_g", kwh * 445},
                 {"intensity_g_per_kwh", 445.0}, {"intensity_source", "fixed"}, {"km_by_car", kwh * 445 / 106.8}};
  j["intensity"] = {{"g_per_kwh", 445.0}, {"source", "fixed"}, {"live", false}};
  j["power_series"] = json::array();
  int buckets = std::max(2, std::min(1000, static_cast<int>(total_s)));
  for (int m = 0; m <= gpus; ++m) {
    bool cpu = m == gpus;
    json end = json::array(), watts = json::array();
    for (int b = 1; b <= buckets; ++b) {
      end.push_back(total_s * b / buckets);
      watts.push_back((cpu ? cpu_w : gpu_w) * (b == 1 ? 0.3 : 1.0));
    }
    j["power_series"].push_back({{"meter", cpu ? std::string("rapl:0") : "nvml:" + std::to_string(m)},
                                 {"component", cpu ? "cpu" : "gpu"}, {"start_s", 0.0}, {"end_s", end}, {"watts", watts}});
  }
  return j;
}

// The page `epochwatt report` writes for a JSON summary.
std::string report_page(const TempDir& tmp, const std::string& name, const json& summary) {
  std::string in = tmp / (name + "_epochwatt.json"), out = tmp / (name + ".html");
  e2e::write_file(in, summary.dump());
  auto r = e2e::run(cli({"report", in, "--html", out}), tmp.path());
  EXPECT_EQ(r.exit_status, 0) << name << ": " << r.err;
  return e2e::read_file(out);
}

void expect_clear_layout(const std::string& exe, const TempDir& tmp, const std::string& name, const std::string& page,
                         const std::vector<std::string>& units) {
  for (const auto& u : units) EXPECT_NE(page.find(u), std::string::npos) << name << ": no axis in " << u;
  Layout l = layout_in_chromium(exe, tmp, name, page);
  ASSERT_TRUE(l.error.empty()) << name << ": " << l.error;
  EXPECT_EQ(l.charts, 3) << name;
  for (const char* id : {"chart-power", "chart-epochs", "chart-prediction"})
    EXPECT_GE(l.texts[id].size(), 4u) << name << " " << id << ": the axes' titles and ticks at least";
  std::string all;
  for (const auto& p : l.problems) all += "\n  " + p;
  EXPECT_TRUE(l.problems.empty()) << name << ":" << all;
}

TEST(ReportChartLayout, TheCheckFindsOverlappingAndEscapingText) {
  std::string exe = e2e::find_chromium();
  if (exe.empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  TempDir tmp;
  std::string page = report_page(tmp, "planted", synthetic_summary(3, 3, 10, 1, 300, 50));
  // Two labels drawn on the same spot, and one beyond the chart's right edge.
  std::string planted = with_layout_check(
      page, "<text class=\"tick\" x=\"400\" y=\"100\">planted A</text><text class=\"tick\" x=\"405\" y=\"102\">planted B"
            "</text><text class=\"tick\" x=\"955\" y=\"100\">planted C</text>");
  ASSERT_FALSE(planted.empty());
  e2e::write_file(tmp / "planted.checked.html", planted);
  auto dom = e2e::chromium(exe, tmp, tmp / "planted.checked.html", {"--dump-dom", "--window-size=1280,2400"});
  ASSERT_FALSE(dom.timed_out);
  EXPECT_FALSE(e2e::has_page_messages(dom.err)) << dom.err;
  auto found = e2e::all_between(dom.out, "<pre id=\"layout-check\">", "</pre>");
  ASSERT_EQ(found.size(), 1u) << dom.out;
  auto problems = json::parse(unescape_html(found[0]))["problems"].get<std::vector<std::string>>();
  ASSERT_EQ(problems.size(), 2u) << found[0];
  EXPECT_EQ(problems[0], "chart-power: \"planted C\" leaves the chart");
  EXPECT_EQ(problems[1].substr(0, 47), "chart-power: \"planted A\" overlaps \"planted B\" b") << problems[1];
}

// One report per case, each its own test (one Chromium run each, so that ctest spreads them).
struct LayoutCase {
  std::string name;
  std::vector<std::string> units;  // axis titles (or lines) the page must hold
};
void PrintTo(const LayoutCase& c, std::ostream* os) { *os << c.name; }

std::string page_for(const TempDir& tmp, const std::string& name) {
  if (name == "short") return report_page(tmp, name, synthetic_summary(2, 2, 3, 1, 250, 45));
  if (name == "long_many_epochs") return report_page(tmp, name, synthetic_summary(2000, 2500, 90, 8, 700, 280));
  if (name == "tiny") return report_page(tmp, name, synthetic_summary(7, 9, 0.05, 0, 0, 0.002, true));
  // 16 meters of 437.5 kW each (a cluster's nodes) rather than 10000 GPUs, to keep the file small.
  if (name == "huge") return report_page(tmp, name, synthetic_summary(90, 100, 86400, 16, 437500, 20000));
  if (name == "nothing_measured") return report_page(tmp, name, synthetic_summary(0, 10, 1, 1, 100, 10));
  if (name == "one_epoch") return report_page(tmp, name, synthetic_summary(1, 1, 1.5, 2, 333.3, 61.7));
  if (name == "uneven_thousands") return report_page(tmp, name, synthetic_summary(37, 1234, 611, 3, 412.5, 95));
  std::string html = tmp / (name + ".html");
  if (name == "tracked") {  // a tracked run on simulated devices
    auto run = e2e::run(cli({"--epochs", "3", "--epoch-regex", "epoch done", "--sim-gpu", "Sim GPU", "--sim-gpu-watts", "300",
                             "--sim-cpu", "Sim CPU", "--sim-cpu-tdp", "65", "--log-dir", tmp / "logs", "--", "sh", "-c",
                             "for i in 1 2 3; do sleep 0.4; echo epoch done; done"}),
                        tmp.path());
    EXPECT_EQ(run.exit_status, 0) << run.err;
    auto r = e2e::run(cli({"report", tmp / "logs", "--html", html}), tmp.path());
    EXPECT_EQ(r.exit_status, 0) << r.err;
  } else {  // "ct24": carbontracker 2.4's own log pair
    std::string log = std::string(EPOCHWATT_TEST_DATA_DIR) + "/ct_logs/v2.4/48213.70211_2025-03-04T101500Z_carbontracker.log";
    auto r = e2e::run(cli({"report", log, "--html", html}), tmp.path());
    EXPECT_EQ(r.exit_status, 0) << r.err;
  }
  return e2e::read_file(html);
}

class ReportChartLayoutOf : public ::testing::TestWithParam<LayoutCase> {};

TEST_P(ReportChartLayoutOf, NoChartTextOverlapsOrLeavesItsChart) {
  const LayoutCase& c = GetParam();
  TempDir tmp;
  std::string page = page_for(tmp, c.name);
  ASSERT_NE(page.find("</html>"), std::string::npos) << c.name;
  std::string exe = e2e::find_chromium();
  if (exe.empty()) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  expect_clear_layout(exe, tmp, c.name, page, c.units);
}

INSTANTIATE_TEST_SUITE_P(
    Reports, ReportChartLayoutOf,
    ::testing::Values(LayoutCase{"short", {"(mWh)", "power (W)", "time since start (s)"}},
                      LayoutCase{"long_many_epochs", {"energy per epoch (Wh)", "(kWh)", "power (kW)", "time since start (h)"}},
                      LayoutCase{"tiny", {"(µWh)", "power (mW)"}},
                      LayoutCase{"huge", {"(MWh)", "(GWh)", "power (MW)", "(d)"}},
                      LayoutCase{"nothing_measured", {"no epoch ended in this run"}},
                      LayoutCase{"one_epoch", {"(mWh)"}},
                      LayoutCase{"uneven_thousands", {"(kWh)", "(h)"}},
                      LayoutCase{"tracked", {"power (W)"}},
                      LayoutCase{"ct24", {"(mWh)"}}),
    [](const ::testing::TestParamInfo<LayoutCase>& info) { return info.param.name; });

}  // namespace
