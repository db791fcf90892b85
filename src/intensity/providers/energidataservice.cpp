#include "intensity/providers/energidataservice.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "intensity/http_json.hpp"
#include <vector>

#include "intensity/providers/carbonintensity_uk.hpp"  // plausible_intensity

namespace epochwatt::detail {
namespace {

using nlohmann::json;

// "YYYY-MM-DDTHH:MM" in UTC, floored to 5 minutes (the datasets' resolution); sent with
// timezone=UTC so the service does not read it as Danish local time (spec D16).
std::string eds_time(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  tt -= tt % 300;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M", &tm);
  return buf;
}

class EnergiDataService final : public IntensityProvider {
 public:
  explicit EnergiDataService(EnergiDataServiceConfig c) : cfg_(std::move(c)) {
    while (!cfg_.base_url.empty() && cfg_.base_url.back() == '/') cfg_.base_url.pop_back();
  }
  std::string name() const override { return "energidataservice.dk"; }

  std::optional<IntensityValue> current(const Location& where, std::string* why) override {
    if (!suitable(where, why)) return std::nullopt;
    double sum = 0;
    auto areas = price_areas();
    for (const auto& area : areas) {
      auto v = mean_of(fetch("/dataset/CO2Emis?filter=" + filter(area) + "&sort=" + url_encode("Minutes5UTC DESC") + "&limit=1", why),
                       "no CO2 emission records returned for area " + area, why);
      if (!v) return std::nullopt;
      sum += *v;
    }
    return IntensityValue{sum / static_cast<double>(areas.size()), "energidataservice.dk",
                          describe() + ", latest 5-minute value (CO2Emis)", true, false};
  }

  std::optional<IntensityValue> forecast(const Location& where, std::chrono::system_clock::time_point from,
                                         double duration_s, std::string* why) override {
    if (!suitable(where, why)) return std::nullopt;
    auto to = from + std::chrono::seconds(static_cast<long long>(std::max(300.0, duration_s)));
    double sum = 0;
    auto areas = price_areas();
    for (const auto& area : areas) {
      // 5-minute records: 48 h are 576 per area; every record of the window counts.
      std::string q = "/dataset/CO2EmisProg?start=" + eds_time(from) + "&end=" + eds_time(to) +
                      "&filter=" + filter(area) + "&timezone=UTC&limit=2000";
      auto v = mean_of(fetch(q, why), "no CO2 emission prognosis returned for area " + area, why);
      if (!v) return std::nullopt;
      sum += *v;
    }
    return IntensityValue{sum / static_cast<double>(areas.size()), "energidataservice.dk",
                          describe() + ", prognosis mean over the window (CO2EmisProg)", true, true};
  }

 private:
  static void set(std::string* why, const std::string& text) {
    if (why) *why = text;
  }
  std::vector<std::string> price_areas() const {
    if (cfg_.price_area.empty()) return {"DK1", "DK2"};
    return {cfg_.price_area};
  }
  std::string describe() const { return cfg_.price_area.empty() ? "Denmark (mean of DK1 and DK2)" : "Denmark " + cfg_.price_area; }
  static std::string filter(const std::string& area) { return url_encode("{\"PriceArea\":[\"" + area + "\"]}"); }
  bool suitable(const Location& where, std::string* why) const {
    if (!where.country.empty() && where.country != "DK") {
      set(why, "covers Denmark only, not " + where.country);
      return false;
    }
    if (!cfg_.price_area.empty() && cfg_.price_area != "DK1" && cfg_.price_area != "DK2") {
      set(why, "unknown price area '" + cfg_.price_area + "' (DK1 or DK2)");
      return false;
    }
    return true;
  }
  // Mean CO2Emission (g/kWh) of the answer's records.
  static std::optional<double> mean_of(const std::optional<json>& body, const std::string& empty_msg, std::string* why) {
    if (!body) return std::nullopt;
    if (!body->contains("records") || !(*body)["records"].is_array()) {
      set(why, "answer has no records list");
      return std::nullopt;
    }
    double sum = 0;
    int n = 0;
    for (const auto& r : (*body)["records"]) {
      if (!r.is_object() || !r.contains("CO2Emission") || !r["CO2Emission"].is_number()) continue;
      double v = r["CO2Emission"].get<double>();
      if (!plausible_intensity(v, why)) return std::nullopt;
      sum += v;
      ++n;
    }
    if (n == 0) {
      set(why, empty_msg);
      return std::nullopt;
    }
    return sum / n;
  }
  std::optional<json> fetch(const std::string& path_and_query, std::string* why) {
    HttpRequest req = cfg_.request_template;
    req.url = cfg_.base_url + path_and_query;
    req.headers = {{"Accept", "application/json"}};
    return get_json_object(*cfg_.http, req, why);
  }


  EnergiDataServiceConfig cfg_;
};

}  // namespace

std::shared_ptr<IntensityProvider> make_energidataservice_provider(EnergiDataServiceConfig config) {
  return std::make_shared<EnergiDataService>(std::move(config));
}

}  // namespace epochwatt::detail
