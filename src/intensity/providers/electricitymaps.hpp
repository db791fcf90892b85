// Electricity Maps (api.electricitymaps.com, API v3; key required): the latest carbon intensity of
// a zone or of the zone at given coordinates, and the forecast where the account includes it.
// The key travels only in the `auth-token` header and never appears in a reason, error or log.
#pragma once

#include <memory>
#include <string>

#include "epochwatt/intensity.hpp"
#include "intensity/http.hpp"

namespace epochwatt::detail {

struct ElectricityMapsConfig {
  std::string base_url = "https://api.electricitymaps.com";
  std::string token;  // from EPOCHWATT_ELECTRICITYMAPS_TOKEN or the config file; empty: unsuitable
  HttpRequest request_template;  // timeouts and retries
  std::shared_ptr<HttpClient> http = curl_http_client();
};

// Asks, in this order, until one answers: Location::zone, the coordinates (lat/lon), the country.
std::shared_ptr<IntensityProvider> make_electricitymaps_provider(ElectricityMapsConfig config);

}  // namespace epochwatt::detail
