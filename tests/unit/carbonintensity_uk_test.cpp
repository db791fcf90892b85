// The carbonintensity.org.uk provider and the libcurl client against a local HTTP server on
// 127.0.0.1 (cpp-httplib, started by the test), answering with bodies shaped like the API's
// documented ones, and with every failure a provider must survive.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "intensity/providers/carbonintensity_uk.hpp"
#include "unit/local_http_server.hpp"

using namespace epochwatt;
using namespace epochwatt::detail;

namespace {

using testing_support::BadAnswer;
using testing_support::expect_each_refused;
using testing_support::LocalServer;

CarbonIntensityUkConfig config_for(const LocalServer& s) {
  CarbonIntensityUkConfig c;
  c.base_url = s.url();
  c.request_template.connect_timeout_s = 1.0;
  c.request_template.total_timeout_s = 1.0;
  c.request_template.max_attempts = 3;
  c.request_template.backoff_s = 0.01;
  return c;
}

const char* kNational = R"({"data":[{"from":"2026-11-26T12:00Z","to":"2026-11-26T12:30Z",
  "intensity":{"forecast":180,"actual":175,"index":"moderate"}}]})";

const char* kRegional = R"({"data":[{"regionid":12,"dnoregion":"SSE South","shortname":"South England",
  "postcode":"RG10","data":[{"from":"2026-11-26T12:00Z","to":"2026-11-26T12:30Z",
  "intensity":{"forecast":95,"index":"low"},"generationmix":[{"fuel":"wind","perc":40.1}]}]}]})";

const char* kNationalWindow = R"({"data":[
  {"from":"2026-11-26T12:00Z","to":"2026-11-26T12:30Z","intensity":{"forecast":100,"actual":null,"index":"low"}},
  {"from":"2026-11-26T12:30Z","to":"2026-11-26T13:00Z","intensity":{"forecast":200,"actual":null,"index":"moderate"}},
  {"from":"2026-11-26T13:00Z","to":"2026-11-26T13:30Z","intensity":{"forecast":300,"actual":null,"index":"high"}}]})";

const char* kRegionalWindow = R"({"data":{"regionid":12,"shortname":"South England","postcode":"RG10","data":[
  {"from":"2026-11-26T12:00Z","to":"2026-11-26T12:30Z","intensity":{"forecast":50,"index":"low"}},
  {"from":"2026-11-26T12:30Z","to":"2026-11-26T13:00Z","intensity":{"forecast":70,"index":"low"}}]}})";

Location gb() { return Location::of_country("GB", "option"); }

}  // namespace

TEST(CarbonIntensityUk, NationalCurrentUsesTheCurrentHalfHour) {
  LocalServer s;
  std::string seen_path;
  s.server().Get("/intensity", [&](const httplib::Request& req, httplib::Response& res) {
    seen_path = req.path;
    res.set_content(kNational, "application/json");
  });
  auto p = make_carbonintensity_uk_provider(config_for(s));
  std::string why;
  auto v = p->current(gb(), &why);
  ASSERT_TRUE(v) << why;
  EXPECT_DOUBLE_EQ(v->g_per_kwh, 180.0);
  EXPECT_TRUE(v->live);
  EXPECT_EQ(v->source, "carbonintensity.org.uk");
  EXPECT_EQ(seen_path, "/intensity");
}

TEST(CarbonIntensityUk, RegionalByOutwardPostcodeAndRegionId) {
  LocalServer s;
  s.server().Get("/regional/postcode/RG10", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kRegional, "application/json");
  });
  s.server().Get("/regional/regionid/12", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kRegional, "application/json");
  });
  auto c = config_for(s);
  c.postcode = "RG10 1AB";  // cut at the space: the API takes the outward part
  std::string why;
  auto v = make_carbonintensity_uk_provider(c)->current(gb(), &why);
  ASSERT_TRUE(v) << why;
  EXPECT_DOUBLE_EQ(v->g_per_kwh, 95.0);
  EXPECT_NE(v->description.find("RG10"), std::string::npos);

  auto r = config_for(s);
  r.region_id = 12;
  auto w = make_carbonintensity_uk_provider(r)->current(gb(), &why);
  ASSERT_TRUE(w) << why;
  EXPECT_DOUBLE_EQ(w->g_per_kwh, 95.0);
}

TEST(CarbonIntensityUk, ForecastIsTheMeanOfEveryPeriodOfTheWindow) {
  LocalServer s;
  std::string national_path, regional_path;
  s.server().Get(R"(/intensity/([^/]+)/([^/]+))", [&](const httplib::Request& req, httplib::Response& res) {
    national_path = req.path;
    res.set_content(kNationalWindow, "application/json");
  });
  s.server().Get(R"(/regional/intensity/([^/]+)/([^/]+)/postcode/RG10)",
                 [&](const httplib::Request& req, httplib::Response& res) {
                   regional_path = req.path;
                   res.set_content(kRegionalWindow, "application/json");
                 });
  auto from = std::chrono::system_clock::time_point{std::chrono::seconds{1795694400}};  // 2026-11-26T12:00Z
  std::string why;
  auto v = make_carbonintensity_uk_provider(config_for(s))->forecast(gb(), from, 5400, &why);
  ASSERT_TRUE(v) << why;
  EXPECT_DOUBLE_EQ(v->g_per_kwh, 200.0);  // (100 + 200 + 300) / 3, not the first period only (D16)
  EXPECT_TRUE(v->forecast);
  EXPECT_EQ(national_path, "/intensity/2026-11-26T12:00Z/2026-11-26T13:30Z");

  auto c = config_for(s);
  c.postcode = "RG10";
  auto w = make_carbonintensity_uk_provider(c)->forecast(gb(), from, 3600, &why);
  ASSERT_TRUE(w) << why;
  EXPECT_DOUBLE_EQ(w->g_per_kwh, 60.0);
  EXPECT_EQ(regional_path, "/regional/intensity/2026-11-26T12:00Z/2026-11-26T13:00Z/postcode/RG10");
}

TEST(CarbonIntensityUk, RetriesA500ThenSucceeds) {
  LocalServer s;
  std::atomic<int> calls{0};
  s.server().Get("/intensity", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls < 3) {
      res.status = 500;
      res.set_content("oops", "text/plain");
      return;
    }
    res.set_content(kNational, "application/json");
  });
  std::string why;
  auto v = make_carbonintensity_uk_provider(config_for(s))->current(gb(), &why);
  ASSERT_TRUE(v) << why;
  EXPECT_EQ(calls.load(), 3);
}

TEST(CarbonIntensityUk, Honours429RetryAfterWithinItsBound) {
  LocalServer s;
  std::atomic<int> calls{0};
  s.server().Get("/intensity", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "0.2");
      return;
    }
    res.set_content(kNational, "application/json");
  });
  auto t0 = std::chrono::steady_clock::now();
  std::string why;
  auto v = make_carbonintensity_uk_provider(config_for(s))->current(gb(), &why);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(v) << why;
  EXPECT_EQ(calls.load(), 2);
  EXPECT_GE(waited, 0.2);  // the server's Retry-After, not the 10 ms backoff
}

TEST(CarbonIntensityUk, EveryBadAnswerGivesAOneLineReason) {
  std::vector<BadAnswer> answers = {
      {"http 404", 404, "{}", "HTTP 404 after 1 attempt(s)"},
      {"http 500 every time", 500, "", "HTTP 500 after 3 attempt(s)"},
      {"not json", 200, "<html>maintenance</html>", "answer is not a JSON object"},
      {"truncated json", 200, std::string(kNational).substr(0, 40), "answer is not a JSON object"},
      {"missing fields", 200, R"({"data":[{"from":"x"}]})", "no intensity.forecast value"},
      {"empty list", 200, R"({"data":[]})", "answer has no data list"},
      {"negative", 200, R"({"data":[{"intensity":{"forecast":-5}}]})", "negative value -5.00"},
      {"absurd", 200, R"({"data":[{"intensity":{"forecast":99999}}]})", "implausible value 99999.00"},
      {"wrong type", 200, R"({"data":[{"intensity":{"forecast":"high"}}]})", "no intensity.forecast value"},
  };
  expect_each_refused("/intensity", answers, [](LocalServer& s, std::string* why) {
    return make_carbonintensity_uk_provider(config_for(s))->current(gb(), why).has_value();
  });
}

TEST(CarbonIntensityUk, TimeoutAndRefusedConnectionAreReasonsNotHangs) {
  LocalServer s;
  s.server().Get("/intensity", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    res.set_content(kNational, "application/json");
  });
  auto c = config_for(s);
  c.request_template.total_timeout_s = 0.3;
  c.request_template.max_attempts = 2;
  auto t0 = std::chrono::steady_clock::now();
  std::string why;
  EXPECT_FALSE(make_carbonintensity_uk_provider(c)->current(gb(), &why));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(why.find("Timeout was reached after 2 attempt(s)"), std::string::npos) << why;
  EXPECT_LT(took, 1.4);  // two bounded attempts, not the server's 1.5 s

  auto refused = config_for(s);
  refused.base_url = "http://127.0.0.1:1";  // nothing listens on port 1
  refused.request_template.max_attempts = 1;
  EXPECT_FALSE(make_carbonintensity_uk_provider(refused)->current(gb(), &why));
  EXPECT_NE(why.find("Couldn't connect to server"), std::string::npos) << why;
}

TEST(CarbonIntensityUk, OtherCountriesAreNotCovered) {
  CarbonIntensityUkConfig c;
  c.base_url = "http://127.0.0.1:1";
  std::string why;
  EXPECT_FALSE(make_carbonintensity_uk_provider(c)->current(Location::of_country("DK", "option"), &why));
  EXPECT_EQ(why, "covers Great Britain only, not DK");
}

TEST(CarbonIntensityUk, ForecastSeriesHoldsTheHalfHoursOfTheWindow) {
  LocalServer s;
  // The API also returns the half-hour ending at `from` (11:30-12:00): not part of the window.
  const char* body = R"({"data":[
    {"from":"2026-11-26T11:30Z","to":"2026-11-26T12:00Z","intensity":{"forecast":900,"actual":880,"index":"very high"}},
    {"from":"2026-11-26T12:00Z","to":"2026-11-26T12:30Z","intensity":{"forecast":100,"actual":null,"index":"low"}},
    {"from":"2026-11-26T12:30Z","to":"2026-11-26T13:00Z","intensity":{"forecast":200,"actual":null,"index":"moderate"}},
    {"from":"2026-11-26T13:00Z","to":"2026-11-26T13:30Z","intensity":{"forecast":300,"actual":null,"index":"high"}}]})";
  s.server().Get(R"(/intensity/([^/]+)/([^/]+))", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(body, "application/json");
  });
  auto from = std::chrono::system_clock::time_point{std::chrono::seconds{1795694400}};  // 12:00Z
  auto p = make_carbonintensity_uk_provider(config_for(s));
  std::string why;
  auto series = p->forecast_series(gb(), from, from + std::chrono::minutes(90), &why);
  ASSERT_TRUE(series) << why;
  ASSERT_EQ(series->points.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(series->points[i].start, from + std::chrono::minutes(30 * static_cast<int>(i)));
    EXPECT_DOUBLE_EQ(series->points[i].period_s, 1800.0);
    EXPECT_DOUBLE_EQ(series->points[i].g_per_kwh, 100.0 * static_cast<double>(i + 1));
  }
  EXPECT_EQ(series->source, "carbonintensity.org.uk");
  // forecast() is the series' time-weighted mean: 45 minutes from 12:15 = 15 of 100, 30 of 200.
  auto v = p->forecast(gb(), from + std::chrono::minutes(15), 2700, &why);
  ASSERT_TRUE(v) << why;
  EXPECT_NEAR(v->g_per_kwh, (15 * 100.0 + 30 * 200.0) / 45, 1e-9);
  EXPECT_EQ(v->at, from + std::chrono::minutes(15));
  // Periods without times cannot be placed.
  LocalServer t;
  t.server().Get(R"(/intensity/([^/]+)/([^/]+))", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"data":[{"intensity":{"forecast":100}}]})", "application/json");
  });
  EXPECT_FALSE(make_carbonintensity_uk_provider(config_for(t))->forecast_series(gb(), from, from + std::chrono::hours(1), &why));
  EXPECT_NE(why.find("no half-hour period with from, to"), std::string::npos) << why;
}

TEST(CarbonIntensityUk, TheLocationsPostcodeOrRegionComesBeforeTheConfig) {
  LocalServer s;
  std::string path;
  auto answer = [&](const httplib::Request& req, httplib::Response& res) {
    path = req.path;
    res.set_content(kRegional, "application/json");
  };
  s.server().Get(R"(/regional/postcode/([^/]+))", answer);
  s.server().Get(R"(/regional/regionid/([^/]+))", answer);
  auto c = config_for(s);
  c.region_id = 3;
  auto p = make_carbonintensity_uk_provider(c);
  std::string why;
  Location l = gb();
  l.postcode = "EC1A 1BB";
  ASSERT_TRUE(p->current(l, &why)) << why;
  EXPECT_EQ(path, "/regional/postcode/EC1A");
  l.postcode.clear();
  l.gb_region_id = 12;
  ASSERT_TRUE(p->current(l, &why)) << why;
  EXPECT_EQ(path, "/regional/regionid/12");
  ASSERT_TRUE(p->current(gb(), &why)) << why;
  EXPECT_EQ(path, "/regional/regionid/3");  // the config's
}

TEST(CarbonIntensityUk, NullValuesAndUnresolvableHostsAreReasons) {
  LocalServer s;
  s.server().Get("/intensity", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"data":[{"from":"2026-11-26T12:00Z","to":"2026-11-26T12:30Z","intensity":{"forecast":null}}]})",
                    "application/json");
  });
  std::string why;
  EXPECT_FALSE(make_carbonintensity_uk_provider(config_for(s))->current(gb(), &why));
  EXPECT_NE(why.find("no intensity.forecast value"), std::string::npos) << why;
  auto dns = config_for(s);
  dns.base_url = "http://epochwatt-test.invalid";
  dns.request_template.max_attempts = 1;
  EXPECT_FALSE(make_carbonintensity_uk_provider(dns)->current(gb(), &why));
  EXPECT_NE(why.find("resolve"), std::string::npos) << why;
}

TEST(CarbonIntensityUk, ZonesOtherThanGbAreNotCovered) {
  CarbonIntensityUkConfig c;
  c.base_url = "http://127.0.0.1:1";
  Location l;
  l.zone = "GB-NIR";
  std::string why;
  EXPECT_FALSE(make_carbonintensity_uk_provider(c)->current(l, &why));
  EXPECT_EQ(why, "covers Great Britain only, not zone GB-NIR");
}
