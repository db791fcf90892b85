// The Energi Data Service provider (Denmark) against a local HTTP server on 127.0.0.1.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "intensity/providers/energidataservice.hpp"
#include "unit/local_http_server.hpp"

using namespace epochwatt;
using namespace epochwatt::detail;
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
  EXPECT_EQ(seen.find("end")->second, "2026-11-26T13:00");
  EXPECT_EQ(seen.find("timezone")->second, "UTC");
  EXPECT_EQ(seen.find("filter")->second, R"({"PriceArea":["DK2"]})");
}

TEST(EnergiDataService, BadAnswersAndOtherCountries) {
  struct Case {
    const char* name;
    int status;
    std::string body;
    const char* expected;
  };
  std::vector<Case> cases = {
      {"empty records", 200, R"({"total":0,"records":[]})", "no CO2 emission records returned for area DK1"},
      {"no records field", 200, R"({"total":0})", "answer has no records list"},
      {"null value", 200, R"({"records":[{"PriceArea":"DK1","CO2Emission":null}]})", "no CO2 emission records"},
      {"absurd", 200, R"({"records":[{"PriceArea":"DK1","CO2Emission":5000}]})", "implausible value 5000.00"},
      {"http 503", 503, "", "HTTP 503 after 2 attempt(s)"},
      {"truncated", 200, R"({"records":[{"PriceArea":"DK1","CO2Em)", "answer is not a JSON object"},
  };
  for (const auto& c : cases) {
    LocalServer s;
    s.server().Get("/dataset/CO2Emis", [&](const httplib::Request&, httplib::Response& res) {
      res.status = c.status;
      res.set_content(c.body, "application/json");
    });
    std::string why;
    EXPECT_FALSE(make_energidataservice_provider(config_for(s, "DK1"))->current(dk(), &why)) << c.name;
    EXPECT_NE(why.find(c.expected), std::string::npos) << c.name << ": " << why;
  }
  LocalServer s;
  std::string why;
  EXPECT_FALSE(make_energidataservice_provider(config_for(s))->current(Location::of_country("GB", "option"), &why));
  EXPECT_EQ(why, "covers Denmark only, not GB");
  EXPECT_FALSE(make_energidataservice_provider(config_for(s, "DK3"))->current(dk(), &why));
  EXPECT_EQ(why, "unknown price area 'DK3' (DK1 or DK2)");
}
