// The Electricity Maps provider against a local HTTP server on 127.0.0.1, answering with bodies
// shaped like the API v3 documentation's (carbon-intensity/latest and /forecast), and with every
// failure a provider must survive. The key must never leave in a reason.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "intensity/providers/electricitymaps.hpp"
#include "unit/local_http_server.hpp"

using namespace epochwatt;
using namespace epochwatt::detail;
using testing_support::BadAnswer;
using testing_support::expect_each_refused;
using testing_support::LocalServer;

namespace {

const char* kToken = "SECRET-TOKEN-4711-do-not-print";

ElectricityMapsConfig config_for(const LocalServer& s) {
  ElectricityMapsConfig c;
  c.base_url = s.url();
  c.token = kToken;
  c.request_template.connect_timeout_s = 1.0;
  c.request_template.total_timeout_s = 1.0;
  c.request_template.max_attempts = 2;
  c.request_template.backoff_s = 0.01;
  return c;
}

const char* kLatest = R"({"zone":"DE","carbonIntensity":302,"datetime":"2026-11-26T12:00:00.000Z",
  "updatedAt":"2026-11-26T11:49:27.322Z","createdAt":"2026-11-23T12:52:10.108Z",
  "emissionFactorType":"lifecycle","isEstimated":true,"estimationMethod":"TIME_SLICER_AVERAGE"})";

// Hourly forecast from 11:00 to 16:00.
const char* kForecast = R"({"zone":"DE","forecast":[
  {"carbonIntensity":500,"datetime":"2026-11-26T11:00:00.000Z"},
  {"carbonIntensity":100,"datetime":"2026-11-26T12:00:00.000Z"},
  {"carbonIntensity":200,"datetime":"2026-11-26T13:00:00.000Z"},
  {"carbonIntensity":300,"datetime":"2026-11-26T14:00:00.000Z"},
  {"carbonIntensity":400,"datetime":"2026-11-26T15:00:00.000Z"},
  {"carbonIntensity":600,"datetime":"2026-11-26T16:00:00.000Z"}],
  "updatedAt":"2026-11-26T10:55:01.000Z"})";

const auto kNoon = std::chrono::system_clock::time_point{std::chrono::seconds{1795694400}};  // 2026-11-26T12:00Z

Location zone(std::string z) {
  Location l;
  l.zone = std::move(z);
  l.rule = "option";
  return l;
}

}  // namespace

TEST(ElectricityMaps, LatestByZoneSendsTheKeyInTheHeaderOnly) {
  LocalServer s;
  std::string token_seen, target;
  std::multimap<std::string, std::string> params;
  s.server().Get("/v3/carbon-intensity/latest", [&](const httplib::Request& req, httplib::Response& res) {
    token_seen = req.get_header_value("auth-token");
    target = req.target;
    params = {req.params.begin(), req.params.end()};
    res.set_content(kLatest, "application/json");
  });
  auto p = make_electricitymaps_provider(config_for(s));
  EXPECT_EQ(p->name(), "electricitymaps");
  std::string why;
  auto v = p->current(zone("DE"), &why);
  ASSERT_TRUE(v) << why;
  EXPECT_DOUBLE_EQ(v->g_per_kwh, 302.0);
  EXPECT_TRUE(v->live);
  EXPECT_FALSE(v->forecast);
  EXPECT_EQ(v->source, "electricitymaps");
  EXPECT_EQ(v->at, kNoon);
  EXPECT_NE(v->description.find("zone DE"), std::string::npos) << v->description;
  EXPECT_NE(v->description.find("estimated"), std::string::npos) << v->description;
  EXPECT_EQ(token_seen, kToken);
  EXPECT_EQ(target.find(kToken), std::string::npos);
  EXPECT_EQ(params.find("zone")->second, "DE");
  EXPECT_EQ(params.find("shouldUseFallbackCallerLookup")->second, "false");
}

TEST(ElectricityMaps, ZoneThenCoordinatesThenCountry) {
  LocalServer s;
  std::mutex m;
  std::vector<std::string> asked;
  s.server().Get("/v3/carbon-intensity/latest", [&](const httplib::Request& req, httplib::Response& res) {
    std::string q = req.has_param("zone") ? "zone=" + req.get_param_value("zone")
                                          : "lat=" + req.get_param_value("lat") + "&lon=" + req.get_param_value("lon");
    {
      std::lock_guard<std::mutex> lock(m);
      asked.push_back(q);
    }
    if (q == "zone=DK") {
      res.set_content(R"({"zone":"DK","carbonIntensity":150,"datetime":"2026-11-26T12:00:00.000Z"})", "application/json");
      return;
    }
    res.status = 404;
    res.set_content(R"({"status":"error","message":"No data for this place"})", "application/json");
  });
  Location l = zone("DK-XX");
  l.lat = 55.6761;
  l.lon = 12.5683;
  l.country = "DK";
  std::string why;
  auto v = make_electricitymaps_provider(config_for(s))->current(l, &why);
  ASSERT_TRUE(v) << why;
  EXPECT_DOUBLE_EQ(v->g_per_kwh, 150.0);
  EXPECT_EQ(asked, (std::vector<std::string>{"zone=DK-XX", "lat=55.6761&lon=12.5683", "zone=DK"}));

  // Coordinates alone, west of Greenwich: the sign and the decimal point survive.
  asked.clear();
  Location c;
  c.lat = 51.5074;
  c.lon = -0.1278;
  EXPECT_FALSE(make_electricitymaps_provider(config_for(s))->current(c, &why));
  EXPECT_EQ(asked, (std::vector<std::string>{"lat=51.5074&lon=-0.1278"}));
  EXPECT_EQ(why, "coordinates 51.5074,-0.1278: HTTP 404 after 1 attempt(s): No data for this place");
}

TEST(ElectricityMaps, UnknownZoneGivesTheApisMessageAndAuthErrorsStopTheSearch) {
  LocalServer s;
  std::atomic<int> calls{0};
  s.server().Get("/v3/carbon-intensity/latest", [&](const httplib::Request& req, httplib::Response& res) {
    ++calls;
    if (req.get_param_value("zone") == "AUTH") {
      res.status = 401;
      res.set_content(R"({"message":"Invalid authentication credentials"})", "application/json");
      return;
    }
    res.status = 404;
    res.set_content(R"({"status":"error","message":"Zone 'XX' does not exist."})", "application/json");
  });
  std::string why;
  EXPECT_FALSE(make_electricitymaps_provider(config_for(s))->current(zone("XX"), &why));
  EXPECT_EQ(why, "zone XX: HTTP 404 after 1 attempt(s): Zone 'XX' does not exist.");

  calls = 0;
  Location l = zone("AUTH");
  l.country = "DE";  // not asked: a refused key will not be accepted for the country either
  EXPECT_FALSE(make_electricitymaps_provider(config_for(s))->current(l, &why));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(why, "zone AUTH: HTTP 401 after 1 attempt(s) (API key refused): Invalid authentication credentials");
}

TEST(ElectricityMaps, WithoutAKeyOrAPlaceItIsUnsuitable) {
  ElectricityMapsConfig c;
  c.base_url = "http://127.0.0.1:1";
  std::string why;
  EXPECT_FALSE(make_electricitymaps_provider(c)->current(zone("DE"), &why));
  EXPECT_EQ(why, "no API key (set EPOCHWATT_ELECTRICITYMAPS_TOKEN or the config file)");
  EXPECT_FALSE(make_electricitymaps_provider(c)->forecast_series(zone("DE"), kNoon, kNoon + std::chrono::hours(1), &why));
  EXPECT_EQ(why, "no API key (set EPOCHWATT_ELECTRICITYMAPS_TOKEN or the config file)");
  c.token = kToken;
  EXPECT_FALSE(make_electricitymaps_provider(c)->current(Location{}, &why));
  EXPECT_EQ(why, "no zone, coordinates or country to ask for");
}

TEST(ElectricityMaps, ForecastSeriesKeepsTheHoursOfTheWindow) {
  LocalServer s;
  std::string zone_seen;
  s.server().Get("/v3/carbon-intensity/forecast", [&](const httplib::Request& req, httplib::Response& res) {
    zone_seen = req.get_param_value("zone");
    res.set_content(kForecast, "application/json");
  });
  auto p = make_electricitymaps_provider(config_for(s));
  std::string why;
  // 12:30 to 15:00: the hours starting 12:00, 13:00 and 14:00 overlap it.
  auto from = kNoon + std::chrono::minutes(30);
  auto series = p->forecast_series(zone("DE"), from, kNoon + std::chrono::hours(3), &why);
  ASSERT_TRUE(series) << why;
  EXPECT_EQ(zone_seen, "DE");
  ASSERT_EQ(series->points.size(), 3u);
  EXPECT_EQ(series->points[0].start, kNoon);
  EXPECT_EQ(series->points[2].start, kNoon + std::chrono::hours(2));
  for (const auto& pt : series->points) EXPECT_DOUBLE_EQ(pt.period_s, 3600.0);
  EXPECT_DOUBLE_EQ(series->points[1].g_per_kwh, 200.0);
  EXPECT_EQ(series->source, "electricitymaps");

  // forecast() is the time-weighted mean of the same series: 30 min of 100, 1 h of 200, 1 h of 300.
  auto v = p->forecast(zone("DE"), from, 2.5 * 3600, &why);
  ASSERT_TRUE(v) << why;
  EXPECT_NEAR(v->g_per_kwh, (0.5 * 100 + 200 + 300) / 2.5, 1e-9);
  EXPECT_TRUE(v->forecast);
  EXPECT_TRUE(v->live);

  // A window after the forecast's end.
  EXPECT_FALSE(p->forecast_series(zone("DE"), kNoon + std::chrono::hours(30), kNoon + std::chrono::hours(31), &why));
  EXPECT_EQ(why, "zone DE: forecast does not cover the window");
}

// fuzz/electricitymaps: entries more than 292 years apart overflowed the nanosecond difference of
// their time points (undefined behaviour, caught by UBSan). The gap is taken in double seconds
// and capped at a day, as any damaged gap.
TEST(ElectricityMaps, ForecastEntriesCenturiesApartAreCappedNotOverflowed) {
  LocalServer s;
  s.server().Get("/v3/carbon-intensity/forecast", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"zone":"DE","forecast":[
      {"carbonIntensity":500,"datetime":"1709-01-01T00:00:00.000Z"},
      {"carbonIntensity":100,"datetime":"2026-11-26T12:00:00.000Z"}]})",
                    "application/json");
  });
  auto p = make_electricitymaps_provider(config_for(s));
  std::string why;
  auto series = p->forecast_series(zone("DE"), kNoon, kNoon + std::chrono::hours(1), &why);
  ASSERT_TRUE(series) << why;
  ASSERT_EQ(series->points.size(), 1u);
  EXPECT_EQ(series->points[0].start, kNoon);
  EXPECT_DOUBLE_EQ(series->points[0].period_s, 86400.0);  // the capped gap before it (limits::kMaxIntervalS)
  EXPECT_DOUBLE_EQ(series->points[0].g_per_kwh, 100.0);
}

TEST(ElectricityMaps, ForecastRefusedForTheAccountIsOneLine) {
  for (int status : {401, 403, 404}) {
    LocalServer s;
    s.server().Get("/v3/carbon-intensity/forecast", [&](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(R"({"message":"Your plan does not include this endpoint"})", "application/json");
    });
    std::string why;
    auto p = make_electricitymaps_provider(config_for(s));
    EXPECT_FALSE(p->forecast(zone("DE"), kNoon, 3600, &why)) << status;
    EXPECT_NE(why.find("forecast not available for this account/zone (HTTP " + std::to_string(status)), std::string::npos)
        << why;
    EXPECT_EQ(why.find('\n'), std::string::npos);
  }
}

TEST(ElectricityMaps, EveryBadAnswerGivesAOneLineReason) {
  std::vector<BadAnswer> answers = {
      {"http 400", 400, R"({"message":"Bad zone key"})", "HTTP 400 after 1 attempt(s): Bad zone key"},
      {"http 500 every time", 500, "", "HTTP 500 after 2 attempt(s)"},
      {"not json", 200, "<html>maintenance</html>", "answer is not a JSON object (24 bytes)"},
      {"truncated json", 200, std::string(kLatest).substr(0, 50), "answer is not a JSON object"},
      {"NaN is not JSON", 200, R"({"carbonIntensity":NaN})", "answer is not a JSON object"},
      {"missing field", 200, R"({"zone":"DE","datetime":"2026-11-26T12:00:00.000Z"})", "answer has no carbonIntensity"},
      {"null", 200, R"({"zone":"DE","carbonIntensity":null})", "carbonIntensity is null"},
      {"string", 200, R"({"zone":"DE","carbonIntensity":"302"})", "carbonIntensity is not a number"},
      {"wrong unit", 200, R"({"zone":"DE","carbonIntensity":0.66,"unit":"lbsCO2eq/kWh"})",
       "unexpected unit 'lbsCO2eq/kWh' (expected gCO2eq/kWh)"},
      {"kg unit", 200, R"({"zone":"DE","carbonIntensity":0.3,"unit":"kgCO2eq/kWh"})", "unexpected unit 'kgCO2eq/kWh'"},
      {"negative", 200, R"({"zone":"DE","carbonIntensity":-1})", "negative value -1.00"},
      {"absurd", 200, R"({"zone":"DE","carbonIntensity":302000})", "implausible value 302000.00"},
  };
  auto reasons = expect_each_refused("/v3/carbon-intensity/latest", answers, [](LocalServer& s, std::string* why) {
    return make_electricitymaps_provider(config_for(s))->current(zone("DE"), why).has_value();
  });
  for (const auto& why : reasons) EXPECT_EQ(why.rfind("zone DE: ", 0), 0u) << why;
  // A unit in gCO2eq/kWh is accepted.
  LocalServer s;
  s.server().Get("/v3/carbon-intensity/latest", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"zone":"DE","carbonIntensity":302,"unit":"gCO2eq/kWh"})", "application/json");
  });
  std::string why;
  EXPECT_TRUE(make_electricitymaps_provider(config_for(s))->current(zone("DE"), &why)) << why;
}

TEST(ElectricityMaps, BadForecastAnswers) {
  std::vector<BadAnswer> answers = {
      {"no list", 200, R"({"zone":"DE"})", "answer has no forecast list"},
      {"empty list", 200, R"({"zone":"DE","forecast":[]})", "no forecast entry with a datetime and a numeric carbonIntensity"},
      {"nulls", 200, R"({"forecast":[{"carbonIntensity":null,"datetime":"2026-11-26T12:00:00.000Z"}]})", "no forecast entry"},
      {"no times", 200, R"({"forecast":[{"carbonIntensity":100}]})", "no forecast entry"},
      {"absurd", 200, R"({"forecast":[{"carbonIntensity":2500,"datetime":"2026-11-26T12:00:00.000Z"}]})", "implausible value 2500.00"},
      {"wrong unit", 200, R"({"unit":"gCO2eq/MWh","forecast":[]})", "unexpected unit 'gCO2eq/MWh'"},
  };
  expect_each_refused("/v3/carbon-intensity/forecast", answers, [](LocalServer& s, std::string* why) {
    return make_electricitymaps_provider(config_for(s))
        ->forecast_series(zone("DE"), kNoon, kNoon + std::chrono::hours(2), why)
        .has_value();
  });
}

TEST(ElectricityMaps, Honours429RetryAfterThenSucceeds) {
  LocalServer s;
  std::atomic<int> calls{0};
  s.server().Get("/v3/carbon-intensity/latest", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "0.1");
      res.set_content(R"({"message":"Too many requests"})", "application/json");
      return;
    }
    res.set_content(kLatest, "application/json");
  });
  std::string why;
  auto v = make_electricitymaps_provider(config_for(s))->current(zone("DE"), &why);
  ASSERT_TRUE(v) << why;
  EXPECT_EQ(calls.load(), 2);
}

TEST(ElectricityMaps, TimeoutRefusedAndUnresolvableHostAreReasons) {
  LocalServer s;
  s.server().Get("/v3/carbon-intensity/latest", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    res.set_content(kLatest, "application/json");
  });
  auto slow = config_for(s);
  slow.request_template.total_timeout_s = 0.2;
  std::string why;
  EXPECT_FALSE(make_electricitymaps_provider(slow)->current(zone("DE"), &why));
  EXPECT_NE(why.find("Timeout was reached after 2 attempt(s)"), std::string::npos) << why;

  auto refused = config_for(s);
  refused.base_url = "http://127.0.0.1:1";
  refused.request_template.max_attempts = 1;
  EXPECT_FALSE(make_electricitymaps_provider(refused)->current(zone("DE"), &why));
  EXPECT_NE(why.find("Couldn't connect to server"), std::string::npos) << why;

  auto dns = config_for(s);
  dns.base_url = "http://epochwatt-test.invalid";  // reserved TLD (RFC 2606): never resolves
  dns.request_template.max_attempts = 1;
  EXPECT_FALSE(make_electricitymaps_provider(dns)->current(zone("DE"), &why));
  EXPECT_NE(why.find("resolve"), std::string::npos) << why;
}

// Every failure path, with a server that echoes the key wherever it can: no reason may hold it.
TEST(ElectricityMaps, TheKeyIsInNoReason) {
  LocalServer s;
  std::atomic<int> with_key{0};
  auto echo = [&](const httplib::Request& req, httplib::Response& res) {
    std::string key = req.get_header_value("auth-token");
    if (key == kToken) ++with_key;
    std::string mode = req.get_param_value("zone");
    if (mode == "SLOW") {
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      return;
    }
    std::string quoted = "\"" + key + "\"";
    if (mode == "E401") res.status = 401;
    else if (mode == "E403") res.status = 403;
    else if (mode == "E404") res.status = 404;
    else if (mode == "E429") res.status = 429;
    else if (mode == "E500") res.status = 500;
    if (mode == "NOTJSON") return res.set_content("key " + key + " is not valid here", "text/plain");
    if (mode == "UNIT") return res.set_content(R"({"carbonIntensity":1,"unit":)" + quoted + "}", "application/json");
    if (mode == "ABSURD") return res.set_content(R"({"carbonIntensity":9999,"zone":)" + quoted + "}", "application/json");
    if (mode == "NULL") return res.set_content(R"({"carbonIntensity":null,"forecast":null,"zone":)" + quoted + "}", "application/json");
    if (mode == "OKECHO")
      return res.set_content(R"({"carbonIntensity":100,"emissionFactorType":)" + quoted + R"(,"zone":)" + quoted +
                                 R"(,"forecast":[{"carbonIntensity":100,"datetime":"2026-11-26T12:00:00.000Z"}]})",
                             "application/json");
    if (mode == "EMPTY") return res.set_content(R"({"forecast":[],"zone":)" + quoted + "}", "application/json");
    res.set_content(R"({"message":"token )" + key + R"( refused","error":)" + quoted + "}", "application/json");
  };
  s.server().Get("/v3/carbon-intensity/latest", echo);
  s.server().Get("/v3/carbon-intensity/forecast", echo);

  std::vector<std::pair<std::string, ElectricityMapsConfig>> setups;
  for (const char* mode : {"E401", "E403", "E404", "E429", "E500", "NOTJSON", "UNIT", "ABSURD", "NULL", "EMPTY", "SLOW"}) {
    auto c = config_for(s);
    c.request_template.total_timeout_s = 0.2;
    c.request_template.max_retry_after_s = 0.05;
    setups.push_back({mode, c});
  }
  auto refused = config_for(s);
  refused.base_url = "http://127.0.0.1:1";
  setups.push_back({"DE", refused});
  auto dns = config_for(s);
  dns.base_url = "http://epochwatt-test.invalid";
  setups.push_back({"DE", dns});
  // A host name holding the key (a misconfiguration): curl's reason must not repeat it.
  auto as_url = config_for(s);
  as_url.base_url = std::string("http://") + kToken + ".invalid";
  setups.push_back({"DE", as_url});

  int failures = 0;
  for (auto& [mode, c] : setups) {
    auto p = make_electricitymaps_provider(c);
    Location l = zone(mode);
    l.country = "SE";
    std::vector<std::string> reasons(3);
    EXPECT_FALSE(p->current(l, &reasons[0])) << mode;
    EXPECT_FALSE(p->forecast_series(l, kNoon, kNoon + std::chrono::hours(1), &reasons[1])) << mode;
    EXPECT_FALSE(p->forecast(l, kNoon, 3600, &reasons[2])) << mode;
    for (const auto& why : reasons) {
      ++failures;
      EXPECT_FALSE(why.empty()) << mode;
      EXPECT_EQ(why.find(kToken), std::string::npos) << mode << ": " << why;
      EXPECT_EQ(why.find("4711"), std::string::npos) << mode << ": " << why;
      EXPECT_EQ(why.find('\n'), std::string::npos) << mode << ": " << why;
    }
  }
  EXPECT_EQ(failures, 42);
  EXPECT_GT(with_key.load(), 0);  // the key was sent, so it could have leaked

  // A successful answer that echoes the key: the descriptions (written to reports) omit it.
  auto p = make_electricitymaps_provider(config_for(s));
  std::string why;
  auto v = p->current(zone("OKECHO"), &why);
  ASSERT_TRUE(v) << why;
  EXPECT_EQ(v->description.find(kToken), std::string::npos) << v->description;
  auto series = p->forecast_series(zone("OKECHO"), kNoon, kNoon + std::chrono::hours(1), &why);
  ASSERT_TRUE(series) << why;
  EXPECT_EQ(series->description.find(kToken), std::string::npos) << series->description;
}
