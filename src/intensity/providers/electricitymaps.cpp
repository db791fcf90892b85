#include "intensity/providers/electricitymaps.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "core/format.hpp"
#include "epochwatt/limits.hpp"
#include "intensity/http_json.hpp"
#include "intensity/providers/carbonintensity_uk.hpp"  // plausible_intensity, mean_of_series

namespace epochwatt::detail {
namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;

// One way of naming the place to the API: the query and how a reason calls it.
struct Query {
  std::string params;  // "zone=DE" or "lat=55.6761&lon=12.5683"
  std::string label;   // "zone DE", "coordinates 55.6761,12.5683"
};

// What went wrong with one query: `next` says whether another query (a coarser place) may help.
struct Failure {
  std::string why;
  long status = 0;
  bool next = false;
};

// The answer's own message ("Zone 'XX' does not exist"), raw.
std::string api_message(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_object())
    for (const char* key : {"message", "error", "detail"})
      if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

class ElectricityMaps final : public IntensityProvider {
 public:
  explicit ElectricityMaps(ElectricityMapsConfig c) : cfg_(std::move(c)) {
    while (!cfg_.base_url.empty() && cfg_.base_url.back() == '/') cfg_.base_url.pop_back();
  }
  std::string name() const override { return "electricitymaps"; }

  std::optional<IntensityValue> current(const Location& where, std::string* why) override {
    return ask(where, "/v3/carbon-intensity/latest", why,
               [&](const json& body, const Query& q, Failure& f) { return read_latest(body, q, f); });
  }

  std::optional<IntensityForecast> forecast_series(const Location& where, Clock::time_point from, Clock::time_point to,
                                                   std::string* why) override {
    return ask(
        where, "/v3/carbon-intensity/forecast", why,
        [&](const json& body, const Query& q, Failure& f) { return read_forecast(body, q, from, to, f); },
        [](Failure& f) {
          if (f.status == 401 || f.status == 403 || f.status == 404)
            f.why = "forecast not available for this account/zone (" + f.why + ")";
        });
  }

  std::optional<IntensityValue> forecast(const Location& where, Clock::time_point from, double duration_s,
                                         std::string* why) override {
    return mean_of_series(*this, where, from, duration_s, why);
  }

 private:
  void set(std::string* why, std::string text) const {
    if (why) *why = scrub(std::move(text));
  }
  // Belt and braces: whatever a server echoes, the key never leaves in a reason or description.
  std::string scrub(std::string text) const {
    if (cfg_.token.empty()) return text;
    for (auto pos = text.find(cfg_.token); pos != std::string::npos; pos = text.find(cfg_.token, pos))
      text.replace(pos, cfg_.token.size(), "***");
    return text;
  }
  // Text from the answer, fit for one line of a log: scrubbed first (so a cut cannot leave part
  // of the key), control characters blanked, at most `max` characters.
  std::string shown(std::string text, std::size_t max = 160) const {
    text = scrub(std::move(text));
    for (char& c : text)
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    if (text.size() > max) text = text.substr(0, max - 3) + "...";
    return text;
  }

  // Asks `endpoint` with each usable query, most precise first, until `read` accepts an answer.
  // `on_fetch_failure` may reword the reason of a failed request. Otherwise nullopt, with the
  // reason of every try in *why.
  template <class Read>
  auto ask(const Location& where, const char* endpoint, std::string* why, Read read,
           void (*on_fetch_failure)(Failure&) = nullptr)
      -> decltype(read(std::declval<const json&>(), std::declval<const Query&>(), std::declval<Failure&>())) {
    auto queries = usable(where, why);
    if (queries.empty()) return std::nullopt;
    std::string tried;
    for (const auto& q : queries) {
      Failure f;
      if (auto body = fetch(std::string(endpoint) + "?" + q.params, f)) {
        if (auto v = read(*body, q, f)) return v;
      } else if (on_fetch_failure) {
        on_fetch_failure(f);
      }
      tried += (tried.empty() ? "" : "; ") + q.label + ": " + f.why;
      if (!f.next) break;
    }
    set(why, tried);
    return std::nullopt;
  }

  // The queries to try, most precise first; empty (with *why) when the provider cannot be used.
  std::vector<Query> usable(const Location& where, std::string* why) const {
    if (cfg_.token.empty()) {
      set(why, "no API key (set EPOCHWATT_ELECTRICITYMAPS_TOKEN or the config file)");
      return {};
    }
    std::vector<Query> out;
    if (!where.zone.empty()) out.push_back({"zone=" + url_encode(where.zone), "zone " + where.zone});
    if (where.lat && where.lon)
      out.push_back({"lat=" + fixed(*where.lat, 4) + "&lon=" + fixed(*where.lon, 4),
                     "coordinates " + fixed(*where.lat, 4) + "," + fixed(*where.lon, 4)});
    if (!where.country.empty() && where.country != where.zone)
      out.push_back({"zone=" + url_encode(where.country), "zone " + where.country});
    if (out.empty()) set(why, "no zone, coordinates or country to ask for");
    return out;
  }

  std::optional<json> fetch(const std::string& path_and_query, Failure& f) const {
    HttpRequest req = cfg_.request_template;
    // Without this the API answers for the caller's IP address when it cannot place the query,
    // which would silently give another place's intensity.
    req.url = cfg_.base_url + path_and_query + "&shouldUseFallbackCallerLookup=false";
    req.headers = {{"Accept", "application/json"}, {"auth-token", cfg_.token}};
    req.credentials = true;  // never redirected to another host with the key
    HttpResponse res = cfg_.http->get(req);
    std::string tries = " after " + std::to_string(res.attempts) + " attempt(s)";
    f.status = res.status;
    if (!res.error.empty()) {
      f.why = scrub(res.error + tries);
      return std::nullopt;
    }
    if (res.status < 200 || res.status >= 300) {
      f.why = "HTTP " + std::to_string(res.status) + tries;
      if (res.status == 401 || res.status == 403) f.why += " (API key refused)";
      if (std::string msg = shown(api_message(res.body)); !msg.empty()) f.why += ": " + msg;
      f.why = scrub(f.why);
      // The place was not understood or has no data: a coarser query may still answer.
      f.next = res.status == 400 || res.status == 404 || res.status == 422;
      return std::nullopt;
    }
    json body = json::parse(res.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      f.why = "answer is not a JSON object (" + std::to_string(res.body.size()) + " bytes)";
      return std::nullopt;
    }
    return body;
  }

  // The API states gCO2eq/kWh; an answer in another unit is refused rather than converted.
  bool unit_ok(const json& body, Failure& f) const {
    auto it = body.find("unit");
    if (it == body.end() || it->is_null()) return true;
    std::string unit = it->is_string() ? it->get<std::string>() : it->dump();
    if (unit.rfind("gCO2", 0) == 0 && unit.size() >= 5 && unit.substr(unit.size() - 4) == "/kWh") return true;
    f.why = "unexpected unit '" + shown(unit, 40) + "' (expected gCO2eq/kWh)";
    return false;
  }

  std::string describe(const json& body, const Query& q) const {
    std::string zone = body.contains("zone") && body["zone"].is_string() ? "zone " + shown(body["zone"].get<std::string>(), 40) : q.label;
    std::string out = "Electricity Maps, " + zone;
    if (body.contains("emissionFactorType") && body["emissionFactorType"].is_string())
      out += " (" + shown(body["emissionFactorType"].get<std::string>(), 20) + ")";
    return out;
  }

  std::optional<IntensityValue> read_latest(const json& body, const Query& q, Failure& f) const {
    if (!unit_ok(body, f)) return std::nullopt;
    auto it = body.find("carbonIntensity");
    if (it == body.end()) {
      f.why = "answer has no carbonIntensity";
      return std::nullopt;
    }
    if (!it->is_number()) {
      f.why = it->is_null() ? "carbonIntensity is null (no data for this place now)" : "carbonIntensity is not a number";
      return std::nullopt;
    }
    double g = it->get<double>();
    if (!plausible_intensity(g, &f.why)) return std::nullopt;
    IntensityValue v{g, "electricitymaps", describe(body, q) + ", latest", true, false};
    if (body.contains("isEstimated") && body["isEstimated"].is_boolean() && body["isEstimated"].get<bool>())
      v.description += ", estimated";
    if (body.contains("datetime") && body["datetime"].is_string())
      if (auto at = parse_utc_time(body["datetime"].get<std::string>())) v.at = *at;
    return v;
  }

  std::optional<IntensityForecast> read_forecast(const json& body, const Query& q, Clock::time_point from,
                                                 Clock::time_point to, Failure& f) const {
    if (!unit_ok(body, f)) return std::nullopt;
    auto list = body.find("forecast");
    if (list == body.end() || !list->is_array()) {
      f.why = "answer has no forecast list";
      return std::nullopt;
    }
    std::vector<IntensityPoint> all;
    for (const auto& e : *list) {
      if (!e.is_object() || !e.contains("carbonIntensity") || !e["carbonIntensity"].is_number()) continue;
      if (!e.contains("datetime") || !e["datetime"].is_string()) continue;
      auto start = parse_utc_time(e["datetime"].get<std::string>());
      if (!start) continue;
      double g = e["carbonIntensity"].get<double>();
      if (!plausible_intensity(g, &f.why)) return std::nullopt;
      all.push_back({*start, 3600.0, g});
    }
    if (all.empty()) {
      f.why = "no forecast entry with a datetime and a numeric carbonIntensity";
      return std::nullopt;
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    // Each entry holds until the next one; the last one as long as the one before (hourly by default).
    for (std::size_t i = 0; i + 1 < all.size(); ++i) {
      // In double seconds: the time points' difference in nanoseconds overflows int64 for entries
      // more than 292 years apart (fuzz/electricitymaps: years 1709 and 2026).
      double gap = std::chrono::duration<double>(all[i + 1].start.time_since_epoch()).count() -
                   std::chrono::duration<double>(all[i].start.time_since_epoch()).count();
      // At most limits::kMaxIntervalS (a day): an hourly forecast with a gap of years is damaged,
      // and start + gap must stay a time point (fuzz/electricitymaps: a 180-year gap overflowed).
      if (gap > 0) all[i].period_s = std::min(gap, limits::kMaxIntervalS);
    }
    if (all.size() > 1) all.back().period_s = all[all.size() - 2].period_s;
    IntensityForecast out;
    out.source = "electricitymaps";
    out.description = describe(body, q) + ", forecast";
    out.fetched = Clock::now();
    for (const auto& p : all) {
      auto end = p.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(p.period_s));
      if (end > from && p.start < to) out.points.push_back(p);
    }
    // Same start twice (a duplicated entry) would overlap: keep the first.
    out.points.erase(std::unique(out.points.begin(), out.points.end(),
                                 [](const auto& a, const auto& b) { return a.start == b.start; }),
                     out.points.end());
    if (out.points.empty()) {
      f.why = "forecast does not cover the window";
      return std::nullopt;
    }
    return out;
  }

  ElectricityMapsConfig cfg_;
};

}  // namespace

std::shared_ptr<IntensityProvider> make_electricitymaps_provider(ElectricityMapsConfig config) {
  return std::make_shared<ElectricityMaps>(std::move(config));
}

}  // namespace epochwatt::detail
