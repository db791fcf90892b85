#include "intensity/http_json.hpp"

#include <cctype>

namespace epochwatt::detail {

std::optional<nlohmann::json> get_json_object(HttpClient& http, const HttpRequest& request, std::string* why) {
  auto fail = [&](const std::string& text) -> std::optional<nlohmann::json> {
    if (why) *why = text;
    return std::nullopt;
  };
  HttpResponse res = http.get(request);
  std::string tries = " after " + std::to_string(res.attempts) + " attempt(s)";
  if (!res.error.empty()) return fail(res.error + tries);
  if (res.status < 200 || res.status >= 300) return fail("HTTP " + std::to_string(res.status) + tries);
  nlohmann::json body = nlohmann::json::parse(res.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return fail("answer is not a JSON object (" + std::to_string(res.body.size()) + " bytes)");
  return body;
}

namespace {
// Reads `n` digits at `pos` into `out`; false when they are not all digits.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}
}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_utc_time(std::string_view s) {
  using namespace std::chrono;
  int y, mo, d, h, mi, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 16 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi))
    return std::nullopt;
  std::size_t pos = 16;
  double fraction = 0;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2, sec)) return std::nullopt;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      double scale = 0.1;
      ++pos;
      std::size_t start = pos;
      for (; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos, scale /= 10)
        fraction += (s[pos] - '0') * scale;
      if (pos == start) return std::nullopt;
    }
  }
  std::string_view zone = s.substr(pos);
  if (!(zone.empty() || zone == "Z" || zone == "+00:00" || zone == "+0000")) return std::nullopt;
  year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  auto t = sys_days{date} + hours{h} + minutes{mi} + seconds{sec};
  // system_clock counts nanoseconds in 64 bits (years 1678 to 2261 here): a year outside that, as
  // in a damaged answer's "1091-11-26T12:30Z", would overflow the conversion (undefined
  // behaviour, found by fuzz/carbonintensity_uk), so it is malformed like any other.
  constexpr auto lo = duration_cast<seconds>(system_clock::time_point::min().time_since_epoch()) + seconds{1};
  // ... and a year's room is left at the top, for the period a provider's value holds after its
  // time stamp (at most limits::kMaxIntervalS): start + period never overflows either.
  constexpr auto hi = duration_cast<seconds>(system_clock::time_point::max().time_since_epoch()) - hours{24 * 366};
  if (t.time_since_epoch() < lo || t.time_since_epoch() > hi) return std::nullopt;
  return time_point_cast<system_clock::duration>(t) +
         duration_cast<system_clock::duration>(duration<double>(fraction));
}

}  // namespace epochwatt::detail
