// Great Britain's carbon intensity from the National Energy System Operator's public API
// (api.carbonintensity.org.uk; no key): national or regional (outward postcode or region id),
// current half-hour and forecasts up to 48 h ahead.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "epochwatt/intensity.hpp"
#include "intensity/http.hpp"

namespace epochwatt::detail {

struct CarbonIntensityUkConfig {
  std::string base_url = "https://api.carbonintensity.org.uk";
  std::string postcode;  // outward part ("RG10"); a full postcode is cut at its space
  int region_id = 0;     // 1..17; used when no postcode is given; 0 = national
  HttpRequest request_template;  // timeouts and retries
  std::shared_ptr<HttpClient> http = curl_http_client();
};

// Checks a value is a plausible gCO2e/kWh: finite, not negative, at most 2000. Else *why says so.
bool plausible_intensity(double g_per_kwh, std::string* why);

// forecast() of the providers with a series: forecast_series() over [from, from + duration) and
// its time-weighted mean (IntensityForecast::mean), so mean and series never disagree.
std::optional<IntensityValue> mean_of_series(IntensityProvider& provider, const Location& where,
                                            std::chrono::system_clock::time_point from, double duration_s,
                                            std::string* why);

// Area: Location::postcode, else Location::gb_region_id, else the config's postcode or region id,
// else national.
std::shared_ptr<IntensityProvider> make_carbonintensity_uk_provider(CarbonIntensityUkConfig config);

// "YYYY-MM-DDTHH:MMZ" in UTC, the API's time format.
std::string carbonintensity_uk_time(std::chrono::system_clock::time_point t);

}  // namespace epochwatt::detail
