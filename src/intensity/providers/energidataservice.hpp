// Denmark's carbon intensity from Energinet's Energi Data Service (api.energidataservice.dk; no
// key): dataset CO2Emis (measured, 5-minute) for the current value and CO2EmisProg (prognosis) for
// forecasts, per price area DK1 (west) or DK2 (east).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "epochwatt/intensity.hpp"
#include "intensity/http.hpp"

namespace epochwatt::detail {

struct EnergiDataServiceConfig {
  std::string base_url = "https://api.energidataservice.dk";
  std::string price_area;  // "DK1" or "DK2"; empty: the mean of both (carbontracker's choice)
  HttpRequest request_template;
  std::shared_ptr<HttpClient> http = curl_http_client();
};

// Area: Location::zone "DK-DK1" or "DK-DK2", else the config's price area, else both (mean).
std::shared_ptr<IntensityProvider> make_energidataservice_provider(EnergiDataServiceConfig config);

}  // namespace epochwatt::detail
