#include "intensity/providers/carbonintensity_uk.hpp"

#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "intensity/http_json.hpp"

#include "core/format.hpp"

namespace epochwatt::detail {
namespace {

using nlohmann::json;

// Mean of intensity.forecast over a list of half-hour periods (every period of the window, not
// only the first one: spec D16). Periods without a numeric forecast are skipped.
std::optional<double> mean_forecast(const json& periods, std::string* why) {
  if (!periods.is_array() || periods.empty()) {
    *why = "no half-hour periods in the answer";
    return std::nullopt;
  }
  double sum = 0;
  int n = 0;
  for (const auto& p : periods) {
    const json* v = nullptr;
    if (p.is_object() && p.contains("intensity") && p["intensity"].is_object()) {
      const json& in = p["intensity"];
      if (in.contains("forecast") && in["forecast"].is_number()) v = &in["forecast"];
    }
    if (!v) continue;
    double x = v->get<double>();
    if (!plausible_intensity(x, why)) return std::nullopt;
    sum += x;
    ++n;
  }
  if (n == 0) {
    *why = "no intensity.forecast value in the answer";
    return std::nullopt;
  }
  return sum / n;
}

class CarbonIntensityUk final : public IntensityProvider {
 public:
  explicit CarbonIntensityUk(CarbonIntensityUkConfig c) : cfg_(std::move(c)) {
    if (auto space = cfg_.postcode.find(' '); space != std::string::npos) cfg_.postcode.resize(space);
    while (!cfg_.base_url.empty() && cfg_.base_url.back() == '/') cfg_.base_url.pop_back();
  }
  std::string name() const override { return "carbonintensity.org.uk"; }

  std::optional<IntensityValue> current(const Location& where, std::string* why) override {
    if (!suitable(where, why)) return std::nullopt;
    std::string path = regional() ? "/regional/" + area_path() : "/intensity";
    auto body = fetch(path, why);
    if (!body) return std::nullopt;
    // National: data[0] is the current period. Regional: data[0].data holds the period(s).
    const json* periods = nullptr;
    if (body->contains("data") && (*body)["data"].is_array() && !(*body)["data"].empty()) {
      const json& first = (*body)["data"][0];
      periods = regional() ? (first.contains("data") ? &first["data"] : nullptr) : &(*body)["data"];
    }
    if (!periods) {
      set(why, "answer has no data list");
      return std::nullopt;
    }
    json first_only = json::array({(*periods)[0]});
    auto v = mean_forecast(regional() ? *periods : first_only, why);
    if (!v) return std::nullopt;
    return IntensityValue{*v, "carbonintensity.org.uk", describe() + ", current half-hour", true, false};
  }

  std::optional<IntensityValue> forecast(const Location& where, std::chrono::system_clock::time_point from,
                                         double duration_s, std::string* why) override {
    if (!suitable(where, why)) return std::nullopt;
    auto to = from + std::chrono::seconds(static_cast<long long>(std::max(1800.0, duration_s)));
    std::string window = "/" + carbonintensity_uk_time(from) + "/" + carbonintensity_uk_time(to);
    std::string path = regional() ? "/regional/intensity" + window + "/" + area_path() : "/intensity" + window;
    auto body = fetch(path, why);
    if (!body) return std::nullopt;
    const json* periods = nullptr;
    if (body->contains("data")) {
      const json& d = (*body)["data"];
      // Regional windows answer with an object holding the periods; national with the list.
      if (regional() && d.is_object() && d.contains("data")) periods = &d["data"];
      else if (!regional() && d.is_array()) periods = &d;
    }
    if (!periods) {
      set(why, "answer has no data list");
      return std::nullopt;
    }
    auto v = mean_forecast(*periods, why);
    if (!v) return std::nullopt;
    return IntensityValue{*v, "carbonintensity.org.uk", describe() + ", forecast mean over the window", true, true};
  }

 private:
  static void set(std::string* why, const std::string& text) {
    if (why) *why = text;
  }
  bool regional() const { return !cfg_.postcode.empty() || cfg_.region_id > 0; }
  std::string area_path() const {
    return !cfg_.postcode.empty() ? "postcode/" + url_encode(cfg_.postcode) : "regionid/" + std::to_string(cfg_.region_id);
  }
  std::string describe() const {
    if (!cfg_.postcode.empty()) return "GB region of postcode " + cfg_.postcode;
    if (cfg_.region_id > 0) return "GB region " + std::to_string(cfg_.region_id);
    return "GB national";
  }
  bool suitable(const Location& where, std::string* why) const {
    if (!where.country.empty() && where.country != "GB") {
      set(why, "covers Great Britain only, not " + where.country);
      return false;
    }
    return true;
  }
  std::optional<json> fetch(const std::string& path, std::string* why) {
    HttpRequest req = cfg_.request_template;
    req.url = cfg_.base_url + path;
    req.headers = {{"Accept", "application/json"}};
    return get_json_object(*cfg_.http, req, why);
  }


  CarbonIntensityUkConfig cfg_;
};

}  // namespace

bool plausible_intensity(double v, std::string* why) {
  if (!std::isfinite(v)) {
    if (why) *why = "value is not a finite number";
    return false;
  }
  if (v < 0) {
    if (why) *why = "negative value " + fixed(v, 2);
    return false;
  }
  if (v > 2000) {
    if (why) *why = "implausible value " + fixed(v, 2) + " gCO2e/kWh (above 2000)";
    return false;
  }
  return true;
}

std::string carbonintensity_uk_time(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%MZ", &tm);
  return buf;
}

std::shared_ptr<IntensityProvider> make_carbonintensity_uk_provider(CarbonIntensityUkConfig config) {
  return std::make_shared<CarbonIntensityUk>(std::move(config));
}

}  // namespace epochwatt::detail
