// Locating the run by its public IP address (ipinfo.io's JSON answer, carbontracker's source):
// one short request, no retry, so a machine without internet loses at most `timeout_s`.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "epochwatt/intensity.hpp"
#include "intensity/http.hpp"

namespace epochwatt::detail {

// ipinfo.io's JSON endpoint (carbontracker's geolocation service, spec §4).
inline constexpr const char* kDefaultGeolocationUrl = "https://ipinfo.io/json";
// A failed lookup is not retried by the next runs on this machine for this long (the cache's
// location-failed.json): 10 minutes, our choice, short enough for a laptop coming back online.
inline constexpr double kGeolocationRetryS = 600.0;

struct GeolocationConfig {
  std::string url = kDefaultGeolocationUrl;
  double timeout_s = 2.0;  // connect and total
  std::shared_ptr<HttpClient> http = curl_http_client();
};

// Reads city, region, country, loc ("lat,lon") and postal; for GB the postal code's outward part
// goes into Location::postcode. Location::rule is "ip-geolocation". Success needs a valid
// alpha-2 country or non-zero coordinates; else nullopt and *why holds a one-line reason.
std::optional<Location> geolocate(const GeolocationConfig& config, std::string* why);

}  // namespace epochwatt::detail
