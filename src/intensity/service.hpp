// Chooses the carbon intensity of a run and keeps it current without ever blocking the caller.
//
// Sources, the first that answers wins: a fixed value; the live providers suited to the location
// (through the cache); the cloud-region table; the embedded country table; the 2024 world average,
// which never fails. The offline part answers at once (initial()); the live providers and IP
// geolocation run on the service's own worker thread, which posts each new value for the tracker's
// sampler to pick up (poll()). Location precedence: options > environment > config file > IP
// geolocation > none. See docs/intensity.md.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/intensity.hpp"
#include "epochwatt/options.hpp"
#include "intensity/http.hpp"

namespace epochwatt::detail {

struct ConfigFile;

using epochwatt::IntensityNote;
using epochwatt::PostedIntensity;

// The location by precedence: explicit options > environment variables > the config file > none.
// (IP geolocation, the next rule, is the service's: it needs the network.)
Location resolve_location(const Options& options, const ConfigFile& config);

class IntensityService final : public IntensitySource {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;
  // http: the client for every provider and geolocation (tests inject one); null: libcurl.
  // wall: the wall clock for cache ages and forecast windows; null: system_clock::now.
  explicit IntensityService(const Options& options, std::shared_ptr<HttpClient> http = nullptr,
                            WallClock wall = nullptr);
  ~IntensityService();
  IntensityService(const IntensityService&) = delete;
  IntensityService& operator=(const IntensityService&) = delete;

  Location location() const override;
  // The value to start with, from the fixed value, the cache, the cloud-region table, the country
  // table or the world average; no network.
  IntensityValue initial() override;
  // True when live providers or geolocation may change the value (the worker has work to do).
  bool has_background_work() const override;

  // Starts the worker; `on_post` is called (on the worker thread) after each round it finishes.
  void start(std::function<void()> on_post) override;
  // Asks the worker for a new round (a refresh); never blocks.
  void request_refresh() override;
  // The newest value the worker posted and not yet taken; never blocks on the network.
  std::optional<PostedIntensity> poll() override;
  // Rounds asked for so far (request_refresh calls that started a round or queued one).
  long requested_rounds() const override;
  // The mean of the newest forecast series over [from, from + duration_s), when the series covers
  // at least half of it; no network.
  std::optional<IntensityValue> forecast_mean(std::chrono::system_clock::time_point from,
                                              double duration_s) const override;
  // Abandons a fetch in flight (it stops within about a second) and joins the worker for at most
  // wait_s, else leaves it to end on its own. Idempotent.
  void stop(double wait_s = 2.0) override;
  std::vector<IntensityNote> take_notes() override;

  // Blocking, for the command line (`epochwatt intensity`, `epochwatt plan`): geolocate if needed,
  // then ask the sources in order.
  IntensityValue current_blocking();
  // The forecast series over [from, to) from the first live provider that has one.
  std::optional<IntensityForecast> forecast_blocking(std::chrono::system_clock::time_point from,
                                                     std::chrono::system_clock::time_point to, std::string* why);
  // Names of the live providers in order (after geolocation, when it ran).
  std::vector<std::string> live_provider_names() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> s_;
};

// The providers the embedded data gives (offline, instant).
std::shared_ptr<IntensityProvider> make_fixed_provider(double g_per_kwh);
std::shared_ptr<IntensityProvider> make_embedded_table_provider();

}  // namespace epochwatt::detail
