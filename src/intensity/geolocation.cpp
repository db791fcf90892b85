#include "intensity/geolocation.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "intensity/http_json.hpp"

namespace epochwatt::detail {
namespace {

using nlohmann::json;

std::string text_field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// Locale-independent parse of one decimal number filling the whole text.
std::optional<double> parse_number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "lat,lon" within the globe's ranges; (0,0) counts as no position (carbontracker's rule).
bool parse_loc(const std::string& loc, double& lat, double& lon) {
  auto comma = loc.find(',');
  if (comma == std::string::npos) return false;
  auto a = parse_number(std::string_view(loc).substr(0, comma));
  auto b = parse_number(std::string_view(loc).substr(comma + 1));
  if (!a || !b || std::fabs(*a) > 90 || std::fabs(*b) > 180) return false;
  if (*a == 0 && *b == 0) return false;
  lat = *a;
  lon = *b;
  return true;
}

bool alpha2(const std::string& s) {
  return s.size() == 2 && std::isalpha(static_cast<unsigned char>(s[0])) && std::isalpha(static_cast<unsigned char>(s[1]));
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One line, printable, bounded: the answer's text may end up in a log.
std::string clean(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  if (s.size() > 100) s.resize(100);
  return s;
}

}  // namespace

std::optional<Location> geolocate(const GeolocationConfig& config, std::string* why) {
  auto fail = [&](const std::string& text) -> std::optional<Location> {
    // The URL without its query and fragment: ipinfo.io takes its token as ?token=..., and a
    // secret never goes into a message (the cache keeps this reason too).
    std::string shown = config.url.substr(0, config.url.find_first_of("?#"));
    if (why) *why = "IP geolocation (" + shown + "): " + text;
    return std::nullopt;
  };
  if (!config.http) return fail("no HTTP client");
  HttpRequest req;
  req.url = config.url;
  req.headers = {{"Accept", "application/json"}};
  req.connect_timeout_s = config.timeout_s;
  req.total_timeout_s = config.timeout_s;
  req.max_attempts = 1;  // a tracker starting offline must not wait for retries
  std::string reason;
  auto body = get_json_object(*config.http, req, &reason);
  if (!body) return fail(reason);

  Location loc;
  loc.rule = "ip-geolocation";
  std::string country = upper(text_field(*body, "country"));
  if (alpha2(country)) loc.country = country;
  double lat = 0, lon = 0;
  if (parse_loc(text_field(*body, "loc"), lat, lon)) {
    loc.lat = lat;
    loc.lon = lon;
  }
  if (loc.country.empty() && !loc.lat) {
    if (body->contains("bogon")) return fail("the address is private or reserved (bogon); no location");
    std::string got = text_field(*body, "country");
    return fail(got.empty() ? "answer has neither a country nor coordinates"
                            : "answer has no valid country ('" + clean(got) + "') and no coordinates");
  }
  loc.city = clean(text_field(*body, "city"));
  loc.region = clean(text_field(*body, "region"));
  if (loc.country == "GB") {
    // ipinfo gives GB postal codes as the outward part ("RG10"); cut a full code at its space.
    std::string postal = upper(text_field(*body, "postal"));
    if (auto space = postal.find(' '); space != std::string::npos) postal.resize(space);
    bool ok = postal.size() >= 2 && postal.size() <= 4 && std::isalpha(static_cast<unsigned char>(postal[0]));
    for (char c : postal) ok = ok && std::isalnum(static_cast<unsigned char>(c));
    if (ok) loc.postcode = postal;
  }
  return loc;
}

}  // namespace epochwatt::detail
