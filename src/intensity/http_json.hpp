// A GET whose answer must be a JSON object, with the one-line reason every provider gives when it
// is not (transport error, HTTP status, not JSON).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "intensity/http.hpp"

namespace epochwatt::detail {

std::optional<nlohmann::json> get_json_object(HttpClient& http, const HttpRequest& request, std::string* why);

// A time stamp of the APIs, read as UTC: "YYYY-MM-DDTHH:MM", optionally ":SS", a fraction, and
// "Z" or "+00:00" (carbonintensity.org.uk "2026-11-26T12:00Z", Energi Data Service
// "2026-11-26T12:00:00", Electricity Maps "2026-11-26T12:00:00.000Z"). Other offsets and anything
// malformed give nullopt. Locale-independent.
std::optional<std::chrono::system_clock::time_point> parse_utc_time(std::string_view text);

}  // namespace epochwatt::detail
