// The bounded power history (core/power_history.hpp) and the JSON summary's power_series: energy
// is kept exactly through every merge, memory stays bounded, and the series carries the power the
// meters drew.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/power_history.hpp"
#include "unit/support.hpp"

namespace {

using epochwatt::detail::PowerBucket;
using epochwatt::detail::PowerHistory;

double total_joules(const std::vector<PowerBucket>& buckets) {
  double j = 0;
  for (const auto& b : buckets) j += b.joules;
  return j;
}

TEST(PowerHistory, StaysBoundedAndKeepsEnergyThroughMerges) {
  PowerHistory h(1000, 0.0);
  double e = 0;
  for (int i = 0; i <= 10000; ++i) {
    h.add(i * 1.0, e);
    e += i < 5000 ? 100.0 : 300.0;  // 100 W for the first 5000 s, 300 W after
  }
  auto b = h.buckets();
  EXPECT_LE(b.size(), 1001u);
  EXPECT_GE(b.size(), 500u);
  EXPECT_GT(h.width(), 1.0) << "a full history must have widened its buckets";
  EXPECT_DOUBLE_EQ(b.front().t0, 0.0);
  EXPECT_DOUBLE_EQ(b.back().t1, 10000.0);
  EXPECT_DOUBLE_EQ(total_joules(b), 100.0 * 5000 + 300.0 * 5000);
  for (std::size_t i = 1; i < b.size(); ++i) EXPECT_DOUBLE_EQ(b[i].t0, b[i - 1].t1) << i;
  EXPECT_NEAR(b.front().watts(), 100.0, 1e-9);
  EXPECT_NEAR(b.back().watts(), 300.0, 1e-9);
}

TEST(PowerHistory, ReadingsCloserThanTheMinimumWidthFoldIntoOneBucket) {
  PowerHistory h(1000, 0.5);
  h.add(0.0, 0.0);
  h.add(1.0, 100.0);
  h.add(1.1, 110.0);  // a boundary's extra reading just after a poll
  h.add(2.0, 200.0);
  auto b = h.buckets();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_DOUBLE_EQ(b[0].t1, 1.0);
  EXPECT_DOUBLE_EQ(b[1].t0, 1.0);
  EXPECT_DOUBLE_EQ(b[1].t1, 2.0);
  EXPECT_DOUBLE_EQ(b[1].watts(), 100.0);
}

TEST(PowerHistory, AShortLastBucketJoinsThePreviousOne) {
  PowerHistory h(1000, 1.0);
  h.add(0.0, 0.0);
  h.add(1.0, 100.0);
  h.add(1.2, 140.0);  // stop() 0.2 s after the last poll
  auto b = h.buckets();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_DOUBLE_EQ(b[0].t1, 1.2);
  EXPECT_DOUBLE_EQ(b[0].joules, 140.0);
  h.add(1.6, 180.0);  // now 0.6 s open: its own bucket
  EXPECT_EQ(h.buckets().size(), 2u);
}

TEST(PowerHistory, TheOpenBucketIsReportedAndBackwardsInputIsClamped) {
  PowerHistory h(1000, 10.0);
  EXPECT_TRUE(h.buckets().empty());
  h.add(5.0, 50.0);
  EXPECT_TRUE(h.buckets().empty()) << "one reading spans no time";
  h.add(4.0, 40.0);  // earlier and smaller: clamped, still no span
  EXPECT_TRUE(h.buckets().empty());
  h.add(7.0, 90.0);
  auto b = h.buckets();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_DOUBLE_EQ(b[0].watts(), 20.0);
}

TEST(PowerHistory, JsonSummaryCarriesOneSeriesPerMeterWithItsPower) {
  auto r = ewtest::run_scenario(ewtest::Scenario::full_run);
  auto j = nlohmann::json::parse(ewtest::read_file(r.json_path));
  const auto& series = j.at("power_series");
  ASSERT_EQ(series.size(), 4u);  // two GPUs, cpu:0, dram:0 (spec §14)
  std::map<std::string, double> watts_of = {{"gpu", 150.0}, {"cpu", 45.0}, {"dram", 5.0}};
  for (const auto& s : series) {
    const auto& end = s.at("end_s");
    const auto& watts = s.at("watts");
    ASSERT_EQ(end.size(), watts.size());
    ASSERT_FALSE(end.empty());
    EXPECT_DOUBLE_EQ(s.at("start_s").get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(end.back().get<double>(), 30.0);
    double prev = 0, joules = 0;
    for (std::size_t i = 0; i < end.size(); ++i) {
      double t = end[i].get<double>();
      EXPECT_GT(t, prev);
      EXPECT_NEAR(watts[i].get<double>(), watts_of.at(s.at("component").get<std::string>()), 1e-9);
      joules += watts[i].get<double>() * (t - prev);
      prev = t;
    }
    EXPECT_NEAR(joules, watts_of.at(s.at("component").get<std::string>()) * 30.0, 1e-6);
  }
}

}  // namespace
