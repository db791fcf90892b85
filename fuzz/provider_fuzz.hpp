// What the providers' fuzz targets do with a provider whose every answer is the fuzzer's input:
// the current value, the forecast series and its mean, as the intensity service asks for them.
// Providers report a bad answer through `why` and never throw (include/epochwatt/intensity.hpp):
// an exception escaping, or a sanitizer finding, is a bug.
#pragma once

#include <chrono>
#include <string>

#include "epochwatt/intensity.hpp"

namespace ewfuzz {

inline void exercise_provider(epochwatt::IntensityProvider& p, const epochwatt::Location& where) {
  using namespace std::chrono;
  // 2026-11-26T12:00Z, the time of the seed answers (tests/unit/*_test.cpp), so seeds reach the
  // code that matches entries to the asked window.
  const system_clock::time_point from{seconds{1795694400}};
  std::string why;
  (void)p.current(where, &why);
  (void)p.forecast_series(where, from, from + hours{2}, &why);
  (void)p.forecast(where, from, 3600.0, &why);
}

}  // namespace ewfuzz
