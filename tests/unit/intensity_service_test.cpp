// The intensity service as a tracked run uses it: location precedence, the offline start, live
// values from the worker thread, failures falling through to the next source, the cache serving an
// offline run, secrets kept out of every message, and a fetch abandoned when the run stops.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <sys/stat.h>

#include "epochwatt/tracker.hpp"
#include "intensity/config_file.hpp"
#include "intensity/plan.hpp"
#include "intensity/service.hpp"
#include "unit/local_http_server.hpp"
#include "unit/support.hpp"

namespace {

using epochwatt::Location;
using epochwatt::Options;
using epochwatt::detail::IntensityService;
using ewtest::ScopedEnv;
using testing_support::LocalServer;
namespace detail = epochwatt::detail;

// No location from the environment, online (test_env.cpp makes every test offline by default).
struct CleanEnv {
  ScopedEnv online{"EPOCHWATT_OFFLINE", std::nullopt};
  ScopedEnv country{"EPOCHWATT_COUNTRY", std::nullopt};
  ScopedEnv zone{"EPOCHWATT_ZONE", std::nullopt};
  ScopedEnv cloud{"EPOCHWATT_CLOUD", std::nullopt};
};

std::string write_config(const ewtest::TempDir& dir, const std::string& text) {
  std::string path = dir.path().string() + "/config.ini";
  std::ofstream(path) << text;
  chmod(path.c_str(), 0600);
  return path;
}

Options base_options(const ewtest::TempDir& dir) {
  Options o;
  o.epochs = 1;
  o.config_file = dir.path().string() + "/no-config.ini";
  o.cache_dir = dir.path().string() + "/cache";
  return o;
}

std::string all_notes(IntensityService& s) {
  std::string text;
  for (const auto& n : s.take_notes()) text += (n.warning ? "W: " : "I: ") + n.text + "\n";
  return text;
}

const char* kGbNow = R"({"data":[{"from":"2026-11-26T12:00Z","to":"2026-11-26T12:30Z",
  "intensity":{"forecast":123,"actual":120,"index":"moderate"}}]})";

TEST(IntensityLocation, OptionsWinOverEnvironmentAndConfigFile) {
  CleanEnv clean;
  ewtest::TempDir dir;
  ScopedEnv env("EPOCHWATT_COUNTRY", "FR");
  Options o = base_options(dir);
  o.config_file = write_config(dir, "[location]\ncountry = IT\n");
  o.country = "de";
  Location l = detail::resolve_location(o, detail::load_config_file(o.config_file));
  EXPECT_EQ(l.country, "DE");
  EXPECT_EQ(l.rule, "option");
}

TEST(IntensityLocation, EnvironmentWinsOverConfigFile) {
  CleanEnv clean;
  ewtest::TempDir dir;
  ScopedEnv env("EPOCHWATT_COUNTRY", "FR");
  Options o = base_options(dir);
  o.config_file = write_config(dir, "[location]\ncountry = IT\n");
  Location l = detail::resolve_location(o, detail::load_config_file(o.config_file));
  EXPECT_EQ(l.country, "FR");
  EXPECT_EQ(l.rule.rfind("env:", 0), 0u) << l.rule;
}

TEST(IntensityLocation, ConfigFileWhenNothingElse) {
  CleanEnv clean;
  ewtest::TempDir dir;
  Options o = base_options(dir);
  o.config_file = write_config(dir, "[location]\nzone = DK-DK1\n");
  Location l = detail::resolve_location(o, detail::load_config_file(o.config_file));
  EXPECT_EQ(l.zone, "DK-DK1");
  EXPECT_EQ(l.country, "DK");  // derived from the zone, for the embedded table
  EXPECT_EQ(l.rule, "config:" + o.config_file);
}

TEST(IntensityLocation, CloudRegionGivesItsCountry) {
  CleanEnv clean;
  ewtest::TempDir dir;
  Options o = base_options(dir);
  o.cloud = "gcp:europe-west1";
  IntensityService s(o);
  EXPECT_EQ(s.location().country, "BE");
  auto v = s.initial();
  EXPECT_EQ(v.source, "cloud-region-table");
}

// A failed lookup is remembered for kGeolocationRetryS per URL: the next runs on the machine do not
// load libcurl and wait on the network again (issue 13, start-up), and say why they are not located.
TEST(IntensityLocation, AFailedIpGeolocationIsNotRetriedByTheNextRunsForItsUrl) {
  CleanEnv clean;
  ewtest::TempDir dir;
  LocalServer geo;
  std::atomic<int> calls{0};
  geo.server().Get("/json", [&](const httplib::Request&, httplib::Response& res) {
    calls++;
    res.status = 500;
  });
  Options o = base_options(dir);
  o.provider_urls["geolocation"] = geo.url() + "/json?token=SECRET-TOKEN";
  o.live_providers = {"none"};
  {
    IntensityService s(o);
    (void)s.current_blocking();
    EXPECT_FALSE(s.location().located());
    EXPECT_NE(all_notes(s).find("IP geolocation failed"), std::string::npos);
  }
  EXPECT_EQ(calls.load(), 1);
  {
    IntensityService again(o);
    (void)again.current_blocking();
    std::string notes = all_notes(again);
    EXPECT_NE(notes.find("IP geolocation skipped: it failed less than 10 minutes ago ("), std::string::npos) << notes;
    EXPECT_EQ(notes.find("SECRET-TOKEN"), std::string::npos) << notes;
  }
  EXPECT_EQ(calls.load(), 1) << "the second run made no request";
  std::ifstream in(dir.path().string() + "/cache/location-failed.json");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("fnv1a64:"), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find("SECRET-TOKEN"), std::string::npos) << "the URL is kept as a hash only";
  // Another URL is looked up (and the entry is replaced).
  o.provider_urls["geolocation"] = geo.url() + "/json";
  {
    IntensityService other(o);
    (void)other.current_blocking();
  }
  EXPECT_EQ(calls.load(), 2);
}

TEST(IntensityLocation, IpGeolocationWhenNothingElseThenCached) {
  CleanEnv clean;
  ewtest::TempDir dir;
  LocalServer geo;
  std::atomic<int> calls{0};
  geo.server().Get("/json", [&](const httplib::Request&, httplib::Response& res) {
    calls++;
    res.set_content(R"({"city":"Copenhagen","region":"Capital Region","country":"DK","loc":"55.6759,12.5655"})",
                    "application/json");
  });
  Options o = base_options(dir);
  o.provider_urls["geolocation"] = geo.url() + "/json";
  o.live_providers = {"none"};
  {
    IntensityService s(o);
    auto v = s.current_blocking();
    EXPECT_EQ(s.location().country, "DK");
    EXPECT_EQ(s.location().rule, "ip-geolocation");
    EXPECT_EQ(s.location().address(), "Copenhagen, Capital Region, DK");
    EXPECT_EQ(v.source, "embedded-table");
    EXPECT_NE(all_notes(s).find("Located by IP geolocation: Copenhagen, Capital Region, DK."), std::string::npos);
  }
  // A second run finds the location in the cache: no second request.
  IntensityService again(o);
  EXPECT_EQ(again.location().country, "DK");
  EXPECT_EQ(again.location().rule, "ip-geolocation (cached)");
  (void)again.current_blocking();
  EXPECT_EQ(calls.load(), 1);
}

TEST(IntensityLocation, OfflineNeverGeolocates) {
  CleanEnv clean;
  ewtest::TempDir dir;
  LocalServer geo;
  std::atomic<int> calls{0};
  geo.server().Get("/json", [&](const httplib::Request&, httplib::Response& res) {
    calls++;
    res.set_content(R"({"country":"DK","loc":"55.6,12.5"})", "application/json");
  });
  Options o = base_options(dir);
  o.offline = true;
  o.provider_urls["geolocation"] = geo.url() + "/json";
  IntensityService s(o);
  auto v = s.current_blocking();
  EXPECT_EQ(v.source, "world-average");
  EXPECT_DOUBLE_EQ(v.g_per_kwh, 445.0);
  EXPECT_EQ(s.location().rule, "none");
  EXPECT_EQ(calls.load(), 0);
}

TEST(IntensityService, FailingProviderFallsThroughToTheEmbeddedTableWithAWarning) {
  CleanEnv clean;
  ewtest::TempDir dir;
  LocalServer uk;
  uk.server().Get("/intensity", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("oops", "text/plain");
  });
  Options o = base_options(dir);
  o.country = "GB";
  o.provider_urls["carbonintensity.org.uk"] = uk.url();
  IntensityService s(o);
  auto v = s.current_blocking();
  EXPECT_EQ(v.source, "embedded-table");
  EXPECT_DOUBLE_EQ(v.g_per_kwh, epochwatt::embedded_country_intensity("GB")->g_per_kwh);
  std::string notes = all_notes(s);
  EXPECT_NE(notes.find("W: carbonintensity.org.uk: "), std::string::npos) << notes;
  EXPECT_NE(notes.find("500"), std::string::npos) << notes;
  EXPECT_NE(notes.find("using embedded-table instead."), std::string::npos) << notes;
}

TEST(IntensityService, CacheServesALaterOfflineRun) {
  CleanEnv clean;
  ewtest::TempDir dir;
  LocalServer uk;
  uk.server().Get("/intensity", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kGbNow, "application/json");
  });
  Options o = base_options(dir);
  o.country = "GB";
  o.provider_urls["carbonintensity.org.uk"] = uk.url();
  {
    IntensityService online(o);
    auto v = online.current_blocking();
    EXPECT_EQ(v.source, "carbonintensity.org.uk");
    EXPECT_DOUBLE_EQ(v.g_per_kwh, 123.0);
  }
  o.offline = true;
  o.provider_urls["carbonintensity.org.uk"] = "http://127.0.0.1:1";  // would fail if asked
  IntensityService offline(o);
  auto v = offline.initial();
  EXPECT_EQ(v.source, "carbonintensity.org.uk");
  EXPECT_DOUBLE_EQ(v.g_per_kwh, 123.0);
}

TEST(IntensityService, ApiKeyNeverAppearsInAnyMessage) {
  CleanEnv clean;
  ewtest::TempDir dir;
  const std::string key = "sk-test-SECRET-0123456789";
  LocalServer em;
  // A hostile server that echoes the key back in its error body.
  em.server().Get(R"(/.*)", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 401;
    res.set_content("{\"message\":\"bad token " + req.get_header_value("auth-token") + "\"}", "application/json");
  });
  Options o = base_options(dir);
  o.zone = "DE";
  o.api_keys["electricitymaps"] = key;
  o.provider_urls["electricitymaps"] = em.url();
  IntensityService s(o);
  auto v = s.current_blocking();
  EXPECT_EQ(v.source, "embedded-table");
  std::string why;
  auto now = std::chrono::system_clock::now();
  EXPECT_FALSE(s.forecast_blocking(now, now + std::chrono::hours(6), &why));
  std::string notes = all_notes(s);
  EXPECT_NE(notes.find("electricitymaps"), std::string::npos) << notes;
  EXPECT_EQ(notes.find(key), std::string::npos) << notes;
  EXPECT_EQ(why.find(key), std::string::npos) << why;
}

// A server whose handler holds each request until the test lets it go.
struct HeldServer {
  LocalServer server;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> entered{false}, answered{false};
  explicit HeldServer(const std::string& pattern, std::string body) {
    server.server().Get(pattern, [this, body](const httplib::Request&, httplib::Response& res) {
      entered = true;
      std::unique_lock lk(mu);
      cv.wait_for(lk, std::chrono::seconds(20), [&] { return release; });
      res.set_content(body, "application/json");
      answered = true;
    });
  }
  void let_go() {
    {
      std::lock_guard lk(mu);
      release = true;
    }
    cv.notify_all();
  }
  ~HeldServer() { let_go(); }
};

TEST(IntensityTracker, StartsOnTheOfflineValueWhileGeolocationIsInFlight) {
  CleanEnv clean;
  ewtest::TempDir dir;
  HeldServer geo("/json", R"({"country":"DK","loc":"55.6,12.5"})");
  Options o = base_options(dir);
  o.provider_urls["geolocation"] = geo.server.url() + "/json";
  o.live_providers = {"none"};
  o.sim_gpu = "gpu";
  o.sim_gpu_watts = 100.0;
  o.discover_meters = false;
  o.log_dir.reset();
  std::ostringstream console;
  o.console = &console;
  epochwatt::Tracker t(o);
  // The constructor returned while the server still held the request: it did not wait for it.
  EXPECT_FALSE(geo.answered.load());
  geo.let_go();
  t.flush();  // now the worker's answer is applied
  EXPECT_TRUE(geo.answered.load());
  t.stop();
}

TEST(IntensityTracker, StopAbandonsAFetchInFlight) {
  CleanEnv clean;
  ewtest::TempDir dir;
  HeldServer uk("/intensity", kGbNow);
  Options o = base_options(dir);
  o.country = "GB";
  o.provider_urls["carbonintensity.org.uk"] = uk.server.url();
  o.sim_gpu = "gpu";
  o.sim_gpu_watts = 100.0;
  o.discover_meters = false;
  o.log_dir.reset();
  std::ostringstream console;
  o.console = &console;
  {
    epochwatt::Tracker t(o);
    for (int i = 0; i < 2000 && !uk.entered.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(uk.entered.load());
    t.epoch_start();
    t.epoch_end();
    t.stop();
    // stop() returned with the request still held by the server: the fetch was abandoned.
    EXPECT_FALSE(uk.answered.load());
    EXPECT_EQ(t.totals().intensity_source, "embedded-table");
  }
}

// ---- plan ----

epochwatt::IntensityForecast hourly(std::chrono::system_clock::time_point start, std::vector<double> values) {
  epochwatt::IntensityForecast f;
  f.source = "test";
  for (std::size_t i = 0; i < values.size(); ++i)
    f.points.push_back({start + std::chrono::hours(static_cast<int>(i)), 3600.0, values[i]});
  return f;
}

TEST(Plan, PicksTheLowestWindowAndReportsTheSaving) {
  auto t0 = *detail::parse_iso_utc("2026-11-26T12:00Z");
  auto f = hourly(t0, {300, 250, 100, 90, 200, 400, 50, 50});
  std::string why;
  auto plan = detail::plan_start(f, t0, 2 * 3600.0, 6 * 3600.0, &why);
  ASSERT_TRUE(plan) << why;
  EXPECT_EQ(detail::iso_utc(plan->best.start), "2026-11-26T14:00:00Z");  // (100 + 90) / 2
  EXPECT_DOUBLE_EQ(plan->best.mean_g_per_kwh, 95.0);
  EXPECT_DOUBLE_EQ(plan->now.mean_g_per_kwh, 275.0);
  EXPECT_DOUBLE_EQ(plan->saving_g_per_kwh(), 180.0);
  EXPECT_NEAR(plan->saving_percent(), 100.0 * 180.0 / 275.0, 1e-12);
  EXPECT_EQ(plan->candidates, 5);  // now, +1 h, ... +4 h: the job must end within 6 h
  EXPECT_FALSE(plan->horizon_limited);
}

TEST(Plan, StartsBetweenBoundariesAndHorizon) {
  auto t0 = *detail::parse_iso_utc("2026-11-26T12:00Z");
  auto f = hourly(t0, {100, 300, 300});
  // Now is half-way through the first hour: starting now is 0.5 h at 100 and 0.5 h at 300.
  auto now = t0 + std::chrono::minutes(30);
  auto plan = detail::plan_start(f, now, 3600.0, 24 * 3600.0, nullptr);
  ASSERT_TRUE(plan);
  EXPECT_DOUBLE_EQ(plan->now.mean_g_per_kwh, 200.0);
  EXPECT_EQ(plan->best.start, now);  // later starts are all 300
  EXPECT_TRUE(plan->horizon_limited);  // the forecast ends long before 24 h
  // A forecast that does not cover the job from now gives no plan.
  EXPECT_FALSE(detail::plan_start(f, now, 4 * 3600.0, 24 * 3600.0, nullptr));
}

TEST(Plan, EqualWindowsPreferTheEarliest) {
  auto t0 = *detail::parse_iso_utc("2026-11-26T12:00Z");
  auto plan = detail::plan_start(hourly(t0, {200, 100, 100, 100}), t0, 3600.0, 4 * 3600.0, nullptr);
  ASSERT_TRUE(plan);
  EXPECT_EQ(detail::iso_utc(plan->best.start), "2026-11-26T13:00:00Z");
}

TEST(Plan, Durations) {
  EXPECT_EQ(detail::parse_duration("6h"), 21600.0);
  EXPECT_EQ(detail::parse_duration("90m"), 5400.0);
  EXPECT_EQ(detail::parse_duration("1h30m"), 5400.0);
  EXPECT_EQ(detail::parse_duration("2d"), 172800.0);
  EXPECT_EQ(detail::parse_duration("45"), 45.0);
  EXPECT_FALSE(detail::parse_duration(""));
  EXPECT_FALSE(detail::parse_duration("0h"));
  EXPECT_FALSE(detail::parse_duration("-1h"));
  EXPECT_FALSE(detail::parse_duration("6x"));
  EXPECT_FALSE(detail::parse_duration("1h30"));
}

}  // namespace

// `plan` asks for a forecast only (issue 12, item 7): geolocating for it must not also fetch the
// current intensity, whose failure note repeated the forecast's own failure, so the reason was
// printed twice. The place found is the one note; the failure is said once, by the answer.
TEST(IntensityService, ForecastAfterGeolocationSaysItsFailureOnce) {
  CleanEnv clean;
  ewtest::TempDir dir;
  LocalServer geo, uk;
  geo.server().Get(R"(/.*)", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"city":"Reading","region":"England","country":"GB","loc":"51.45,-0.97"})", "application/json");
  });
  std::atomic<int> current_requests{0}, forecast_requests{0};
  uk.server().Get(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
    ++(req.path == "/intensity" ? current_requests : forecast_requests);
    res.status = 503;
  });
  Options o = base_options(dir);
  o.cache_dir = "none";
  o.provider_urls["geolocation"] = geo.url();
  o.provider_urls["carbonintensity.org.uk"] = uk.url();
  IntensityService s(o);
  std::string why;
  auto now = std::chrono::system_clock::now();
  EXPECT_FALSE(s.forecast_blocking(now, now + std::chrono::hours(6), &why));
  EXPECT_NE(why.find("carbonintensity.org.uk"), std::string::npos) << why;
  std::string notes = all_notes(s);
  EXPECT_NE(notes.find("Located by IP geolocation: Reading, England, GB."), std::string::npos) << notes;
  EXPECT_EQ(notes.find("carbonintensity.org.uk"), std::string::npos) << notes;
  EXPECT_EQ(notes.find("Carbon intensity for"), std::string::npos) << notes;
  EXPECT_EQ(s.location().country, "GB");
  EXPECT_EQ(current_requests.load(), 0);
  EXPECT_GE(forecast_requests.load(), 1);
}

// Issue 12, item 8: a provider URL that redirects to another host gets nothing from the key.
TEST(IntensityService, RedirectingProviderNeverSendsTheKeyElsewhere) {
  CleanEnv clean;
  ewtest::TempDir dir;
  const std::string key = "sk-test-REDIRECT-0123456789";
  LocalServer em, other;
  std::atomic<int> other_requests{0}, other_keys{0};
  other.server().Get(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
    ++other_requests;
    if (!req.get_header_value("auth-token").empty()) ++other_keys;
    res.set_content(R"({"zone":"DE","carbonIntensity":1,"unit":"gCO2eq/kWh"})", "application/json");
  });
  em.server().Get(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
    res.status = 307;
    res.set_header("Location", other.url() + req.path);
  });
  Options o = base_options(dir);
  o.zone = "DE";
  o.cache_dir = "none";
  o.api_keys["electricitymaps"] = key;
  o.provider_urls["electricitymaps"] = em.url();
  IntensityService s(o);
  auto v = s.current_blocking();
  EXPECT_EQ(v.source, "embedded-table") << "the other host's answer was not taken";
  EXPECT_EQ(other_requests.load(), 0);
  EXPECT_EQ(other_keys.load(), 0);
  std::string notes = all_notes(s);
  EXPECT_NE(notes.find("redirected to another host"), std::string::npos) << notes;
  EXPECT_EQ(notes.find(key), std::string::npos) << notes;
}

TEST(IntensityService, KeyOverPlainHttpIsWarnedOnce) {
  CleanEnv clean;
  ewtest::TempDir dir;
  auto warnings = [](const std::string& notes) {
    std::size_t n = 0;
    for (auto at = notes.find("plain http://"); at != std::string::npos; at = notes.find("plain http://", at + 1)) ++n;
    return n;
  };
  Options o = base_options(dir);
  o.zone = "DE";
  o.api_keys["electricitymaps"] = "sk-test-PLAIN-0123456789";
  o.provider_urls["electricitymaps"] = "http://127.0.0.1:1";
  {
    IntensityService s(o);
    std::string notes = all_notes(s);
    EXPECT_EQ(warnings(notes), 1u) << notes;
    EXPECT_EQ(notes.find("sk-test-PLAIN"), std::string::npos) << notes;
  }
  o.provider_urls["electricitymaps"] = "https://127.0.0.1:1";
  {
    IntensityService s(o);
    EXPECT_EQ(warnings(all_notes(s)), 0u) << "https";
  }
  o.provider_urls["electricitymaps"] = "http://127.0.0.1:1";
  o.api_keys.clear();
  {
    IntensityService s(o);
    EXPECT_EQ(warnings(all_notes(s)), 0u) << "no key, nothing to expose";
  }
}
