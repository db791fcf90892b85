// The HTML report's chart axes (src/report/html_charts.hpp): units scaled to the magnitude, nice
// ticks, whole-number ticks on epoch axes, and the left margin that keeps the y-axis title clear
// of the tick labels. Chromium checks the drawn boxes (tests/e2e/report_chart_layout_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "report/html_charts.hpp"

namespace {

using namespace epochwatt::detail;

TEST(HtmlCharts, EnergyUnitReadsBetweenOneAndAThousand) {
  struct Case {
    double joules;
    const char* unit;
  };
  // 1 Wh = 3600 J.
  for (const Case& c : std::vector<Case>{{3.6e-9, "µWh"},  // below the ladder: its lowest rung
                                         {3.6e-3, "µWh"},
                                         {3.599, "µWh"},
                                         {3.6, "mWh"},
                                         {3599, "mWh"},
                                         {3600, "Wh"},
                                         {3.6e6 - 1, "Wh"},
                                         {3.6e6, "kWh"},
                                         {3.6e9, "MWh"},
                                         {3.6e12, "GWh"},
                                         {3.6e15, "TWh"},
                                         {3.6e20, "TWh"}}) {
    ChartUnit u = energy_unit(c.joules);
    EXPECT_EQ(u.name, c.unit) << c.joules;
  }
  EXPECT_DOUBLE_EQ(energy_unit(7.2e6).base_per_unit, 3.6e6);
  for (double nothing : {0.0, -1.0, std::nan(""), HUGE_VAL}) EXPECT_EQ(energy_unit(nothing).name, "Wh") << nothing;
}

TEST(HtmlCharts, PowerAndTimeUnits) {
  EXPECT_EQ(power_unit(0.002).name, "mW");
  EXPECT_EQ(power_unit(999.9).name, "W");
  EXPECT_EQ(power_unit(5600).name, "kW");
  EXPECT_EQ(power_unit(7.02e6).name, "MW");
  EXPECT_EQ(power_unit(0).name, "W");
  EXPECT_EQ(time_unit(599).name, "s");
  EXPECT_EQ(time_unit(600).name, "min");
  EXPECT_EQ(time_unit(3 * 3600).name, "h");
  EXPECT_EQ(time_unit(3 * 86400).name, "d");
  EXPECT_DOUBLE_EQ(time_unit(3 * 86400).base_per_unit, 86400);
}

TEST(HtmlCharts, NiceTicksAreOneTwoOrFiveTimesAPowerOfTen) {
  for (double hi : {0.00123, 0.7, 1.0, 4.2, 17.0, 999.0, 1234.5, 7.7e6}) {
    Axis a = nice_axis(0, hi, 5);
    double mantissa = a.step / std::pow(10.0, std::floor(std::log10(a.step) + 1e-9));
    EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 || std::fabs(mantissa - 5) < 1e-9)
        << hi << " step " << a.step;
    EXPECT_LE(a.lo, 0);
    EXPECT_GE(a.hi, hi);
    EXPECT_GE(a.ticks.size(), 3u) << hi;
    EXPECT_LE(a.ticks.size(), 11u) << hi;
    EXPECT_DOUBLE_EQ(a.ticks.back(), a.hi);
  }
  // Ticks from lo by multiplication: no 0.30000000000000004 creeping into a label.
  Axis a = nice_axis(0, 1.0, 10);
  std::vector<std::string> labels;
  for (double t : a.ticks) labels.push_back(tick_label(t, a.step));
  EXPECT_EQ(labels, (std::vector<std::string>{"0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"}));
  EXPECT_EQ(tick_label(-0.0, 0.5), "0");
  EXPECT_EQ(tick_label(-1e-17, 0.1), "0");
}

TEST(HtmlCharts, EpochAxesHaveWholeNumberTicks) {
  // 4 epochs in 8 ticks would be 0.5 apart; an epoch has no half.
  EXPECT_DOUBLE_EQ(nice_axis(0, 4, 8).step, 0.5) << "without the rule";
  for (int epochs : {1, 2, 3, 4, 7, 10, 13, 100, 2500}) {
    Axis a = nice_axis(0, epochs, 8, true);
    EXPECT_GE(a.step, 1) << epochs;
    for (double t : a.ticks) EXPECT_EQ(t, std::round(t)) << epochs;
  }
}

TEST(HtmlCharts, TextWidthEstimate) {
  // DejaVu Sans: digits 1303/2048 em, '.' 651/2048 em.
  EXPECT_NEAR(text_width("1000", 12), 4 * 0.636 * 12, 1e-9);
  EXPECT_NEAR(text_width("0.5", 12), (2 * 0.636 + 0.318) * 12, 1e-9);
  EXPECT_NEAR(text_width("µ", 10), 7.2, 1e-9) << "one character, two bytes";
  EXPECT_EQ(text_width("", 12), 0);
}

// Every <text> of a chart: its x, y and content, in the order drawn.
struct Text {
  double x = 0, y = 0;
  std::string body;
};
std::vector<Text> texts_of(const std::string& chart) {
  std::vector<Text> out;
  const std::regex re("<text class=\"tick\" x=\"([-0-9.]+)\" y=\"([-0-9.]+)\"[^>]*>([^<]*)</text>");
  for (std::sregex_iterator it(chart.begin(), chart.end(), re), end; it != end; ++it)
    out.push_back({std::stod((*it)[1]), std::stod((*it)[2]), (*it)[3]});
  return out;
}

ReportData run_of(int epochs, int planned, double joules_per_epoch) {
  ReportData d;
  d.epochs_planned = planned;
  d.pue = 1.58;
  for (int i = 1; i <= epochs; ++i) {
    ReportEpoch e;
    e.index = i;
    e.duration_s = 10;
    e.joules = joules_per_epoch;
    e.by_component = {{"gpu", joules_per_epoch}};
    d.epochs.push_back(e);
    d.prediction_series.push_back({i, planned * joules_per_epoch * 1.58 / 3.6e6, i * joules_per_epoch * 1.58 / 3.6e6, false, 0.0, 0.0});
  }
  return d;
}

TEST(HtmlCharts, PredictionChartCountsWholeEpochsInTheUnitOfItsMagnitude) {
  // 4 epochs of 0.5 Wh: 3.16 Wh predicted with PUE.
  std::string chart = prediction_chart(run_of(4, 4, 1800));
  EXPECT_NE(chart.find("energy with PUE 1.58 (Wh)"), std::string::npos) << chart;
  std::vector<std::string> x_labels;
  for (const auto& t : texts_of(chart))
    if (t.y > 280) x_labels.push_back(t.body);  // below the plot
  EXPECT_EQ(x_labels, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  // The same in kWh and in µWh.
  EXPECT_NE(prediction_chart(run_of(4, 4, 1.8e6)).find("(kWh)"), std::string::npos);
  EXPECT_NE(prediction_chart(run_of(4, 4, 1.8e-3)).find("(µWh)"), std::string::npos);
}

TEST(HtmlCharts, EpochChartLabelsWholeEpochsWithoutCrowding) {
  for (int epochs : {3, 37, 2000}) {
    std::string chart = epoch_energy_chart(run_of(epochs, epochs, 5e5));
    EXPECT_NE(chart.find("energy per epoch (Wh)"), std::string::npos);
    auto labels = texts_of(chart);
    std::vector<Text> x;
    for (const auto& t : labels)
      if (t.y > 280) x.push_back(t);
    ASSERT_GE(x.size(), 2u) << epochs;
    if (epochs == 3) {
      EXPECT_EQ(x.size(), 3u);
    }
    EXPECT_EQ(x.front().body, "1") << "1, 2, 3; 1, 5, 10, ...; 1, 200, 400, ...";
    if (epochs == 37) {
      EXPECT_EQ(x[1].body, "5");
    }
    for (const auto& t : x) EXPECT_EQ(t.body.find('.'), std::string::npos) << t.body;
    for (std::size_t i = 1; i < x.size(); ++i) {
      // Estimated boxes 8 px apart at least (the browser checks the real ones).
      double gap = (x[i].x - text_width(x[i].body, 12) / 2) - (x[i - 1].x + text_width(x[i - 1].body, 12) / 2);
      EXPECT_GE(gap, 8) << epochs << ": " << x[i - 1].body << " and " << x[i].body;
    }
  }
}

TEST(HtmlCharts, TheYAxisTitleStandsClearOfTheWidestTickLabel) {
  // Tick labels of 4 to 6 characters: the plot's left edge moves right with them, so that the
  // title (baseline at 18.1, about 3 px of descent to its right) keeps 8 px from their left end.
  for (double joules : {1.0, 3.3e3, 1.2345e5, 3.6e6 * 987}) {
    std::string chart = epoch_energy_chart(run_of(5, 5, joules));
    for (const auto& t : texts_of(chart)) {
      if (t.y > 280) continue;  // the x axis
      double left = t.x - text_width(t.body, 12);  // text-anchor end
      EXPECT_GE(left, 18.1 + 0.24 * 13 + 8) << joules << ": " << t.body;
    }
  }
}

}  // namespace
