// The on-disk intensity cache: current values (fresh for a TTL), forecasts (until their last period
// ends) and the IP geolocation, shared by every epochwatt process of one user on one machine, and a
// provider decorator that answers from it. Best-effort: no cache failure throws or stops a run.
//
// Layout (docs/intensity.md, "Cache"): one JSON file per entry in dir() (0700), each file 0600,
//   current-<name>.json, forecast-<name>.json, location.json, location-failed.json
// where <name> is the key with every character outside [A-Za-z0-9.-] turned into '_', cut to 80
// characters, then '-' and the FNV-1a 64-bit hash of the whole key in hex. A file holds its full
// key, which a read compares, so two keys never answer for each other. Writers write a temporary
// file in dir() (mkstemp), fsync it and rename(2) it over the entry: a reader sees the old or the
// new file, never a part of one. Entries are independent files, so concurrent writers of different
// keys never lose each other's entries; of one key, the last rename wins. No lock is needed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "epochwatt/intensity.hpp"

namespace epochwatt::detail {

// A current value as the cache holds it, with the time it was fetched from its provider.
struct CachedIntensity {
  IntensityValue value;
  std::chrono::system_clock::time_point fetched{};
};

// Thread-safety: every method may be called from several threads at once (files are replaced
// atomically; the warning list has its own lock). Several processes may share one dir().
class IntensityCache {
 public:
  // dir empty: default_dir(). An empty default_dir() (neither variable set) disables the cache:
  // gets answer nothing, puts do nothing.
  explicit IntensityCache(std::string dir = {});
  // $XDG_CACHE_HOME/epochwatt when XDG_CACHE_HOME is an absolute path, else $HOME/.cache/epochwatt,
  // else "" (no cache).
  static std::string default_dir();
  const std::string& dir() const { return dir_; }

  // The value stored for key when it was fetched less than ttl_s seconds before now (and not after
  // now: a clock that went back makes an entry stale).
  std::optional<IntensityValue> get_current(const std::string& key, std::chrono::system_clock::time_point now,
                                            double ttl_s) const;
  std::optional<CachedIntensity> get_current_entry(const std::string& key, std::chrono::system_clock::time_point now,
                                                   double ttl_s) const;
  void put_current(const std::string& key, const IntensityValue& v, std::chrono::system_clock::time_point now);

  // The forecast stored for key while its last period has not ended at now.
  std::optional<IntensityForecast> get_forecast(const std::string& key, std::chrono::system_clock::time_point now) const;
  // Replaces the stored forecast of key (an empty series is not stored).
  void put_forecast(const std::string& key, const IntensityForecast& f);

  // The stored IP geolocation when it is younger than ttl_s; its rule gains " (cached)".
  std::optional<Location> get_location(std::chrono::system_clock::time_point now, double ttl_s) const;
  void put_location(const Location& loc, std::chrono::system_clock::time_point now);
  // A failed IP geolocation: its one-line reason when the lookup of `url` failed less than ttl_s
  // ago (location-failed.json; the URL is kept as its FNV-1a hash only, as it may hold a token).
  // A machine without network (a cluster's compute node, a sandbox) then skips the lookup, and
  // libcurl's loading and the DNS wait, in every run until the entry is older than ttl_s.
  std::optional<std::string> get_location_failure(const std::string& url, std::chrono::system_clock::time_point now,
                                                  double ttl_s) const;
  void put_location_failure(const std::string& url, const std::string& why, std::chrono::system_clock::time_point now);

  // One line per problem met so far (unreadable or corrupt file, failed write), each file named
  // once; handed over once. Lines never contain values, only paths and system errors.
  std::vector<std::string> take_warnings();

  // The file that holds an entry ("current" or "forecast" and its key), for tests and docs.
  std::string entry_path(const std::string& kind, const std::string& key) const;

 private:
  std::optional<std::string> read_entry(const std::string& path) const;
  void write_entry(const std::string& path, const std::string& content);
  void warn(const std::string& path, const std::string& line) const;

  std::string dir_;
  mutable std::mutex mutex_;
  mutable std::vector<std::string> warnings_;
  mutable std::set<std::string> warned_paths_;
};

// The cache key of a provider's answer for a location: the provider name and every location field
// a provider reads (zone, country, postcode, region id, latitude and longitude rounded to 2
// decimals, cloud region), e.g. "electricitymaps|zone=DK-DK1|country=DK|lat=55.70|lon=12.60".
// Stable across processes and versions; holds no secret.
std::string cache_key(const std::string& provider_name, const Location& where);

using SystemClockFn = std::function<std::chrono::system_clock::time_point()>;

// A provider that answers from the cache while an entry is fresh (current values: ttl_s; forecast
// series: while they cover the window and have not ended), else asks `inner` and stores its answer.
// offline: `inner` is never asked; without a cached answer the reason is
// "offline and nothing cached for <key>". An answer from the cache keeps the inner source name and
// says in its description that it came from the cache and when it was fetched. name() is inner's.
// inner must not be null; a null cache means IntensityCache() (the default folder).
// Thread-safety: as `inner` (one thread at a time).
std::shared_ptr<IntensityProvider> make_cached_provider(std::shared_ptr<IntensityProvider> inner,
                                                        std::shared_ptr<IntensityCache> cache, double ttl_s,
                                                        bool offline,
                                                        SystemClockFn now = std::chrono::system_clock::now);

}  // namespace epochwatt::detail
