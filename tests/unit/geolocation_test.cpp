// IP geolocation against a local server on 127.0.0.1 answering like ipinfo.io/json.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "intensity/geolocation.hpp"
#include "unit/local_http_server.hpp"

using namespace epochwatt;
using namespace epochwatt::detail;
using testing_support::LocalServer;

namespace {

GeolocationConfig config_for(const LocalServer& s) {
  GeolocationConfig c;
  c.url = s.url() + "/json";
  return c;
}

// Serves `body` with `status` at /json and counts the calls.
struct Answer {
  LocalServer server;
  std::atomic<int> calls{0};
  Answer(int status, std::string body) {
    server.server().Get("/json", [this, status, body](const httplib::Request&, httplib::Response& res) {
      ++calls;
      res.status = status;
      res.set_content(body, "application/json");
    });
  }
};

}  // namespace

TEST(Geolocation, ReadsEveryFieldAndTheOutwardPostcodeInGreatBritain) {
  Answer a(200, R"({"ip":"203.0.113.7","city":"Reading","region":"England","country":"GB",
    "loc":"51.4543,-0.9781","org":"AS64500 Example","postal":"RG10 1AB","timezone":"Europe/London"})");
  std::string why;
  auto loc = geolocate(config_for(a.server), &why);
  ASSERT_TRUE(loc) << why;
  EXPECT_EQ(loc->country, "GB");
  EXPECT_EQ(loc->city, "Reading");
  EXPECT_EQ(loc->region, "England");
  EXPECT_EQ(loc->postcode, "RG10");
  ASSERT_TRUE(loc->lat && loc->lon);
  EXPECT_DOUBLE_EQ(*loc->lat, 51.4543);
  EXPECT_DOUBLE_EQ(*loc->lon, -0.9781);
  EXPECT_EQ(loc->rule, "ip-geolocation");
  EXPECT_EQ(loc->address(), "Reading, England, GB");
}

TEST(Geolocation, PostcodesOutsideGreatBritainAreNotUsed) {
  Answer a(200, R"({"city":"Aarhus","region":"Central Jutland","country":"dk","loc":"56.1567,10.2108","postal":"8000"})");
  std::string why;
  auto loc = geolocate(config_for(a.server), &why);
  ASSERT_TRUE(loc) << why;
  EXPECT_EQ(loc->country, "DK");  // upper-cased
  EXPECT_TRUE(loc->postcode.empty());
}

TEST(Geolocation, ACountryOrCoordinatesAloneIsEnough) {
  Answer only_country(200, R"({"country":"FR"})");
  std::string why;
  auto a = geolocate(config_for(only_country.server), &why);
  ASSERT_TRUE(a) << why;
  EXPECT_EQ(a->country, "FR");
  EXPECT_FALSE(a->lat);

  Answer only_loc(200, R"({"loc":"-33.8688,151.2093"})");
  auto b = geolocate(config_for(only_loc.server), &why);
  ASSERT_TRUE(b) << why;
  EXPECT_TRUE(b->country.empty());
  EXPECT_DOUBLE_EQ(*b->lat, -33.8688);
}

TEST(Geolocation, FailuresGiveOneLineAndOneRequest) {
  struct Case {
    const char* name;
    int status;
    std::string body;
    const char* expected;
  };
  std::vector<Case> cases = {
      {"bad json", 200, "<html>captive portal</html>", "answer is not a JSON object"},
      {"truncated", 200, R"({"country":"GB","loc":"51.45)", "answer is not a JSON object"},
      {"missing fields", 200, R"({"ip":"203.0.113.7"})", "answer has neither a country nor coordinates"},
      {"zero coordinates, bad country", 200, R"({"country":"Unknown","loc":"0,0"})",
       "answer has no valid country ('Unknown') and no coordinates"},
      {"coordinates off the globe", 200, R"({"loc":"123,456"})", "neither a country nor coordinates"},
      {"bogon", 200, R"({"ip":"10.0.0.1","bogon":true})", "private or reserved"},
      {"rate limited", 429, R"({"error":"rate limit"})", "HTTP 429 after 1 attempt(s)"},
      {"server error", 503, "", "HTTP 503 after 1 attempt(s)"},
  };
  for (const auto& c : cases) {
    Answer a(c.status, c.body);
    std::string why;
    EXPECT_FALSE(geolocate(config_for(a.server), &why)) << c.name;
    EXPECT_NE(why.find(c.expected), std::string::npos) << c.name << ": " << why;
    EXPECT_EQ(why.rfind("IP geolocation (", 0), 0u) << why;
    EXPECT_EQ(why.find('\n'), std::string::npos) << c.name;
    EXPECT_EQ(a.calls.load(), 1) << c.name << ": no retry";
  }
}

TEST(Geolocation, ASlowServerIsGivenUpOnNotWaitedFor) {
  LocalServer s;
  std::atomic<int> calls{0};
  s.server().Get("/json", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(2600));  // past the default 2 s
    res.set_content(R"({"country":"GB","loc":"51.45,-0.97"})", "application/json");
  });
  std::string why;
  EXPECT_FALSE(geolocate(config_for(s), &why));  // default timeout_s: 2.0
  EXPECT_NE(why.find("Timeout was reached after 1 attempt(s)"), std::string::npos) << why;
  EXPECT_EQ(calls.load(), 1);
}

TEST(Geolocation, NoServerOrNoNameIsAReason) {
  GeolocationConfig refused;
  refused.url = "http://127.0.0.1:1/json";
  std::string why;
  EXPECT_FALSE(geolocate(refused, &why));
  EXPECT_NE(why.find("Couldn't connect to server"), std::string::npos) << why;

  GeolocationConfig dns;
  dns.url = "http://epochwatt-test.invalid/json";
  EXPECT_FALSE(geolocate(dns, &why));
  EXPECT_NE(why.find("resolve"), std::string::npos) << why;
}
