#include "intensity/providers/energidataservice.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include <map>
#include <utility>
#include <vector>

#include "intensity/http_json.hpp"
#include "intensity/providers/carbonintensity_uk.hpp"  // plausible_intensity, mean_of_series

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
    auto areas = price_areas(where);
    for (const auto& area : areas) {
      auto v = mean_of(fetch("/dataset/CO2Emis?filter=" + filter(area) + "&sort=" + url_encode("Minutes5UTC DESC") + "&limit=1", why),
                       "no CO2 emission records returned for area " + area, why);
      if (!v) return std::nullopt;
      sum += *v;
    }
    return IntensityValue{sum / static_cast<double>(areas.size()), "energidataservice.dk",
                          describe(areas) + ", latest 5-minute value (CO2Emis)", true, false};
  }

  std::optional<IntensityForecast> forecast_series(const Location& where, std::chrono::system_clock::time_point from,
                                                   std::chrono::system_clock::time_point to,
                                                   std::string* why) override {
    if (!suitable(where, why)) return std::nullopt;
    auto areas = price_areas(where);
    // Per 5-minute start: the sum and count of the areas' prognoses (both areas: their mean).
    std::map<std::chrono::system_clock::time_point, std::pair<double, int>> by_start;
    for (const auto& area : areas) {
      // 5-minute records: 48 h are 576 per area; every record of the window counts. The end is
      // rounded up so the record holding the window's last minutes is included.
      std::string q = "/dataset/CO2EmisProg?start=" + eds_time(from) + "&end=" + eds_time(to + std::chrono::seconds(299)) +
                      "&filter=" + filter(area) + "&timezone=UTC&limit=2000";
      auto body = fetch(q, why);
      if (!body) return std::nullopt;
      if (!body->contains("records") || !(*body)["records"].is_array()) {
        set(why, "answer has no records list");
        return std::nullopt;
      }
      int n = 0;
      for (const auto& r : (*body)["records"]) {
        if (!r.is_object() || !r.contains("CO2Emission") || !r["CO2Emission"].is_number()) continue;
        if (!r.contains("Minutes5UTC") || !r["Minutes5UTC"].is_string()) continue;
        auto start = parse_utc_time(r["Minutes5UTC"].get<std::string>());
        if (!start) continue;
        double v = r["CO2Emission"].get<double>();
        if (!plausible_intensity(v, why)) return std::nullopt;
        auto& cell = by_start[*start];
        cell.first += v;
        cell.second += 1;
        ++n;
      }
      if (n == 0) {
        set(why, "no CO2 emission prognosis returned for area " + area);
        return std::nullopt;
      }
    }
    IntensityForecast out;
    out.source = "energidataservice.dk";
    out.description = describe(areas) + ", prognosis (CO2EmisProg)";
    out.fetched = std::chrono::system_clock::now();
    for (const auto& [start, cell] : by_start)
      if (start + std::chrono::minutes(5) > from && start < to) out.points.push_back({start, 300.0, cell.first / cell.second});
    if (out.points.empty()) {
      set(why, "prognosis does not cover the window");
      return std::nullopt;
    }
    return out;
  }

  std::optional<IntensityValue> forecast(const Location& where, std::chrono::system_clock::time_point from,
                                         double duration_s, std::string* why) override {
    return mean_of_series(*this, where, from, duration_s, why);
  }

 private:
  static void set(std::string* why, const std::string& text) {
    if (why) *why = text;
  }
  // The price area of Location::zone ("DK-DK1", "DK-DK2"), else the config's, else both.
  std::vector<std::string> price_areas(const Location& where) const {
    if (where.zone == "DK-DK1" || where.zone == "DK-DK2") return {where.zone.substr(3)};
    if (cfg_.price_area.empty()) return {"DK1", "DK2"};
    return {cfg_.price_area};
  }
  static std::string describe(const std::vector<std::string>& areas) {
    return areas.size() > 1 ? "Denmark (mean of DK1 and DK2)" : "Denmark " + areas.front();
  }
  static std::string filter(const std::string& area) { return url_encode("{\"PriceArea\":[\"" + area + "\"]}"); }
  bool suitable(const Location& where, std::string* why) const {
    if (!where.country.empty() && where.country != "DK") {
      set(why, "covers Denmark only, not " + where.country);
      return false;
    }
    if (!where.zone.empty() && where.zone.rfind("DK", 0) != 0) {
      set(why, "covers Denmark only, not zone " + where.zone);
      return false;
    }
    if (!where.zone.empty() && where.zone != "DK" && where.zone != "DK-DK1" && where.zone != "DK-DK2") {
      set(why, "unknown Danish zone '" + where.zone + "' (DK-DK1 or DK-DK2)");
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
