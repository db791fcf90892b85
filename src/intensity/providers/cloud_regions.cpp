#include "intensity/providers/cloud_regions.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "core/format.hpp"

namespace epochwatt::detail {
namespace {

constexpr CloudRegionIntensity kRegions[] = {
#include "cloud_region_rows.inc"
};

// Alpha-3 to alpha-2 (ISO 3166-1): every country of the cloud table, and the other countries
// that host regions of the large cloud providers, so a later AWS or Azure table needs no edit.
constexpr std::pair<std::string_view, std::string_view> kIso3[] = {
    {"ARE", "AE"}, {"AUS", "AU"}, {"AUT", "AT"}, {"BEL", "BE"}, {"BHR", "BH"}, {"BRA", "BR"},
    {"CAN", "CA"}, {"CHE", "CH"}, {"CHL", "CL"}, {"CHN", "CN"}, {"DEU", "DE"}, {"DNK", "DK"},
    {"ESP", "ES"}, {"FIN", "FI"}, {"FRA", "FR"}, {"GBR", "GB"}, {"HKG", "HK"}, {"IDN", "ID"},
    {"IND", "IN"}, {"IRL", "IE"}, {"ISR", "IL"}, {"ITA", "IT"}, {"JPN", "JP"}, {"KOR", "KR"},
    {"MEX", "MX"}, {"MYS", "MY"}, {"NLD", "NL"}, {"NOR", "NO"}, {"NZL", "NZ"}, {"POL", "PL"},
    {"QAT", "QA"}, {"SAU", "SA"}, {"SGP", "SG"}, {"SWE", "SE"}, {"THA", "TH"}, {"TWN", "TW"},
    {"USA", "US"}, {"ZAF", "ZA"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class CloudRegionProvider final : public IntensityProvider {
 public:
  std::string name() const override { return "cloud-region-table"; }
  std::optional<IntensityValue> current(const Location& where, std::string* why) override {
    if (where.cloud.empty()) {
      if (why) *why = "no cloud region given (provider:region, e.g. gcp:europe-west1)";
      return std::nullopt;
    }
    auto row = cloud_region_intensity(where.cloud);
    if (!row) {
      if (why)
        *why = "unknown cloud region '" + where.cloud + "'; the " + std::to_string(std::size(kRegions)) +
               " known regions are listed in data/cloud-region-intensity.csv and docs/intensity.md (e.g. gcp:europe-west1)";
      return std::nullopt;
    }
    IntensityValue v;
    v.g_per_kwh = row->g_per_kwh;
    v.source = "cloud-region-table";
    v.description = std::string(row->provider) + ":" + std::string(row->region) + " (" + std::string(row->city) + ", " +
                    std::string(row->country_iso3) + "), grid intensity " + readable(row->g_per_kwh) +
                    " gCO2e/kWh (Google Cloud region data via CodeCarbon, MIT)";
    return v;
  }
};

}  // namespace

std::optional<CloudRegionIntensity> cloud_region_intensity(std::string_view provider_colon_region) {
  auto colon = provider_colon_region.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string provider = lower(provider_colon_region.substr(0, colon));
  std::string region = lower(provider_colon_region.substr(colon + 1));
  for (const auto& row : kRegions)
    if (row.provider == provider && row.region == region) return row;
  return std::nullopt;
}

std::vector<std::string> cloud_region_names() {
  std::vector<std::string> out;
  out.reserve(std::size(kRegions));
  for (const auto& row : kRegions) out.push_back(std::string(row.provider) + ":" + std::string(row.region));
  return out;
}

std::string iso3_to_alpha2(std::string_view iso3) {
  std::string upper(iso3);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& [a3, a2] : kIso3)
    if (a3 == upper) return std::string(a2);
  return "";
}

std::shared_ptr<IntensityProvider> make_cloud_region_provider() { return std::make_shared<CloudRegionProvider>(); }

}  // namespace epochwatt::detail
