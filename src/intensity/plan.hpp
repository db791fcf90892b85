// When to train: the start time that minimises the emissions of a job of known length, from a
// forecast series (`epochwatt plan`).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/intensity.hpp"

namespace epochwatt::detail {

struct PlanChoice {
  std::chrono::system_clock::time_point start;
  double mean_g_per_kwh = 0;  // time-weighted mean of the forecast over [start, start + duration)
};

struct Plan {
  PlanChoice now;   // starting at once
  PlanChoice best;  // the lowest mean (the earliest of equals)
  int candidates = 0;                                  // start times compared
  std::chrono::system_clock::time_point latest_start;  // the last start the forecast allowed
  bool horizon_limited = false;  // the forecast ends before now + within: later starts were not compared
  double saving_g_per_kwh() const { return now.mean_g_per_kwh - best.mean_g_per_kwh; }
  double saving_percent() const {
    return now.mean_g_per_kwh > 0 ? 100.0 * saving_g_per_kwh() / now.mean_g_per_kwh : 0.0;
  }
};

// Compares starting now with starting at every period boundary of the forecast until
// now + within - duration, each over a window the forecast covers in full. Nullopt (with *why)
// when the forecast does not cover [now, now + duration).
std::optional<Plan> plan_start(const IntensityForecast& forecast, std::chrono::system_clock::time_point now,
                               double duration_s, double within_s, std::string* why);

// "6h", "90m", "45s", "1h30m", "2d", or plain seconds; nullopt when not a positive duration.
std::optional<double> parse_duration(const std::string& text);

// "YYYY-MM-DDTHH:MM:SSZ" (UTC).
std::string iso_utc(std::chrono::system_clock::time_point t);
// Parses "YYYY-MM-DDTHH:MM[:SS]Z" (UTC).
std::optional<std::chrono::system_clock::time_point> parse_iso_utc(const std::string& text);

}  // namespace epochwatt::detail
