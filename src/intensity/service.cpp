#include "intensity/service.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "core/format.hpp"
#include "intensity/cache.hpp"
#include "intensity/config_file.hpp"
#include "intensity/geolocation.hpp"
#include "intensity/providers/carbonintensity_uk.hpp"
#include "intensity/providers/cloud_regions.hpp"
#include "intensity/providers/electricitymaps.hpp"
#include "intensity/providers/energidataservice.hpp"

namespace epochwatt::detail {
namespace {

using std::chrono::system_clock;

constexpr double kForecastHorizonS = 48 * 3600.0;  // the longest any provider forecasts (GB: 48 h)

class FixedProvider final : public IntensityProvider {
 public:
  explicit FixedProvider(double v) : v_(v) {}
  std::string name() const override { return "fixed"; }
  std::optional<IntensityValue> current(const Location&, std::string*) override {
    return IntensityValue{v_, "fixed", "fixed value given by option", false, false, {}};
  }

 private:
  double v_;
};

class EmbeddedTableProvider final : public IntensityProvider {
 public:
  std::string name() const override { return "embedded-table"; }
  std::optional<IntensityValue> current(const Location& where, std::string* why) override {
    if (where.country.empty()) {
      if (why) *why = "no country";
      return std::nullopt;
    }
    auto row = embedded_country_intensity(where.country);
    if (!row) {
      if (why) *why = "country '" + where.country + "' is not in the embedded table";
      return std::nullopt;
    }
    return IntensityValue{row->g_per_kwh, "embedded-table",
                          "annual average of " + std::string(row->country) + " in " +
                              std::to_string(row->year) +
                              " (Ember 2025 and Energy Institute 2025, via Our World in Data, CC BY 4.0)",
                          false, false, {}};
  }
};

IntensityValue world_average() {
  return IntensityValue{kWorldAverageGPerKwh, "world-average",
                        "2024 world average (IEA, Electricity 2025, Emissions chapter)", false, false, {}};
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// The cloud region's country fills in a missing country (for the country table and the zone).
void complete(Location& loc) {
  loc.country = upper(loc.country);
  loc.zone = upper(loc.zone);
  if (loc.country.empty() && !loc.cloud.empty())
    if (auto row = cloud_region_intensity(loc.cloud)) loc.country = iso3_to_alpha2(row->country_iso3);
  if (loc.country.empty() && !loc.zone.empty()) loc.country = loc.zone.substr(0, loc.zone.find('-'));
  if (loc.country.empty() && (!loc.postcode.empty() || loc.gb_region_id > 0)) loc.country = "GB";
}

bool in_gb(const Location& l) { return l.country == "GB" || !l.postcode.empty() || l.gb_region_id > 0; }
bool in_dk(const Location& l) { return l.country == "DK" || l.zone.rfind("DK-", 0) == 0; }

}  // namespace

std::shared_ptr<IntensityProvider> make_fixed_provider(double g) { return std::make_shared<FixedProvider>(g); }
std::shared_ptr<IntensityProvider> make_embedded_table_provider() { return std::make_shared<EmbeddedTableProvider>(); }

Location resolve_location(const Options& o, const ConfigFile& config) {
  Location loc;
  if (!o.country.empty() || !o.zone.empty() || !o.postcode.empty() || o.latitude || !o.cloud.empty()) {
    loc.country = o.country;
    loc.zone = o.zone;
    loc.postcode = o.postcode;
    loc.lat = o.latitude;
    loc.lon = o.longitude;
    loc.cloud = o.cloud;
    loc.rule = "option";
  } else if (Location from_env = location_from_env(); from_env.located()) {
    loc = from_env;
  } else if (config.found && config.location.located()) {
    loc = config.location;
  }
  complete(loc);
  return loc;
}

// ---------------------------------------------------------------------------------------------
// Shared state of the service and its worker. The worker holds it through a shared_ptr, so a
// worker left to finish a fetch after stop() never touches a destroyed service.
struct IntensityService::Shared {
  // Set at construction, then read-only.
  std::optional<double> fixed;
  bool offline = false;
  bool may_geolocate = false;
  bool plain_http_warned = false;  // a keyed provider on plain http: told once per run
  std::vector<std::string> provider_names;  // explicit order; empty: automatic by location
  std::map<std::string, std::string> keys;  // provider -> secret
  std::map<std::string, std::string> urls;  // provider -> base URL
  std::vector<std::shared_ptr<IntensityProvider>> user_providers;
  std::shared_ptr<HttpClient> http;
  std::shared_ptr<IntensityCache> cache;
  double ttl_s = 900.0;
  WallClock wall;
  std::vector<std::string> secrets;
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  HttpRequest request;  // timeouts, retries and the cancel flag for every provider

  // Changing, under mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  Location location;
  bool need_geolocation = false;
  std::vector<std::shared_ptr<IntensityProvider>> live, live_cached_only;
  std::optional<PostedIntensity> posted;
  std::optional<IntensityForecast> forecast;
  std::vector<IntensityNote> notes;
  std::map<std::string, std::string> last_failure;  // provider -> last reason told
  long requested = 0, finished = 0;
  bool quit = false;
  std::function<void()> on_post;
  std::thread worker;
  bool stopped = false;

  // Under mu.
  void collect_cache_warnings() {
    if (cache)
      for (auto& w : cache->take_warnings()) notes.push_back({true, w});
  }
  void note(bool warning, const std::string& text) {
    std::lock_guard lk(mu);
    notes.push_back({warning, redact(text, secrets)});
  }
  std::string url(const std::string& name, const char* env_name) const {
    if (auto it = urls.find(name); it != urls.end() && !it->second.empty()) return it->second;
    return env(env_name);
  }
  std::shared_ptr<IntensityProvider> make_live(const std::string& name) const;
  void warn_if_key_unencrypted(const std::string& name);
  void build_live(const Location& loc);
  IntensityValue offline_value(const Location& loc, std::vector<std::string>* failures) const;
  IntensityValue round(bool first);
  // Geolocates once when the run needs it (and no other source located it), rebuilding the live
  // chain for the place found; returns the location either way.
  Location geolocate_if_needed();
  void run_worker();
};

std::shared_ptr<IntensityProvider> IntensityService::Shared::make_live(const std::string& name) const {
  // Every provider's config: its base URL (option, else environment), the shared request
  // settings and HTTP client.
  auto configured = [&](auto c, const char* env_url) {
    if (auto u = url(name, env_url); !u.empty()) c.base_url = u;
    c.request_template = request;
    c.http = http;
    return c;
  };
  if (name == "electricitymaps") {
    auto c = configured(ElectricityMapsConfig{}, "EPOCHWATT_ELECTRICITYMAPS_URL");
    if (auto it = keys.find(name); it != keys.end()) c.token = it->second;
    return make_electricitymaps_provider(c);
  }
  if (name == "carbonintensity.org.uk")
    return make_carbonintensity_uk_provider(configured(CarbonIntensityUkConfig{}, "EPOCHWATT_CARBONINTENSITY_UK_URL"));
  if (name == "energidataservice")
    return make_energidataservice_provider(configured(EnergiDataServiceConfig{}, "EPOCHWATT_ENERGIDATASERVICE_URL"));
  return nullptr;
}

// Under mu (or in the constructor). An API key sent over plain http can be read on the way: a
// test server or a local proxy may mean it, anything else is a mistake worth one line.
void IntensityService::Shared::warn_if_key_unencrypted(const std::string& name) {
  if (plain_http_warned || offline || name != "electricitymaps" || !keys.count(name)) return;
  if (url_scheme(url(name, "EPOCHWATT_ELECTRICITYMAPS_URL")) != "http") return;
  plain_http_warned = true;
  notes.push_back({true, "electricitymaps: its URL is plain http://, so the API key travels unencrypted and can be "
                         "read on the way; use https:// (--provider-url, EPOCHWATT_ELECTRICITYMAPS_URL)"});
}

// The live chain for a location: the caller's own providers, then the named ones (or, by default,
// each one suited to the location), each behind the cache.
void IntensityService::Shared::build_live(const Location& loc) {
  std::vector<std::string> names = provider_names;
  if (names.empty()) {
    if (keys.count("electricitymaps")) names.push_back("electricitymaps");
    if (in_gb(loc)) names.push_back("carbonintensity.org.uk");
    if (in_dk(loc)) names.push_back("energidataservice");
  }
  live = user_providers;
  live_cached_only.clear();
  for (const auto& name : names) {
    if (name == "none") continue;
    auto inner = make_live(name);
    if (!inner) continue;
    warn_if_key_unencrypted(name);
    // Offline, the cache is read once at the start (initial()); the worker has nothing to ask.
    if (cache) live_cached_only.push_back(make_cached_provider(inner, cache, ttl_s, true, wall));
    if (offline) continue;
    live.push_back(cache ? make_cached_provider(inner, cache, ttl_s, false, wall) : inner);
  }
}

// fixed > cloud-region table > embedded country table > world average.
IntensityValue IntensityService::Shared::offline_value(const Location& loc, std::vector<std::string>* failures) const {
  if (fixed) return *make_fixed_provider(*fixed)->current(loc, nullptr);
  std::string why;
  if (!loc.cloud.empty()) {
    if (auto v = make_cloud_region_provider()->current(loc, &why)) return *v;
    if (failures) failures->push_back("cloud-region-table: " + why);
  }
  if (!loc.country.empty()) {
    if (auto v = make_embedded_table_provider()->current(loc, &why)) return *v;
    if (failures) failures->push_back("Country '" + loc.country + "' is not in the embedded intensity table");
  }
  return world_average();
}

// One round: geolocate when needed, then the live chain, else the offline sources. Tells each
// failure once (until it changes) with the source used next.
Location IntensityService::Shared::geolocate_if_needed() {
  Location loc;
  bool geolocate_now;
  {
    std::lock_guard lk(mu);
    loc = location;
    geolocate_now = need_geolocation;
    need_geolocation = false;  // one request per run
  }
  if (geolocate_now) {
    GeolocationConfig g;
    if (auto u = url("geolocation", "EPOCHWATT_GEOLOCATION_URL"); !u.empty()) g.url = u;
    g.http = http;
    std::string why;
    if (auto found = geolocate(g, &why)) {
      loc = *found;
      complete(loc);
      if (cache) cache->put_location(loc, wall());
      note(false, "Located by IP geolocation: " + loc.address() + ".");
    } else {
      if (cache) cache->put_location_failure(g.url, why, wall());
      note(true, "IP geolocation failed: " + why + "; the run is not located (world average unless a live provider answers).");
    }
    std::lock_guard lk(mu);
    location = loc;
    build_live(loc);
  }
  return loc;
}

IntensityValue IntensityService::Shared::round(bool first) {
  Location loc = geolocate_if_needed();
  std::vector<std::shared_ptr<IntensityProvider>> chain;
  {
    std::lock_guard lk(mu);
    chain = live;
  }
  std::vector<std::pair<std::string, std::string>> failed;  // provider, reason
  std::optional<IntensityValue> got;
  std::shared_ptr<IntensityProvider> answered;
  for (const auto& p : chain) {
    if (cancel->load()) break;
    std::string why;
    if (auto v = p->current(loc, &why)) {
      got = v;
      answered = p;
      break;
    }
    failed.emplace_back(p->name(), why.empty() ? "no value" : why);
  }
  std::vector<std::string> offline_failures;
  IntensityValue value = got ? *got : offline_value(loc, &offline_failures);
  {
    std::lock_guard lk(mu);
    for (const auto& [name, why] : failed) {
      auto& last = last_failure[name];
      if (last == why) continue;
      last = why;
      notes.push_back({true, redact(name + ": " + why + "; using " + value.source + " instead.", secrets)});
    }
    if (got) last_failure[answered->name()].clear();
    collect_cache_warnings();
    if (first) {
      for (const auto& f : offline_failures) notes.push_back({true, f + "; using " + value.source + " instead."});
      if (!got) notes.push_back({false, "Carbon intensity for " + loc.address() + " from " + value.source + ": " +
                                            value.description + "."});
    }
  }
  // The forecast series, from the source that answered, else the first live one that has one.
  if (!cancel->load() && !chain.empty()) {
    auto now = wall();
    auto to = now + std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(kForecastHorizonS));
    std::vector<std::shared_ptr<IntensityProvider>> order;
    if (answered) order.push_back(answered);
    for (const auto& p : chain)
      if (p != answered) order.push_back(p);
    for (const auto& p : order) {
      std::string why;
      if (auto f = p->forecast_series(loc, now, to, &why); f && !f->points.empty()) {
        std::lock_guard lk(mu);
        forecast = std::move(*f);
        break;
      }
    }
  }
  return value;
}

void IntensityService::Shared::run_worker() {
  bool first = true;
  for (;;) {
    long target;
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return quit || finished < requested; });
      if (quit) return;
      target = requested;
    }
    IntensityValue v = round(first);
    first = false;
    std::function<void()> cb;
    {
      std::lock_guard lk(mu);
      if (quit) return;
      posted = PostedIntensity{v, target};
      finished = target;
      cb = on_post;
    }
    if (cb) cb();
  }
}

// ---------------------------------------------------------------------------------------------

IntensityService::IntensityService(const Options& o, std::shared_ptr<HttpClient> http, WallClock wall)
    : s_(std::make_shared<Shared>()) {
  Shared& s = *s_;
  s.wall = wall ? std::move(wall) : WallClock([] { return system_clock::now(); });
  s.http = http ? std::move(http) : curl_http_client();
  s.fixed = o.intensity_g_per_kwh;
  s.user_providers = o.intensity_providers;
  s.urls = o.provider_urls;
  s.request.cancel = s.cancel;

  ConfigFile config = load_config_file(o.config_file);
  for (const auto& w : config.warnings) s.notes.push_back({true, w});
  std::string env_offline = env("EPOCHWATT_OFFLINE");
  s.offline = o.offline || config.offline.value_or(false) || (!env_offline.empty() && env_offline != "0");
  s.provider_names = !o.live_providers.empty() ? o.live_providers : config.providers;
  double refresh = o.intensity_refresh_s;
  if (refresh == 900.0 && config.refresh_s) refresh = *config.refresh_s;
  s.ttl_s = std::min(900.0, refresh);

  ApiKeys keys = load_api_keys(config);
  s.keys = keys.by_provider;
  for (const auto& [name, key] : o.api_keys) s.keys[name] = key;
  for (const auto& [name, key] : s.keys) s.secrets.push_back(key);

  if (o.cache_dir != "none") s.cache = std::make_shared<IntensityCache>(o.cache_dir);

  // The environment is read when no option locates the run (resolve_location's order); a value
  // there that cannot be used is skipped with one warning (docs/intensity.md, "Location").
  if (o.country.empty() && o.zone.empty() && o.postcode.empty() && !o.latitude && o.cloud.empty()) {
    std::vector<std::string> env_warnings;
    (void)location_from_env(&env_warnings);
    for (const auto& w : env_warnings) s.notes.push_back({true, w});
  }
  if (!o.cloud.empty() && !cloud_region_intensity(o.cloud))
    s.notes.push_back({true, "cloud region '" + o.cloud + "' is not in the embedded table (data/cloud-region-intensity.csv); "
                             "its intensity falls back to the next source"});
  if (!o.country.empty() && !embedded_country_intensity(upper(o.country)))
    s.notes.push_back({true, "country '" + o.country + "' is not in the embedded country table; "
                             "its intensity falls back to the next source"});
  s.location = resolve_location(o, config);
  if (!s.fixed && !s.location.located()) {
    if (s.cache)
      if (auto cached = s.cache->get_location(s.wall(), 24 * 3600.0)) {
        s.location = *cached;
        s.location.rule = "ip-geolocation (cached)";
      }
    if (!s.location.located() && !s.offline && o.geolocate) {
      std::string gurl = s.url("geolocation", "EPOCHWATT_GEOLOCATION_URL");
      if (gurl.empty()) gurl = kDefaultGeolocationUrl;
      std::optional<std::string> failed;
      if (s.cache) failed = s.cache->get_location_failure(gurl, s.wall(), kGeolocationRetryS);
      if (failed)
        s.notes.push_back({true, "IP geolocation skipped: it failed less than " +
                                     std::to_string(static_cast<int>(kGeolocationRetryS / 60)) + " minutes ago (" +
                                     *failed + "); the run is not located (world average unless a live provider "
                                     "answers). --country or EPOCHWATT_COUNTRY locate it."});
      else
        s.need_geolocation = true;
    }
  }
  s.may_geolocate = s.need_geolocation;
  if (!s.fixed) s.build_live(s.location);
}

IntensityService::~IntensityService() { stop(0.0); }

Location IntensityService::location() const {
  std::lock_guard lk(s_->mu);
  return s_->location;
}

bool IntensityService::has_background_work() const {
  std::lock_guard lk(s_->mu);
  return !s_->fixed && (s_->need_geolocation || !s_->live.empty());
}

IntensityValue IntensityService::initial() {
  Shared& s = *s_;
  Location loc = location();
  std::vector<std::shared_ptr<IntensityProvider>> cached;
  {
    std::lock_guard lk(s.mu);
    cached = s.live_cached_only;
  }
  IntensityValue v;
  bool from_cache = false;
  if (!s.fixed)
    for (const auto& p : cached)
      if (auto c = p->current(loc, nullptr)) {
        v = *c;
        from_cache = true;
        break;
      }
  std::vector<std::string> failures;
  if (!from_cache) v = s.offline_value(loc, &failures);
  std::lock_guard lk(s.mu);
  for (const auto& f : failures) s.notes.push_back({true, f + "; using " + v.source + " instead."});
  if (v.source == "fixed")
    s.notes.push_back({false, "Using fixed carbon intensity of " + fixed(v.g_per_kwh, 2) + " gCO2eq/kWh given by option."});
  else if (from_cache)
    s.notes.push_back({false, "Using intensity provider: " + v.source + " (cached)."});
  else if (v.source == "embedded-table" && s.live.empty())
    s.notes.push_back({true, "No carbon intensity provider specified. Using average carbon intensity for " +
                                 loc.country + ": " + fixed(v.g_per_kwh, 2) + " gCO2eq/kWh."});
  else if (v.source == "world-average" && s.live.empty() && !s.need_geolocation)
    s.notes.push_back({true, "No carbon intensity provider specified and no location detected. Defaulting to "
                             "global average carbon intensity for 2024: 445.00 gCO2eq/kWh."});
  s.collect_cache_warnings();
  return v;
}

void IntensityService::start(std::function<void()> on_post) {
  Shared& s = *s_;
  std::lock_guard lk(s.mu);
  if (s.worker.joinable() || s.stopped) return;
  s.on_post = std::move(on_post);
  auto shared = s_;
  s.worker = std::thread([shared] { shared->run_worker(); });
}

void IntensityService::request_refresh() {
  {
    std::lock_guard lk(s_->mu);
    if (s_->stopped) return;
    s_->requested++;
  }
  s_->cv.notify_one();
}

std::optional<PostedIntensity> IntensityService::poll() {
  std::lock_guard lk(s_->mu);
  std::optional<PostedIntensity> out;
  out.swap(s_->posted);
  return out;
}

long IntensityService::requested_rounds() const {
  std::lock_guard lk(s_->mu);
  return s_->stopped ? 0 : s_->requested;
}

std::optional<IntensityValue> IntensityService::forecast_mean(system_clock::time_point from, double duration_s) const {
  std::lock_guard lk(s_->mu);
  if (!s_->forecast || duration_s <= 0) return std::nullopt;
  auto to = from + std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(duration_s));
  // Coverage: at least half of the window must lie inside the series.
  IntensityForecast f = *s_->forecast;
  double covered = 0;
  for (const auto& p : f.points) {
    auto p_end = p.start + std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(p.period_s));
    auto a = std::max(from, p.start), b = std::min(to, p_end);
    if (b > a) covered += std::chrono::duration<double>(b - a).count();
  }
  if (covered < duration_s / 2) return std::nullopt;
  auto mean = f.mean(from, to);
  if (!mean) return std::nullopt;
  return IntensityValue{*mean, f.source, f.description, true, true, from};
}

void IntensityService::stop(double wait_s) {
  Shared& s = *s_;
  std::thread worker;
  {
    std::lock_guard lk(s.mu);
    if (s.stopped) return;
    s.stopped = true;
    s.quit = true;
    s.on_post = nullptr;
    worker = std::move(s.worker);
  }
  s.cancel->store(true);
  s.cv.notify_all();
  if (!worker.joinable()) return;
  // The worker may be inside a request: curl notices the cancel flag within about a second.
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread joiner([w = std::move(worker), done]() mutable {
    w.join();
    done->store(true);
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_s);
  while (!done->load() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (done->load())
    joiner.join();
  else
    joiner.detach();  // abandoned: it ends on its own within the request's timeout
}

std::vector<IntensityNote> IntensityService::take_notes() {
  std::lock_guard lk(s_->mu);
  std::vector<IntensityNote> out;
  out.swap(s_->notes);
  return out;
}

IntensityValue IntensityService::current_blocking() {
  Shared& s = *s_;
  if (s.fixed) return s.offline_value(location(), nullptr);
  return s.round(true);
}

std::optional<IntensityForecast> IntensityService::forecast_blocking(system_clock::time_point from,
                                                                     system_clock::time_point to, std::string* why) {
  Shared& s = *s_;
  // Only the place is needed: a full round would also fetch the current intensity, whose failure
  // note would repeat the forecast's own failure (`plan` printed the same reason twice).
  (void)s.geolocate_if_needed();
  std::vector<std::shared_ptr<IntensityProvider>> chain;
  Location loc;
  {
    std::lock_guard lk(s.mu);
    chain = s.live;
    loc = s.location;
  }
  std::string reasons;
  for (const auto& p : chain) {
    std::string w;
    if (auto f = p->forecast_series(loc, from, to, &w); f && !f->points.empty()) return f;
    reasons += (reasons.empty() ? "" : "; ") + p->name() + ": " + (w.empty() ? "no forecast" : w);
  }
  if (why)
    *why = redact(chain.empty() ? "no live provider with a forecast for " + loc.address() +
                                      " (Electricity Maps needs a key; carbonintensity.org.uk covers Great Britain, "
                                      "Energi Data Service Denmark)"
                                : reasons,
                  s.secrets);
  return std::nullopt;
}

std::vector<std::string> IntensityService::live_provider_names() const {
  std::lock_guard lk(s_->mu);
  std::vector<std::string> out;
  for (const auto& p : s_->live) out.push_back(p->name());
  return out;
}

}  // namespace epochwatt::detail
