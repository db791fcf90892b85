// Grid carbon intensity of cloud regions, from the embedded table data/cloud-region-intensity.csv
// (Google Cloud "Carbon free energy for Google Cloud regions", as collected by the CodeCarbon
// project, MIT licence): an offline source for runs whose cloud region is known.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "epochwatt/intensity.hpp"

namespace epochwatt::detail {

struct CloudRegionIntensity {
  std::string_view provider, region, country_iso3, city;
  double g_per_kwh;
};

// Looks up "provider:region" ("gcp:europe-west1"); the provider is case-insensitive, the region
// is compared in lower case too (the providers spell their regions in lower case).
std::optional<CloudRegionIntensity> cloud_region_intensity(std::string_view provider_colon_region);

// Every region of the table as "provider:region", in the table's order.
std::vector<std::string> cloud_region_names();

// ISO 3166-1 alpha-3 to alpha-2 ("BEL" -> "BE") for the countries of the cloud table and a few
// more; empty when unknown. Case-insensitive.
std::string iso3_to_alpha2(std::string_view iso3);

// Provider "cloud-region-table": reads Location::cloud.
std::shared_ptr<IntensityProvider> make_cloud_region_provider();

}  // namespace epochwatt::detail
