#include "intensity/http_json.hpp"

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

}  // namespace epochwatt::detail
