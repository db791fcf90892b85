// Chooses the carbon intensity of a run: providers in order (fixed value, live providers, the
// embedded country table), then the 2024 world average, which never fails. Records which rule
// located the run and which source answered, for the reports.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "epochwatt/intensity.hpp"
#include "epochwatt/options.hpp"

namespace epochwatt::detail {

struct IntensityNote {
  bool warning;  // false: INFO
  std::string text;
};

// Resolve the location: option > environment variable EPOCHWATT_COUNTRY > none.
Location resolve_location(const Options& options);

// Not thread-safe; owned by the tracker, used under its lock or from one thread at a time.
class IntensityService {
 public:
  explicit IntensityService(const Options& options);
  const Location& location() const { return location_; }
  // The current intensity (never fails: the world average is the last resort).
  IntensityValue current();
  // A forecast over [from, from + duration) where a provider has one, else current().
  IntensityValue for_window(std::chrono::system_clock::time_point from, double duration_s);
  // Messages produced so far (for the err channel), handed over once.
  std::vector<IntensityNote> take_notes();

 private:
  Location location_;
  std::vector<std::shared_ptr<IntensityProvider>> chain_;
  std::vector<IntensityNote> notes_;
  bool told_choice_ = false;
};

// The providers the embedded data gives (offline, instant).
std::shared_ptr<IntensityProvider> make_fixed_provider(double g_per_kwh);
std::shared_ptr<IntensityProvider> make_embedded_table_provider();

}  // namespace epochwatt::detail
