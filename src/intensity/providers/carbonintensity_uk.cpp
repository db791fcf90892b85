#include "intensity/providers/carbonintensity_uk.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "epochwatt/limits.hpp"
#include "intensity/http_json.hpp"

#include "core/format.hpp"

namespace epochwatt::detail {
namespace {

using nlohmann::json;

// Mean of intensity.forecast over the current value's half-hour period(s). Periods without a
// numeric forecast are skipped.
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

// The area a request is for: an outward postcode, a region id, or (neither) national.
struct Area {
  std::string postcode;
  int region_id = 0;
  bool regional() const { return !postcode.empty() || region_id > 0; }
  std::string path() const {
    return !postcode.empty() ? "postcode/" + url_encode(postcode) : "regionid/" + std::to_string(region_id);
  }
  std::string describe() const {
    if (!postcode.empty()) return "GB region of postcode " + postcode;
    if (region_id > 0) return "GB region " + std::to_string(region_id);
    return "GB national";
  }
};

std::string outward(std::string postcode) {
  if (auto space = postcode.find(' '); space != std::string::npos) postcode.resize(space);
  return postcode;
}

// A period's "from" or "to" as a time; false when absent or malformed.
bool time_field(const json& period, const char* key, std::chrono::system_clock::time_point& out) {
  auto it = period.find(key);
  if (it == period.end() || !it->is_string()) return false;
  auto t = parse_utc_time(it->get<std::string>());
  if (!t) return false;
  out = *t;
  return true;
}

class CarbonIntensityUk final : public IntensityProvider {
 public:
  explicit CarbonIntensityUk(CarbonIntensityUkConfig c) : cfg_(std::move(c)) {
    cfg_.postcode = outward(cfg_.postcode);
    while (!cfg_.base_url.empty() && cfg_.base_url.back() == '/') cfg_.base_url.pop_back();
  }
  std::string name() const override { return "carbonintensity.org.uk"; }

  std::optional<IntensityValue> current(const Location& where, std::string* why) override {
    if (!suitable(where, why)) return std::nullopt;
    Area area = area_of(where);
    std::string path = area.regional() ? "/regional/" + area.path() : "/intensity";
    auto body = fetch(path, why);
    if (!body) return std::nullopt;
    // National: data[0] is the current period. Regional: data[0].data holds the period(s).
    const json* periods = nullptr;
    if (body->contains("data") && (*body)["data"].is_array() && !(*body)["data"].empty()) {
      const json& first = (*body)["data"][0];
      periods = area.regional() ? (first.contains("data") ? &first["data"] : nullptr) : &(*body)["data"];
    }
    if (!periods) {
      set(why, "answer has no data list");
      return std::nullopt;
    }
    json first_only = json::array({(*periods)[0]});
    auto v = mean_forecast(area.regional() ? *periods : first_only, why);
    if (!v) return std::nullopt;
    IntensityValue out{*v, "carbonintensity.org.uk", area.describe() + ", current half-hour", true, false};
    if (periods->is_array() && !periods->empty() && (*periods)[0].is_object()) time_field((*periods)[0], "from", out.at);
    return out;
  }

  std::optional<IntensityForecast> forecast_series(const Location& where, std::chrono::system_clock::time_point from,
                                                   std::chrono::system_clock::time_point to,
                                                   std::string* why) override {
    if (!suitable(where, why)) return std::nullopt;
    Area area = area_of(where);
    // At least one half-hour, so a short window still names a period.
    auto asked_to = std::max(to, from + std::chrono::minutes(30));
    std::string window = "/" + carbonintensity_uk_time(from) + "/" + carbonintensity_uk_time(asked_to);
    std::string path = area.regional() ? "/regional/intensity" + window + "/" + area.path() : "/intensity" + window;
    auto body = fetch(path, why);
    if (!body) return std::nullopt;
    const json* periods = nullptr;
    if (body->contains("data")) {
      const json& d = (*body)["data"];
      // Regional windows answer with an object holding the periods; national with the list.
      if (area.regional() && d.is_object() && d.contains("data")) periods = &d["data"];
      else if (!area.regional() && d.is_array()) periods = &d;
    }
    if (!periods || !periods->is_array() || periods->empty()) {
      set(why, "answer has no data list");
      return std::nullopt;
    }
    IntensityForecast out;
    out.source = "carbonintensity.org.uk";
    out.description = area.describe() + ", forecast";
    out.fetched = std::chrono::system_clock::now();
    bool any = false;
    for (const auto& p : *periods) {
      if (!p.is_object() || !p.contains("intensity") || !p["intensity"].is_object()) continue;
      const json& in = p["intensity"];
      if (!in.contains("forecast") || !in["forecast"].is_number()) continue;
      std::chrono::system_clock::time_point start, end;
      if (!time_field(p, "from", start) || !time_field(p, "to", end) || end <= start) continue;
      double g = in["forecast"].get<double>();
      if (!plausible_intensity(g, why)) return std::nullopt;
      any = true;
      // The API also returns the half-hour that ends at `from`: keep only periods of the window.
      if (end <= from || start >= to) continue;
      out.points.push_back({start, std::chrono::duration<double>(end - start).count(), g});
    }
    if (!any) {
      set(why, "no half-hour period with from, to and a numeric intensity.forecast in the answer");
      return std::nullopt;
    }
    if (out.points.empty()) {
      set(why, "forecast does not cover the window");
      return std::nullopt;
    }
    std::sort(out.points.begin(), out.points.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
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
  // The Location's postcode or region id first (geolocation or the user), then the config's.
  Area area_of(const Location& where) const {
    if (!where.postcode.empty()) return {outward(where.postcode), 0};
    if (where.gb_region_id > 0) return {"", where.gb_region_id};
    return {cfg_.postcode, cfg_.region_id};
  }
  bool suitable(const Location& where, std::string* why) const {
    if (!where.country.empty() && where.country != "GB") {
      set(why, "covers Great Britain only, not " + where.country);
      return false;
    }
    // Electricity Maps zones: only "GB" is the grid the API covers (not "GB-NIR" and the islands).
    if (!where.zone.empty() && where.zone != "GB") {
      set(why, "covers Great Britain only, not zone " + where.zone);
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
  if (v > limits::kMaxIntensityGPerKwh) {
    if (why) *why = "implausible value " + fixed(v, 2) + " gCO2e/kWh (above 2000)";
    return false;
  }
  return true;
}

std::optional<IntensityValue> mean_of_series(IntensityProvider& provider, const Location& where,
                                            std::chrono::system_clock::time_point from, double duration_s,
                                            std::string* why) {
  auto to = from + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                       std::chrono::duration<double>(std::max(1.0, duration_s)));
  auto series = provider.forecast_series(where, from, to, why);
  if (!series) return std::nullopt;
  auto mean = series->mean(from, to);
  if (!mean) {
    if (why) *why = "forecast does not cover the window";
    return std::nullopt;
  }
  IntensityValue v{*mean, series->source, series->description + ", time-weighted mean over the window", true, true};
  v.at = from;
  return v;
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
