// Carbon intensity: the provider interface that fixed values, the embedded country table and
// (later) live APIs implement, and the lookup of the embedded table.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace epochwatt {

// Where the run is, and which rule said so (for reports).
struct Location {
  std::string country;  // ISO 3166-1 alpha-2, upper case; empty when unknown
  std::string rule;     // "option", "env:EPOCHWATT_COUNTRY", "none"
  std::string address() const { return country.empty() ? "Unknown" : country; }
};

struct IntensityValue {
  double g_per_kwh = 0.0;
  std::string source;       // short machine-readable id: "fixed", "embedded-table", "world-average"
  std::string description;  // one line for people, with the data's origin and year
  bool live = false;        // came from a live provider (stored in carbontracker's list)
  bool forecast = false;    // a forecast over the requested window
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
};

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
