// The Energi Data Service provider (Denmark) against a local HTTP server on 127.0.0.1.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "intensity/providers/energidataservice.hpp"
#include "unit/local_http_server.hpp"

using namespace epochwatt;
using namespace epochwatt::detail;
using testing_support::BadAnswer;
using testing_support::expect_each_refused;
using testing_support::LocalServer;

namespace {

EnergiDataServiceConfig config_for(const LocalServer& s, std::string area = "") {
  EnergiDataServiceConfig c;
  c.base_url = s.url();
  c.price_area = std::move(area);
  c.request_template.total_timeout_s = 1.0;
  c.request_template.max_attempts = 2;
  c.request_template.backoff_s = 0.01;
  return c;
}

std::string records(std::initializer_list<std::pair<const char*, double>> rows) {
  std::string s = R"({"total":)" + std::to_string(rows.size()) + R"(,"dataset":"CO2Emis","records":[)";
  bool first = true;
  for (const auto& [area, v] : rows) {
    if (!first) s += ",";
    first = false;
    s += R"({"Minutes5UTC":"2026-11-26T12:00:00","Minutes5DK":"2026-11-26T13:00:00","PriceArea":")" +
         std::string(area) + R"(","CO2Emission":)" + std::to_string(v) + "}";
  }
  return s + "]}";
}

Location dk() { return Location::of_country("DK", "option"); }

}  // namespace

TEST(EnergiDataService, CurrentIsTheNewestRecordOfTheArea) {
  LocalServer s;
  std::multimap<std::string, std::string> seen;
  s.server().Get("/dataset/CO2Emis", [&](const httplib::Request& req, httplib::Response& res) {
    seen = {req.params.begin(), req.params.end()};
    res.set_content(records({{"DK1", 120.0}}), "application/json");
  });
  std::string why;
  auto v = make_energidataservice_provider(config_for(s, "DK1"))->current(dk(), &why);
  ASSERT_TRUE(v) << why;
  EXPECT_DOUBLE_EQ(v->g_per_kwh, 120.0);
  EXPECT_TRUE(v->live);
  EXPECT_EQ(seen.find("filter")->second, R"({"PriceArea":["DK1"]})");
  EXPECT_EQ(seen.find("sort")->second, "Minutes5UTC DESC");
  EXPECT_EQ(seen.find("limit")->second, "1");
}

TEST(EnergiDataService, WithoutAnAreaTheMeanOfDk1AndDk2) {
  LocalServer s;
  s.server().Get("/dataset/CO2Emis", [&](const httplib::Request& req, httplib::Response& res) {
    bool east = req.get_param_value("filter").find("DK2") != std::string::npos;
    res.set_content(records({{east ? "DK2" : "DK1", east ? 200.0 : 100.0}}), "application/json");
  });
  std::string why;
  auto v = make_energidataservice_provider(config_for(s))->current(dk(), &why);
  ASSERT_TRUE(v) << why;
  EXPECT_DOUBLE_EQ(v->g_per_kwh, 150.0);
}

TEST(EnergiDataService, ForecastReadsThePrognosisOfTheWindowInUtc) {
  LocalServer s;
  std::multimap<std::string, std::string> seen;
  s.server().Get("/dataset/CO2EmisProg", [&](const httplib::Request& req, httplib::Response& res) {
    seen = {req.params.begin(), req.params.end()};
    res.set_content(records({{"DK2", 90.0}, {"DK2", 110.0}, {"DK2", 130.0}}), "application/json");
  });
  auto from = std::chrono::system_clock::time_point{std::chrono::seconds{1795694400 + 130}};  // 12:02:10Z
  std::string why;
  auto v = make_energidataservice_provider(config_for(s, "DK2"))->forecast(dk(), from, 3600, &why);
  ASSERT_TRUE(v) << why;
  EXPECT_DOUBLE_EQ(v->g_per_kwh, 110.0);  // every record of the window (spec D16)
  EXPECT_TRUE(v->forecast);
  EXPECT_EQ(seen.find("start")->second, "2026-11-26T12:00");  // floored to 5 minutes
  EXPECT_EQ(seen.find("end")->second, "2026-11-26T13:05");  // rounded up: takes in 13:00-13:05
  EXPECT_EQ(seen.find("timezone")->second, "UTC");
  EXPECT_EQ(seen.find("filter")->second, R"({"PriceArea":["DK2"]})");
}

TEST(EnergiDataService, BadAnswersAndOtherCountries) {
  std::vector<BadAnswer> answers = {
      {"empty records", 200, R"({"total":0,"records":[]})", "no CO2 emission records returned for area DK1"},
      {"no records field", 200, R"({"total":0})", "answer has no records list"},
      {"null value", 200, R"({"records":[{"PriceArea":"DK1","CO2Emission":null}]})", "no CO2 emission records"},
      {"absurd", 200, R"({"records":[{"PriceArea":"DK1","CO2Emission":5000}]})", "implausible value 5000.00"},
      {"http 503", 503, "", "HTTP 503 after 2 attempt(s)"},
      {"truncated", 200, R"({"records":[{"PriceArea":"DK1","CO2Em)", "answer is not a JSON object"},
  };
  expect_each_refused("/dataset/CO2Emis", answers, [](LocalServer& s, std::string* why) {
    return make_energidataservice_provider(config_for(s, "DK1"))->current(dk(), why).has_value();
  });
  LocalServer s;
  std::string why;
  EXPECT_FALSE(make_energidataservice_provider(config_for(s))->current(Location::of_country("GB", "option"), &why));
  EXPECT_EQ(why, "covers Denmark only, not GB");
  EXPECT_FALSE(make_energidataservice_provider(config_for(s, "DK3"))->current(dk(), &why));
  EXPECT_EQ(why, "unknown price area 'DK3' (DK1 or DK2)");
}

namespace {
// Prognosis records of one area, 5 minutes apart from 12:00 UTC.
std::string prognosis(const char* area, std::initializer_list<double> values) {
  std::string s = R"({"total":)" + std::to_string(values.size()) + R"(,"dataset":"CO2EmisProg","records":[)";
  int i = 0;
  for (double v : values) {
    char t[32];
    std::snprintf(t, sizeof t, "2026-11-26T12:%02d:00", 5 * i);
    s += std::string(i ? "," : "") + R"({"Minutes5UTC":")" + t + R"(","PriceArea":")" + area + R"(","CO2Emission":)" +
         std::to_string(v) + "}";
    ++i;
  }
  return s + "]}";
}
const auto kNoon = std::chrono::system_clock::time_point{std::chrono::seconds{1795694400}};  // 12:00Z
}  // namespace

TEST(EnergiDataService, ForecastSeriesHasFiveMinutePointsAndBothAreasAveraged) {
  LocalServer s;
  s.server().Get("/dataset/CO2EmisProg", [&](const httplib::Request& req, httplib::Response& res) {
    bool east = req.get_param_value("filter").find("DK2") != std::string::npos;
    res.set_content(east ? prognosis("DK2", {200, 200, 200, 200}) : prognosis("DK1", {100, 120, 140, 160}), "application/json");
  });
  std::string why;
  auto p = make_energidataservice_provider(config_for(s));
  // 12:02:30 to 12:12:30 overlaps the records of 12:00, 12:05 and 12:10.
  auto from = kNoon + std::chrono::seconds(150);
  auto series = p->forecast_series(dk(), from, from + std::chrono::minutes(10), &why);
  ASSERT_TRUE(series) << why;
  ASSERT_EQ(series->points.size(), 3u);
  EXPECT_EQ(series->points[0].start, kNoon);
  EXPECT_EQ(series->points[2].start, kNoon + std::chrono::minutes(10));
  EXPECT_DOUBLE_EQ(series->points[0].period_s, 300.0);
  EXPECT_DOUBLE_EQ(series->points[0].g_per_kwh, 150.0);  // (100 + 200) / 2
  EXPECT_DOUBLE_EQ(series->points[2].g_per_kwh, 170.0);
  // forecast(): 150 s of 150, 300 s of 160, 150 s of 170.
  auto v = p->forecast(dk(), from, 600, &why);
  ASSERT_TRUE(v) << why;
  EXPECT_NEAR(v->g_per_kwh, (150 * 150.0 + 300 * 160.0 + 150 * 170.0) / 600, 1e-9);
  EXPECT_TRUE(v->forecast);
  // A window the prognosis does not reach.
  EXPECT_FALSE(p->forecast_series(dk(), kNoon + std::chrono::hours(5), kNoon + std::chrono::hours(6), &why));
  EXPECT_EQ(why, "prognosis does not cover the window");
}

TEST(EnergiDataService, TheLocationsZoneChoosesThePriceArea) {
  LocalServer s;
  std::string filter;
  s.server().Get("/dataset/CO2Emis", [&](const httplib::Request& req, httplib::Response& res) {
    filter = req.get_param_value("filter");
    res.set_content(records({{"DK2", 90.0}}), "application/json");
  });
  Location l = dk();
  l.zone = "DK-DK2";
  std::string why;
  auto v = make_energidataservice_provider(config_for(s, "DK1"))->current(l, &why);
  ASSERT_TRUE(v) << why;
  EXPECT_EQ(filter, R"({"PriceArea":["DK2"]})");
  EXPECT_NE(v->description.find("DK2"), std::string::npos);
  l.zone = "DK-DK3";
  EXPECT_FALSE(make_energidataservice_provider(config_for(s))->current(l, &why));
  EXPECT_EQ(why, "unknown Danish zone 'DK-DK3' (DK-DK1 or DK-DK2)");
}

TEST(EnergiDataService, TransportFailuresAndMoreBadAnswers) {
  std::vector<BadAnswer> answers = {
      {"http 400", 400, R"({"error":"bad filter"})", "HTTP 400 after 1 attempt(s)"},
      {"not json", 200, "<html></html>", "answer is not a JSON object"},
      {"negative", 200, R"({"records":[{"Minutes5UTC":"2026-11-26T12:00:00","CO2Emission":-3}]})", "negative value -3.00"},
      {"no times", 200, R"({"records":[{"CO2Emission":100}]})", "no CO2 emission prognosis returned for area DK1"},
      {"empty", 200, R"({"records":[]})", "no CO2 emission prognosis returned for area DK1"},
  };
  expect_each_refused("/dataset/CO2EmisProg", answers, [](LocalServer& s, std::string* why) {
    return make_energidataservice_provider(config_for(s, "DK1"))
        ->forecast_series(dk(), kNoon, kNoon + std::chrono::hours(1), why)
        .has_value();
  });


  LocalServer s;
  std::atomic<int> calls{0};
  s.server().Get("/dataset/CO2Emis", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("filter").find("SLOW") != std::string::npos) return;
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "0.1");
      return;
    }
    res.set_content(records({{"DK1", 110.0}}), "application/json");
  });
  std::string why;
  auto v = make_energidataservice_provider(config_for(s, "DK1"))->current(dk(), &why);
  ASSERT_TRUE(v) << why;
  EXPECT_EQ(calls.load(), 2);  // the 429, then the answer

  LocalServer slow;
  slow.server().Get("/dataset/CO2Emis", [&](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    res.set_content(records({{"DK1", 110.0}}), "application/json");
  });
  auto c = config_for(slow, "DK1");
  c.request_template.total_timeout_s = 0.2;
  EXPECT_FALSE(make_energidataservice_provider(c)->current(dk(), &why));
  EXPECT_NE(why.find("Timeout was reached after 2 attempt(s)"), std::string::npos) << why;

  auto refused = config_for(s, "DK1");
  refused.base_url = "http://127.0.0.1:1";
  EXPECT_FALSE(make_energidataservice_provider(refused)->current(dk(), &why));
  EXPECT_NE(why.find("Couldn't connect to server"), std::string::npos) << why;

  auto dns = config_for(s, "DK1");
  dns.base_url = "http://epochwatt-test.invalid";
  dns.request_template.max_attempts = 1;
  EXPECT_FALSE(make_energidataservice_provider(dns)->current(dk(), &why));
  EXPECT_NE(why.find("resolve"), std::string::npos) << why;
}

TEST(EnergiDataService, ZonesOutsideDenmarkAreNotCovered) {
  LocalServer s;
  Location l;
  l.zone = "DE";
  std::string why;
  EXPECT_FALSE(make_energidataservice_provider(config_for(s))->current(l, &why));
  EXPECT_EQ(why, "covers Denmark only, not zone DE");
}
