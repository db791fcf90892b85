// The intensity cache: TTLs on an injected clock, forecasts until they end, corrupt and unwritable
// folders, the cached-provider decorator, and several processes writing one folder at once.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "intensity/cache.hpp"
#include "unit/support.hpp"

using namespace epochwatt;
using namespace epochwatt::detail;
using SysClock = std::chrono::system_clock;
using std::chrono::seconds;

namespace {

const SysClock::time_point kT0 = SysClock::time_point(seconds(1'750'000'000));  // 2025-06-15T15:06:40Z

IntensityValue value(double g, std::string description = "from a test") {
  IntensityValue v;
  v.g_per_kwh = g;
  v.source = "electricitymaps";
  v.description = std::move(description);
  v.live = true;
  v.at = kT0 - seconds(300);
  return v;
}

// Half-hour periods from `start`, the values given.
IntensityForecast series(SysClock::time_point start, std::vector<double> values, std::string source = "carbonintensity.org.uk") {
  IntensityForecast f;
  for (std::size_t i = 0; i < values.size(); ++i)
    f.points.push_back({start + seconds(1800 * static_cast<long>(i)), 1800.0, values[i]});
  f.source = std::move(source);
  f.description = "national forecast";
  f.fetched = start;
  return f;
}

// A provider that counts its calls and answers what it is told to.
class FakeProvider final : public IntensityProvider {
 public:
  std::string name() const override { return "fake"; }
  std::optional<IntensityValue> current(const Location&, std::string* why) override {
    ++current_calls;
    if (!current_value) {
      if (why) *why = "fake is down";
      return std::nullopt;
    }
    return current_value;
  }
  std::optional<IntensityValue> forecast(const Location&, SysClock::time_point from, double, std::string* why) override {
    ++forecast_calls;
    if (!forecast_mean) {
      if (why) *why = "fake has no forecast";
      return std::nullopt;
    }
    IntensityValue v = value(*forecast_mean, "fake mean");
    v.forecast = true;
    v.at = from;
    return v;
  }
  std::optional<IntensityForecast> forecast_series(const Location&, SysClock::time_point, SysClock::time_point,
                                                   std::string* why) override {
    ++series_calls;
    if (!series_value) {
      if (why) *why = "fake has no series";
      return std::nullopt;
    }
    return series_value;
  }
  std::optional<IntensityValue> current_value;
  std::optional<double> forecast_mean;
  std::optional<IntensityForecast> series_value;
  int current_calls = 0, forecast_calls = 0, series_calls = 0;
};

struct ManualNow {
  SysClock::time_point t = kT0;
  SystemClockFn fn() {
    return [this] { return t; };
  }
};

}  // namespace

TEST(IntensityCache, DefaultDirFollowsXdgCacheHomeThenHome) {
  {
    ewtest::ScopedEnv xdg("XDG_CACHE_HOME", "/srv/cache");
    ewtest::ScopedEnv home("HOME", "/home/someone");
    EXPECT_EQ(IntensityCache::default_dir(), "/srv/cache/epochwatt");
    EXPECT_EQ(IntensityCache().dir(), "/srv/cache/epochwatt");
  }
  {
    ewtest::ScopedEnv xdg("XDG_CACHE_HOME", "relative/is/invalid");
    ewtest::ScopedEnv home("HOME", "/home/someone");
    EXPECT_EQ(IntensityCache::default_dir(), "/home/someone/.cache/epochwatt");
  }
  {
    ewtest::ScopedEnv xdg("XDG_CACHE_HOME", std::nullopt);
    ewtest::ScopedEnv home("HOME", std::nullopt);
    EXPECT_EQ(IntensityCache::default_dir(), "");
    IntensityCache none;  // disabled: no throw, no answer
    none.put_current("k", value(100), kT0);
    EXPECT_FALSE(none.get_current("k", kT0, 60));
  }
}

TEST(IntensityCache, CurrentValueIsFreshForItsTtlOnly) {
  ewtest::TempDir tmp;
  IntensityCache cache(tmp.str() + "/cache");
  cache.put_current("key-a", value(123.5, "latest DK-DK1"), kT0);

  auto got = cache.get_current("key-a", kT0 + seconds(899), 900);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->g_per_kwh, 123.5);
  EXPECT_EQ(got->source, "electricitymaps");
  EXPECT_EQ(got->description, "latest DK-DK1");
  EXPECT_TRUE(got->live);
  EXPECT_FALSE(got->forecast);
  EXPECT_EQ(got->at, kT0 - seconds(300));
  auto entry = cache.get_current_entry("key-a", kT0 + seconds(1), 900);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->fetched, kT0);

  EXPECT_FALSE(cache.get_current("key-a", kT0 + seconds(900), 900)) << "expired at the TTL";
  EXPECT_FALSE(cache.get_current("key-a", kT0 - seconds(1), 900)) << "fetched in the future: clock went back";
  EXPECT_FALSE(cache.get_current("key-b", kT0, 900)) << "another key";
  EXPECT_TRUE(cache.take_warnings().empty());
}

TEST(IntensityCache, FilesAreOwnerOnlyAndNoTemporaryIsLeft) {
  ewtest::TempDir tmp;
  std::string dir = tmp.str() + "/a/b";
  IntensityCache cache(dir);
  cache.put_current("k", value(1), kT0);
  cache.put_forecast("k", series(kT0, {1, 2}));
  cache.put_location(Location::of_country("DK", "ip-geolocation"), kT0);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename().string().rfind(".tmp", 0), std::string::npos) << e.path();
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
  }
  EXPECT_EQ(files, 3);
  EXPECT_TRUE(std::filesystem::exists(cache.entry_path("current", "k")));
  EXPECT_TRUE(std::filesystem::exists(cache.entry_path("forecast", "k")));
}

TEST(IntensityCache, ForecastIsKeptUntilItsLastPeriodEnds) {
  ewtest::TempDir tmp;
  IntensityCache cache(tmp.str());
  cache.put_forecast("gb", series(kT0, {100, 200, 300}));  // ends at kT0 + 5400 s

  auto f = cache.get_forecast("gb", kT0 + seconds(5399));
  ASSERT_TRUE(f);
  ASSERT_EQ(f->points.size(), 3u);
  EXPECT_EQ(f->points[1].start, kT0 + seconds(1800));
  EXPECT_EQ(f->points[2].g_per_kwh, 300.0);
  EXPECT_EQ(f->points[0].period_s, 1800.0);
  EXPECT_EQ(f->source, "carbonintensity.org.uk");
  EXPECT_EQ(f->fetched, kT0);
  EXPECT_TRUE(cache.get_forecast("gb", kT0 - seconds(1000))) << "before it starts";
  EXPECT_FALSE(cache.get_forecast("gb", kT0 + seconds(5400))) << "the last period has ended";

  cache.put_forecast("empty", IntensityForecast{});
  EXPECT_FALSE(std::filesystem::exists(cache.entry_path("forecast", "empty"))) << "an empty series is not stored";
}

TEST(IntensityCache, LocationRoundTripsAndSaysItIsCached) {
  ewtest::TempDir tmp;
  IntensityCache cache(tmp.str());
  Location l = Location::of_country("GB", "ip-geolocation");
  l.postcode = "RG10";
  l.lat = 51.5;
  l.lon = -0.9;
  l.city = "Reading";
  l.region = "England";
  cache.put_location(l, kT0);
  auto got = cache.get_location(kT0 + seconds(3599), 3600);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->country, "GB");
  EXPECT_EQ(got->postcode, "RG10");
  EXPECT_EQ(got->lat, 51.5);
  EXPECT_EQ(got->lon, -0.9);
  EXPECT_EQ(got->address(), "Reading, England, GB");
  EXPECT_EQ(got->rule, "ip-geolocation (cached)");
  EXPECT_FALSE(cache.get_location(kT0 + seconds(3600), 3600));
  cache.put_location(*got, kT0 + seconds(3600));
  EXPECT_EQ(cache.get_location(kT0 + seconds(3600), 3600)->rule, "ip-geolocation (cached)") << "not doubled";
}

TEST(IntensityCache, CorruptOrForeignFilesAreIgnoredWithOneWarningAndReplacedByTheNextPut) {
  ewtest::TempDir tmp;
  IntensityCache cache(tmp.str());
  const std::vector<std::string> bad = {
      "not json at all",
      R"({"format":"epochwatt-intensity-cache","version":1,"kind":"current","key":"k","fetched_ms":1750000000000,"value":{"g_per_kwh":1)",
      R"({"format":"epochwatt-intensity-cache","version":1,"kind":"current","key":"k","fetched_ms":1750000000000,"value":{"g_per_kwh":"high","source":"x"}})",
      R"({"format":"epochwatt-intensity-cache","version":1,"kind":"current","key":"k","fetched_ms":1750000000000,"value":{"g_per_kwh":-5,"source":"x"}})",
      R"([1,2,3])",
      ""};
  for (const auto& text : bad) {
    ewtest::write_file(cache.entry_path("current", "k"), text);
    EXPECT_FALSE(cache.get_current("k", kT0, 60)) << text;
    EXPECT_FALSE(cache.get_current("k", kT0, 60)) << text;
  }
  auto warnings = cache.take_warnings();
  ASSERT_EQ(warnings.size(), 1u) << "one line per file";
  EXPECT_NE(warnings[0].find(cache.entry_path("current", "k")), std::string::npos) << warnings[0];
  EXPECT_EQ(warnings[0].find('\n'), std::string::npos);

  ewtest::write_file(cache.entry_path("forecast", "f"),
                     R"({"format":"epochwatt-intensity-cache","version":1,"kind":"forecast","key":"f","fetched_ms":0,"source":"s","points":[{"start_ms":1,"period_s":0,"g_per_kwh":1}]})");
  EXPECT_FALSE(cache.get_forecast("f", SysClock::time_point{}));
  ewtest::write_file(tmp.str() + "/location.json", "{}");
  EXPECT_FALSE(cache.get_location(kT0, 60));
  EXPECT_EQ(cache.take_warnings().size(), 2u);

  cache.put_current("k", value(42), kT0);
  ASSERT_TRUE(cache.get_current("k", kT0, 60));
  EXPECT_EQ(cache.get_current("k", kT0, 60)->g_per_kwh, 42.0);
}

TEST(IntensityCache, AnEntryOfAnotherKeyNeverAnswers) {
  ewtest::TempDir tmp;
  IntensityCache cache(tmp.str());
  cache.put_current("one", value(1), kT0);
  std::filesystem::copy_file(cache.entry_path("current", "one"), cache.entry_path("current", "two"));
  EXPECT_FALSE(cache.get_current("two", kT0, 60));
  EXPECT_TRUE(cache.get_current("one", kT0, 60));
}

TEST(IntensityCache, AnUnusableFolderNeverThrows) {
  ewtest::TempDir tmp;
  ewtest::write_file(tmp.str() + "/plain-file", "x");
  // Tests run as root, for whom a read-only mode stops nothing: a folder below a regular file
  // fails for everyone.
  IntensityCache cache(tmp.str() + "/plain-file/cache");
  EXPECT_NO_THROW(cache.put_current("k", value(1), kT0));
  EXPECT_NO_THROW(cache.put_forecast("k", series(kT0, {1})));
  EXPECT_NO_THROW(cache.put_location(Location::of_country("DK", "ip-geolocation"), kT0));
  EXPECT_FALSE(cache.get_current("k", kT0, 60));
  EXPECT_FALSE(cache.get_forecast("k", kT0));
  EXPECT_FALSE(cache.get_location(kT0, 60));
  auto warnings = cache.take_warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("not caching"), std::string::npos) << warnings[0];

  // The folder is a regular file itself.
  IntensityCache file_as_dir(tmp.str() + "/plain-file");
  EXPECT_NO_THROW(file_as_dir.put_current("k", value(1), kT0));
  EXPECT_FALSE(file_as_dir.get_current("k", kT0, 60));
  EXPECT_EQ(ewtest::read_file(tmp.str() + "/plain-file"), "x");
}

TEST(IntensityCache, KeyNamesProviderAndEveryLocationFieldStably) {
  Location a;
  a.zone = "DK-DK1";
  a.country = "dk";
  a.lat = 55.704;
  a.lon = 12.596;
  EXPECT_EQ(cache_key("electricitymaps", a), "electricitymaps|zone=DK-DK1|country=DK|lat=55.70|lon=12.60");
  Location b = a;
  b.lat = 55.7049;  // same to 2 decimals
  EXPECT_EQ(cache_key("electricitymaps", a), cache_key("electricitymaps", b));
  b.lat = 55.71;
  EXPECT_NE(cache_key("electricitymaps", a), cache_key("electricitymaps", b));
  EXPECT_NE(cache_key("electricitymaps", a), cache_key("energidataservice.dk", a));
  Location gb;
  gb.postcode = "rg10";
  gb.gb_region_id = 12;
  gb.cloud = "gcp:europe-west2";
  gb.lat = -0.001;
  gb.lon = 0.0;
  EXPECT_EQ(cache_key("carbonintensity.org.uk", gb),
            "carbonintensity.org.uk|postcode=RG10|region=12|lat=0.00|lon=0.00|cloud=gcp:europe-west2");
  gb.city = "Reading";  // for the address only
  gb.rule = "option";
  EXPECT_EQ(cache_key("carbonintensity.org.uk", gb),
            "carbonintensity.org.uk|postcode=RG10|region=12|lat=0.00|lon=0.00|cloud=gcp:europe-west2");
}

TEST(CachedProvider, CurrentAnswersFromTheCacheWhileFreshThenAsksAgain) {
  ewtest::TempDir tmp;
  auto cache = std::make_shared<IntensityCache>(tmp.str());
  auto inner = std::make_shared<FakeProvider>();
  inner->current_value = value(210, "latest DK-DK1 (Electricity Maps)");
  ManualNow now;
  auto p = make_cached_provider(inner, cache, 900, false, now.fn());
  Location dk = Location::of_country("DK", "option");
  EXPECT_EQ(p->name(), "fake");

  auto first = p->current(dk, nullptr);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->description, "latest DK-DK1 (Electricity Maps)");
  EXPECT_EQ(inner->current_calls, 1);

  now.t += seconds(600);
  inner->current_value = value(999);
  auto second = p->current(dk, nullptr);
  ASSERT_TRUE(second);
  EXPECT_EQ(inner->current_calls, 1) << "fresh: not asked";
  EXPECT_EQ(second->g_per_kwh, 210.0);
  EXPECT_EQ(second->source, "electricitymaps");
  EXPECT_EQ(second->description,
            "latest DK-DK1 (Electricity Maps) (from the cache; fetched 2025-06-15T15:06:40.000Z)");

  now.t += seconds(300);  // 900 s after the fetch
  auto third = p->current(dk, nullptr);
  ASSERT_TRUE(third);
  EXPECT_EQ(inner->current_calls, 2);
  EXPECT_EQ(third->g_per_kwh, 999.0);

  // Another location is another entry.
  EXPECT_TRUE(p->current(Location::of_country("SE", "option"), nullptr));
  EXPECT_EQ(inner->current_calls, 3);
}

TEST(CachedProvider, AFailureIsPassedOnAndNothingIsStored) {
  ewtest::TempDir tmp;
  auto cache = std::make_shared<IntensityCache>(tmp.str());
  auto inner = std::make_shared<FakeProvider>();
  ManualNow now;
  auto p = make_cached_provider(inner, cache, 900, false, now.fn());
  std::string why;
  EXPECT_FALSE(p->current(Location::of_country("DK", "option"), &why));
  EXPECT_EQ(why, "fake is down");
  EXPECT_FALSE(std::filesystem::exists(cache->entry_path("current", cache_key("fake", Location::of_country("DK", "")))));
}

TEST(CachedProvider, OfflineNeverAsksAndAnswersOnlyFromTheCache) {
  ewtest::TempDir tmp;
  auto cache = std::make_shared<IntensityCache>(tmp.str());
  auto inner = std::make_shared<FakeProvider>();
  inner->current_value = value(300);
  inner->forecast_mean = 250;
  inner->series_value = series(kT0, {1, 2});
  ManualNow now;
  Location dk = Location::of_country("DK", "option");
  auto offline = make_cached_provider(inner, cache, 900, true, now.fn());
  std::string why;
  EXPECT_FALSE(offline->current(dk, &why));
  EXPECT_EQ(why, "offline and nothing cached for fake|country=DK");
  why.clear();
  EXPECT_FALSE(offline->forecast(dk, kT0, 3600, &why));
  EXPECT_EQ(why, "offline and nothing cached for fake|country=DK");
  why.clear();
  EXPECT_FALSE(offline->forecast_series(dk, kT0, kT0 + seconds(3600), &why));
  EXPECT_EQ(why, "offline and nothing cached for fake|country=DK");
  EXPECT_EQ(inner->current_calls + inner->forecast_calls + inner->series_calls, 0);

  // Another process, online, filled the cache.
  auto online = make_cached_provider(inner, cache, 900, false, now.fn());
  ASSERT_TRUE(online->current(dk, nullptr));
  ASSERT_TRUE(online->forecast_series(dk, kT0, kT0 + seconds(3600), nullptr));
  int asked = inner->current_calls + inner->forecast_calls + inner->series_calls;
  now.t += seconds(60);
  auto v = offline->current(dk, nullptr);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->g_per_kwh, 300.0);
  auto f = offline->forecast(dk, kT0, 3600, nullptr);
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->g_per_kwh, 1.5);
  EXPECT_EQ(inner->current_calls + inner->forecast_calls + inner->series_calls, asked);
}

TEST(CachedProvider, ForecastSeriesIsReusedWhileItCoversTheWindow) {
  ewtest::TempDir tmp;
  auto cache = std::make_shared<IntensityCache>(tmp.str());
  auto inner = std::make_shared<FakeProvider>();
  inner->series_value = series(kT0, {100, 200, 300, 400});  // [kT0, kT0 + 2 h)
  ManualNow now;
  auto p = make_cached_provider(inner, cache, 900, false, now.fn());
  Location gb = Location::of_country("GB", "option");

  auto first = p->forecast_series(gb, kT0, kT0 + seconds(7200), nullptr);
  ASSERT_TRUE(first);
  EXPECT_EQ(inner->series_calls, 1);
  EXPECT_EQ(first->description, "national forecast");

  now.t += seconds(3000);  // long past the current-value TTL: forecasts keep until they end
  auto part = p->forecast_series(gb, kT0 + seconds(1800), kT0 + seconds(3600), nullptr);
  ASSERT_TRUE(part);
  EXPECT_EQ(inner->series_calls, 1);
  ASSERT_EQ(part->points.size(), 1u) << "only the periods overlapping the window";
  EXPECT_EQ(part->points[0].g_per_kwh, 200.0);
  EXPECT_NE(part->description.find("(from the cache; fetched 2025-06-15T15:06:40.000Z)"), std::string::npos);

  auto mean = p->forecast(gb, kT0 + seconds(3600), 3600, nullptr);
  ASSERT_TRUE(mean);
  EXPECT_DOUBLE_EQ(mean->g_per_kwh, 350.0);
  EXPECT_TRUE(mean->forecast);
  EXPECT_EQ(inner->series_calls, 1);

  // Beyond what is stored: asked again.
  inner->series_value = series(kT0 + seconds(7200), {500});
  auto later = p->forecast_series(gb, kT0 + seconds(7200), kT0 + seconds(9000), nullptr);
  ASSERT_TRUE(later);
  EXPECT_EQ(inner->series_calls, 2);
  EXPECT_EQ(later->points[0].g_per_kwh, 500.0);
}

TEST(CachedProvider, AProviderWithOnlyAMeanIsCachedForThatWindow) {
  ewtest::TempDir tmp;
  auto cache = std::make_shared<IntensityCache>(tmp.str());
  auto inner = std::make_shared<FakeProvider>();
  inner->forecast_mean = 180;
  ManualNow now;
  auto p = make_cached_provider(inner, cache, 900, false, now.fn());
  Location dk = Location::of_country("DK", "option");
  auto first = p->forecast(dk, kT0, 3600, nullptr);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->g_per_kwh, 180.0);
  EXPECT_EQ(inner->series_calls, 1);
  EXPECT_EQ(inner->forecast_calls, 1);
  now.t += seconds(1200);
  auto again = p->forecast(dk, kT0, 3600, nullptr);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->g_per_kwh, 180.0);
  EXPECT_EQ(inner->forecast_calls, 1);
  EXPECT_NE(again->description.find("from the cache"), std::string::npos);
  // A longer window is not covered: asked again.
  EXPECT_TRUE(p->forecast(dk, kT0, 7200, nullptr));
  EXPECT_EQ(inner->forecast_calls, 2);
}

// Eight processes write and read four keys (current values, forecasts, the location) in one
// folder at once. Every read must be a whole entry one of them wrote for that key.
TEST(IntensityCache, ConcurrentProcessesNeverSeeAPartialOrForeignEntry) {
  ewtest::TempDir tmp;
  const std::string dir = tmp.str() + "/shared";
  constexpr int kChildren = 8, kRounds = 300, kKeys = 4;
  auto key = [](int k) { return "provider|zone=Z" + std::to_string(k); };
  // Each value names its key, writer and round, and stays in the range a cache entry may hold
  // (0 to 2000 gCO2eq/kWh, epochwatt/limits.hpp): key x 500 + (child x rounds + round) / 10.
  auto encode = [](int k, int child, int round) { return k * 500.0 + (child * kRounds + round) / 10.0; };
  auto description = [](double g) { return "g=" + std::to_string(g); };
  // A read is good when its value encodes this key and its description and points agree with it.
  auto good_value = [&](const IntensityValue& v, int k) {
    return static_cast<int>(v.g_per_kwh / 500) == k && v.description == description(v.g_per_kwh) && v.source == "s";
  };
  auto good_series = [&](const IntensityForecast& f, int k) {
    if (f.points.empty() || static_cast<int>(f.points[0].g_per_kwh / 500) != k) return false;
    auto n = static_cast<std::size_t>(static_cast<long>(f.points[0].g_per_kwh) % 7 + 1);
    if (f.points.size() != n || f.description != description(f.points[0].g_per_kwh)) return false;
    for (const auto& p : f.points)
      if (p.g_per_kwh != f.points[0].g_per_kwh) return false;
    return true;
  };

  std::vector<pid_t> pids;
  for (int child = 0; child < kChildren; ++child) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int status = 0;
      IntensityCache cache(dir);
      for (int round = 0; round < kRounds && status == 0; ++round) {
        int k = (round + child) % kKeys;
        double g = encode(k, child, round);
        IntensityValue v;
        v.g_per_kwh = g;
        v.source = "s";
        v.description = description(g);
        cache.put_current(key(k), v, kT0);
        IntensityForecast f;
        for (long i = 0; i < static_cast<long>(g) % 7 + 1; ++i) f.points.push_back({kT0 + seconds(1800 * i), 1800.0, g});
        f.source = "s";
        f.description = description(g);
        f.fetched = kT0;
        cache.put_forecast(key(k), f);
        Location loc = Location::of_country(child % 2 ? "DK" : "GB", "ip-geolocation");
        loc.gb_region_id = child + 1;
        cache.put_location(loc, kT0);

        int r = (round * 7 + child) % kKeys;
        auto got = cache.get_current(key(r), kT0, 60);
        if (got && !good_value(*got, r)) status = 2;
        auto gf = cache.get_forecast(key(r), kT0);
        if (gf && !good_series(*gf, r)) status = 3;
        auto gl = cache.get_location(kT0, 60);
        if (!gl || gl->country != (gl->gb_region_id % 2 == 0 ? "DK" : "GB")) status = 4;
        // The entry just written by this process was replaced whole or not at all.
        if (!cache.get_current(key(k), kT0, 60) || !cache.get_forecast(key(k), kT0)) status = 5;
      }
      if (status == 0 && !cache.take_warnings().empty()) status = 6;
      ::_exit(status);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = -1;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "2: bad current value, 3: bad forecast, 4: bad location, "
                                         "5: own entry missing, 6: warnings";
  }
  IntensityCache cache(dir);
  for (int k = 0; k < kKeys; ++k) {
    auto v = cache.get_current(key(k), kT0, 60);
    ASSERT_TRUE(v) << k;
    EXPECT_TRUE(good_value(*v, k));
    auto f = cache.get_forecast(key(k), kT0);
    ASSERT_TRUE(f) << k;
    EXPECT_TRUE(good_series(*f, k));
  }
  EXPECT_TRUE(cache.get_location(kT0, 60));
  EXPECT_TRUE(cache.take_warnings().empty());
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename().string().rfind(".tmp", 0), std::string::npos) << "left behind: " << e.path();
  }
  EXPECT_EQ(files, 2 * kKeys + 1);
}
