#include "intensity/cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "epochwatt/limits.hpp"
#include "core/bounded_file.hpp"
#include "core/format.hpp"

namespace epochwatt::detail {
namespace {

using nlohmann::json;
using SysClock = std::chrono::system_clock;

constexpr const char* kFormat = "epochwatt-intensity-cache";
constexpr int kVersion = 1;
// A cache file larger than this is not ours (a forecast of a week in 5-minute periods is ~200 KiB).
constexpr off_t kMaxEntryBytes = 4 * 1024 * 1024;

std::int64_t to_ms(SysClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
SysClock::time_point from_ms(std::int64_t ms) {
  return SysClock::time_point(std::chrono::duration_cast<SysClock::duration>(std::chrono::milliseconds(ms)));
}

std::string errno_text(int err) { return std::strerror(err); }

// mkdir -p with mode 0700 for every folder it creates (XDG: "created with permissions 0700").
bool make_dirs(const std::string& dir, std::string* error) {
  if (dir.empty()) return false;
  std::string::size_type pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    std::string part = dir.substr(0, pos);
    if (part.empty()) continue;
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      *error = "cannot create " + part + ": " + errno_text(errno);
      return false;
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = dir + " is not a folder";
    return false;
  }
  return true;
}

std::uint64_t fnv1a64(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// A URL as a cache key that does not hold it (a token in its query stays out of the file).
std::string url_hash(const std::string& url) {
  static const char* hex = "0123456789abcdef";
  std::uint64_t h = fnv1a64(url);
  std::string out = "fnv1a64:" + std::string(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[8 + static_cast<std::size_t>(i)] = hex[h & 0xF];
  return out;
}

std::string file_name_part(const std::string& key) {
  std::string safe;
  for (char c : key) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    safe += ok ? c : '_';
    if (safe.size() >= 80) break;
  }
  static const char* hex = "0123456789abcdef";
  std::uint64_t h = fnv1a64(key);
  std::string hash(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) hash[static_cast<std::size_t>(i)] = hex[h & 0xF];
  return safe + "-" + hash;
}

// Typed field access on untrusted JSON: nullopt when missing or of another type.
std::optional<double> number_at(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}
std::optional<std::int64_t> integer_at(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}
std::optional<std::string> string_at(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
std::optional<bool> bool_at(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

bool read_point(const json& p, IntensityPoint* out) {
  auto start = integer_at(p, "start_ms");
  auto period = number_at(p, "period_s");
  auto g = number_at(p, "g_per_kwh");
  if (!start || !period || !g) return false;
  if (!(*period > 0 && *period <= limits::kMaxIntervalS) || !(*g >= 0 && *g <= limits::kMaxIntensityGPerKwh)) return false;
  *out = IntensityPoint{from_ms(*start), *period, *g};
  return true;
}

json header(const char* kind, SysClock::time_point fetched) {
  return json{{"format", kFormat}, {"version", kVersion}, {"kind", kind}, {"fetched_ms", to_ms(fetched)},
              {"fetched", utc_iso8601(fetched)}};
}

// The parsed object when it is one of ours of this kind (and key), else nullopt.
std::optional<json> parse_entry(const std::string& text, const char* kind, const std::string* key) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  if (string_at(j, "format") != kFormat || integer_at(j, "version") != kVersion || string_at(j, "kind") != kind ||
      !integer_at(j, "fetched_ms"))
    return std::nullopt;
  if (key && string_at(j, "key") != *key) return std::nullopt;
  return j;
}

SysClock::time_point point_end(const IntensityPoint& p) {
  return p.start + std::chrono::duration_cast<SysClock::duration>(std::chrono::duration<double>(p.period_s));
}

bool fresh(SysClock::time_point fetched, SysClock::time_point now, double ttl_s) {
  if (!(ttl_s > 0) || fetched > now) return false;
  return std::chrono::duration<double>(now - fetched).count() < ttl_s;
}

}  // namespace

IntensityCache::IntensityCache(std::string dir) : dir_(dir.empty() ? default_dir() : std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

std::string IntensityCache::default_dir() {
  // XDG Base Directory: a relative XDG_CACHE_HOME is invalid and must be ignored.
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/') return std::string(xdg) + "/epochwatt";
  if (const char* home = std::getenv("HOME"); home && home[0] == '/') return std::string(home) + "/.cache/epochwatt";
  return {};
}

std::string IntensityCache::entry_path(const std::string& kind, const std::string& key) const {
  return dir_ + "/" + kind + "-" + file_name_part(key) + ".json";
}

void IntensityCache::warn(const std::string& path, const std::string& line) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (warned_paths_.insert(path).second) warnings_.push_back(line);
}

std::vector<std::string> IntensityCache::take_warnings() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

std::optional<std::string> IntensityCache::read_entry(const std::string& path) const {
  if (dir_.empty()) return std::nullopt;
  BoundedFile f = read_bounded_file(path, kMaxEntryBytes, /*no_follow=*/true);
  switch (f.status) {
    case BoundedFile::Status::ok:
      return std::move(f.text);
    case BoundedFile::Status::absent:  // the normal miss; a folder that is not one is told by put
      return std::nullopt;
    case BoundedFile::Status::open_failed:
    case BoundedFile::Status::read_failed:
      warn(path, "intensity cache: cannot read " + path + ": " + errno_text(f.error) + "; ignored");
      return std::nullopt;
    case BoundedFile::Status::not_regular:
      break;
  }
  warn(path, "intensity cache: " + path + " is not a regular file of at most 4 MiB; ignored");
  return std::nullopt;
}

void IntensityCache::write_entry(const std::string& path, const std::string& content) {
  if (dir_.empty()) return;
  std::string error;
  if (!make_dirs(dir_, &error)) {
    warn(dir_, "intensity cache: " + error + "; not caching");
    return;
  }
  std::string tmp = dir_ + "/.tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());  // 0600
  if (fd < 0) {
    warn(dir_, "intensity cache: cannot write in " + dir_ + ": " + errno_text(errno) + "; not caching");
    return;
  }
  std::size_t done = 0;
  int err = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  // fsync before rename: after a crash the entry is the old file or the whole new one, never an
  // empty one. Entries are written a few times an hour at most, so the cost does not matter.
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (!err && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    warn(dir_, "intensity cache: cannot write " + path + ": " + errno_text(err) + "; not caching");
  }
}

std::optional<CachedIntensity> IntensityCache::get_current_entry(const std::string& key, SysClock::time_point now,
                                                                 double ttl_s) const {
  std::string path = entry_path("current", key);
  auto text = read_entry(path);
  if (!text) return std::nullopt;
  auto j = parse_entry(*text, "current", &key);
  const json* v = j ? &(*j)["value"] : nullptr;
  auto g = v && v->is_object() ? number_at(*v, "g_per_kwh") : std::nullopt;
  if (!g || !(*g >= 0 && *g <= limits::kMaxIntensityGPerKwh) || !string_at(*v, "source")) {
    warn(path, "intensity cache: " + path + " is not a valid cache entry; ignored (the next fetch replaces it)");
    return std::nullopt;
  }
  CachedIntensity out;
  out.fetched = from_ms(*integer_at(*j, "fetched_ms"));
  if (!fresh(out.fetched, now, ttl_s)) return std::nullopt;
  out.value.g_per_kwh = *g;
  out.value.source = *string_at(*v, "source");
  out.value.description = string_at(*v, "description").value_or("");
  out.value.live = bool_at(*v, "live").value_or(false);
  out.value.forecast = bool_at(*v, "forecast").value_or(false);
  out.value.at = from_ms(integer_at(*v, "at_ms").value_or(0));
  return out;
}

std::optional<IntensityValue> IntensityCache::get_current(const std::string& key, SysClock::time_point now,
                                                          double ttl_s) const {
  auto e = get_current_entry(key, now, ttl_s);
  if (!e) return std::nullopt;
  return e->value;
}

void IntensityCache::put_current(const std::string& key, const IntensityValue& v, SysClock::time_point now) {
  if (!std::isfinite(v.g_per_kwh) || v.g_per_kwh < 0) return;
  json j = header("current", now);
  j["key"] = key;
  j["value"] = json{{"g_per_kwh", v.g_per_kwh}, {"source", v.source},    {"description", v.description},
                    {"live", v.live},           {"forecast", v.forecast}, {"at_ms", to_ms(v.at)}};
  write_entry(entry_path("current", key), j.dump(1) + "\n");
}

std::optional<IntensityForecast> IntensityCache::get_forecast(const std::string& key, SysClock::time_point now) const {
  std::string path = entry_path("forecast", key);
  auto text = read_entry(path);
  if (!text) return std::nullopt;
  auto j = parse_entry(*text, "forecast", &key);
  IntensityForecast f;
  bool valid = j && j->contains("points") && (*j)["points"].is_array() && !(*j)["points"].empty() &&
               string_at(*j, "source");
  if (valid) {
    for (const json& p : (*j)["points"]) {
      IntensityPoint point;
      if (!p.is_object() || !read_point(p, &point)) {
        valid = false;
        break;
      }
      f.points.push_back(point);
    }
  }
  if (!valid) {
    warn(path, "intensity cache: " + path + " is not a valid cache entry; ignored (the next fetch replaces it)");
    return std::nullopt;
  }
  std::sort(f.points.begin(), f.points.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  SysClock::time_point end{};
  for (const auto& p : f.points) end = std::max(end, point_end(p));
  if (end <= now) return std::nullopt;  // expired
  f.source = *string_at(*j, "source");
  f.description = string_at(*j, "description").value_or("");
  f.fetched = from_ms(*integer_at(*j, "fetched_ms"));
  return f;
}

void IntensityCache::put_forecast(const std::string& key, const IntensityForecast& f) {
  json points = json::array();
  for (const auto& p : f.points) {
    if (!std::isfinite(p.g_per_kwh) || p.g_per_kwh < 0 || !std::isfinite(p.period_s) || p.period_s <= 0) return;
    points.push_back(json{{"start_ms", to_ms(p.start)}, {"period_s", p.period_s}, {"g_per_kwh", p.g_per_kwh}});
  }
  if (points.empty()) return;
  json j = header("forecast", f.fetched);
  j["key"] = key;
  j["source"] = f.source;
  j["description"] = f.description;
  j["points"] = std::move(points);
  write_entry(entry_path("forecast", key), j.dump(1) + "\n");
}

std::optional<Location> IntensityCache::get_location(SysClock::time_point now, double ttl_s) const {
  std::string path = dir_ + "/location.json";
  auto text = read_entry(path);
  if (!text) return std::nullopt;
  auto j = parse_entry(*text, "location", nullptr);
  const json* l = j ? &(*j)["location"] : nullptr;
  if (!l || !l->is_object()) {
    warn(path, "intensity cache: " + path + " is not a valid cache entry; ignored (the next lookup replaces it)");
    return std::nullopt;
  }
  if (!fresh(from_ms(*integer_at(*j, "fetched_ms")), now, ttl_s)) return std::nullopt;
  Location loc;
  loc.country = string_at(*l, "country").value_or("");
  loc.zone = string_at(*l, "zone").value_or("");
  loc.postcode = string_at(*l, "postcode").value_or("");
  loc.gb_region_id = static_cast<int>(std::clamp<std::int64_t>(integer_at(*l, "gb_region_id").value_or(0), 0, 17));
  auto lat = number_at(*l, "lat"), lon = number_at(*l, "lon");
  if (lat && lon && std::abs(*lat) <= 90 && std::abs(*lon) <= 180) loc.lat = lat, loc.lon = lon;
  loc.cloud = string_at(*l, "cloud").value_or("");
  loc.city = string_at(*l, "city").value_or("");
  loc.region = string_at(*l, "region").value_or("");
  std::string rule = string_at(*l, "rule").value_or("ip-geolocation");
  const std::string suffix = " (cached)";
  if (rule.size() < suffix.size() || rule.compare(rule.size() - suffix.size(), suffix.size(), suffix) != 0)
    rule += suffix;
  loc.rule = rule;
  if (!loc.located()) return std::nullopt;
  return loc;
}

void IntensityCache::put_location(const Location& loc, SysClock::time_point now) {
  if (!loc.located()) return;
  json l{{"country", loc.country}, {"zone", loc.zone},   {"postcode", loc.postcode}, {"gb_region_id", loc.gb_region_id},
         {"cloud", loc.cloud},     {"city", loc.city},   {"region", loc.region},     {"rule", loc.rule}};
  if (loc.lat && loc.lon) l["lat"] = *loc.lat, l["lon"] = *loc.lon;
  json j = header("location", now);
  j["location"] = std::move(l);
  write_entry(dir_ + "/location.json", j.dump(1) + "\n");
}

std::optional<std::string> IntensityCache::get_location_failure(const std::string& url, SysClock::time_point now,
                                                                double ttl_s) const {
  std::string path = dir_ + "/location-failed.json";
  auto text = read_entry(path);
  if (!text) return std::nullopt;
  std::string key = url_hash(url);
  auto j = parse_entry(*text, "location-failed", &key);
  if (!j) return std::nullopt;  // another URL's, or not ours: the lookup is made (and replaces it)
  if (!fresh(from_ms(*integer_at(*j, "fetched_ms")), now, ttl_s)) return std::nullopt;
  return string_at(*j, "why").value_or("unknown reason");
}

void IntensityCache::put_location_failure(const std::string& url, const std::string& why, SysClock::time_point now) {
  json j = header("location-failed", now);
  j["key"] = url_hash(url);
  j["why"] = why;
  write_entry(dir_ + "/location-failed.json", j.dump(1) + "\n");
}

std::string cache_key(const std::string& provider_name, const Location& where) {
  auto upper = [](std::string s) {
    for (char& c : s)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
  };
  auto coordinate = [](double v) {
    std::string s = fixed(v, 2);
    return s == "-0.00" ? std::string("0.00") : s;
  };
  std::string key = provider_name;
  if (!where.zone.empty()) key += "|zone=" + where.zone;
  if (!where.country.empty()) key += "|country=" + upper(where.country);
  if (!where.postcode.empty()) key += "|postcode=" + upper(where.postcode);
  if (where.gb_region_id > 0) key += "|region=" + std::to_string(where.gb_region_id);
  if (where.lat && where.lon) key += "|lat=" + coordinate(*where.lat) + "|lon=" + coordinate(*where.lon);
  if (!where.cloud.empty()) key += "|cloud=" + where.cloud;
  return key;
}

namespace {

std::string from_cache_note(SysClock::time_point fetched) {
  if (fetched == SysClock::time_point{}) return " (from the cache)";
  return " (from the cache; fetched " + utc_iso8601(fetched) + ")";
}

// The periods of f that overlap [from, to).
IntensityForecast clipped(const IntensityForecast& f, SysClock::time_point from, SysClock::time_point to) {
  IntensityForecast out = f;
  out.points.clear();
  for (const auto& p : f.points)
    if (p.start < to && point_end(p) > from) out.points.push_back(p);
  return out;
}

bool covers(const IntensityForecast& f, SysClock::time_point from, SysClock::time_point to) {
  if (f.points.empty() || f.points.front().start > from) return false;
  SysClock::time_point reached = f.points.front().start;
  for (const auto& p : f.points) {
    if (p.start > reached) return false;  // a gap
    reached = std::max(reached, point_end(p));
    if (reached >= to) return true;
  }
  return reached >= to;
}

class CachedProvider final : public IntensityProvider {
 public:
  CachedProvider(std::shared_ptr<IntensityProvider> inner, std::shared_ptr<IntensityCache> cache, double ttl_s,
                 bool offline, SystemClockFn now)
      : inner_(std::move(inner)), cache_(std::move(cache)), ttl_s_(ttl_s), offline_(offline), now_(std::move(now)) {
    if (!now_) now_ = SysClock::now;
  }

  std::string name() const override { return inner_->name(); }

  std::optional<IntensityValue> current(const Location& where, std::string* why) override {
    std::string key = cache_key(inner_->name(), where);
    if (auto e = cache_->get_current_entry(key, now_(), ttl_s_)) {
      e->value.description += from_cache_note(e->fetched);
      return e->value;
    }
    if (offline_) return nothing_cached(key, why);
    auto v = inner_->current(where, why);
    if (v) cache_->put_current(key, *v, now_());
    return v;
  }

  std::optional<IntensityForecast> forecast_series(const Location& where, SysClock::time_point from, SysClock::time_point to,
                                                   std::string* why) override {
    std::string key = cache_key(inner_->name(), where);
    auto cached = cache_->get_forecast(key, now_());
    if (cached && covers(*cached, from, to)) return annotated(clipped(*cached, from, to));
    if (!offline_) {
      std::string inner_why;
      if (auto f = inner_->forecast_series(where, from, to, &inner_why)) {
        if (f->fetched == SysClock::time_point{}) f->fetched = now_();
        cache_->put_forecast(key, *f);
        return f;
      }
      if (why) *why = inner_why;
    }
    // A stored forecast that covers part of the window is better than none.
    if (cached) {
      auto part = clipped(*cached, from, to);
      if (!part.points.empty()) return annotated(std::move(part));
    }
    if (offline_) return nothing_cached(key, why);
    return std::nullopt;
  }

  std::optional<IntensityValue> forecast(const Location& where, SysClock::time_point from, double duration_s,
                                         std::string* why) override {
    auto to = from + std::chrono::duration_cast<SysClock::duration>(std::chrono::duration<double>(duration_s));
    std::string key = cache_key(inner_->name(), where);
    auto from_series = [&](const IntensityForecast& f) -> std::optional<IntensityValue> {
      auto mean = f.mean(from, to);
      if (!mean) return std::nullopt;
      return IntensityValue{*mean, f.source, f.description, true, true, from};
    };
    // A series in the cache (stored by forecast_series or below) that covers the window.
    if (auto cached = cache_->get_forecast(key, now_()); cached && covers(*cached, from, to))
      return from_series(annotated(*cached));
    if (offline_) return nothing_cached(key, why);
    std::string series_why;
    if (auto f = inner_->forecast_series(where, from, to, &series_why)) {
      if (f->fetched == SysClock::time_point{}) f->fetched = now_();
      cache_->put_forecast(key, *f);
      if (auto v = from_series(*f)) return v;
    }
    // A provider with only a mean: stored as one period spanning the window, so that the same
    // window (the tracker asks the same one again at each epoch) answers from the cache.
    auto v = inner_->forecast(where, from, duration_s, why);
    if (v && duration_s > 0) {
      IntensityForecast one{{{from, duration_s, v->g_per_kwh}}, v->source, v->description, now_()};
      cache_->put_forecast(key, one);
    }
    return v;
  }

 private:
  static IntensityForecast annotated(IntensityForecast f) {
    f.description += from_cache_note(f.fetched);
    return f;
  }
  static std::nullopt_t nothing_cached(const std::string& key, std::string* why) {
    if (why) *why = "offline and nothing cached for " + key;
    return std::nullopt;
  }

  std::shared_ptr<IntensityProvider> inner_;
  std::shared_ptr<IntensityCache> cache_;
  double ttl_s_;
  bool offline_;
  SystemClockFn now_;
};

}  // namespace

std::shared_ptr<IntensityProvider> make_cached_provider(std::shared_ptr<IntensityProvider> inner,
                                                        std::shared_ptr<IntensityCache> cache, double ttl_s,
                                                        bool offline, SystemClockFn now) {
  if (!cache) cache = std::make_shared<IntensityCache>(std::string{});
  return std::make_shared<CachedProvider>(std::move(inner), std::move(cache), ttl_s, offline, std::move(now));
}

}  // namespace epochwatt::detail
