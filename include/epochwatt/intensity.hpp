// Carbon intensity: the location and value types, the provider interface that fixed values, the
// embedded tables and the live APIs implement, the source interface the tracker reads, and the
// lookup of the embedded country table (defined in the epochwatt_intensity layer).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epochwatt {

// Where the run is, and which rule said so (for reports). Providers read the fields they need:
// Electricity Maps the zone or the coordinates, carbonintensity.org.uk the postcode or region id,
// Energi Data Service the zone (DK-DK1/DK-DK2), the tables the country or the cloud region.
struct Location {
  std::string country;   // ISO 3166-1 alpha-2, upper case; empty when unknown
  std::string zone;      // Electricity Maps zone id ("DE", "DK-DK1", "US-CAL-CISO"); empty: country
  std::string postcode;  // Great Britain: outward postcode ("RG10")
  int gb_region_id = 0;  // carbonintensity.org.uk region id 1..17; 0: none
  std::optional<double> lat, lon;
  std::string cloud;     // "provider:region", e.g. "gcp:europe-west1"
  std::string city, region;  // from IP geolocation, for the address only
  // Which rule located the run: "option", "env:EPOCHWATT_COUNTRY" (or another variable),
  // "config:PATH", "ip-geolocation", "ip-geolocation (cached)", "none".
  std::string rule = "none";
  // "{city}, {region}, {country}" where known (carbontracker's form), else the country, else the
  // zone or cloud region, else "Unknown".
  std::string address() const {
    std::string out;
    for (const std::string* part : {&city, &region, &country})
      if (!part->empty()) out += (out.empty() ? "" : ", ") + *part;
    if (out.empty()) out = !zone.empty() ? zone : !cloud.empty() ? cloud : "Unknown";
    return out;
  }
  static Location of_country(std::string alpha2, std::string rule) {
    Location l;
    l.country = std::move(alpha2);
    l.rule = std::move(rule);
    return l;
  }
  bool located() const {
    return !country.empty() || !zone.empty() || !postcode.empty() || gb_region_id > 0 || (lat && lon) ||
           !cloud.empty();
  }
};

struct IntensityValue {
  double g_per_kwh = 0.0;
  std::string source;       // short machine-readable id: "fixed", "embedded-table", "world-average"
  std::string description;  // one line for people, with the data's origin and year
  bool live = false;        // came from a live provider (stored in carbontracker's list)
  bool forecast = false;    // a forecast over the requested window
  std::chrono::system_clock::time_point at{};  // when the value applies (epoch 0: unknown)
};

// One period of a forecast: `g_per_kwh` holds from `start` for `period_s` seconds.
struct IntensityPoint {
  std::chrono::system_clock::time_point start;
  double period_s = 1800.0;
  double g_per_kwh = 0.0;
};

// A provider's forecast as a series (ordered by start, periods do not overlap).
struct IntensityForecast {
  std::vector<IntensityPoint> points;
  std::string source;       // as IntensityValue::source
  std::string description;
  std::chrono::system_clock::time_point fetched{};
  // Time-weighted mean over [from, to); nullopt when the series does not cover any of it.
  std::optional<double> mean(std::chrono::system_clock::time_point from,
                             std::chrono::system_clock::time_point to) const;
};

// Thread-safety: a provider may be called from the tracker's background thread; implementations
// must be safe for calls from one thread at a time (the tracker never calls one concurrently).
class IntensityProvider {
 public:
  virtual ~IntensityProvider() = default;
  virtual std::string name() const = 0;
  // Current intensity at the location, or nullopt with *why set to a one-line reason.
  virtual std::optional<IntensityValue> current(const Location& where, std::string* why) = 0;
  // Mean forecast over [from, from + duration); default: no forecast.
  virtual std::optional<IntensityValue> forecast(const Location& where,
                                                 std::chrono::system_clock::time_point from,
                                                 double duration_s, std::string* why) {
    (void)where, (void)from, (void)duration_s;
    if (why) *why = name() + " has no forecast";
    return std::nullopt;
  }
  // The forecast series over [from, to) (periods overlapping it); default: no forecast.
  virtual std::optional<IntensityForecast> forecast_series(const Location& where,
                                                           std::chrono::system_clock::time_point from,
                                                           std::chrono::system_clock::time_point to,
                                                           std::string* why) {
    (void)where, (void)from, (void)to;
    if (why) *why = name() + " has no forecast";
    return std::nullopt;
  }
};

// A note from an intensity source for the run's err channel (INFO or WARNING).
struct IntensityNote {
  bool warning;  // false: INFO
  std::string text;
};

// A value an intensity source's background work posted at the end of a round.
struct PostedIntensity {
  IntensityValue value;
  long round = 0;  // the round's number (1, 2, ...)
};

// What the tracker asks of the carbon intensity: a value at once, newer values from background
// work that never blocks the tracker's threads, forecasts for the prediction. epochwatt's own is
// the intensity service (the epochwatt_intensity_live layer); without one the tracker uses
// fixed_intensity_source(). Thread-safety: every method may be called from any thread.
class IntensitySource {
 public:
  virtual ~IntensitySource() = default;
  virtual Location location() const = 0;
  // The value to start with; no network.
  virtual IntensityValue initial() = 0;
  // True when background work may change the value.
  virtual bool has_background_work() const { return false; }
  // Starts the background work; `on_post` is called (on its thread) after each round.
  virtual void start(std::function<void()> on_post) { (void)on_post; }
  // Asks for a new round; never blocks.
  virtual void request_refresh() {}
  // The newest posted value not yet taken; never blocks.
  virtual std::optional<PostedIntensity> poll() { return std::nullopt; }
  // Rounds asked for so far.
  virtual long requested_rounds() const { return 0; }
  // The mean forecast over [from, from + duration_s); no network.
  virtual std::optional<IntensityValue> forecast_mean(std::chrono::system_clock::time_point from,
                                                      double duration_s) const {
    (void)from, (void)duration_s;
    return std::nullopt;
  }
  // Ends background work within about wait_s. Idempotent.
  virtual void stop(double wait_s) { (void)wait_s; }
  virtual std::vector<IntensityNote> take_notes() { return {}; }
};

// A source that always answers `value` (no background work).
std::shared_ptr<IntensitySource> fixed_intensity_source(IntensityValue value, Location where = {});

// The 2024 world average, 445 gCO2e/kWh (IEA, Electricity 2025, Emissions chapter).
inline constexpr double kWorldAverageGPerKwh = 445.0;
inline constexpr int kWorldAverageYear = 2024;

// Annual average of a country from the embedded table (Ember 2025 and Energy Institute
// Statistical Review 2025, processed by Our World in Data; CC BY 4.0).
struct CountryIntensity {
  std::string_view country;
  int year;
  double g_per_kwh;
};
std::optional<CountryIntensity> embedded_country_intensity(std::string_view alpha2);
std::size_t embedded_country_count();

}  // namespace epochwatt
